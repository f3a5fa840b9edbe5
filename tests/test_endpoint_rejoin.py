"""A short answer said first and explained after a pause is one turn (assistant/live/rejoin.py): the real
session put back as it was, and the live loop (real recogniser, real understanding, the natural voice) joining
the two parts when the user goes on within a moment of the turn's end while the reply plays (barge-in), and not
otherwise. Audio time only: no clock."""

import numpy as np
import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from assistant.live import rejoin
from assistant.live.loop import LoopOptions, VoiceLoop
from bench.endpointing import speech_db

FLOWS = load_flows()


def _in_the_walk() -> Session:
    """A session in the first step of the WeChat walk, where "好了" moves on."""
    session = Session(FLOWS)
    session.greet()
    session.handle("用微信")
    return session


def test_a_session_put_back_is_the_session_it_was():
    session = _in_the_walk()
    fresh = _in_the_walk()
    before = rejoin.remember(session, "好了")
    session.handle("好了")
    session.handle("慢一点")
    assert session.state != fresh.state, "the turns moved the session on"
    rejoin.put_back(session, before)
    assert (session.state, session.history, session.returns) == (fresh.state, fresh.history, fresh.returns)
    assert session.voice == fresh.voice and session.last_content == fresh.last_content
    # And it goes on from there as the fresh one does.
    assert session.handle("好了").say == fresh.handle("好了").say


@pytest.mark.parametrize("onset, joins", [(0.4, True), (rejoin.JOIN_SECONDS, True),
                                          (rejoin.JOIN_SECONDS + 0.2, False), (None, False)])
def test_only_words_soon_after_the_end_continue_the_turn(onset, joins):
    before = rejoin.remember(_in_the_walk(), "好了")
    assert rejoin.joined(before, "但是没找到", onset) is joins
    assert not rejoin.joined(None, "但是没找到", 0.4) and not rejoin.joined(before, "", 0.4)


# --- in the live loop, on the natural voice -----------------------------------------------------------------
@pytest.fixture(scope="module")
def natural(vosk_model):
    from tests.speech_support import natural_sentences

    return natural_sentences(vosk_model)  # renders the recogniser alone hears clearly


@pytest.fixture(scope="module")
def recognizer(vosk_model):
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(vosk_model)


class Microphone:
    """Neighbour of the loop: a recording in 0.1 s chunks, then a quiet room; counts the seconds it gave."""

    def __init__(self, samples):
        pcm = np.concatenate([samples, np.zeros(16000 * 4, np.int16)]).astype("<i2").tobytes()
        self.chunks = [pcm[i:i + 3200] for i in range(0, len(pcm), 3200)]
        self.fed = 0.0

    def read(self, timeout=1.0):
        self.fed += 0.1
        return self.chunks.pop(0) if self.chunks else b"\0" * 3200

    def close(self):
        pass


class Speaker:
    """Neighbour of the loop: each reply 'plays' for `seconds` of microphone time, unless stopped (barge-in)."""

    ahead = None

    def __init__(self, mic, seconds=3.0):
        self.mic, self.seconds, self.said, self.stopped, self._until = mic, seconds, [], 0, 0.0

    @property
    def playing(self):
        return self.mic.fed < self._until

    def say(self, parts, settings=None, blocking=False):
        self.said.append("".join(parts))
        self._until = self.mic.fed + self.seconds

    def stop(self):
        self.stopped += 1
        self._until = 0.0

    def wait(self, timeout=None):
        pass

    def close(self):
        pass


DONE_HEARD = ("好了", "好的")
"""How the natural voice's "好了" comes out of the recogniser: "好的" where the voice renders it a little differently
(session 65, an AMD Zen 4 machine, every run; "好了" on Zen 3). Both are a whole expected answer of the step, done.
What is tested here is where the turns end and which are joined, not the words (the bench measures those)."""


def _two_turns(recognizer, natural, pause: float, barge_in: bool = True, reply_seconds: float = 3.0):
    """"好了", a pause, "但是没找到那个按钮", through the loop in the walk's first step: the texts handled."""
    first, second = natural("好了", "但是没找到那个按钮")
    mic = Microphone(np.concatenate([np.zeros(8000, np.int16), first, np.zeros(int(16000 * pause), np.int16),
                                     second]))
    session = _in_the_walk()
    handled = []
    handle = session.handle
    session.handle = lambda text: handled.append(text) or handle(text)
    loop = VoiceLoop(session, recognizer, Speaker(mic, reply_seconds), lambda: mic,
                     LoopOptions(barge_in=barge_in, reminder_after=8.0), out=lambda _: None)
    loop.turn()
    loop.turn()
    return handled, session, loop


def test_a_short_answer_explained_after_a_pause_is_one_turn(recognizer, natural):
    handled, session, loop = _two_turns(recognizer, natural, pause=1.2)
    assert handled[0] in DONE_HEARD, handled  # answered at once: the quick end of a short answer stays
    assert len(handled) == 2 and handled[1].startswith(handled[0]) and "没找到" in handled[1], handled
    assert loop.speaker.stopped >= 1, "the reply to the first half was stopped when the user went on"
    fresh = _in_the_walk()
    fresh.handle(handled[1])
    assert (session.state, session.history) == (fresh.state, fresh.history), \
        "the joined turn is heard in the step it was said in, as if said at once"


def test_speech_long_after_the_end_is_a_turn_of_its_own(recognizer, natural):
    handled, _, _ = _two_turns(recognizer, natural, pause=3.5)
    assert handled[0] in DONE_HEARD and len(handled) == 2 and not handled[1].startswith(DONE_HEARD), handled


def test_half_duplex_without_a_voice_heard_back_never_joins(recognizer, natural):
    # The microphone hears the reply itself without barge-in; how loud it comes back was never heard here (no prompt
    # played before the turn), so nothing said during it can be told apart, and words right after a short reply
    # answer the reply. (A 0.5 s reply: the second half comes after it, and is heard.)
    handled, _, loop = _two_turns(recognizer, natural, pause=1.2, barge_in=False, reply_seconds=0.5)
    assert handled[0] in DONE_HEARD and len(handled) == 2 and "没找到" in handled[1], handled
    assert not handled[1].startswith(DONE_HEARD), handled
    assert loop.speaker.stopped == 0 and not loop.listener.went_on


# --- half-duplex: the user going on, told from the voice coming back by loudness (assistant/live/goes_on.py) ------
def _voice_back() -> np.ndarray:
    """What the speakers bring back into the microphone: the loop bench's real Mandarin recordings."""
    from bench.common import REAL_AUDIO
    from bench.endpointing import echo_voice

    if not any(REAL_AUDIO.glob("aishell_*.wav")):
        pytest.skip("real recordings not present")
    return echo_voice().astype(np.float64)


class LeakyMicrophone(Microphone):
    """A microphone beside the speakers, no canceller: while the speaker plays, its voice comes back into it,
    `under` dB under the user's. A prompt plays for the first `lead` seconds (the user waits through it)."""

    def __init__(self, samples, user, under, lead=4.0):
        super().__init__(np.concatenate([np.zeros(int(16000 * lead), np.int16), samples]))
        voice = _voice_back()
        self.echo = voice * 10 ** ((speech_db(user) - under - speech_db(voice)) / 20)
        self.at, self.speaker = 0, None

    def read(self, timeout=1.0):
        playing = self.speaker is not None and self.speaker.playing
        chunk = super().read(timeout)
        if not playing:
            return chunk
        n = len(chunk) // 2
        if self.at + n > len(self.echo):
            self.at = 0
        mixed = np.frombuffer(chunk, "<i2") + self.echo[self.at:self.at + n]
        self.at += n
        return np.clip(mixed, -32768, 32767).astype("<i2").tobytes()


KIOSK_UNDER_DB = 20.0
"""A kiosk microphone near the user: the voice comes back this far under theirs (loud halves). At 18 dB (the bench's
kiosk row) the user's voiced level was 5.99 dB over the echo's loud end on one render of "好了" (session 57's machine)
— a hair under goes_on.SEPARATION_DB, where the loop rightly never guesses; these tests are of a user clearly louder
than the echo, so they leave that margin to the render."""


def _leaky_turns(recognizer, natural, under: float, rest: str | None = "但是没找到那个按钮", noise=None):
    """A prompt plays 4 s; then "好了", 1.2 s of quiet, and `rest` (or `noise`, or nothing), half-duplex, with the
    reply coming back into the microphone `under` dB under the user's voice: the texts handled, and the speaker."""
    first, second = natural("好了", rest or "好了")
    parts = [first, np.zeros(int(16000 * 1.2), np.int16)]
    if rest:
        parts.append(second)
    if noise is not None:
        parts.append(noise)
    mic = LeakyMicrophone(np.concatenate(parts), first, under)
    speaker = Speaker(mic, 3.0)
    mic.speaker = speaker
    speaker._until = 4.0  # the step's prompt
    session = _in_the_walk()
    handled = []
    handle = session.handle
    session.handle = lambda text: handled.append(text) or handle(text)
    loop = VoiceLoop(session, recognizer, speaker, lambda: mic, LoopOptions(barge_in=False, reminder_after=6.0),
                     out=lambda _: None)
    # What the loop said last (the step's prompt), said again if stopped for nothing.
    loop.respond(session.handle("再说一遍"))
    handled.clear()
    speaker._until, speaker.said = 4.0, []
    loop.turn()
    loop.turn()
    loop.listener.close()
    return handled, speaker, session


def test_half_duplex_joins_the_user_going_on_louder_than_the_voice_coming_back(recognizer, natural):
    """A kiosk microphone near the user (the voice comes back 20 dB under theirs, loud halves:
    KIOSK_UNDER_DB): "好了……但是没找到那个按钮" was answered as "好了", and the rest lost under the reply.
    Now the reply stops and both parts are one turn."""
    handled, speaker, session = _leaky_turns(recognizer, natural, under=KIOSK_UNDER_DB)
    assert handled[0] == "好了", handled
    assert speaker.stopped >= 1, "the user going on stopped the reply"
    assert len(handled) == 2 and handled[1].startswith("好了") and "没找到" in handled[1], handled
    fresh = _in_the_walk()
    fresh.handle(handled[1])
    assert session.state == fresh.state, "heard in the step it was said in"


def test_half_duplex_never_guesses_when_the_voice_comes_back_as_loud(recognizer, natural):
    """A laptop's microphone by its speakers (the voice 8 dB under the user, its loudest syllables as loud as they):
    loudness cannot tell them apart, so the reply is never stopped — half-duplex as before (the rest is lost)."""
    handled, speaker, _ = _leaky_turns(recognizer, natural, under=8.0)
    assert speaker.stopped == 0, handled
    assert handled[:1] == ["好了"] and not any(t.startswith("好了") and "没找到" in t for t in handled), handled


def test_half_duplex_a_user_who_said_all_is_not_stopped_by_the_voice_coming_back(recognizer, natural):
    handled, speaker, _ = _leaky_turns(recognizer, natural, under=KIOSK_UNDER_DB, rest=None)
    assert speaker.stopped == 0 and handled[:1] == ["好了"], handled


def test_half_duplex_a_reply_stopped_for_a_noise_is_said_again(recognizer, natural):
    """A knock as loud as the user within a moment of the turn's end stops the reply; no words come, so the reply is
    said again rather than lost."""
    rng = np.random.default_rng(7)
    (first,) = natural("好了")
    knock = rng.normal(0, 1, int(16000 * 0.5))
    knock *= 10 ** (speech_db(first) / 20) / np.sqrt(np.mean(knock ** 2))
    handled, speaker, _ = _leaky_turns(recognizer, natural, under=KIOSK_UNDER_DB, rest=None, noise=knock.astype(np.int16))
    assert handled == ["好了"], handled  # the knock is no turn
    assert speaker.stopped == 1, "a knock as loud as the user, within the moment watched, stops the reply"
    assert len(speaker.said) == 2 and speaker.said[0] == speaker.said[1], speaker.said  # the reply again, whole


def test_half_duplex_a_kiosk_polling_a_moment_at_a_time_still_joins(recognizer, natural):
    """Hands-free, the kiosk listens a second at a time: the user going on, heard in one short listen, is still the
    turn's when its words come in a later one (MicListener.went_on is the turn's, not the call's)."""
    from assistant.live.loop import MicListener

    first, second = natural("好了", "但是没找到那个按钮")
    mic = LeakyMicrophone(np.concatenate([first, np.zeros(int(16000 * 1.2), np.int16), second]), first,
                         KIOSK_UNDER_DB)
    speaker = Speaker(mic, 3.0)
    mic.speaker, speaker._until = speaker, 4.0
    listener = MicListener(recognizer, speaker, lambda: mic, _in_the_walk(), barge_in=False)
    try:
        heard = None
        while heard is None:
            heard = listener.listen(None, timeout=0.3)
        assert heard == "好了" and not listener.went_on, heard
        speaker.say(["把手机连上网。"])  # the reply begins; the kiosk polls again
        polls, heard = 0, None
        while heard is None and polls < 100:
            heard, polls = listener.listen(None, timeout=0.3), polls + 1
        assert speaker.stopped >= 1 and listener.went_on and heard and "没找到" in heard, (heard, polls)
    finally:
        listener.close()
