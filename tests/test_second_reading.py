"""The second reading: an open recogniser fed alongside the grammar's, in its own thread, on real speech."""

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from assistant.dialog import Session
from assistant.flows import load_flows
from assistant.live.hearing import clean
from assistant.live.loop import MicListener
from assistant.recognition import second_reading
from assistant.recognition.second_reading import SecondReading
from tests.test_voice_loop import REAL, RecordingSpeaker, WavMicrophone, _real, _transcript


@pytest.fixture(scope="module")
def recognizer(vosk_model):
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(vosk_model)


def _chunks(samples, size=3200):
    pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


def _free_sentence():
    return sorted(p.name for p in REAL.glob("mdcs_*.wav"))[5]


def test_reads_the_same_words_as_decoding_the_whole_turn_afterwards(recognizer):
    samples = _real(_free_sentence())
    second = SecondReading(recognizer.model)
    recognizer.start(["好 了"])  # the main reading decodes the same chunks at the same time, as in the loop
    for pcm in _chunks(samples):
        second.feed(pcm)
        recognizer.accept(pcm)
    readings = second.result(timeout=120)  # what is read, not how fast (the loop's timeout has tests of its own)
    alongside = clean(readings[0].text)
    # n-best: several readings, best first, each scored by vosk (only differences within one recogniser matter).
    assert len(readings) > 1 and readings == sorted(readings, key=lambda r: -r.confidence)
    afterwards = clean(recognizer.transcribe(samples, None))
    # vosk is not bit-for-bit deterministic (README): a word may differ between two decodes of one file.
    assert Levenshtein.distance(alongside, afterwards) <= max(2, len(afterwards) // 10), (alongside, afterwards)
    assert len(clean(alongside)) >= 0.5 * len(_transcript(_free_sentence()))


# vosk's own __del__ complains about the recogniser it failed to build for the broken reading.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_its_words_so_far_grow_into_what_it_reads_at_the_end(recognizer):
    """The end-of-turn judge reads the open reading's words while the turn goes on (Decoding.words): they grow as
    the sentence is heard, and once all of it is decoded they are the words of its best reading."""
    samples = _real(_free_sentence())
    decoding = second_reading.Decoding(recognizer.model)
    seen = []
    for pcm in _chunks(samples):
        decoding.accept(pcm)
        seen.append(clean(decoding.words))
    assert seen[0] == "" and len({w for w in seen if w}) >= 3, "words come as the sentence goes on"
    final = clean(decoding.finish()[0].text)
    assert final and Levenshtein.normalized_distance(seen[-1], final) <= 0.2, (seen[-1], final)


def test_a_cancelled_or_broken_reading_never_hangs_and_reads_nothing(recognizer):
    second = SecondReading(recognizer.model)
    for pcm in _chunks(_real(_free_sentence()))[:20]:
        second.feed(pcm)
    second.cancel()
    assert second.result() == []
    broken = SecondReading(model=None)  # no model: the reading fails inside its thread
    broken.feed(b"\0" * 3200)
    assert broken.result() == []


def test_listener_answers_a_free_question_after_a_quiet_start_and_keeps_up(recognizer, monkeypatch):
    # What is read, not how fast: this microphone hands out audio faster than real time, so on a loaded machine
    # the second reading could fall behind by more than the loop's budget (the official CI at load ~3.5 gave up
    # after 9.2 s). The budget itself is tested in test_robustness; the wait a user has is in the bench.
    monkeypatch.setattr(second_reading, "RESULT_SECONDS", 120.0)
    name = _free_sentence()
    quiet_then_speech = np.concatenate([np.zeros(16000 * 8, np.int16), _real(name)])
    session = Session(load_flows())
    session.greet()
    listener = MicListener(recognizer, RecordingSpeaker(), lambda: WavMicrophone(quiet_then_speech), session)
    heard = listener.listen()
    assert listener.backlog() == 0
    reference = _transcript(name)
    # The grammar alone cannot say this sentence; most of it comes from the second (open) reading, including
    # its first words: the reading starts from the audio kept before the first word was noticed.
    assert sum(ch in reference for ch in set(heard)) >= 0.5 * len(set(reference)), (heard, reference)
    assert clean(recognizer.transcribe(_real(name), None))[:2] in heard
    listener.close()
