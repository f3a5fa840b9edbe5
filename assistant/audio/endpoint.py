"""When a turn is over: from the sound (a voice-activity detector) and from the words heard so far.

A complete expected short answer ("好了", "我用微信") ends the turn after a short quiet, so nobody waits
after a yes; a free sentence ends after a longer one, and longer still when its last words say more is
coming ("我想问一下那个……"), so an elder who stops to think is not cut off. Quiet is judged by webrtcvad
(a GMM model built into its 80 kB wheel, a few microseconds per frame on one core) rather than by the
recogniser's word timings, which come only after vosk's own endpoint (0.5–1 s late) and lag in noise.
Time is audio fed, never the wall clock, so files run faster than real time in tests.

Two things more when the live loop gives them (issue 14):
- **Meaning** (`meaning=`, the session's understanding of the words so far in this state, a dot product): a
  short move it would act on ("点好能" for 点好了, "找到论" for 找到了) ends the turn as soon as an exact phrase does;
  a question it would act on, that sounds whole, after a sentence's quiet; anything it does not understand, a
  question missing its object or words that promise more get the long waits. Misheard short answers no longer
  wait 2 s because they are not the exact phrase.
- **The room** (`follow_room=True`): quiet is judged relative to the room's own level, learned as it goes (a
  low percentile of the last 12 s), so babble or a television 10 dB under the voice is quiet once the voice
  stops, rather than "speech" for ever. In a quiet room the floor sits far below any voice
  and nothing changes.
- **The open reading's words** (`heard_open()`): a free question is "[unk]" to the state's grammar, so its words
  alone would wait OPEN_QUIET (2 s) after every question. When the open reading, which decodes alongside, is a whole
  question the dialog would answer (or a thank-you), the turn ends after a sentence's quiet instead; never sooner,
  and never longer than the grammar's words alone would have waited. And the other way (session 56): a quick end
  from the grammar's words needs the open reading to hear about the same words — a grammar makes a whole expected
  phrase of the first words of a longer sentence ("我该说什么" from "我该……", open "唔该").
Without them (meaning=None, follow_room=False) it judges exactly as before, for comparison in bench/endpointing.
"""

import math
import re
from collections import deque
from collections.abc import Callable

import numpy as np
import webrtcvad
from rapidfuzz.distance import Levenshtein

from assistant.audio.samples import ROOM_PERCENTILE, levels_db
from assistant.flows.schema import ASKS_AGAIN
from assistant.understanding import ACT, CONFIRM, OUT_OF_SCOPE

RATE = 16000
FRAME_BYTES = 960
"""30 ms of 16 kHz int16: a frame webrtcvad takes."""
FRAME_SECONDS = FRAME_BYTES / 2 / RATE
VAD_MODE = 2
"""webrtcvad aggressiveness 0–3: 2 keeps soft elderly speech as speech while a quiet room is not."""
WINDOW_FRAMES = 8
VOICED_IN_WINDOW = 4
"""Speech goes on while at least 4 of the last 8 frames (240 ms) are voiced: a single click is not speech,
and a short dip inside a word is not quiet."""

COMPLETE_ANSWER_QUIET = 0.35
"""Quiet after a whole expected phrase that ends the turn."""
SENTENCE_QUIET = 1.0
"""Quiet after a free sentence that sounds finished (a question particle at its end)."""
OPEN_QUIET = 2.0
"""Quiet after a free sentence that gives no sign either way."""
HESITATION_QUIET = 2.4
"""Quiet after words that promise more (a filler, a connective, half a question): a thinking pause of up to
2 s is waited through."""
NOISY_EXTRA = 2.0
"""In a room that never goes quiet to the detector (babble, a television), the turn ends this long after the
words stopped changing beyond the wait that quiet would have had."""

_FINISHED = re.compile(r"(吗|呢|吧|么|嘛|啦|了|呀|谢谢|好的|知道了|明白了)$")
_MORE_COMING = re.compile(
    r"(那个|这个|就是|然后|还有|而且|但是|可是|因为|所以|如果|要是|还是|或者|怎么|哪个|"
    r"嗯|呃|额|想|我要|我的|想问|问一下|请问|就|和|跟|是|的话|把|给|让|从)$")


UNSURE_QUIET = HESITATION_QUIET
"""Quiet after words the understanding would not act on, a long statement or a question not yet whole: measured
on the dev turns, 2.0 s cut pauses of 1.8–2 s in noise, where the detector loses the soft end of the last word
and finds the next word late; a not-understood turn costs the user little more to wait for."""
MOVE_QUIET = COMPLETE_ANSWER_QUIET
"""Quiet after a short move the understanding would act on (next, repeat, louder, a channel…), exact phrase or
not: the recogniser's partial words lag the sound, so a near-miss of an expected answer is the usual case."""
SHORT_ANSWER_CHARS = 4
"""A move of more characters that is not a near miss of an expected phrase is a sentence: it gets UNSURE_QUIET.
On the dev turns, most first halves cut by MOVE_QUIET were 5–6 characters ("你再说一遍", "截止认证成功"), while the
short answers of a step are 2–4 ("好了", "点好了", "再说一遍")."""
SHORT_MOVE_CHARS = 6
"""The longest near miss of an expected phrase taken as a short move ("我用微信吧" for 我用微信)."""
_QUESTION_HALF = re.compile(
    r"(能不能|可不可以|要不要|会不会|是不是|有没有|应不应该|需要|应该|怎么|怎样|咋|哪个|哪些|老是|总是|一直)$")
"""Words a question (or a sentence) cannot stop on: a verb, a question word or an adverb waiting for its
object ("我女儿能不能……", "人脸识别老是……", "认证要不要……"). Used only with the meaning, where a reading that would
be acted on is otherwise quick to end. No single characters (能, 会, 要, 与…): the recogniser's near misses and
stray last syllables end on them ("点好能" for 点好了, "多久认证一次啊与")."""
_TOPIC_THEN_MODAL = re.compile(
    r"(认证|刷脸|人脸识别|养老金|退休金|手机|软件|社保卡|身份证|验证码|密码)(要|能|会|得|可以)$")
"""A topic, then a modal verb with nothing after it: "认证要……不要花钱", "刷脸能……戴眼镜吗" (session 57, by hand:
cut after 0.35 s at 要 as a whole "I want to certify"). The single modal characters _QUESTION_HALF leaves out are
taken only after one of these nouns, which no near miss of a step's short answers ends with (好了, 找到了 …)."""
_WHOLE_QUESTION = re.compile(r"(吗|呢|吧|么|嘛|啊|呀|哪天|几天|几次|几号|多久|多长时间|哪里|哪儿|在哪|啥|谁|什么|"
                             r"为什么|为啥|怎么办|怎么弄|怎么做|咋办|咋弄|咋整|干嘛|没有|不|行不行|好不好|对不对|中不中)$")
"""How a whole question ends: a particle, a question word as its object, or an A-not-A at the end."""
_CLOSED = re.compile(r"(吗|么|嘛)$")
"""A sentence asked whole, whatever it asks for: "吗" is never a topic's pause."""
_CLOSED_IF_ASKED = re.compile(r"(呢|吧|啊|呀|怎么办|怎么弄|怎么做|咋办|咋弄|咋整|啥|什么|哪儿|哪里|在哪)$")
"""The same when the sentence asks something ("人脸老是对不上咋整啊"): without a question "呢" or "啊" is as often a
topic's pause ("我这个手机呢……打不开了")."""

# The room: frame levels in dB of int16 units (digital silence ≈ -30 dB, normal speech 60–75 dB).
ROOM_SECONDS = 12.0
"""How far back the room's level is learned: long enough that even a long sentence is not most of it."""
ROOM_LEARN_SECONDS = 1.0
"""The room's level is used once this much sound was heard in the turn (the prompt before it counts)."""
ROOM_MARGIN_DB = 6.0
"""A frame is the speaker's voice only when it is this far above the room's level. Measured on the dev turns at
10 dB SNR: about 10 % of the frames of babble or pink noise alone pass, and about 65 % of those with the voice
in them — enough for the detector's 4 of 8 frames while someone speaks, and rarely when nobody does."""


def near_miss(text: str, expected) -> bool:
    """An expected phrase said with a little around it, or misheard: one character from it (added, dropped or
    changed: "点好能" for 点好了, "找到对" for 找到了), or the phrase inside the words with at most two characters
    beside it ("我用微信吧" holds 用微信)."""
    return any(Levenshtein.distance(text, phrase, score_cutoff=1) <= 1
               or (len(phrase) >= 2 and phrase in text and len(text) - len(phrase) <= 2) for phrase in expected)


def meaning_wait(text: str, understood, expected=(), move_quiet: float = MOVE_QUIET) -> float:
    """The quiet that ends a turn whose words are `text`, understood in this state as `understood` (an
    Understanding: action, intent, probability), when the words are not an exact expected phrase."""
    if words_promise_more(text) or _QUESTION_HALF.search(text) or _TOPIC_THEN_MODAL.search(text):
        return HESITATION_QUIET
    intent = getattr(understood, "intent", None)
    if intent in (None, OUT_OF_SCOPE):
        # Not understood: the speaker may be half way through (or it was noise): the long wait.
        return UNSURE_QUIET
    acted = understood.action == ACT
    if intent in ASKS_AGAIN:
        # Nobody waits on the reply to a thank-you, and it is often followed by what the speaker wants next
        # ("谢谢……那下一步呢"): a sentence's quiet, not a short move's.
        return SENTENCE_QUIET
    if intent.startswith("q_"):
        # A question the dialog would answer: finished when it ends like a whole question or asks something
        # without stopping on a half ("多久认证一次"); else it may be the first half ("今年的认证……什么时候截止").
        # The question cue is flows/understanding.yaml's, as the understanding found it: a question word anywhere,
        # or a yes-no question without one ("眼镜还戴不戴", "收费不").
        whole = _WHOLE_QUESTION.search(text) or "question" in understood.cues
        return SENTENCE_QUIET if acted and whole else UNSURE_QUIET
    close = near_miss(text, expected)
    if len(text) > (SHORT_MOVE_CHARS if close else SHORT_ANSWER_CHARS):
        # A longer statement is often the first half of what the speaker means ("我不会用智能手机……能去社区办吗"):
        # only a near miss of an expected answer is as short a move as the answer. A question asked whole is not,
        # though the dialog answers it with a move ("我女儿能帮我认证吗" takes the family walk).
        asked = "question" in getattr(understood, "cues", ())
        if acted and (_CLOSED.search(text) or (asked and _CLOSED_IF_ASKED.search(text))):
            return SENTENCE_QUIET
        return UNSURE_QUIET
    # A short move: acted on, or asked about ("您是说……吗?") when it is a near miss of an expected answer.
    if acted or (understood.action == CONFIRM and close):
        return move_quiet
    return UNSURE_QUIET


def _cleaned(raw: str) -> str:
    """A recogniser's raw words as the judge reads them: no spaces, no [unk]."""
    return re.sub(r"\s+", "", raw.replace("[unk]", ""))


def words_promise_more(text: str) -> bool:
    """True when the last words are a filler or a connective that a sentence does not end on."""
    return bool(_MORE_COMING.search(text))


def sounds_finished(text: str) -> bool:
    return bool(_FINISHED.search(text)) and not words_promise_more(text)


class Endpointer:
    """One turn's end-of-turn judge. feed() every chunk of microphone audio, heard() every change of the
    recogniser's words (cleaned: no spaces, no [unk]), then ask over()."""

    def __init__(self, expected_phrases=(), vad_mode: int = VAD_MODE,
                 meaning: Callable[[str], object] | None = None, follow_room: bool = False,
                 move_quiet: float = MOVE_QUIET, open_words: bool = True):
        """meaning(text) → the understanding of the words so far in this state (an Understanding, or None);
        follow_room: judge quiet relative to the room's level. Both off: the words-only judge of before.
        move_quiet: the wait after a short move (bench/endpointing.py weighs other values); open_words=False: the
        open reading's words are not used (bench/endpointing.py compares)."""
        self._vad = webrtcvad.Vad(vad_mode)
        self.expected = {p for p in (expected_phrases or ()) if p}
        self.meaning = meaning
        self.follow_room = follow_room
        self.move_quiet = move_quiet
        self.open_words = open_words
        self.reset()

    def reset(self) -> None:
        self._rest = b""
        self._window: deque = deque(maxlen=WINDOW_FRAMES)
        self.elapsed = 0.0
        """seconds of audio fed since reset()"""
        self.speaking = False
        self.speech_start: float | None = None
        """audio time the current (or last) stretch of speech began"""
        self.speech_end = 0.0
        """audio time the detector last heard speech"""
        self._last_voiced = 0.0
        self._raw = ""
        self.text = ""
        """the words so far, cleaned"""
        self._text_at = 0.0
        self._open = ""
        """the open reading's words so far, cleaned (heard_open)"""
        self._open_current = True
        """whether the open reading had decoded all the audio fed when its words were given"""
        self._waits: dict[str, float] = {}
        """text → its wait, so the understanding is asked once per change of the words (never logged)"""
        self._levels: deque = deque(maxlen=int(ROOM_SECONDS / FRAME_SECONDS))
        self.floor_db = -math.inf
        """the room's level (dB), learned from the sound heard lately (follow_room)"""
        self._voiced_levels: list[float] = []
        """levels (dB) of the frames heard as the speaker's voice (follow_room), for how loud they were"""

    def _room_allows(self, frame: bytes) -> bool:
        """False when this frame is no louder than the room: whatever the detector says, not the speaker."""
        level = float(levels_db(np.frombuffer(frame, dtype="<i2")))
        self._levels.append(level)
        if len(self._levels) * FRAME_SECONDS < ROOM_LEARN_SECONDS:
            return True  # too little heard to know the room: a speaker who starts at once is not the room
        self.floor_db = float(np.percentile(self._levels, ROOM_PERCENTILE))
        return level >= self.floor_db + ROOM_MARGIN_DB

    @property
    def voice_db(self) -> float | None:
        """How loud the speaker was: the median level of the frames heard as their voice since the last speech
        began after a reset (follow_room; None with fewer than 0.3 s of them)."""
        if len(self._voiced_levels) * FRAME_SECONDS < 0.3:
            return None
        return float(np.median(self._voiced_levels))

    def feed(self, pcm: bytes) -> None:
        data = self._rest + pcm
        usable = len(data) // FRAME_BYTES * FRAME_BYTES
        self._rest = data[usable:]
        for i in range(0, usable, FRAME_BYTES):
            frame = data[i:i + FRAME_BYTES]
            frame_voiced = self._vad.is_speech(frame, RATE)
            if self.follow_room:
                frame_voiced = self._room_allows(frame) and frame_voiced
                if frame_voiced:
                    self._voiced_levels.append(self._levels[-1])
            self._window.append(frame_voiced)
            self.elapsed += FRAME_SECONDS
            if frame_voiced:
                self._last_voiced = self.elapsed
            voiced = sum(self._window) >= VOICED_IN_WINDOW
            if voiced:
                if not self.speaking:
                    # The window saw speech before it crossed the count: the stretch began up to a window back.
                    self.speech_start = max(self.elapsed - WINDOW_FRAMES * FRAME_SECONDS, 0.0)
                # Quiet is counted from the last voiced frame, not from when the window emptied (~0.1 s later).
                self.speech_end = self._last_voiced
            self.speaking = voiced

    def heard(self, raw: str) -> None:
        """The recogniser's words so far, raw: "[unk]" counts as words heard (speech outside the grammar)."""
        if raw != self._raw:
            self._raw = raw
            self.text = _cleaned(raw)
            self._text_at = self.elapsed

    def heard_open(self, raw: str, caught_up: bool = True) -> None:
        """The open reading's words so far (raw), when the state's grammar hears the turn; caught_up=False when its
        decoder is behind the microphone (a thread of its own, on a busy machine): its words then lag the
        grammar's and say nothing against them."""
        self._open = _cleaned(raw)
        self._open_current = caught_up

    @property
    def open_text(self) -> str:
        """The open reading's words so far, cleaned ("" when none were given)."""
        return self._open

    def forget_words(self) -> None:
        """The recogniser starts afresh (the prompt ended): its words so far were not the user's, nor the voice
        heard so far (it was the prompt's)."""
        self._raw = self.text = self._open = ""
        self._text_at = self.elapsed
        self._voiced_levels.clear()

    @property
    def quiet(self) -> float:
        """Seconds since the detector last heard speech."""
        return self.elapsed - self.speech_end

    def wait(self) -> float:
        """The quiet that ends this turn, from what has been said so far."""
        text = self.text
        if text in self.expected:
            # An expected phrase is a short move like any other the meaning would act on.
            if self.meaning is None:
                return COMPLETE_ANSWER_QUIET
            return self._unless_open_differs(text, self.move_quiet)
        if self.meaning is not None and text and "[unk]" not in self._raw:
            # Words all in the recogniser's grammar (an [unk] is speech it could not place: never a whole move).
            wait = self._unless_open_differs(text, self._meant(text))
            if (wait > SENTENCE_QUIET and self._open_current and self.open_words and self._open
                    and self._meant(self._open) == SENTENCE_QUIET):
                # Words the dialog would not act on say little: a free question the grammar forced into its words
                # ("人脸了是对不上咋整啊" for 人脸老是对不上咋整啊, asked back, not answered) waited 2.4 s after its
                # last word (session 57). The open reading, up to date, ends it when it is a whole question — not
                # a short move: "认证成功以后……还要做什么" was cut at "认证成功以后" (bench.endpointing dev).
                return SENTENCE_QUIET
            return wait
        if words_promise_more(text):
            wait = HESITATION_QUIET
        elif sounds_finished(text):
            return SENTENCE_QUIET
        else:
            wait = OPEN_QUIET
        return min(wait, self._open_wait())

    def _meant(self, words: str) -> float:
        """meaning_wait for these words in this state, asked of the understanding once per words."""
        if words not in self._waits:
            understood = self.meaning(words) if self.meaning is not None else None
            self._waits[words] = meaning_wait(words, understood, self.expected, self.move_quiet)
        return self._waits[words]

    def _unless_open_differs(self, text: str, wait: float) -> float:
        """A quick end from the grammar's words, unless the open reading of the same sound says something else.
        A grammar makes whole phrases of half a sentence: "我该说什么" from "我该……" (open: "唔该"), "过期失败了"
        from the first words of a longer question (open: "我七十八了"); the elder then goes on after a breath and
        was cut off (bench/endpointing, session 56). Where the two readings differ by more than a near miss
        ("选好问" / "选好文" agree), the open reading's words decide the wait, never a shorter one. An open reading
        behind the microphone (its thread has a backlog on a busy machine) is no evidence: "找" beside the grammar's
        "找到了人" is only late. (A guard, not a measured cause: in the latency bench the two never disagreed at a
        short answer; its "找到了" turn's 0.6–1.3 s varies with when the second reading finishes.)"""
        words = self._open
        if (wait >= SENTENCE_QUIET or not self.open_words or not words or not self._open_current
                or near_miss(words, {text}) or near_miss(text, {words})):
            return wait
        return max(wait, self._meant(words))

    def _open_wait(self) -> float:
        """The wait the open reading's words allow: a sentence's quiet when the dialog would answer them as a whole
        question (or thank-you), a short move included (the grammar did not hear it as one: not that sure); else no
        shorter wait (math.inf)."""
        words = self._open
        if self.meaning is None or not self.open_words or not words:
            return math.inf
        return SENTENCE_QUIET if self._meant(words) <= SENTENCE_QUIET else math.inf

    def over(self) -> bool:
        """True once words were heard and the speaker has been quiet long enough for what they said."""
        if not self._raw.strip():
            return False
        wait = self.wait()
        # Quiet counts only after speech was heard: words recognised from the first syllable, before the detector
        # has marked it (or from the room before the speaker began), are no end of a turn. (The words-only judge
        # of before counted from the start of the turn.)
        heard_speech = self.speech_start is not None or not (self.meaning or self.follow_room)
        if not self.speaking and heard_speech and self.quiet >= wait:
            return True
        # The detector hears "speech" on and on (noise): the words stopping decides, a little later.
        return self.elapsed - self._text_at >= wait + NOISY_EXTRA
