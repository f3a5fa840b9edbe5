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
#: How far back sounding() looks: the recogniser's words come up to a second after the sound, and the device and a
#: canceller add a few hundred milliseconds more.
SOUNDING_SECONDS = 2.0


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
        self._saying: tuple | None = None
        """(say() count, parts, their timing, when it began) of the reply being said, for sounding()"""
        self._warmed = False
        """warm_up() was asked for (by the owner, or by the first non-blocking say)"""
        self.ahead = None
        """RenderAhead (speech/ahead.py) when the owner renders the next turn's sentences while the user thinks:
        a reply holds it while its parts are rendered"""

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

    def sounding(self, within: float = SOUNDING_SECONDS) -> str:
        """The words of the reply the voice was saying over the last `within` seconds ("" when quiet): what an
        echo of it can bring back to the microphone (live/own_voice.py)."""
        if not self.playing or self._saying is None:
            return ""
        generation, parts, timing, started = self._saying
        if generation != self._said:
            return ""
        now = self._played_since(started)
        return "".join(parts[index] for index, start, seconds in list(timing)
                       if start <= now and start + seconds >= now - within)

    def _played_since(self, started: float) -> float:
        """Seconds into the reply the voice is: the player's own position when it has one (a streamed reply may wait
        for a part being rendered), else the wall clock since `started`."""
        position = getattr(self._player, "position", None)
        return position if isinstance(position, float) else time.monotonic() - started

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

    def part_pieces(self, text: str, rate: float):
        """One part at speed factor `rate` as it is rendered: (samples, sample rate, "cache" | "live") pieces that
        joined are the part — one from the cache, else each piece the engine renders on its own (the natural voice
        says a sentence clause by clause: `chunks`), with the silence after it, as soon as it is rendered. A live
        sentence then starts sounding after its first clause is rendered, not its last (session 55: "多久认证一次啊"
        after 慢一点 waited 0.6 s for a whole answer's first sentence).

        Slower or faster speech is rendered again by the engine at that rate (FastSpeech2's phone durations,
        espeak-ng's words per minute), never time-stretched: stretching smears the consonants, and each
        慢一点 made the voice harder to understand. A fixed sentence rendered at a new rate joins the cache
        under that rate, so only the first reply after 慢一点 waits for the engine.
        """
        identity = self._identity()
        key = cache_key(text, identity, rate)
        hit = self.cache.get(key)
        if hit is not None:
            yield hit[0], hit[1], "cache"
            return
        chunks = getattr(self.engine, "chunks", None)
        pieces = chunks(text, rate) if chunks is not None else []
        if len(pieces) < 2:
            samples, sample_rate = self._synthesize(text, rate)
            samples = effects.trim_silence(samples, sample_rate)
            self._keep(text, rate, identity, samples, sample_rate)
            yield samples, sample_rate, "live"
            return
        rendered: list[np.ndarray] = []
        for number, (chunk, pause) in enumerate(pieces):
            engine = self.engine
            samples, sample_rate = self._synthesize(chunk, rate)
            if self.engine is not engine:
                # The voice gave way to the system voice: the rest of the sentence (all of it when nothing was said
                # yet) in that voice at once — never a clause twice, never a sentence cut off.
                rest = text if number == 0 else "".join(c for c, _ in pieces[number:])
                samples, sample_rate = self.engine.synthesize(rest, rate)
                yield effects.trim_silence(samples, sample_rate, lead=number == 0), sample_rate, "live"
                return
            last = number == len(pieces) - 1
            rendered += [samples, np.zeros(int(round(sample_rate * pause)), np.float32)]
            samples = effects.trim_silence(samples, sample_rate, lead=number == 0, tail=last)
            yield (samples if last else np.concatenate([samples, rendered[-1]])), sample_rate, "live"
        self._keep(text, rate, identity, effects.trim_silence(np.concatenate(rendered), sample_rate),
                   sample_rate)

    def _synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        try:
            return self.engine.synthesize(text, rate)
        except VoiceError as exc:
            if not self._fall_back(exc):
                raise
            return self.engine.synthesize(text, rate)

    def _keep(self, text: str, rate: float, identity: str, samples: np.ndarray, sample_rate: int) -> None:
        """Only a sentence already pre-rendered at the profile's rate is a fixed one: a live sentence (a date, a
        count about this user) is never stored."""
        if rate != self.profile.rate and self.engine.identity == identity \
                and self.cache.has(cache_key(text, identity, self.profile.rate)):
            self.cache.put(cache_key(text, identity, rate), samples, sample_rate)

    def prerender(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        """One fixed sentence rendered for the cache at `rate` (rendering ahead): no fallback to another voice, since
        what is stored must be the voice the cache key names."""
        samples, sample_rate = self.engine.synthesize(text, rate)
        return effects.trim_silence(samples, sample_rate), sample_rate

    def compose(self, parts: list[str], settings=None) -> tuple[np.ndarray, int, float]:
        """All parts joined with the profile's pauses, loudness-normalised: (samples, rate, volume to apply)."""
        volume = self.profile.effective_volume(settings)
        pieces = list(self._pieces(parts, settings, volume=None))
        if not pieces:
            return np.zeros(0, np.float32), 22050, volume
        return np.concatenate([p for _, p in pieces]).astype(np.float32), pieces[0][0], volume

    def _pieces(self, parts: list[str], settings=None, volume: float | None = None):
        """The reply as it is rendered, piece by piece (`part_pieces`: a part whole, or a live one clause by clause):
        (sample rate, samples) — before a part's first piece the lead-in or the pause before it; each piece
        loudness-normalised with its part's one gain (and, with `volume`, at that volume with peaks limited), all at
        the first part's sample rate; a last piece is the silence after the reply. last_sources and last_timing
        grow as each part is rendered, so a reply can start sounding before its last part exists."""
        rate = self.profile.effective_rate(settings)
        sources: list[str] = []
        timing: list[tuple[int, float, float]] = []
        self.last_sources, self.last_timing = sources, timing
        sample_rate, at = 0, 0
        for index, part in enumerate(p.strip() for p in parts):
            if not speakable(part):
                continue  # only punctuation: nothing to say, and no reason to bother the user
            gain = None
            for number, (samples, sr, source) in enumerate(self.part_pieces(part, rate)):
                sample_rate = sample_rate or sr
                clip = resample(samples, sr, sample_rate)
                # A part in pieces keeps its first piece's loudness gain: its words stay at one level.
                gain = effects.loudness_gain(clip, sample_rate) if gain is None else gain
                clip = effects.normalise_loudness(clip, sample_rate, gain=gain)
                if volume is not None:
                    clip = effects.apply_volume(clip, sample_rate, volume)
                gap = np.zeros(0, np.float32)
                if number == 0:  # the part's first piece: the lead-in or the pause before it
                    gap = effects.silence(LEAD_IN_MS if not timing else self.profile.pause_ms(settings), sample_rate)
                    at += len(gap)
                    timing.append((index, at / sample_rate, 0.0))
                    sources.append(source)
                at += len(clip)
                timing[-1] = (index, timing[-1][1], at / sample_rate - timing[-1][1])
                yield sample_rate, np.concatenate([gap, clip]).astype(np.float32)
        if sample_rate:  # silence after the last part: the device plays out the whole reply before it stops
            yield sample_rate, effects.silence(LEAD_IN_MS, sample_rate)

    def say(self, parts: list[str], settings=None, blocking: bool = True, on_sentence=None):
        """Speak the parts; blocking returns the PlaybackResult, else call stop()/player.wait() later.

        With a player that streams (Player.play_stream), the first part sounds as soon as it is rendered while
        the next ones are rendered behind it; a failure of a later part ends the reply after what was said.
        on_sentence(index, seconds), for a non-blocking say: called from another thread when the voice starts
        part `index` (it lasts `seconds`), and with (None, 0.0) once it is quiet again — at the end, after
        stop() (barge-in), or at once when there was nothing to say. A later say() ends the reports of this one.
        """
        self._said += 1
        generation = self._said
        volume = self.profile.effective_volume(settings)
        stream = getattr(self.player, "play_stream", None)
        release = self._hold_ahead()
        rendering = self._pieces(parts, settings, volume=volume)
        try:
            first = next(rendering, None)  # the first part's failure is said as before: nothing was heard yet
        except BaseException:
            release()
            raise
        timing = self.last_timing
        self._saying = (generation, [p.strip() for p in parts], timing, time.monotonic())
        if first is None:
            release()
            if on_sentence is not None:
                on_sentence(None, 0.0)
            return None
        sample_rate = first[0]
        pieces = self._stream_pieces(first[1], rendering, release, generation)
        try:
            if stream is not None:
                result = stream(pieces, sample_rate, blocking=blocking)
            else:  # a player that takes whole sounds only
                result = self.player.play(np.concatenate(list(pieces)), sample_rate, volume=1.0, blocking=blocking)
        except BaseException:  # no device, or PortAudio missing: nothing more is rendered for this reply
            pieces.close()
            rendering.close()
            release()
            raise
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

    def _hold_ahead(self):
        """Holds rendering ahead while this reply's parts are rendered; returns the release (safe to call twice)."""
        ahead = self.ahead
        if ahead is None:
            return lambda: None
        ahead.hold()  # the reply comes first: rendering ahead starts nothing (and lends its engine back at once)
        released = threading.Event()

        def release():
            if not released.is_set():
                released.set()
                ahead.release()

        return release

    def _stream_pieces(self, first, rendering, release, generation):
        """The reply's samples piece by piece: the first (already rendered), then each next part rendered as the
        player asks for it, until a newer say() begins (its first part must not wait for the rest of this one);
        rendering ahead may go on once the last is rendered or the reply was cut short."""
        try:
            yield first
            while generation == self._said:
                piece = next(rendering, None)
                if piece is None:
                    break
                yield piece[1]
        finally:
            rendering.close()
            release()

    def _follow(self, timing, generation, started, on_sentence):
        """Reports each part as the voice reaches it, while the player plays this reply."""
        current = None
        while generation == self._said:
            elapsed = self._played_since(started)
            now = [t for t in list(timing) if t[1] <= elapsed]
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
        """Exactly the samples say() would play (the whole reply), volume and limiter applied per part."""
        pieces = list(self._pieces(parts, settings, volume=self.profile.effective_volume(settings)))
        if not pieces:
            return np.zeros(0, np.float32), 22050
        return np.concatenate([p for _, p in pieces]).astype(np.float32), pieces[0][0]

    def render_to_wav(self, parts: list[str], path, settings=None) -> Path:
        """Write what the assistant would say to a 16-bit mono WAV file."""
        import soundfile

        samples, sample_rate = self.render(parts, settings)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), to_int16(samples), sample_rate, subtype="PCM_16")
        return path

    def close(self) -> None:
        if self.ahead is not None:
            self.ahead.close()
        self.stop()
        if self._engine is not None:
            self._engine.close()
