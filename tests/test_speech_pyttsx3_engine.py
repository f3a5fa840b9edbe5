import sys
import wave
from dataclasses import dataclass, field

import numpy as np
import pytest

from assistant.errors import VoiceError
from assistant.speech.effects import speech_rms
from assistant.speech.engines import EmptyOutput, read_audio_checked
from assistant.speech.pyttsx3_engine import Pyttsx3Engine, mandarin_score, pick_voice
from assistant.speech.worker import RenderWorker, WorkerError
from speech_support import SENTENCES, espeak_engine, estimate_f0, isolated_voice_env  # noqa: F401


def test_synthesis_is_audible_and_plausibly_long(espeak_engine):
    text = SENTENCES[0]
    samples, rate = espeak_engine.synthesize(text)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert rate == 22050
    seconds = len(samples) / rate
    hanzi = sum("\u4e00" <= c <= "\u9fff" for c in text)
    assert 0.12 * hanzi < seconds < 0.8 * hanzi, f"{seconds:.1f} s for {hanzi} characters"
    assert speech_rms(samples, rate) > 0.02
    assert espeak_engine.identity == "pyttsx3/espeak/sit/cmn"


def test_slower_rate_is_longer_with_the_same_pitch(espeak_engine):
    normal, rate = espeak_engine.synthesize(SENTENCES[1], 1.0)
    slow, _ = espeak_engine.synthesize(SENTENCES[1], 0.7)
    assert len(slow) > 1.25 * len(normal)
    assert estimate_f0(slow, rate) == pytest.approx(estimate_f0(normal, rate), rel=0.10)


def test_worker_answers_every_sentence_first_time(tmp_path):
    """Regression: pyttsx3's espeak driver returned before espeak's thread wrote the file (#219).

    Long sentences at the elder rate came back missing or as a bare header, and the next sentence's
    audio landed in the wrong file. Talks to the worker directly, so no retry can hide it.
    """
    worker = RenderWorker("pyttsx3")
    worker.start()
    try:
        lengths = []
        for i, text in enumerate(SENTENCES * 2):
            out = tmp_path / f"{i}.wav"
            worker.render(text, 0.8, out)
            samples, rate = read_audio_checked(out)  # raises EmptyOutput on the old behaviour
            lengths.append(len(samples))
        n = len(SENTENCES)
        # the same sentence twice gives the same length (no audio from a neighbour mixed in)
        for first, second in zip(lengths[:n], lengths[n:], strict=True):
            assert abs(first - second) < 0.05 * first
    finally:
        worker.close()


def test_the_rate_is_in_force_before_the_sentence_starts():
    """Regression (CI, 2026-12-03): a sentence at the elder rate came out 28 % short, at pyttsx3's 200 wpm.

    pyttsx3 holds setProperty("rate") in its own queue until runAndWait, which passes it to espeak and cancels
    espeak's pending commands in the same breath; under load the rate lost that race. The rate must be in force on
    espeak before the sentence is queued. Runs in a child: espeak can be initialised once per process.
    """
    import subprocess

    code = (
        "import ctypes\n"
        "from pyttsx3.drivers import _espeak\n"
        "from assistant.speech.pyttsx3_engine import Pyttsx3Backend\n"
        "backend = Pyttsx3Backend()\n"
        "get = _espeak.dll.espeak_GetParameter\n"
        "get.argtypes, get.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int\n"
        "for wpm in (145, 113, 175):\n"
        "    backend._set_rate(wpm)\n"
        "    print(get(_espeak.RATE, 1))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["145", "113", "175"]


@dataclass
class FakeVoice:
    id: str
    name: str = ""
    languages: list = field(default_factory=list)


def test_pick_voice_prefers_mainland_mandarin():
    voices = [
        FakeVoice("HKEY\\Voices\\TTS_MS_EN-US_ZIRA_11.0", "Microsoft Zira Desktop", ["en_US"]),
        FakeVoice("HKEY\\Voices\\TTS_MS_ZH-HK_TRACY_11.0", "Microsoft Tracy Desktop", ["zh_HK"]),
        FakeVoice("HKEY\\Voices\\TTS_MS_ZH-CN_HUIHUI_11.0", "Microsoft Huihui Desktop", ["zh_CN"]),
    ]
    assert pick_voice(voices).name == "Microsoft Huihui Desktop"
    mac = [FakeVoice("com.apple.voice.compact.zh-TW.Meijia", "Meijia", ["zh_TW"]),
           FakeVoice("com.apple.voice.compact.zh-CN.Tingting", "Tingting", ["zh_CN"])]
    assert pick_voice(mac).name == "Tingting"
    assert mandarin_score(FakeVoice("sit/yue", "Chinese (Cantonese)", ["yue"])) == 0
    assert mandarin_score(FakeVoice("sit/cmn", "Chinese (Mandarin)", ["cmn"])) > mandarin_score(
        FakeVoice("sit/cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)", ["cmn-latn-pinyin"]))


def test_no_mandarin_voice_is_a_kind_error():
    with pytest.raises(VoiceError, match="普通话"):
        pick_voice([FakeVoice("gmw/en", "English", ["en"])])


def test_unknown_voice_id_names_the_chinese_voices():
    with Pyttsx3Engine(voice="no-such-voice") as engine:
        with pytest.raises(VoiceError, match="sit/cmn"):
            engine.synthesize("你好")


def test_explicit_voice_id_is_used():
    with Pyttsx3Engine(voice="sit/cmn-latn-pinyin") as engine:
        assert engine.voice_id == "sit/cmn-latn-pinyin"


# --- retry logic, with a fake worker (the neighbour) and the real engine code under test -------------


class FakeWorker:
    """Stands in for the render child: replays a script of outcomes, records what it was asked."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []
        self.info = {"ready": True, "identity": "fake/voice", "voice": "fake"}
        self.alive = False

    def start(self):
        self.alive = True
        return self.info

    def render(self, text, rate, out, fresh=False, timeout=None):
        self.calls.append(fresh)
        outcome = self.script.pop(0) if self.script else "good"
        if outcome == "hang":
            self.alive = False
            raise WorkerError("fake worker hung")
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(22050)
            if outcome == "good":
                tone = 0.3 * np.sin(2 * np.pi * 150 * np.arange(11025) / 22050)
                wav.writeframes((tone * 32767).astype("<i2").tobytes())
            # "empty": header only, what pyttsx3 leaves behind on a bad first call

    def close(self):
        self.alive = False


def test_empty_first_file_is_retried_with_a_fresh_engine():
    workers = []

    def factory():
        workers.append(FakeWorker(["empty"]))
        return workers[-1]

    with Pyttsx3Engine(worker_factory=factory) as engine:
        samples, rate = engine.synthesize("你好")
    assert len(samples) == 11025 and rate == 22050
    assert workers[0].calls == [False, True], "second attempt must ask for a fresh pyttsx3 engine"
    assert len(workers) == 1, "an empty file is not a reason to restart the child"


def test_hung_worker_is_replaced():
    workers = []

    def factory():
        workers.append(FakeWorker(["hang"] if not workers else []))
        return workers[-1]

    with Pyttsx3Engine(worker_factory=factory) as engine:
        samples, _ = engine.synthesize("你好")
    assert len(samples) and len(workers) == 2


def test_persistent_failure_becomes_one_kind_voice_error():
    with Pyttsx3Engine(worker_factory=lambda: FakeWorker(["empty"] * 10)) as engine:
        with pytest.raises(VoiceError, match="试了 3 次"):
            engine.synthesize("你好")


def test_empty_file_detection(tmp_path):
    with pytest.raises(EmptyOutput):
        read_audio_checked(tmp_path / "missing.wav")
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(b"\0\0" * 22050)
    with pytest.raises(EmptyOutput):
        read_audio_checked(silent)


def test_worker_never_imports_into_this_process():
    assert "pyttsx3" not in sys.modules, "pyttsx3 must run in the render child, not the live process"
