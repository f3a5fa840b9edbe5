"""Cost: model load time, and peak memory of the real assistant process idle and in conversation.

Memory is read from /proc/<pid>/status (VmHWM = peak resident set) of real subprocesses:
`assistant chat --json` (text only) and `assistant chat --json --audio --model …` fed WAV paths, one per turn,
answered before the next is sent. Speech output runs in child processes (render workers) and is not in these
figures; part 3 reports the render worker's own peak.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (OUT, REAL_AUDIO, ROOT, Figure, NotMeasurable, PartResult, isolated_env, model_dir,
                          proc_memory, status)

LOAD_MAX = 3.0
RSS_MAX = 350.0
TEXT_SCRIPT = ["我用微信吧", "好了", "好了", "好了", "慢一点", "多久认证一次", "好了", "找不到", "找到了", "好了",
               "我上次是三月五号认证的", "好了", "好了", "好了", "好了", "好了", "好了", "刷不了脸", "成功了", "再见"]

_LOAD = """
import json, time
started = time.perf_counter()
from assistant.recognition.model import load_model
loaded = load_model({path!r})
print(json.dumps({{"load": loaded.seconds, "import_and_load": time.perf_counter() - started}}))
"""


def load_times(model: Path, runs: int) -> list[dict]:
    """Load the model in fresh processes (the page cache is warm after the first: as on a kiosk that restarts)."""
    out = []
    env = {**os.environ, **isolated_env()}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", _LOAD.format(path=str(model))], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)
        if proc.returncode != 0:
            raise NotMeasurable(f"model load failed: {proc.stderr.strip()[-200:]}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


class Conversation:
    """A running `assistant chat --json [...]`, one line in, one JSON line out, with its memory at hand."""

    def __init__(self, *extra):
        env = {**os.environ, **isolated_env()}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--json", *extra],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=ROOT, env=env)
        self.greeting = self._read()
        self.ready_s = time.perf_counter() - self.started

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise NotMeasurable("chat ended early: " + self.proc.stderr.read().decode("utf-8", "replace")[-300:])
        return json.loads(line)

    def say(self, line: str) -> dict:
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()
        return self._read()

    def memory(self) -> dict:
        return proc_memory(self.proc.pid)

    def close(self) -> int:
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def text_conversation() -> dict:
    chat = Conversation()
    idle = chat.memory()
    states = [chat.say(line)["state"] for line in TEXT_SCRIPT]
    busy = chat.memory()
    code = chat.close()
    return {"ready_s": chat.ready_s, "idle": idle, "conversation": busy, "turns": len(states), "exit": code,
            "last_state": states[-1]}


def audio_conversation(model: Path, wavs: list[Path]) -> dict:
    chat = Conversation("--audio", "--model", str(model))
    idle = chat.memory()
    heard, times = [], []
    for wav in wavs:
        started = time.perf_counter()
        record = chat.say(str(wav))
        times.append(time.perf_counter() - started)
        heard.append(record.get("heard"))
    busy = chat.memory()
    code = chat.close()
    return {"ready_s": chat.ready_s, "idle": idle, "conversation": busy, "turns": len(wavs), "exit": code,
            "turn_s_median": statistics.median(times) if times else None, "heard": heard}


def _turn_wavs(quick: bool) -> list[Path]:
    """The latency script read by the natural voice when installed, plus a few real recordings (long sentences)."""
    from bench.asr import natural_voice_wavs
    from bench.latency import SCRIPT

    try:
        wavs = natural_voice_wavs(SCRIPT, OUT / "user-voice-natural")
    except NotMeasurable:
        from bench.asr import synthesize

        folder = OUT / "latency-audio"
        folder.mkdir(parents=True, exist_ok=True)
        wavs = [synthesize(t, folder / f"turn{i:02d}.wav") for i, t in enumerate(SCRIPT)]
    real = sorted(REAL_AUDIO.glob("mdcs_*.wav"))[::50] if REAL_AUDIO.is_dir() else []
    return (wavs[:6] + real[:2]) if quick else (wavs + real)


def run(quick: bool = False) -> PartResult:
    result = PartResult()
    data = {}
    try:
        model = model_dir()
        loads = load_times(model, 2 if quick else 3)
        seconds = [x["load"] for x in loads]
        data["load"] = loads
        worst = max(seconds)
        result.figures.append(Figure(
            "4 cost", f"model load time (vosk.Model, fresh process, {len(loads)} runs)",
            f"median {statistics.median(seconds):.2f} s, max {worst:.2f} s", f"<= {LOAD_MAX:.0f} s",
            status(worst, LOAD_MAX, False),
            f"with Python start and imports: {max(x['import_and_load'] for x in loads):.2f} s"))
    except NotMeasurable as exc:
        model = None
        result.figures.append(Figure("4 cost", "model load time", "not measured", f"<= {LOAD_MAX:.0f} s",
                                     "not measured", str(exc)))

    text = text_conversation()
    data["text"] = text
    result.figures.append(Figure(
        "4 cost", "peak RSS, `assistant chat --json` (text), idle / after a conversation",
        f"{text['idle'].get('VmHWM', 0):.0f} / {text['conversation'].get('VmHWM', 0):.0f} MB",
        note=f"first answer (greeting) {text['ready_s']:.2f} s after start; {text['turns']} turns"))

    from bench.fuzz import audio_support

    why = audio_support()
    if why or model is None:
        result.figures.append(Figure("4 cost", "peak RSS, `assistant chat --json --audio`", "not yet measurable",
                                     f"<= {RSS_MAX:.0f} MB", "not measured", why or "no model"))
    else:
        audio = audio_conversation(model, _turn_wavs(quick))
        data["audio"] = {k: v for k, v in audio.items() if k != "heard"}
        idle, busy = audio["idle"].get("VmHWM", 0), audio["conversation"].get("VmHWM", 0)
        result.figures.append(Figure(
            "4 cost", "peak RSS, `assistant chat --json --audio` (model loaded), idle", f"{idle:.0f} MB",
            f"<= {RSS_MAX:.0f} MB", status(idle, RSS_MAX, False),
            f"first answer {audio['ready_s']:.2f} s after start (model load included)"))
        result.figures.append(Figure(
            "4 cost", f"peak RSS, `assistant chat --json --audio`, after {audio['turns']} spoken turns",
            f"{busy:.0f} MB", f"<= {RSS_MAX:.0f} MB", status(busy, RSS_MAX, False),
            f"median time per WAV turn {audio['turn_s_median']:.2f} s (whole-file recognition + dialog)"))
    result.section = "\n".join(["## 4. Cost", "", __doc__.split("\n\n", 1)[1].strip(), ""])
    result.data = data
    return result
