"""When a turn is over: from the sound (a voice-activity detector) and from the words heard so far.

A complete expected short answer ("好了", "我用微信") ends the turn after a short quiet, so nobody waits
after a yes; a free sentence ends after a longer one, and longer still when its last words say more is
coming ("我想问一下那个……"), so an elder who stops to think is not cut off. Quiet is judged by webrtcvad
(a GMM model built into its 80 kB wheel, a few microseconds per frame on one core) rather than by the
recogniser's word timings, which come only after vosk's own endpoint (0.5–1 s late) and lag in noise.
Time is audio fed, never the wall clock, so files run faster than real time in tests.
"""

import re
from collections import deque

import webrtcvad

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


def words_promise_more(text: str) -> bool:
    """True when the last words are a filler or a connective that a sentence does not end on."""
    return bool(_MORE_COMING.search(text))


def sounds_finished(text: str) -> bool:
    return bool(_FINISHED.search(text)) and not words_promise_more(text)


class Endpointer:
    """One turn's end-of-turn judge. feed() every chunk of microphone audio, heard() every change of the
    recogniser's words (cleaned: no spaces, no [unk]), then ask over()."""

    def __init__(self, expected_phrases=(), vad_mode: int = VAD_MODE):
        self._vad = webrtcvad.Vad(vad_mode)
        self.expected = {p for p in (expected_phrases or ()) if p}
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

    def feed(self, pcm: bytes) -> None:
        data = self._rest + pcm
        usable = len(data) // FRAME_BYTES * FRAME_BYTES
        self._rest = data[usable:]
        for i in range(0, usable, FRAME_BYTES):
            frame_voiced = self._vad.is_speech(data[i:i + FRAME_BYTES], RATE)
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
            self.text = re.sub(r"\s+", "", raw.replace("[unk]", ""))
            self._text_at = self.elapsed

    def forget_words(self) -> None:
        """The recogniser starts afresh (the prompt ended): its words so far were not the user's."""
        self._raw = self.text = ""
        self._text_at = self.elapsed

    @property
    def quiet(self) -> float:
        """Seconds since the detector last heard speech."""
        return self.elapsed - self.speech_end

    def wait(self) -> float:
        """The quiet that ends this turn, from what has been said so far."""
        text = self.text
        if text in self.expected:
            return COMPLETE_ANSWER_QUIET
        if words_promise_more(text):
            return HESITATION_QUIET
        if sounds_finished(text):
            return SENTENCE_QUIET
        return OPEN_QUIET

    def over(self) -> bool:
        """True once words were heard and the speaker has been quiet long enough for what they said."""
        if not self._raw.strip():
            return False
        wait = self.wait()
        if not self.speaking and self.quiet >= wait:
            return True
        # The detector hears "speech" on and on (noise): the words stopping decides, a little later.
        return self.elapsed - self._text_at >= wait + NOISY_EXTRA
