"""Our own voice, measured: can the Mandarin model understand what each installed engine says?

For every fixed sentence in flows/: render it with the engine (the same render path as `assistant voice
render`, into a bench-only cache), recognise it with the model and no grammar, and compare (CER). Also the
render time, the cache size, and the memory of a live process that plays from the cache.
"""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
TARGET_NATURAL_CER = 0.08


def _cer(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    from assistant.recognition.normalize import normalize_asr

    ref, hyp = normalize_asr(reference), normalize_asr(hypothesis)
    return Levenshtein.distance(ref, hyp) / max(len(ref), 1)


_RECOGNIZER = None


def _recognise(args):
    """Worker: (model dir, wav path, text) -> (text, hypothesis). One recogniser per worker process."""
    global _RECOGNIZER
    model_dir, path, text = args
    from assistant.audio.wavio import read_wav
    from assistant.recognition.recognizer import Recognizer

    if _RECOGNIZER is None:
        _RECOGNIZER = Recognizer(model_dir)
    return text, _RECOGNIZER.transcribe(read_wav(path), None)


def engines_installed() -> list[str]:
    from assistant.speech.registry import resolve_engine_name

    found = ["pyttsx3"]
    try:
        if resolve_engine_name("natural") == "natural":
            found.insert(0, "natural")
    except Exception:  # noqa: BLE001 - "not installed" is an answer here, not a failure
        pass
    return found


def roundtrip(engine_name: str, sentences: list[str], model_dir: Path, sample: int = 1, workers: int = 2,
              render_every: bool = True, rate_step: int = 0) -> dict:
    """Render all sentences (only the sampled ones unless render_every); recognise every `sample`-th one, each as
    soon as it is rendered (the render worker uses about one core, so rendering and recognition overlap)."""
    from assistant.speech.cache import VoiceCache, render_all
    from assistant.speech.registry import open_engine
    from assistant.speech.profiles import load_profile

    profile = load_profile("elder-slow")
    if rate_step:  # as the speaker does after 慢一点: the engine renders at the slower rate, cached per rate
        from dataclasses import replace
        from types import SimpleNamespace

        profile = replace(profile, rate=profile.effective_rate(SimpleNamespace(rate_step=rate_step)))
    cache = VoiceCache(OUT / f"voice-{engine_name}")
    wanted = set(sentences[::sample])
    timing: dict[str, tuple[float, float]] = {}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = []

        def recognise(text, path):
            if text in wanted:
                futures.append(pool.submit(_recognise, (str(model_dir), str(path), text)))
                timing[text] = _speaking_seconds(path)

        with open_engine(engine_name, "auto") as engine:
            report = render_all(sentences if render_every else sentences[::sample], profile, engine, cache,
                                on_ready=recognise)
        results = [f.result() for f in futures]
    scored = sorted(((_cer(t, h), t, h) for t, h in results), reverse=True)
    total_ref = sum(len(t) for _, t, _ in scored) or 1
    weighted = sum(c * len(t) for c, t, _ in scored) / total_ref
    from assistant.speech.pacing import syllables

    said = sum(syllables(t) for t in timing)
    total, voiced = (sum(v[i] for v in timing.values()) for i in (0, 1))
    return {
        "engine": engine_name, "sentences": len(scored), "cer": round(weighted, 4), "rendered_all": render_every,
        "speaking_seconds": round(total, 2), "voiced_seconds": round(voiced, 2),
        "syllables_per_second": round(said / max(total, 1e-9), 2),
        "syllables_per_voiced_second": round(said / max(voiced, 1e-9), 2),
        "rate": profile.rate,
        "render_seconds_new": round(report.seconds, 1), "rendered": report.rendered, "already_cached": report.skipped,
        "failed": len(report.failed), "cache_mb": round(report.cache_bytes / 1e6, 1),
        "render_and_recognition_seconds": round(time.perf_counter() - started, 1),
        "worst": [{"cer": round(c, 3), "text": t, "heard": h.replace(" ", "")} for c, t, h in scored[:10]],
    }


def _speaking_seconds(path) -> tuple[float, float]:
    """(seconds of the rendered prompt, seconds of it that are voice and not pause): 20 ms frames count as voice
    when louder than 35 dB under the prompt's loudest frame."""
    import numpy as np
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    frame = int(rate * 0.02)
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-9
    voiced = int(np.sum(rms > rms.max() * 10 ** (-35 / 20)))
    return len(samples) / rate, voiced * frame / rate


_LIVE_PROBE = r"""
import json, sys
import numpy as np
from assistant.audio.wavio import read_wav
from assistant.flows import load_flows
from assistant.dialog import Session
from assistant.live.loop import MicListener
from assistant.speech.cache import VoiceCache
from assistant.speech.profiles import load_profile
from assistant.speech.speaker import Speaker
from assistant.recognition.recognizer import Recognizer


class FileMicrophone:
    def __init__(self, paths):
        pcm = b"".join(np.concatenate([read_wav(p), np.zeros(16000 * 3, np.int16)]).astype("<i2").tobytes()
                       for p in paths)
        self.chunks = [pcm[i:i + 3200] for i in range(0, len(pcm), 3200)]

    def read(self, timeout=1.0):
        return self.chunks.pop(0) if self.chunks else bytes(3200)

    def close(self):
        pass


rec = Recognizer(sys.argv[2])
session = Session(load_flows())
speaker = Speaker(load_profile("elder-slow"), cache=VoiceCache(sys.argv[1]))
heard_turns = sys.argv[3:]  # real recordings, heard through the listener (both readings) as the first turns
listener = MicListener(rec, speaker, lambda: FileMicrophone(heard_turns), session, barge_in=False)
sources = []
reply = session.greet()
for i, text in enumerate(["微信", "好了", "好了", "好了", "好了", "多久认证一次", "好了", "慢一点", "再说一遍"]):
    speaker.compose(reply.parts, session.voice)
    sources += speaker.last_sources
    if i < len(heard_turns):
        listener.listen()  # the dialog still gets the script's text, so the walk is the same every run
    reply = session.handle(text)
listener.close()
speaker.close()
# VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would report the bench process this probe was forked from.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss_mb": hwm / 1024, "heard_turns": len(heard_turns),
                  "cached": sources.count("cache"), "live": sources.count("live"),
                  "tensorflow_loaded": "tensorflow" in sys.modules}))
"""


def live_memory(engine_name: str, model_dir: Path, turns: int = 3) -> dict:
    """A live process (model, both readings of real spoken turns, dialog, speaker on the rendered cache):
    its peak memory, and whether the replies really came from the cache."""
    from bench.common import REAL_AUDIO

    heard = [str(p) for p in sorted(REAL_AUDIO.glob("mdcs_*.wav"))[1:120:40][:turns]]
    # The environment as it is: an empty ASSISTANT_NATURAL_PYTHON would name no Python and turn the natural voice
    # off (a `--only voice` run then heard every reply live: "0 parts from cache"); unset, the probe finds it.
    env = dict(os.environ)
    if engine_name == "pyttsx3":
        env["ASSISTANT_NATURAL_PYTHON"] = "off"
    done = subprocess.run([sys.executable, "-c", _LIVE_PROBE, str(OUT / f"voice-{engine_name}"), str(model_dir),
                           *heard],
                          capture_output=True, text=True, env=env, timeout=600)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


TARGET_FIRST_SOUND_S = 2.0
#: Each 慢一点 may make the voice at most this much harder to understand (round-trip CER, points).
TARGET_SLOW_STEP_CER = 0.01


def slow_steps(engine_name: str, sentences: list[str], model_dir: Path, sample: int, steps: int | None = None) -> dict:
    """Round-trip CER of the same prompts at 0..`steps` 慢一点 (default: as many as elder-slow allows), each
    rendered by the engine at that rate."""
    from assistant.speech.profiles import load_profile

    if steps is None:
        steps = -load_profile("elder-slow").step_limits()["rate_step"][0]
    rows = []
    for step in range(steps + 1):
        r = roundtrip(engine_name, sentences, model_dir, sample, render_every=False, rate_step=-step)
        rows.append({"step": step, "rate": r["rate"], "cer": r["cer"], "sentences": r["sentences"],
                     "speaking_seconds": r["speaking_seconds"], "syllables_per_second": r["syllables_per_second"],
                     "syllables_per_voiced_second": r["syllables_per_voiced_second"], "worst": r["worst"][:3]})
    return {"engine": engine_name, "sample": sample, "steps": rows,
            "worst_rise": round(max(b["cer"] - a["cer"] for a, b in zip(rows, rows[1:])), 4)}


def _pulse():
    """A private PulseAudio with a null sink (tests/pulse.py), or NotMeasurable with the reason."""
    from bench.common import NotMeasurable

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pulse import PulseServer, PulseUnavailable

    import tempfile

    server = PulseServer(Path(tempfile.mkdtemp(prefix="bench-voice-pulse-")), sink="bench_speaker")
    try:
        return server.start()
    except PulseUnavailable as exc:
        raise NotMeasurable(f"no PulseAudio here: {exc}") from None


def _cpu_seconds(pid) -> float | None:
    """User + system CPU seconds of a running process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, TypeError):
        return None


def first_sound(engine_name: str, cache_dir: Path, model_dir: Path, runs: int = 3, level: float = 0.02,
                root: Path | None = None) -> dict:
    """Seconds from starting `assistant run` to the first sample of its greeting on the speaker, as the user hears
    it: a real process, its speaker a PulseAudio null sink whose monitor is read live by parec (chunks of 10 ms
    timestamped as they arrive). `cache_dir` holds the engine's pre-rendered prompts (made by roundtrip());
    `root` is the checkout to run (default: this one)."""
    import shutil
    import tempfile
    import threading

    import numpy as np

    server = _pulse()
    home = Path(tempfile.mkdtemp(prefix="bench-first-sound-"))
    (home / "cache").mkdir()
    (home / "cache" / "voice").symlink_to(cache_dir.resolve())
    # The trained understanding model of this checkout, where `assistant run` looks for it.
    import platformdirs

    user_cache = Path(os.environ.get("ASSISTANT_CACHE_DIR") or platformdirs.user_cache_dir("pension-assistant"))
    if (user_cache / "understanding").is_dir():
        (home / "cache" / "understanding").symlink_to(user_cache / "understanding")
    env = {**os.environ, **server.client_env(), "ASSISTANT_CACHE_DIR": str(home / "cache"),
           "ASSISTANT_CONFIG_DIR": str(home / "config"), "ASSISTANT_DATA_DIR": str(home / "data"),
           "ASSISTANT_VOICE": "elder-slow"}
    if engine_name == "pyttsx3":
        env["ASSISTANT_NATURAL_PYTHON"] = "off"
    cmd = [sys.executable, "-m", "assistant", "run", "--max-turns", "0", "--output-device", "pulse",
           "--input-device", "pulse", "--model", str(model_dir)]
    times, cpu, errors = [], [], []
    load = os.getloadavg()[0]
    try:
        for _ in range(runs):
            rec = subprocess.Popen(["parec", "--server", server.server, "-d", server.monitor, "--raw",
                                    "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=10"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            heard = {}

            def watch():
                while True:
                    chunk = rec.stdout.read(320)
                    if not chunk:
                        return
                    x = np.frombuffer(chunk[: len(chunk) // 2 * 2], "<i2")
                    if len(x) and np.abs(x).max() > level * 32768:
                        heard["at"] = time.monotonic()
                        heard["cpu"] = _cpu_seconds(heard.get("pid"))
                        return

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            time.sleep(0.5)  # parec is connected and streaming the sink's silence
            started = time.monotonic()
            proc = subprocess.Popen(cmd, env=env, cwd=str(root or Path(__file__).resolve().parent.parent),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            heard["pid"] = proc.pid
            watcher.join(timeout=60)
            try:
                _, err = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            rec.terminate()
            rec.wait(timeout=5)
            if "at" in heard:
                times.append(heard["at"] - started)
                cpu.append(heard["cpu"])
            else:
                errors.append((err or "no sound").strip().splitlines()[-1:] or ["no sound"])
    finally:
        server.stop()
        shutil.rmtree(server.runtime_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    result = {"runs": len(times), "seconds": [round(t, 2) for t in times], "load_average": round(load, 1)}
    if times:
        result["median_s"] = round(float(np.median(times)), 2)
        # CPU seconds the process used before its first sound: what the wall time would be on an idle machine
        # (start-up is one thread), when other work shares the cores.
        result["cpu_median_s"] = round(float(np.median([c for c in cpu if c is not None] or [np.nan])), 2)
    if errors:
        result["errors"] = [e[0] for e in errors]
    return result


def run(model_dir: Path, quick: bool = False) -> dict:
    from assistant.flows import load_flows

    sentences = load_flows().fixed_sentences()
    results = {}
    for name in engines_installed():
        # espeak-ng is not recognisable (models/README): the model searches long and hard on it, so its
        # baseline is a sample; the natural voice is measured on every prompt (a sample in --quick).
        sample = {("pyttsx3", True): 100, ("pyttsx3", False): 65, ("natural", True): 10}.get((name, quick), 1)
        try:
            results[name] = roundtrip(name, sentences, model_dir, sample, render_every=not quick)
            results[name]["live"] = live_memory(name, model_dir, 1 if quick else 3)
        except Exception as exc:  # noqa: BLE001 - one engine failing is a row in the table, not a lost run
            results[name] = {"engine": name, "error": f"{exc.__class__.__name__}: {exc}"}
    if "natural" not in results:
        results["natural"] = {"engine": "natural", "error": "not installed on this machine"}
    # Being heard (issue 14), with the engine `assistant run` speaks with: the first sound after start, and
    # whether each 慢一点 keeps the voice as easy to understand.
    engine = engines_installed()[0]
    extra = {}
    try:
        extra["first_sound"] = {"engine": engine, **first_sound(engine, OUT / f"voice-{engine}", model_dir,
                                                                 runs=1 if quick else 3)}
    except Exception as exc:  # noqa: BLE001 - a row saying why, not a lost run
        extra["first_sound"] = {"engine": engine, "error": f"{exc.__class__.__name__}: {exc}"}
    try:
        extra["slow_steps"] = slow_steps(engine, sentences, model_dir, 30 if quick else 10)
    except Exception as exc:  # noqa: BLE001
        extra["slow_steps"] = {"engine": engine, "error": f"{exc.__class__.__name__}: {exc}"}
    return {**results, **extra}


def table_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(measure, figure, target, verdict) rows for RESULTS.md."""
    rows = []
    for name, r in results.items():
        if name == "first_sound":
            rows += _first_sound_rows(r)
            continue
        if name == "slow_steps":
            rows += _slow_rows(r)
            continue
        if "error" in r:
            rows.append((f"voice round-trip CER, {name}", f"not measured: {r['error']}", "", ""))
            continue
        target = f"≤ {TARGET_NATURAL_CER:.0%}" if name == "natural" else "(baseline)"
        verdict = ("met" if r["cer"] <= TARGET_NATURAL_CER else "MISSED") if name == "natural" else ""
        rows.append((f"voice round-trip CER, {name} ({r['sentences']} prompts, no grammar)", f"{r['cer']:.1%}",
                     target, verdict))
        rendered = "all prompts" if r.get("rendered_all", True) else "the sampled prompts only (--quick)"
        rows.append((f"render {rendered}, {name} (while recognition of the first ones runs alongside)",
                     f"{r['render_seconds_new']} s new ({r['rendered']} rendered, {r['already_cached']} cached), "
                     f"cache {r['cache_mb']} MB", "", ""))
        live = r.get("live", {})
        if "peak_rss_mb" in live:
            rows.append((f"live process with the {name} cache, peak RSS", f"{live['peak_rss_mb']:.0f} MB "
                         f"({live.get('heard_turns', 0)} real spoken turn(s) heard; {live['cached']} parts from cache, "
                         f"{live['live']} live; TensorFlow loaded: "
                         f"{live['tensorflow_loaded']})", "≤ 350 MB", "met" if live["peak_rss_mb"] <= 350 else "MISSED"))
    return rows


def _first_sound_rows(r: dict) -> list[tuple[str, str, str, str]]:
    measure = f"first sound after `assistant run` starts, {r['engine']} voice (greeting from the cache)"
    if "median_s" not in r:
        return [(measure, f"not measured: {r.get('error') or r.get('errors')}", f"≤ {TARGET_FIRST_SOUND_S:.0f} s", "")]
    value = (f"{r['median_s']} s wall (runs {r['seconds']}, load average {r['load_average']} on 2 cores); "
             f"{r['cpu_median_s']} s of CPU before it")
    return [(measure, value, f"≤ {TARGET_FIRST_SOUND_S:.0f} s",
             "met" if r["median_s"] <= TARGET_FIRST_SOUND_S else "MISSED")]


def _slow_rows(r: dict) -> list[tuple[str, str, str, str]]:
    steps = r.get("steps", [])
    measure = f"round-trip CER after 0–{max(len(steps) - 1, 1)} × 慢一点, {r['engine']} voice re-rendered at each rate"
    if not steps:
        return [(measure, f"not measured: {r.get('error')}", "", "")]
    figures = " → ".join(f"{s['cer']:.1%} (rate {s['rate']})" for s in steps)
    n = steps[0]["sentences"]
    rows = [(f"{measure} (every {r['sample']}th prompt, {n} prompts)", figures,
             f"rise ≤ {TARGET_SLOW_STEP_CER:.0%} point per step",
             "met" if r["worst_rise"] <= TARGET_SLOW_STEP_CER + 1e-9 else "MISSED")]
    if all("speaking_seconds" in s for s in steps):
        # A listener must hear each step slower: the same prompts' speaking time, and syllables per second with
        # the pauses and without them (how fast the syllables themselves are said).
        growth = ", ".join(f"+{b['speaking_seconds'] / a['speaking_seconds'] - 1:.0%}"
                           for a, b in zip(steps, steps[1:], strict=False))
        value = (" → ".join(f"{s['speaking_seconds']:.0f} s" for s in steps) + f" ({growth} per step); syllables/s "
                 + " → ".join(f"{s['syllables_per_second']:.2f}" for s in steps) + " with pauses, "
                 + " → ".join(f"{s['syllables_per_voiced_second']:.2f}" for s in steps) + " voiced only")
        rows.append((f"speaking time of those prompts after 0–{len(steps) - 1} × 慢一点, {r['engine']} voice", value,
                     "", "info"))
    return rows


def worst_sentences_markdown(results: dict) -> str:
    lines = []
    for name, r in results.items():
        if "worst" not in r:
            continue
        lines += [f"\n**Worst ten prompts, {name}** (CER · said · heard)\n", "| CER | prompt | heard |", "| --- | --- | --- |"]
        lines += [f"| {w['cer']:.0%} | {w['text']} | {w['heard']} |" for w in r["worst"]]
    return "\n".join(lines)


def run_part(quick: bool = False):
    """The bench part "voice": a table row per engine, and the worst ten prompts."""
    from bench.common import Figure, PartResult, model_dir

    results = run(model_dir(), quick)
    figures = []
    for measure, value, target, verdict in table_rows(results):
        figures.append(Figure("7 voice", measure, value, target, {"met": "met", "MISSED": "missed"}.get(verdict, "info")))
    section = "\n".join(["## 7. Our own voice, understood by the model", "",
                          "Each fixed prompt of flows/ rendered by the engine (as `assistant voice render` does) and "
                          "recognised with no grammar; CER weighted by prompt length. espeak-ng is a sampled "
                          "baseline (every 65th prompt): the model cannot understand it.",
                          worst_sentences_markdown(results), ""])
    return PartResult(figures, section, results)


if __name__ == "__main__":
    from assistant.recognition.model import resolve_model_dir

    print(json.dumps(run(resolve_model_dir(None), quick="--quick" in sys.argv), ensure_ascii=False, indent=1))
