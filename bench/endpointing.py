"""Endpointing, both sides (issue 14): how often a turn is cut off at a hesitation, and how long the user waits
after their last word, for the recogniser's old end of turn and for the live loop's Endpointer.

    .venv/bin/python -m bench.endpointing [--pauses N]

Free questions (written here for this measure, not from the frozen corpus) are read by the natural voice and a
seeded 0.5–2 s pause is put at a quiet point between 30 % and 70 % of the sentence; short expected answers are
read as they are. Questions are heard in the greeting, short answers in the first step of the WeChat walk (where
they are expected), each with the state's grammar as the live loop hears it. "before" is vosk's endpoint plus the
recogniser's end_silence (what MicListener waited for until issue 14), "after" is MicListener with the
Endpointer. Time is audio time (files are fed faster than real time), so the waits do not depend on the
machine's load. Writes bench/out/endpointing.md.
"""

import argparse
import random

import numpy as np

from bench.common import OUT, md_table, model_dir, percentile, use_isolated_env

QUESTIONS = [
    "我想问一下养老金认证在哪里做",
    "我的手机上没有那个软件怎么办",
    "人脸识别老是通不过是什么原因",
    "我女儿能不能帮我在她手机上认证",
    "今年的认证什么时候截止",
    "认证要不要花钱",
    "我眼睛不好看不清屏幕上的字",
    "微信里面从哪里进去认证",
    "我刚才按错了现在怎么弄",
    "认证成功以后还要做什么",
    "我不会用智能手机能去社区办吗",
    "支付宝上面也可以认证吗",
]
SHORT_ANSWERS = ["好了", "下一步", "弄好了", "知道了", "再说一遍", "大声点"]
"""Heard in the first step of the WeChat walk, where each is an expected phrase."""
RATE = 16000
CHUNK = 1600  # 0.1 s, as the microphone delivers


def speech_bounds(samples: np.ndarray) -> tuple[int, int]:
    """First and last sample of 10 ms frames within 35 dB of the loudest frame."""
    frames = samples[: len(samples) // 160 * 160].astype(np.float32).reshape(-1, 160)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-9
    loud = np.nonzero(rms >= rms.max() * 10 ** (-35 / 20))[0]
    return int(loud[0] * 160), int((loud[-1] + 1) * 160)


def with_pause(samples: np.ndarray, rng: random.Random) -> tuple[np.ndarray, float]:
    """The sentence with a pause of 0.5–2 s at its quietest 10 ms frame between 30 % and 70 % of the speech."""
    start, end = speech_bounds(samples)
    lo, hi = start + int((end - start) * 0.3), start + int((end - start) * 0.7)
    frames = samples[lo: hi // 160 * 160].astype(np.float32)
    frames = frames[: len(frames) // 160 * 160].reshape(-1, 160)
    at = lo + int(np.argmin(np.sqrt(np.mean(frames ** 2, axis=1)))) * 160
    pause = rng.uniform(0.5, 2.0)
    return np.concatenate([samples[:at], np.zeros(int(pause * RATE), samples.dtype), samples[at:]]), pause


class FileMicrophone:
    """The recording, then quiet, in 0.1 s chunks; counts what was read."""

    def __init__(self, samples, tail=6.0):
        pcm = np.concatenate([samples, np.zeros(int(RATE * tail), np.int16)]).astype("<i2").tobytes()
        self.chunks = [pcm[i:i + CHUNK * 2] for i in range(0, len(pcm), CHUNK * 2)]
        self.read_samples = 0

    def read(self, timeout=1.0):
        pcm = self.chunks.pop(0) if self.chunks else b"\0" * CHUNK * 2
        self.read_samples += len(pcm) // 2
        return pcm

    def close(self):
        pass


class Quiet:
    playing = False

    def stop(self):
        pass


def before(recognizer, grammar, samples) -> int:
    """Samples fed until the recogniser's own end of turn (the loop's end of turn until issue 14)."""
    from assistant.recognition.recognizer import Final

    recognizer.start(grammar)
    pcm = np.concatenate([samples, np.zeros(RATE * 6, np.int16)]).astype("<i2").tobytes()
    for i in range(0, len(pcm), CHUNK * 2):
        if isinstance(recognizer.accept(pcm[i:i + CHUNK * 2]), Final):
            return i // 2 + CHUNK
    return len(pcm) // 2


def after(recognizer, session, samples) -> int:
    from assistant.live.loop import MicListener

    mic = FileMicrophone(samples)
    listener = MicListener(recognizer, Quiet(), lambda: mic, session, barge_in=True)
    listener.listen(None, timeout=20)
    listener.close()
    return mic.read_samples


def measure(pauses: int = 2, seed: int = 14) -> str:
    from bench.asr import natural_voice_wavs
    from bench.common import TODAY  # noqa: F401 - the session's dates are not used here
    from assistant.audio.wavio import read_wav
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.hearing import Hearing
    from assistant.recognition.recognizer import Recognizer

    use_isolated_env()
    flows = load_flows()
    greeting, walk = Session(flows), Session(flows)
    greeting.greet()
    walk.greet()
    walk.handle("用微信")
    recognizer = Recognizer(model_dir())
    grammars = {id(s): Hearing(recognizer, s).grammar() for s in (greeting, walk)}
    shorts = [s for s in SHORT_ANSWERS if s in walk.expected_phrases()]
    texts = QUESTIONS + shorts
    audio = dict(zip(texts, (read_wav(p) for p in natural_voice_wavs(texts, OUT / "natural-endpointing"))))
    rng = random.Random(seed)
    cases = [("question, pause", greeting, *with_pause(audio[q], rng)) for q in QUESTIONS for _ in range(pauses)]
    cases += [("question", greeting, audio[q], 0.0) for q in QUESTIONS]
    cases += [("short answer", walk, audio[s], 0.0) for s in shorts]
    rows = {}
    for kind, session, samples, _pause in cases:
        _, end = speech_bounds(samples)
        for side, fed in (("before", before(recognizer, grammars[id(session)], samples)),
                          ("after", after(recognizer, session, samples))):
            entry = rows.setdefault((kind, side), {"n": 0, "cut": 0, "waits": []})
            entry["n"] += 1
            if fed < end - int(0.05 * RATE):
                entry["cut"] += 1
            else:
                entry["waits"].append((fed - end) / RATE)
    table = []
    for (kind, side), e in rows.items():
        waits = e["waits"] or [float("nan")]
        table.append([kind, side, e["n"], f"{e['cut']} ({100 * e['cut'] / e['n']:.0f} %)",
                      f"{percentile(waits, 50):.2f} s", f"{percentile(waits, 95):.2f} s"])
    text = ("Endpointing on the natural voice (audio time; a wait is from the last loud 10 ms to the end of the "
            "turn, in 0.1 s microphone chunks)\n\n"
            + md_table(["turns", "end of turn", "n", "cut off", "wait p50", "wait p95"], table) + "\n")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "endpointing.md").write_text(text, encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pauses", type=int, default=2, help="paused copies of each question (seeded)")
    print(measure(parser.parse_args().pauses))


if __name__ == "__main__":
    main()
