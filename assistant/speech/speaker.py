"""Says a reply: each part from the cache when pre-rendered, else synthesised live; pauses; rate; volume."""

import logging
import threading
import time
from pathlib import Path

import numpy as np

from assistant.audio.samples import resample, to_int16
from assistant.errors import VoiceError
from assistant.speech import effects
from assistant.speech.cache import VoiceCache, cache_key
from assistant.speech.engines import speakable
from assistant.speech.registry import open_engine

log = logging.getLogger(__name__)

#: Silence before the first word: Bluetooth and USB speakers wake up on the first samples and swallow them.
LEAD_IN_MS = 120
#: How often a non-blocking say() looks at the clock to report the sentence being said.
FOLLOW_SECONDS = 0.04


class Speaker:
    """Turns reply parts into sound with one voice profile; `settings` carries the session's 慢一点/大声点 steps."""

    def __init__(self, profile=None, cache: VoiceCache | None = None, player=None, engine=None):
        if profile is None:
            from assistant.speech.profiles import load_profile

            profile = load_profile()
        self.profile = profile
        self.cache = cache if cache is not None else VoiceCache()
        self._player = player
        self._engine = engine
        self.last_sources: list[str] = []
        """Where each part of the last reply came from: "cache" or "live" (for tests and `doctor`)."""
        self.last_timing: list[tuple[int, float, float]] = []
        """(index in parts, start, duration) in seconds of each part said in the last composed reply."""
        self._said = 0
        """counts say() calls: a follower of an earlier reply stops when a new one starts"""
        self._warmed = False
        """warm_up() was asked for (by the owner, or by the first non-blocking say)"""

    @property
    def engine(self):
        if self._engine is None:
            self._engine = open_engine(self.profile.engine, self.profile.voice)
        return self._engine

    @property
    def player(self):
        if self._player is None:
            from assistant.speech.player import Player

            self._player = Player()
        return self._player

    @property
    def playing(self) -> bool:
        """Whether the assistant's voice is sounding now (the live loop half-duplexes and barges in on it); never
        opens a player just to ask."""
        return bool(self._player is not None and self._player.playing)

    def wait(self, timeout: float = 60.0) -> None:
        """Let what is being said finish (at the end of a run: the last answer is heard whole)."""
        if self.playing:
            self._player.wait(timeout=timeout)

    def warm_up(self) -> None:
        """Start the engine's child in the background now (the natural voice needs a few seconds to load)."""
        self._warmed = True
        try:
            warm = getattr(self.engine, "warm_up", None)  # an engine without a child process has nothing to start
            if warm is not None:
                warm()
        except VoiceError as exc:  # e.g. the natural voice is broken: said properly at the first live sentence
            log.debug("warming up the voice failed: %s", exc)

    def _fall_back(self, exc: VoiceError) -> bool:
        """With engine "auto", a natural voice that fails gives way to the system voice for good."""
        if self.profile.engine != "auto" or getattr(self._engine, "name", None) != "natural":
            return False
        log.warning("natural voice failed, using the system voice from now on: %s", exc)
        from assistant.speech.pyttsx3_engine import Pyttsx3Engine

        self._engine.close()
        self._engine = Pyttsx3Engine(self.profile.voice)
        return True

    def _identity(self) -> str:
        try:
            return self.engine.identity
        except VoiceError as exc:
            if self._fall_back(exc):
                return self.engine.identity
            raise

    def part_audio(self, text: str, rate: float) -> tuple[np.ndarray, int, str]:
        """One part at speed factor `rate`: (samples, sample rate, "cache" | "live").

        Slower or faster speech is rendered again by the engine at that rate (FastSpeech2's phone durations,
        espeak-ng's words per minute), never time-stretched: stretching smears the consonants, and each
        慢一点 made the voice harder to understand. A fixed sentence rendered at a new rate joins the cache
        under that rate, so only the first reply after 慢一点 waits for the engine.
        """
        identity = self._identity()
        key = cache_key(text, identity, rate)
        hit = self.cache.get(key)
        if hit is not None:
            return hit[0], hit[1], "cache"
        try:
            samples, sample_rate = self.engine.synthesize(text, rate)
        except VoiceError as exc:
            if not self._fall_back(exc):
                raise
            samples, sample_rate = self.engine.synthesize(text, rate)
        samples = effects.trim_silence(samples, sample_rate)
        # Only a sentence already pre-rendered at the profile's rate is a fixed one: a live sentence (a date, a
        # count about this user) is never stored.
        if rate != self.profile.rate and self.engine.identity == identity \
                and self.cache.has(cache_key(text, identity, self.profile.rate)):
            self.cache.put(key, samples, sample_rate)
        return samples, sample_rate, "live"

    def compose(self, parts: list[str], settings=None) -> tuple[np.ndarray, int, float]:
        """All parts joined with the profile's pauses, loudness-normalised: (samples, rate, volume to apply)."""
        rate = self.profile.effective_rate(settings)
        clips, sources, said = [], [], []
        sample_rate = 0  # the first clip's rate; the others are resampled to it
        for index, part in enumerate(p.strip() for p in parts):
            if not speakable(part):
                continue  # only punctuation: nothing to say, and no reason to bother the user
            samples, sr, source = self.part_audio(part, rate)
            sample_rate = sample_rate or sr
            samples = resample(samples, sr, sample_rate)
            clips.append(effects.normalise_loudness(samples, sample_rate))
            sources.append(source)
            said.append(index)
        self.last_sources = sources
        self.last_timing = []
        if not clips:
            return np.zeros(0, np.float32), 22050, self.profile.effective_volume(settings)
        pause = effects.silence(self.profile.pause_ms(settings), sample_rate)
        joined = [effects.silence(LEAD_IN_MS, sample_rate)]
        at = len(joined[0])
        for i, clip in enumerate(clips):
            if i:
                joined.append(pause)
                at += len(pause)
            joined.append(clip)
            self.last_timing.append((said[i], at / sample_rate, len(clip) / sample_rate))
            at += len(clip)
        joined.append(effects.silence(LEAD_IN_MS, sample_rate))
        return np.concatenate(joined).astype(np.float32), sample_rate, self.profile.effective_volume(settings)

    def say(self, parts: list[str], settings=None, blocking: bool = True, on_sentence=None):
        """Speak the parts; blocking returns the PlaybackResult, else call stop()/player.wait() later.

        on_sentence(index, seconds), for a non-blocking say: called from another thread when the voice starts
        part `index` (it lasts `seconds`), and with (None, 0.0) once it is quiet again — at the end, after
        stop() (barge-in), or at once when there was nothing to say. A later say() ends the reports of this one.
        """
        self._said += 1
        samples, sample_rate, volume = self.compose(parts, settings)
        if len(samples) == 0:
            if on_sentence is not None:
                on_sentence(None, 0.0)
            return None
        timing, generation = list(self.last_timing), self._said
        result = self.player.play(samples, sample_rate, volume=volume, blocking=blocking)
        if not self._warmed and not blocking:
            # The first reply (the greeting) came from the cache; while it plays, the engine for live sentences
            # loads (the natural voice needs seconds), so the first date or 慢一点 does not wait for it.
            self._warmed = True
            self.warm_up()
        if on_sentence is not None:
            if blocking:  # already said: nothing left to follow
                on_sentence(None, 0.0)
            else:
                threading.Thread(target=self._follow, args=(timing, generation, time.monotonic(), on_sentence),
                                 daemon=True, name="speaker-follow").start()
        return result

    def _follow(self, timing, generation, started, on_sentence):
        """Reports each part as the clock reaches it, while the player plays this reply."""
        current = None
        while generation == self._said:
            elapsed = time.monotonic() - started
            now = [t for t in timing if t[1] <= elapsed]
            if now and now[-1][0] != current:
                current = now[-1][0]
                on_sentence(current, now[-1][2])
            if not getattr(self._player, "playing", False):
                break
            time.sleep(FOLLOW_SECONDS)
        if generation == self._said:
            on_sentence(None, 0.0)

    def stop(self) -> None:
        """Barge-in: silence the assistant at once."""
        if self._player is not None:
            self._player.stop()

    def render(self, parts: list[str], settings=None) -> tuple[np.ndarray, int]:
        """Exactly the samples say() would play, volume and limiter applied."""
        samples, sample_rate, volume = self.compose(parts, settings)
        return effects.apply_volume(samples, sample_rate, volume), sample_rate

    def render_to_wav(self, parts: list[str], path, settings=None) -> Path:
        """Write what the assistant would say to a 16-bit mono WAV file."""
        import soundfile

        samples, sample_rate = self.render(parts, settings)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), to_int16(samples), sample_rate, subtype="PCM_16")
        return path

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.close()
