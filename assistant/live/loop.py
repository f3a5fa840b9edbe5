"""The live loop: microphone → recognition → dialog → speech, one turn after another, never giving up.

Stages are passed in (a Session, a Recognizer, a Speaker, a microphone factory), so each can be tested alone
and the loop itself runs on real devices or on a PulseAudio null sink. `MicListener` hears one turn; the
home loop (`VoiceLoop`) and the kiosk both use it.
"""

import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

from assistant.audio.denoise import Denoiser
from assistant.audio.endpoint import Endpointer
from assistant.audio.microphone import MicrophoneGone
from assistant.diagnostics import trail, where
from assistant.errors import AudioDeviceError, VoiceError
from assistant.live import rejoin
from assistant.live.goes_on import GoesOn
from assistant.live.hearing import Hearing, clean
from assistant.live.own_voice import own_voice_now, reads_like
from assistant.privacy import mask
from assistant.recognition.recognizer import RATE, Final, Partial
from assistant.recognition.second_reading import SecondReading
from assistant.understanding import ACT, CONFIRM, OUT_OF_SCOPE

log = logging.getLogger(__name__)

BARGE_IN_CHARS = 2
"""Recognised characters while the assistant talks that make it stop and listen (barge-in), when they mean something
in this state ("好了", "等一下", "大声点": the understanding would act on them or ask about them)."""
ECHO_TAIL_SECONDS = 0.5
"""After the voice stops, the speaker, the canceller and the device still bring its last sound back for a moment:
words that begin this soon after it and mean nothing here are its tail, not the user (with barge-in only)."""
BARGE_IN_FREE_CHARS = 4
"""Characters that stop it whatever they mean: a canceller's leftovers of the voice make two-character words of
nothing ("民警" over the greeting, tests/test_voice_loop.py), a user going on makes more."""
STALL_SECONDS = 5.0
"""A microphone that has sent no sound for this long (wall clock) is stalled: it is closed and opened again."""
READ_SECONDS = 1.0
"""Longest single wait for the next chunk, so deadlines are looked at even when no sound comes."""
REFRESH_SECONDS = 10.0
"""After the speaker failed, how often the loop may let go of its microphone so the device list can be read
again (a speaker plugged in after start is found that way)."""


@dataclass
class LoopOptions:
    """How the loop behaves; the defaults suit an elder at home."""

    barge_in: bool = True
    reminder_after: float = 30.0
    """seconds of quiet after a prompt before a gentle "我还在听" (0 = never)"""
    retry_seconds: float = 5.0
    """how often to look for a microphone again after it went missing"""
    max_turns: int | None = None
    """stop after this many user turns (tests and benchmarks); None = run until stopped"""
    show_heard: bool = False
    """print what the user said, masked (`assistant run --debug`); never by default"""


PREROLL_SECONDS = 5.0
"""Audio kept before the first word is heard, so the second reading starts a little before the speech."""
EDGE_SECONDS = 1.0
"""Longest stretch of the user's speech kept from before the prompt ended (or before a barge-in): a turn that
starts during the last words of a prompt keeps its first syllable. A stretch of "speech" that began earlier
than this is the prompt itself heard through the speakers, and is dropped."""
EDGE_MARGIN = 0.1
"""Kept before the detector's onset: it marks speech a few frames after the first soft consonant."""
BARGE_EDGE_SECONDS = 2.0
"""The same for a barge-in, which is noticed only once two characters are recognised (about a second in)."""
GONE_ON_WORDS_SECONDS = 2.0
"""Half-duplex: after the reply was stopped because the user seemed to go on (assistant/live/goes_on.py), words must
come within this long; else it was not the user (a loud noise), and the stopped reply is said again."""
NEVER = math.inf
"""The recogniser's own end of turn is switched off in the live loop: the Endpointer decides."""


@dataclass
class _Turn:
    """One turn being heard, possibly over several listen() calls."""

    grammar: list
    open_mode: bool
    was_playing: bool
    ends: Endpointer
    second: SecondReading | None = None
    barged: bool = False
    words: bool = False
    onset: float | None = None
    """audio time (since the turn began) of the speech that brought the turn's first words (assistant/live/rejoin)"""
    speech: bool = False
    listening: bool | None = None
    """whether the user is heard now (nothing playing), as last logged"""
    said: str = ""
    """what the voice was saying over the last seconds it played (Speaker.sounding), for its own words coming back"""
    went_on_at: float | None = None
    """half-duplex: audio time the reply was stopped because the user went on over it (assistant/live/goes_on.py)"""
    prompt_end: float | None = None
    """audio time the prompt ended (the voice stopped without a barge-in): speech from before it, kept as the edge,
    may be the user's first syllable or (through a canceller) the prompt's own last words"""
    preroll: deque = field(default_factory=deque)
    recent: deque = field(default_factory=deque)
    """the last EDGE_SECONDS of microphone audio, for the start of speech that began before a restart"""

    def remember(self, pcm: bytes) -> None:
        self.recent.append(pcm)
        while sum(map(len, self.recent)) - len(self.recent[0]) >= (BARGE_EDGE_SECONDS + EDGE_MARGIN) * RATE * 2:
            self.recent.popleft()

    def edge(self, limit: float = EDGE_SECONDS) -> bytes:
        """The audio of the speech going on now, from its onset, if it began within `limit` seconds; else b""."""
        ends = self.ends
        if ends.speech_start is None or ends.quiet > 0.3:
            return b""
        back = ends.elapsed - ends.speech_start + EDGE_MARGIN
        if back > limit + EDGE_MARGIN:
            return b""
        return self.last(back)

    def last(self, seconds: float) -> bytes:
        """The last `seconds` of the microphone audio kept (`recent`: BARGE_EDGE_SECONDS and a margin at most)."""
        audio = b"".join(self.recent)
        return audio[-int(seconds * RATE) * 2:]

    def restart(self, model) -> None:
        """A second reading from here on: grammar-biased while the main one is open, open while it is biased.
        It decodes nothing until speech starts, so a quiet room costs one recogniser, not two."""
        self.drop()
        self.speech = False
        self.preroll.clear()
        if self.grammar is not None:
            self.second = SecondReading(model, self.grammar if self.open_mode else None)

    def feed(self, pcm: bytes) -> None:
        if self.second is None:
            return
        if self.speech:
            self.second.feed(pcm)
            return
        self.preroll.append(pcm)
        while sum(map(len, self.preroll)) > PREROLL_SECONDS * RATE * 2:
            self.preroll.popleft()

    def speech_started(self) -> None:
        if self.second is not None and not self.speech:
            self.speech = True
            for pcm in self.preroll:
                self.second.feed(pcm)
            self.preroll.clear()

    def drop(self) -> None:
        if self.second is not None:
            self.second.cancel()
            self.second = None


class MicListener:
    """Hears one turn from the microphone. While the assistant talks, recognition is open (a grammar hides
    free speech, so it would never be noticed to barge in); once it is quiet, recognition is biased to what
    the state expects, and a second, open reading runs alongside for when the user said something else.
    The Endpointer (assistant/audio/endpoint.py) ends the turn. barge_in=True means the input does not hear
    the assistant (an echo canceller or a headset): only then is speech over the end of a prompt kept."""

    def __init__(self, recognizer, speaker, open_microphone, session, barge_in=True, clock=time.monotonic):
        self.recognizer = recognizer
        self.speaker = speaker
        self.open_microphone = open_microphone
        self.hearing = Hearing(recognizer, session)
        self.barge_in = barge_in
        self.clock = clock
        self.mic = None
        self._denoiser = Denoiser(0)
        """the room's noise taken out of every chunk before anything hears it: made when a microphone opens
        (`_open`), one per microphone; until then a pass-through"""
        self._turn = None
        self._last_sound = 0.0
        self._early: list[bytes] = []
        """sound read by check(), heard first by the next listen()"""
        self.on_speech = None
        """called while the voice detector hears the user (not the assistant) speak: rendering ahead pauses"""
        self.onset: float | None = None
        """seconds from the start of the last turn heard to the speech that brought its first words"""
        self.goes_on = GoesOn()
        """half-duplex: tells the user going on over the start of a reply from its echo, by loudness"""
        self.went_on = False
        """half-duplex: the last turn heard is the rest of the one before, said over the start of its reply (which
        was stopped): the loop joins the two"""
        self.stopped_for_nothing = False
        """half-duplex: the reply was stopped for the user going on, and no words came: it is to be said again"""

    def use(self, recognizer) -> None:
        """The recogniser to hear with, when it was not ready at construction."""
        self.recognizer = self.hearing.recognizer = recognizer

    def check(self) -> None:
        """Raises AudioDeviceError unless the microphone is there and sound comes from it. The kiosk calls it
        while its screen says the microphone is missing, to clear that by itself once it works again."""
        if self.mic is None:
            self._open()
        try:
            pcm = self.mic.read(timeout=1.0)
            if pcm is None:
                raise AudioDeviceError("麦克风没有声音 (no sound from the microphone)")
        except AudioDeviceError:
            self.close()
            raise
        self._early.append(pcm)

    def _open(self) -> None:
        self.mic = self.open_microphone()
        self._denoiser = Denoiser()  # another microphone, maybe another room: learned afresh
        self._last_sound = self.clock()

    def listen(self, expected_phrases=None, timeout: float | None = None) -> str | None:
        """The turn's words ("" if it had none); None when nobody spoke for `timeout` seconds (of audio heard,
        or of the wall clock while no audio comes). Raises AudioDeviceError when the microphone is missing,
        goes away or stalls (sends nothing for STALL_SECONDS); the caller decides when to try again, and the
        next call opens the microphone afresh.

        A call that ends in None leaves the turn open: the next call with the same expectations goes on
        listening where it stopped, so a kiosk polling every fraction of a second never cuts a word in two.
        """
        # An empty list of expectations means a free answer (a place, a date): open recognition only.
        grammar = None if expected_phrases == [] else self.hearing.grammar(expected_phrases)
        phrases = self.hearing.session.expected_phrases() if expected_phrases is None else expected_phrases
        self.onset = None
        self.went_on = self.stopped_for_nothing = False
        try:
            return self._listen(grammar, phrases, timeout)
        except BaseException:
            self.close()  # whatever went wrong, the next turn starts afresh on a freshly opened microphone
            raise

    def _read(self, deadline: float | None) -> bytes | None:
        wait = READ_SECONDS if deadline is None else min(READ_SECONDS, max(deadline - self.clock(), 0.05))
        pcm = self.mic.read(timeout=wait)
        now = self.clock()
        if pcm is not None:
            self._last_sound = now
        elif now - self._last_sound >= STALL_SECONDS:
            from assistant.audio.microphone import MICROPHONE_SILENT

            log.warning("麦克风 %.0f 秒没有送来声音,重新打开 (the microphone stalled; opening it again)",
                        now - self._last_sound)
            raise AudioDeviceError(MICROPHONE_SILENT)
        return pcm

    def _listen(self, grammar, phrases, timeout):
        rec = self.recognizer
        if self.mic is None:
            self._open()
        turn = self._turn
        if turn is None or turn.grammar != grammar:
            if turn is not None:
                turn.drop()
            playing = self.speaker.playing
            turn = self._turn = _Turn(grammar, open_mode=playing and self.barge_in, was_playing=playing,
                                      ends=Endpointer(phrases, meaning=self.hearing.meaning, follow_room=True))
            rec.start(None if turn.open_mode else grammar, end_silence=NEVER)
            turn.restart(rec.model)
        quiet = 0.0
        quiet_since = self.clock()  # the wall clock counts too, for when no sound comes at all
        while True:
            deadline = quiet_since + timeout if timeout else None
            pcm = self._early.pop(0) if self._early else self._read(deadline)
            playing = self.speaker.playing
            if playing or turn.words:
                quiet_since = self.clock()
            if pcm is None:
                if timeout and not playing and not turn.words and self.clock() - quiet_since >= timeout:
                    return None
                continue
            # The detector follows the microphone across restarts of the recogniser: it knows when speech began.
            # It hears the sound as it came (its room level and margins were measured so); the recognisers hear it
            # with the room's noise taken out. Under 10 ms waits inside the denoiser for the next chunk.
            turn.ends.feed(pcm)
            going_on = not self.barge_in and self.goes_on.hear(pcm, playing) and playing
            pcm = self._denoiser.process(pcm)
            if not pcm:
                continue
            turn.remember(pcm)
            if going_on:
                # Half-duplex, the user went on over the start of the reply, louder than its echo: stop it and hear
                # the rest from where their voice rose (the loop joins it to the turn before).
                self.speaker.stop()
                turn.barged = turn.was_playing = True
                turn.went_on_at = turn.ends.elapsed
                log.debug("the user went on over the reply: it stopped")
                back = self.goes_on.elapsed - (self.goes_on.onset or self.goes_on.elapsed) + EDGE_MARGIN
                edge = turn.last(min(back, BARGE_EDGE_SECONDS))
                self._restart(turn, None, edge)
                self._accept(turn, edge)
                continue
            if turn.went_on_at is not None and not turn.words \
                    and turn.ends.elapsed - turn.went_on_at >= GONE_ON_WORDS_SECONDS:
                turn.drop()
                self._turn = None
                self.went_on, self.stopped_for_nothing = False, True
                log.debug("the reply was stopped, and no words came: it is said again")
                return ""
            if self.on_speech is not None and turn.ends.speaking and not playing:
                self.on_speech()
            if turn.was_playing and not playing and not turn.barged:
                # What was heard so far is the assistant's own voice through the speakers: start afresh, but keep
                # the user's words that began just before the prompt ended (their first syllable).
                # Half-duplex (no barge-in: nothing cancels the echo), that edge may be our own last word: dropped.
                edge = turn.edge() if self.barge_in else b""
                if edge:
                    log.debug("the prompt ended during speech: %.1f s of it kept", len(edge) / 2 / RATE)
                pcm = self._restart(turn, grammar, edge) or pcm
                turn.prompt_end = turn.ends.elapsed
                quiet = 0.0
                quiet_since = self.clock()
            turn.was_playing = playing
            if turn.listening != (not playing):
                # When "it did not hear me" is looked into (--debug): when it heard the user and when not. The voice
                # counts as playing while it waits for its next sentence to be rendered: a gap in the sound is not
                # the end of the prompt.
                turn.listening = not playing
                log.debug("在听 (listening: nothing is playing)" if turn.listening
                          else "在说,不听 (speaking: not listening)")
            if playing and self.barge_in:
                turn.said = own_voice_now(self.speaker) or turn.said
            turn.feed(pcm)
            if turn.second is not None and turn.second.open:
                # A free question is [unk] to the grammar: its words; and whether they are up to date (behind the
                # microphone they lag the grammar's words and say nothing against a quick end). The chunk just fed
                # is still queued: up to date is nothing queued before it (with "== 0" the open words were hardly
                # ever up to date, session 57).
                turn.ends.heard_open(turn.second.words, caught_up=turn.second.backlog() <= 1)
            result = rec.accept(pcm)
            if isinstance(result, (Partial, Final)) and result.text:
                turn.speech_started()
            if isinstance(result, Partial) and clean(result.text):
                quiet = 0.0
                if not turn.words:
                    turn.onset = turn.ends.speech_start if turn.ends.speech_start is not None else turn.ends.elapsed
                turn.words = True
                turn.ends.heard(result.text)
                if playing and self.barge_in and self._barges_in(clean(result.text), turn.said):
                    self.speaker.stop()
                    turn.barged = True
                    log.debug("barge-in: the assistant stopped talking")
                    # Decode the user's words from their start, without our own voice heard before them.
                    edge = turn.edge(BARGE_EDGE_SECONDS)
                    if edge:
                        self._restart(turn, None, edge)
                        self._accept(turn, edge)
            elif isinstance(result, Partial):
                turn.ends.heard(result.text)  # "[unk]": speech outside the grammar is words heard too
            elif isinstance(result, Final):  # only from a recogniser started with its own end of turn
                if playing and not turn.barged:
                    continue
                self._turn = None
                return self._ended(turn, self._not_its_tail(self._final_text(result, turn), turn))
            elif not playing and not turn.words:
                quiet += len(pcm) / 2 / RATE
                if timeout and quiet >= timeout:
                    return None
            if (not playing or turn.barged) and turn.ends.over():
                self._turn = None
                self.onset = turn.onset
                return self._ended(turn, self._not_its_tail(self._final_text(rec.finish_turn(), turn), turn))

    def _ended(self, turn: _Turn, text: str) -> str:
        """A turn's words; half-duplex, the start of the reply to come is watched for the user going on. (A turn
        may span several listen() calls, a kiosk's polls: whether it went on is the turn's.)"""
        self.went_on = turn.went_on_at is not None
        if not self.barge_in:
            self.goes_on.watch(turn.ends.voice_db if text and not self.went_on else None)
        return text

    def _barges_in(self, words: str, said: str) -> bool:
        """Words heard over the reply that stop it: enough of them, and not the reply's own (`said`: what the
        voice is saying now) coming back."""
        if len(words) < BARGE_IN_CHARS:
            return False
        if said and reads_like(words, said):
            log.debug("words over the reply read like the reply itself: not a barge-in")  # the words are not logged
            return False
        return len(words) >= BARGE_IN_FREE_CHARS or self._means_something(words)

    def _not_its_tail(self, text: str, turn: _Turn) -> str:
        """With barge-in (a canceller), a turn that began with the prompt's last moment or just after it, and is
        the prompt's own words coming back (they read like what it said, or mean nothing in this state), had no words
        of the user's: "" (heard in the leak test as "认证呢", "三", "声", "的事上走" after the greeting)."""
        if not self.barge_in or not text:
            return text
        # The words' speech began before the prompt ended (the edge kept) or just after it.
        if turn.prompt_end is None or turn.onset is None or turn.onset > turn.prompt_end + ECHO_TAIL_SECONDS:
            return text
        if turn.said and reads_like(text, turn.said):
            return ""
        if len(text) <= BARGE_IN_FREE_CHARS and not self._means_something(text):
            return ""  # a longer sentence not understood is still the user's: they hear "没听清", not silence
        return text

    def _means_something(self, words: str) -> bool:
        understood = self.hearing.meaning(words)
        return understood.action in (ACT, CONFIRM) and understood.intent not in (None, OUT_OF_SCOPE)

    def _restart(self, turn: _Turn, grammar, edge: bytes) -> bytes:
        """A fresh recogniser (and second reading) for this turn; returns `edge`, the audio to hear first."""
        turn.open_mode = grammar is None and turn.grammar is not None
        self.recognizer.start(grammar, end_silence=NEVER)
        turn.restart(self.recognizer.model)
        turn.ends.forget_words()
        turn.words = False
        turn.onset = None
        return edge

    def _accept(self, turn: _Turn, pcm: bytes) -> None:
        """Hear audio again after a restart (the start of a barge-in), keeping the words it gives."""
        turn.feed(pcm)
        result = self.recognizer.accept(pcm)
        if isinstance(result, (Partial, Final)) and result.text:
            turn.speech_started()
        if isinstance(result, Partial):
            turn.ends.heard(result.text)
            if not turn.words and clean(result.text):
                turn.onset = turn.ends.speech_start
            turn.words = turn.words or bool(clean(result.text))

    def _final_text(self, final: Final, turn: _Turn) -> str:
        """Both recognisers' readings when one is not enough: the grammar's (for expected answers) and the open
        one, all their alternatives rescored by the understanding (Hearing.choose)."""
        if turn.second is None:
            return clean(final.text)
        readings = list(final.readings)
        if turn.open_mode:
            return self.hearing.choose(turn.second.result(), readings)
        if not self.hearing.needs_open_pass(final.text):
            turn.drop()
            return self.hearing.choose(readings, [])
        return self.hearing.choose(readings, turn.second.result())

    def backlog(self) -> int:
        """Audio chunks of the current turn the second reading has not decoded yet (it should stay near 0)."""
        turn = self._turn
        return turn.second.backlog() if turn is not None and turn.second is not None else 0

    def close(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.drop()
        self._early.clear()
        mic, self.mic = self.mic, None
        if mic is not None:
            try:
                mic.close()
            except Exception as exc:  # a microphone that is gone may fail to close; it is let go either way
                log.debug("closing the microphone failed: %s", where(exc))


class VoiceLoop:
    """Runs a conversation by voice; `run()` returns only when max_turns is reached.

    Nothing in one turn ends the loop: an unexpected error is logged (its type and place, never the user's
    words), a kind sentence is said, and the next turn is listened for. After "再见" the loop waits quietly
    for the next words instead of reminding an empty room that it is still listening."""

    def __init__(self, session, recognizer, speaker, open_microphone, options=None, out=print, sleep=time.sleep,
                 on_reply=None, clock=time.monotonic, recognizer_after_greeting=None):
        """recognizer_after_greeting: instead of `recognizer`, a function that gives it, called by run() once the
        greeting is playing (the speech model loads meanwhile, so the first sound does not wait for it); what it
        raises (a model that fails to load) ends run()."""
        self.session = session
        self._recognizer_after_greeting = recognizer_after_greeting
        self.speaker = speaker
        self.options = options or LoopOptions()
        self.listener = MicListener(recognizer, speaker, open_microphone, session, self.options.barge_in, clock)
        self.out = out
        self.sleep = sleep
        self.clock = clock
        self.on_reply = on_reply
        self.asleep = False
        """after goodbye: quiet until the user speaks again"""
        self._before: rejoin.Before | None = None
        """the session before the last turn was handled, while that turn may still go on"""
        self._last_reply = None
        self._mic_announced = False
        self._voice_failed = False
        self._failures = 0
        self._released_at: float | None = None
        self.ahead = speaker.ahead
        """renders the next turn's likely sentences while the user thinks (speech/ahead.py); None: nothing ahead"""
        if self.ahead is not None:
            self.listener.on_speech = self.ahead.user_speaking

    def respond(self, reply) -> None:
        self._last_reply = reply
        self.out(f"助手: {reply.say}")
        if self.on_reply:
            self.on_reply(reply)
        self._speak(reply.parts)
        if self.ahead is not None:  # starts once this reply is rendered, at the rate it was said at
            self.ahead.plan_for(self.session)

    def _speak(self, parts) -> None:
        try:
            self.speaker.say(parts, settings=self.session.voice, blocking=False)
        except (VoiceError, AudioDeviceError) as exc:
            if not self._voice_failed:  # printed once; the text is still on screen and in the terminal
                self.out(f"assistant: {exc}")
                self._voice_failed = True
            else:
                log.debug("speech failed again: %s", where(exc))
            if isinstance(exc, AudioDeviceError):
                self._let_devices_refresh()
            return
        self._voice_failed = False

    def _let_devices_refresh(self) -> None:
        """The speaker is missing: let go of our microphone for a moment, now and then, so the device list can
        be read again and a speaker plugged in meanwhile is found (the next listen opens the microphone again)."""
        now = self.clock()
        if self._released_at is not None and now - self._released_at < REFRESH_SECONDS:
            return
        self._released_at = now
        self.listener.close()
        try:
            from assistant.audio import devices

            devices.refresh()
        except AudioDeviceError as exc:
            log.debug("device list not refreshed: %s", where(exc))

    def listen(self) -> str:
        """One user turn; "" after reminder_after seconds of quiet. A missing microphone is said once, then
        looked for again every retry_seconds, for as long as it takes."""
        while True:
            try:
                if self._mic_announced:
                    self.listener.check()  # open it and hear it first: say it is back before the user has to talk
                    self._microphone_back()
                if self.ahead is not None:
                    self.ahead.listening()
                text = self.listener.listen(self.session.expected_phrases(), self.options.reminder_after or None)
            except AudioDeviceError as exc:
                if not self._mic_announced:
                    self.out(f"assistant: {exc}")
                    # The chosen microphone unplugged: the kind sentence of phrases.yaml, else the error's own words.
                    gone = isinstance(exc, MicrophoneGone) and self._phrase("microphone_gone")
                    self._speak([gone or str(exc).split(" (")[0]])
                    self._mic_announced = "gone" if gone else True
                self.sleep(self.options.retry_seconds)  # no reminders meanwhile: nobody can be heard
                continue
            return text or ""

    def _microphone_back(self) -> None:
        self.out("assistant: 麦克风好了 (microphone is back)")
        back = self._mic_announced == "gone" and self._phrase("microphone_back")
        if back:  # the chosen microphone came back after it was said to be gone: say so too
            self._speak([back])
        self._mic_announced = False

    def _phrase(self, key: str) -> str | None:
        return self.session.flows.say.get(key)

    def turn(self) -> None:
        """Listen once and answer; after goodbye, a turn without words gets no answer."""
        text = self.listen()
        # (getattr: a listener that is not a MicListener — a script, a file — never stops a reply.)
        if getattr(self.listener, "stopped_for_nothing", False) and self._last_reply is not None:
            # Half-duplex: the reply was stopped for the user going on, and no words came (a loud noise): said again.
            self._speak(self._last_reply.parts)
            return
        if self.asleep and not text:
            return
        before, self._before = self._before, None
        if self.options.barge_in:
            goes_on = rejoin.joined(before, text, self.listener.onset)
        else:  # half-duplex: only when the reply was stopped for it (assistant/live/goes_on.py)
            goes_on = before is not None and getattr(self.listener, "went_on", False) and bool(text)
        if goes_on:
            # The user went on within a moment of the last turn's end: its reply (stopped) is dropped and both parts
            # are one turn, heard in the step it was said in.
            assert before is not None
            rejoin.put_back(self.session, before)
            text = before.text + text
            log.debug("speech went on %.1f s after the turn ended: both parts read as one", self.listener.onset or 0)
        if text:
            self._before = rejoin.remember(self.session, text)
        reply = self.session.handle(text)
        if self.options.show_heard:  # after the turn: a refused number's digit groups are masked too
            self.out(f"您: {mask(text, strict=reply.intent == 'private')}" if text else "您: (没有说话)")
        self.asleep = "goodbye" in reply.controls
        self.respond(reply)

    def run(self) -> int:
        self._guarded(lambda: self.respond(self.session.greet()))
        if self._recognizer_after_greeting is not None:
            self.listener.use(self._recognizer_after_greeting())
            self._recognizer_after_greeting = None
        turns = 0
        while self.options.max_turns is None or turns < self.options.max_turns:
            turns += 1
            self._guarded(self.turn)
        self.speaker.wait(timeout=60.0)  # the last answer is heard whole before the run ends
        # A turn left open by a quiet last listen() holds a second reading's thread and recogniser: let them go.
        self.listener.close()
        return 0

    def _guarded(self, step) -> None:
        """The per-turn guard: an unexpected error is logged, said kindly once, and the loop goes on."""
        try:
            step()
        except Exception as exc:  # whatever one turn does, the conversation goes on
            self._failures += 1
            log.warning("这一轮出错,继续运行 (a turn failed: %s)", where(exc))
            log.debug("the failed turn: %s", trail(exc))
            self.listener.close()
            if self._failures == 1:  # said once; failing again and again, it would only talk over the user
                self._say_sorry()
            self.sleep(min(self.options.retry_seconds, float(self._failures)))  # never a busy loop
        else:
            self._failures = 0

    def _say_sorry(self) -> None:
        try:
            self.respond(self.session.trouble())
        except Exception as exc:  # noqa: BLE001 - even the apology failed: the log has it, the loop goes on
            log.warning("道歉的话也没说出来 (the apology failed too: %s)", where(exc))

    def close(self) -> None:
        """Let go of the microphone and the speaker (and its temporary audio); each on its own, so one that
        fails to close does not keep the other open."""
        for name, close in (("microphone", self.listener.close), ("speaker", self.speaker.close)):
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - closing at exit: log and close the rest
                log.warning("关闭%s出错 (closing the %s failed: %s)", "麦克风" if name == "microphone" else "扬声器",
                            name, where(exc))

