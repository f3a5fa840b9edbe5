"""bench/endpointing.py's own counting: which cut-offs are harmful, and its joined judge (the live loop's rule of
assistant/live/rejoin.py) on real recorded speech. Audio time only: no clock."""

from types import SimpleNamespace

import numpy as np

from assistant.audio.endpoint import Endpointer
from bench.endpointing import Joined, harmful
from tests.test_endpoint import _feed, _speech


def _meaning(text):
    """Neighbour of the counting: "next" for anything that says 好了, a question for 吗, else nothing; the question
    cue for 吗 and 什么."""
    cues = frozenset({"question"}) if "吗" in text or "什么" in text else frozenset()
    if "吗" in text:
        return SimpleNamespace(intent="q_other", action="act", cues=cues)
    return SimpleNamespace(intent="next" if "好了" in text else None, action="act", cues=cues)


def test_a_cut_is_harmful_only_when_the_rest_changes_what_is_done():
    assert not harmful("好了", "好了谢谢", _meaning)
    assert harmful("好了", "好了能用吗", _meaning), "the rest is a question: its meaning changed"
    assert harmful("好了", "好了还有什么", _meaning), "the rest asks something"
    assert harmful("那个", "那个好了", _meaning), "the part heard meant something else"


def _turn(judge, pause: float):
    """Speech ("好了" heard), `pause` s of quiet, speech again (more words heard), then quiet: the audio time the
    judge ended, or None."""
    speech = _speech()[:16000 * 2]
    _feed(judge, speech)
    judge.heard("好 了")
    for part, words in ((np.zeros(int(16000 * pause), np.int16), None), (speech, "好 了 但是 没有 按钮"),
                        (np.zeros(16000 * 6, np.int16), None)):
        for i in range(0, len(part), 1600):
            judge.feed(part[i:i + 1600].astype("<i2").tobytes())
            if words and i >= 3200:  # the recogniser's words come a little after the sound
                judge.heard(words)
            if judge.over():
                return judge.ends.elapsed if isinstance(judge, Joined) else judge.elapsed
    return None


def test_the_joined_judge_keeps_a_turn_the_speaker_goes_on_with():
    alone = _turn(Endpointer(["好了"]), pause=1.2)
    assert alone is not None and alone < 2.0 + 1.2, "without joining, the quick end cuts at the pause"
    joined = Joined(Endpointer(["好了"]), grace=1.6)
    assert _turn(joined, pause=1.2) > 2 * 2.0 + 1.2, "joined: the turn ends after the second part"
    late = Joined(Endpointer(["好了"]), grace=0.3)
    _turn(late, pause=1.2)
    assert late.ended_at is not None and late.ended_at < 2.0 + 1.2, "speech after the grace is a turn of its own"


def test_the_loop_benchs_voice_comes_back_at_the_level_it_says():
    """bench.endpointing.loop_turn's microphone: while the speaker plays, the voice comes back `under` dB under the
    user's (loud halves of both), and not at all once it stops."""
    from bench.endpointing import _Mic, _Speaker, echo_voice, speech_db

    voice = echo_voice()
    user = (_speech()[:16000 * 3]).astype(np.int16)
    quiet = np.zeros(16000 * 3, np.int16)
    gain = 10 ** ((speech_db(user) - 18.0 - speech_db(voice.astype(np.int16))) / 20)
    echo = (voice * gain).astype(np.int32)
    assert abs(speech_db(echo.astype(np.int16)) - (speech_db(user) - 18.0)) < 0.5
    mic = _Mic(np.concatenate([quiet, user]), echo, lead=0.0)
    speaker = _Speaker(mic)
    speaker.say(["……"])  # plays 3 s: the quiet part
    back = np.frombuffer(b"".join(mic.read() for _ in range(30)), "<i2")
    assert np.array_equal(back, echo[:len(back)]), "the voice itself, mixed into the room's quiet"
    assert not speaker.playing
    assert np.array_equal(np.frombuffer(mic.read(), "<i2"), user[:1600]), "nothing comes back once it stopped"
