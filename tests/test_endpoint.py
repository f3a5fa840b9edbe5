"""The end-of-turn judge alone (assistant/audio/endpoint.py): webrtcvad on real recorded speech, and the waits
that what was heard buys. Audio time only: no clock, no recogniser."""

import numpy as np
import pytest

from assistant.audio.endpoint import (COMPLETE_ANSWER_QUIET, HESITATION_QUIET, NOISY_EXTRA, OPEN_QUIET,
                                      SENTENCE_QUIET, Endpointer, sounds_finished, words_promise_more)
from tests.chatdriver import SHARED

REAL = SHARED / "audio" / "real-mandarin"
CHUNK = 1600


def _speech():
    from assistant.audio.wavio import read_wav

    path = REAL / "mdcs_tourism_300035.wav"
    if not path.exists():
        pytest.skip(f"real recordings not present: {path}")
    return read_wav(path)


def _bounds(samples):
    frames = samples[: len(samples) // 160 * 160].astype(np.float32).reshape(-1, 160)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = np.nonzero(rms >= rms.max() * 10 ** (-35 / 20))[0]
    return loud[0] * 160 / 16000, (loud[-1] + 1) * 160 / 16000


def _feed(ends, samples):
    pcm = samples.astype("<i2").tobytes()
    for i in range(0, len(pcm), CHUNK * 2):
        ends.feed(pcm[i:i + CHUNK * 2])


def _quiet_until_over(ends, limit=10.0):
    """Feeds silence chunk by chunk; the quiet (s) at which the turn was over, or None."""
    fed = 0.0
    while fed < limit:
        ends.feed(b"\0" * CHUNK * 2)
        fed += CHUNK / 16000
        if ends.over():
            return fed
    return None


def test_detector_finds_real_speech_and_its_end():
    samples = _speech()
    start, end = _bounds(samples)
    ends = Endpointer()
    _feed(ends, samples)
    assert ends.speech_start is not None and abs(ends.speech_start - start) < 0.3
    assert abs(ends.speech_end - end) < 0.3
    _feed(ends, np.zeros(8000, np.int16))
    assert not ends.speaking and ends.quiet >= 0.45


def test_nothing_heard_is_never_over():
    ends = Endpointer(["好了"])
    _feed(ends, _speech())
    assert _quiet_until_over(ends, 5.0) is None, "sound without words is no turn to end"


@pytest.mark.parametrize("heard, wait", [("好 了", COMPLETE_ANSWER_QUIET), ("这个 能 用 吗", SENTENCE_QUIET),
                                         ("人脸 识别 通 不过", OPEN_QUIET), ("我 想 问 一下 那个", HESITATION_QUIET),
                                         ("[unk] [unk]", OPEN_QUIET)])
def test_the_wait_follows_what_was_heard(heard, wait):
    ends = Endpointer(["好了", "我用微信"])
    _feed(ends, _speech())
    ends.heard(heard)
    quiet = _quiet_until_over(ends)
    assert quiet is not None and wait <= ends.quiet < wait + 0.15, (quiet, ends.quiet)


def test_a_complete_expected_answer_ends_sooner_than_a_free_sentence():
    quick, slow = Endpointer(["好了"]), Endpointer(["好了"])
    for ends, heard in ((quick, "好 了"), (slow, "好 了 我 还 想")):
        _feed(ends, _speech())
        ends.heard(heard)
    assert _quiet_until_over(quick) is not None and quick.quiet < 0.6
    assert _quiet_until_over(slow) is not None and slow.quiet >= 2.0, "a hesitation of 2 s is waited through"


def test_speech_after_a_pause_keeps_the_turn_open():
    ends = Endpointer()
    samples = _speech()
    _feed(ends, samples)
    ends.heard("我 想 问 一下")
    _feed(ends, np.zeros(int(16000 * 1.2), np.int16))
    assert not ends.over()
    _feed(ends, samples)  # the speaker goes on
    assert ends.quiet < 0.6 and not ends.over()


def test_a_room_that_never_goes_quiet_still_ends_the_turn():
    rng = np.random.default_rng(3)
    babble = np.concatenate([_speech()] * 6)
    ends = Endpointer()
    _feed(ends, babble[: 16000 * 2])
    ends.heard("人脸 识别 通 不过")
    pcm_rest = babble[16000 * 2:] + rng.normal(0, 200, len(babble) - 16000 * 2).astype(np.int16)
    over_at = None
    for i in range(0, len(pcm_rest), CHUNK):
        ends.feed(pcm_rest[i:i + CHUNK].astype("<i2").tobytes())
        if ends.over():
            over_at = ends.elapsed
            break
    assert over_at is not None and over_at - 2.0 <= OPEN_QUIET + NOISY_EXTRA + 0.15


def test_finished_and_unfinished_words():
    assert sounds_finished("能在支付宝上认证吗") and not words_promise_more("能在支付宝上认证吗")
    assert words_promise_more("我想问一下那个") and words_promise_more("因为") and not sounds_finished("就是")
