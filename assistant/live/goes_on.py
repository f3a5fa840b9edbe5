"""Without an echo canceller, the user going on over the start of the reply, told by loudness (issue 14).

A short answer ends the turn after 0.35 s of quiet (assistant/audio/endpoint.py), so an elder who says "好了", stops
for a second and goes on ("……但是那个按钮没有") has the reply begin over their second half. With a canceller the loop
hears them (barge-in) and joins both parts (assistant/live/rejoin.py). Without one — the default, half-duplex — the
microphone hears the reply too, and words recognised over it cannot be told from the assistant's own voice: the
rest was lost under the reply (bench part 0: about a third of the turns with a hesitation).

Loudness can tell them apart where the room allows it: the loop knows how loud the user was at the microphone (the
voiced frames of the turn just heard, Endpointer.voice_db) and learns how loud its own voice comes back (the
microphone's level while it speaks, outside the moments watched). When the user is clearly louder than that echo
(SEPARATION_DB), sound well above it within rejoin.JOIN_SECONDS of the turn's end is the user going on: the loop
stops the reply, hears the rest and joins it to the turn. Where the echo is about as loud as the user (a laptop at
full volume, its microphone beside the speakers), it never guesses: half-duplex exactly as before.

Levels only, never words: nothing here looks at what was said. Whatever the microphone hears while the voice plays
outside the watched moments is taken for the voice coming back — the user talking over a long reply too, which only
makes it more careful.
"""

import math
from collections import deque

import numpy as np

from assistant.audio.samples import RATE, levels_db
from assistant.live.rejoin import JOIN_SECONDS

FRAME_SECONDS = 0.03
FRAME_BYTES = int(FRAME_SECONDS * RATE) * 2
ECHO_SECONDS = 30.0
"""How much of the voice coming back is remembered (its level): the last prompts, long enough that one loud word
does not decide."""
ECHO_MIN_SECONDS = 2.0
"""Below this much of the voice heard back, its level is not known: nothing is told apart."""
ECHO_PERCENTILE = 95
"""The echo's level is its loud end: the voice's stressed syllables, not its pauses."""
SEPARATION_DB = 6.0
"""The user's median voiced level must be this far above the echo's loud end for loudness to tell them apart.
Below it the two overlap too much: a loud syllable of the reply would stop it."""
LINE_OVER_ECHO_DB = 3.0
"""A frame is the user's only this far above the echo's loud end at least (its stressed syllables cluster: 5 frames
of one word can all be near its 95th percentile)."""
WINDOW_FRAMES = 8
LOUD_IN_WINDOW = 5
"""The user goes on when 5 of the last 8 frames (150 of 240 ms) are above the line: a cough or a door is shorter."""


class GoesOn:
    """Feed every raw microphone chunk (`hear`); after a turn ends, `watch(user_db)`; `hear` returns True once, at
    the moment the user is heard going on over the reply."""

    def __init__(self):
        self._echo: deque = deque(maxlen=int(ECHO_SECONDS / FRAME_SECONDS))
        self._rest = b""
        self._window: deque = deque(maxlen=WINDOW_FRAMES)
        self._line = math.inf
        self._left = 0.0
        self.elapsed = 0.0
        """audio seconds fed since the last watch()"""
        self.onset: float | None = None
        """audio time (since watch()) of the first loud frame of the user going on, once heard"""

    @property
    def echo_db(self) -> float | None:
        """The level of the voice coming back (its loud end), once enough of it was heard."""
        if len(self._echo) * FRAME_SECONDS < ECHO_MIN_SECONDS:
            return None
        return float(np.percentile(self._echo, ECHO_PERCENTILE))

    def watch(self, user_db: float | None) -> bool:
        """A turn just ended, said at `user_db` (None: not known). Watches the next JOIN_SECONDS of sound when the
        user was loud enough above the echo to be told from it; returns whether it does."""
        self._rest, self.elapsed, self.onset, self._left = b"", 0.0, None, 0.0
        self._window.clear()
        echo = self.echo_db
        if user_db is None or echo is None or user_db - echo < SEPARATION_DB:
            self._line = math.inf
            return False
        # Half way between the user's voice and the echo's loudest, and never close to that.
        self._line = max((user_db + echo) / 2, echo + LINE_OVER_ECHO_DB)
        self._left = JOIN_SECONDS
        return True

    def hear(self, pcm: bytes, playing: bool) -> bool:
        """True when, within the watched moment and while the reply plays, the user is heard going on."""
        data = self._rest + pcm
        usable = len(data) // FRAME_BYTES * FRAME_BYTES
        self._rest = data[usable:]
        if not usable:
            return False
        levels = levels_db(np.frombuffer(data[:usable], dtype="<i2").reshape(-1, FRAME_BYTES // 2))
        went_on = False
        for i, level in enumerate(levels):
            self.elapsed += FRAME_SECONDS
            watching = self._left > 0
            self._left = max(self._left - FRAME_SECONDS, 0.0)
            if not playing:
                self._window.clear()
                continue
            if not watching:
                self._echo.append(float(level))  # the voice coming back (and the room under it)
                continue
            self._window.append(level >= self._line)
            if self.onset is None and level >= self._line:
                self.onset = self.elapsed - FRAME_SECONDS
            elif not any(self._window):
                self.onset = None
            if sum(self._window) >= LOUD_IN_WINDOW:
                # Once per turn; the frames after it in this chunk are the user's, not the echo to learn.
                self._left = 0.0
                self.elapsed += FRAME_SECONDS * (len(levels) - i - 1)
                went_on = True
                break
        return went_on
