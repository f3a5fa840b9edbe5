"""The user going on over the start of a reply, told from its echo by loudness alone (assistant/live/goes_on.py), on
real recorded Mandarin: the voice coming back is one recording, the user another."""

import numpy as np
import pytest

from assistant.audio.samples import levels_db
from assistant.live.goes_on import ECHO_MIN_SECONDS, GoesOn
from assistant.live.rejoin import JOIN_SECONDS
from tests.chatdriver import SHARED

REAL = SHARED / "audio" / "real-mandarin"


def _recording(name: str) -> np.ndarray:
    from assistant.audio.wavio import read_wav

    path = REAL / name
    if not path.exists():
        pytest.skip(f"real recordings not present: {path}")
    return read_wav(path).astype(np.float64)


def _at(samples: np.ndarray, db: float) -> np.ndarray:
    """The recording with the loud half of its 30 ms frames at `db` (as the loop bench sets levels)."""
    from bench.endpointing import speech_db

    return samples * 10 ** ((db - speech_db(samples)) / 20)


def _pcm(samples: np.ndarray) -> bytes:
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def _feed(goes_on: GoesOn, samples: np.ndarray, playing: bool) -> float | None:
    """0.1 s chunks; the audio time (since watch) at which the user was heard going on, or None."""
    pcm = _pcm(samples)
    for i in range(0, len(pcm), 3200):
        if goes_on.hear(pcm[i:i + 3200], playing):
            return goes_on.elapsed
    return None


@pytest.fixture(scope="module")
def voices():
    echo = _recording("aishell_BAC009S0724W0121.wav")
    user = _recording("aishell_BAC009S0724W0124.wav")
    return echo, user


def _learned(echo: np.ndarray) -> GoesOn:
    goes_on = GoesOn()
    assert _feed(goes_on, echo, playing=True) is None, "nothing is watched before a turn ends"
    assert goes_on.echo_db is not None
    return goes_on


def test_speech_well_over_the_voice_coming_back_is_the_user_going_on(voices):
    echo, user = voices
    echo, user = _at(echo, 50.0), _at(user, 68.0)
    goes_on = _learned(echo)
    assert goes_on.watch(66.0)
    start = int(0.5 * 16000)
    mixed = echo[: start + len(user)].copy()
    mixed[start:] += user[: len(mixed) - start]
    heard = _feed(goes_on, mixed[: int(JOIN_SECONDS * 16000)], playing=True)
    voiced = np.flatnonzero(levels_db(user[: len(user) // 480 * 480].reshape(-1, 480)) > 60)[0] * 0.03 + 0.5
    assert heard is not None and voiced <= heard <= voiced + 0.5, (heard, voiced)  # its first word begins it
    assert goes_on.onset is not None and voiced - 0.1 <= goes_on.onset <= heard, (goes_on.onset, voiced)


def test_the_voice_coming_back_alone_is_never_the_user(voices):
    echo, _ = voices
    echo = _at(echo, 50.0)
    goes_on = _learned(echo)
    assert goes_on.watch(66.0)
    assert _feed(goes_on, echo, playing=True) is None


def test_a_voice_coming_back_about_as_loud_as_the_user_is_never_told_apart(voices):
    echo, user = voices
    echo, user = _at(echo, 62.0), _at(user, 68.0)
    goes_on = _learned(echo)
    assert not goes_on.watch(66.0), "its loud syllables are as loud as the user: no guessing"
    assert _feed(goes_on, echo + np.resize(user, len(echo)), playing=True) is None


def test_nothing_is_told_before_the_voice_was_heard_back_or_without_the_users_level(voices):
    echo, user = voices
    goes_on = GoesOn()
    _feed(goes_on, _at(echo, 50.0)[: int(16000 * ECHO_MIN_SECONDS / 2)], playing=True)
    assert not goes_on.watch(66.0), "too little of the voice heard back"
    assert not _learned(_at(echo, 50.0)).watch(None)


def test_only_the_moment_after_the_turn_and_only_while_the_reply_plays(voices):
    echo, user = voices
    echo, user = _at(echo, 50.0), _at(user, 68.0)
    goes_on = _learned(echo)
    assert goes_on.watch(66.0)
    late = np.concatenate([echo[: int(16000 * (JOIN_SECONDS + 0.3))], user[:16000] + echo[:16000]])
    assert _feed(goes_on, late, playing=True) is None, "later than JOIN_SECONDS is a turn of its own"
    goes_on = _learned(echo)  # (the late speech was learned as the voice coming back: louder, so more careful)
    assert goes_on.watch(66.0)
    assert _feed(goes_on, user[: int(16000 * JOIN_SECONDS)], playing=False) is None, "nothing playing: heard anyway"


def test_the_endpointer_says_how_loud_the_speaker_was(voices):
    from assistant.audio.endpoint import Endpointer

    _, user = voices
    ends = Endpointer(follow_room=True)
    ends.feed(_pcm(np.concatenate([np.zeros(16000), _at(user, 68.0)])))
    assert ends.voice_db is not None and 60.0 <= ends.voice_db <= 72.0, ends.voice_db
    ends.forget_words()
    assert ends.voice_db is None, "a prompt heard before the user is forgotten with its words"
