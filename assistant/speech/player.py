"""Playback through sounddevice (PortAudio): a chosen output device, volume on the samples, stop() any time.

stop() may be called from another thread (barge-in: the user starts talking while the assistant speaks).
Devices are reached through assistant/audio/devices.py: a PortAudio error is an AudioDeviceError in plain
words, and looking for a speaker never stops the microphone's stream. Whatever happens while a sound is
being opened, the player ends up either playing it or quiet (`playing` False), never in between.
"""

import logging
import os
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from assistant.audio import devices
from assistant.audio.samples import resample
from assistant.errors import AudioDeviceError
from assistant.speech.effects import apply_volume, as_mono_float32

log = logging.getLogger(__name__)

CANNOT_OPEN = ("扬声器打不开。请检查音箱是否接好、有没有打开。"
               " (Cannot open the speaker: check that it is plugged in and switched on.)")
NO_SPEAKER = "没有找到扬声器。请接上音箱或耳机，再试一次。/ No speaker found: connect speakers or headphones."
WAIT_MARGIN = 5.0
"""Seconds past the sound's own length after which a speaker that never reports the end is given up on."""


@dataclass
class PlaybackResult:
    """How one play() ended."""

    completed: bool
    """False when stop() cut it short, or a later piece of a streamed sound could not be rendered."""
    frames_played: int
    """Frames handed to the device before the end or the stop."""
    frames_total: int


def output_devices(sd=None) -> list[tuple[int, str]]:
    """(index, name) of every device that can play sound."""
    return devices.devices("output")


def resolve_device(wanted=None, sd=None):
    """Device index for a number, a name (part of it, any case) or None = $ASSISTANT_OUTPUT_DEVICE / default.

    When nothing matches, the device list is read again (a speaker plugged in after start), but only while
    no stream of ours is open: re-reading it would stop them."""
    wanted = wanted if wanted not in (None, "") else os.environ.get("ASSISTANT_OUTPUT_DEVICE") or None
    for attempt in range(2):
        if attempt and not devices.refresh():
            break
        if wanted is None:
            default = devices.default_name("output")
            if default is None:
                continue
            return next((i for i, name in devices.devices("output") if name == default), None)
        index = devices.find("output", wanted)
        if index is not None:
            return index
    if wanted is None:
        raise AudioDeviceError(NO_SPEAKER)
    names = "、".join(name for _, name in devices.devices("output")) or "没有 / none"
    raise AudioDeviceError(f"没有叫“{wanted}”的扬声器。可用：{names} / No output device {wanted!r}.")


class _Feed:
    """The samples of one sound, possibly still arriving: the device's callback reads them as they come.

    One per play, so a feeder thread of a stopped sound can never slip its pieces into the next one."""

    def __init__(self):
        self._pieces: deque = deque()
        self._offset = 0
        self._lock = threading.Lock()
        self.total = 0
        """frames handed in so far"""
        self.finished = threading.Event()
        """no more pieces will come"""
        self.stopped = threading.Event()
        self.failed = False
        """the pieces ended with an error: the rest of the sound was never rendered"""
        self.underruns = 0
        """callbacks that found the next piece not rendered yet (silence was played meanwhile)"""

    def push(self, data: np.ndarray) -> None:
        if len(data):
            with self._lock:
                self._pieces.append(data)
                self.total += len(data)

    def read_into(self, out: np.ndarray) -> int:
        """Copy the next frames into `out` (1-D); returns how many there were."""
        n = 0
        with self._lock:
            while n < len(out) and self._pieces:
                piece = self._pieces[0]
                take = min(len(out) - n, len(piece) - self._offset)
                out[n:n + take] = piece[self._offset:self._offset + take]
                n += take
                self._offset += take
                if self._offset >= len(piece):
                    self._pieces.popleft()
                    self._offset = 0
        return n


class Player:
    """Plays float or int16 mono samples on one output device; one sound at a time.

    play() takes a whole sound; play_stream() takes its pieces as they are rendered (a reply's first sentence
    sounds while the next ones are still being synthesised): both go through the same output stream."""

    def __init__(self, device=None):
        self.device = device
        self._lock = threading.Lock()
        self._stream = None
        self._feed = _Feed()
        self._feed.finished.set()
        self._feeder: threading.Thread | None = None
        self._done = threading.Event()
        self._done.set()
        self._pos = 0
        self._rate = 1

    @property
    def playing(self) -> bool:
        return not self._done.is_set()

    @property
    def position(self) -> float:
        """Seconds of the current sound handed to the device so far (silence while waiting for a piece is not
        counted): where the voice is in the reply, for showing the sentence being said."""
        return self._pos / self._rate

    @property
    def _total(self) -> int:
        return self._feed.total

    @property
    def underruns(self) -> int:
        """Times the current sound had to wait for its next piece."""
        return self._feed.underruns

    def play(self, samples, sample_rate: int, volume: float = 1.0, blocking: bool = True) -> PlaybackResult | None:
        """Play samples at `volume` (gain with peak limiting). Blocking returns how it ended; else use wait()."""
        devices.sounddevice()  # PortAudio missing: say so before any work
        data = apply_volume(as_mono_float32(samples), sample_rate, volume)
        return self.play_stream(iter([data]), sample_rate, blocking=blocking)

    def play_stream(self, pieces, sample_rate: int, blocking: bool = True) -> PlaybackResult | None:
        """Play pieces of one sound (float or int16 mono, already at their final volume) one after the other,
        starting as soon as the first is here; the others are taken from the iterator by a thread while it plays.
        If the next piece is late, the device plays silence until it comes. stop() also stops taking pieces
        (a reply cut short by barge-in is not rendered to its end). An error raised by the iterator ends the sound
        after what was already handed in (logged; the parts before it were heard)."""
        devices.sounddevice()
        self.stop()
        pieces = iter(pieces)
        first = next(pieces, None)
        feed = _Feed()
        if first is not None:
            feed.push(as_mono_float32(first))
        with self._lock:
            convert = self._open(feed, sample_rate)
            feeder = threading.Thread(target=self._take, args=(feed, pieces, convert), daemon=True,
                                      name="player-feed")
            self._feeder = feeder
            feeder.start()
        return self.wait() if blocking else None

    @staticmethod
    def _take(feed: _Feed, pieces, convert) -> None:
        try:
            while not feed.stopped.is_set():
                piece = next(pieces, None)
                if piece is None:
                    break
                feed.push(convert(as_mono_float32(piece)))
        except Exception as exc:  # noqa: BLE001 - what was handed in still plays; the rest is not said
            feed.failed = True
            log.warning("后面的话没能合成,只说了前面的 (the rest of the reply could not be rendered: %s)", exc)
        finally:
            feed.finished.set()
            close = getattr(pieces, "close", None)
            if close is not None and feed.stopped.is_set():
                close()  # a generator rendering the reply: stop it where it is

    def _open(self, feed: _Feed, sample_rate):
        """Open the output for `feed`; returns the conversion for its later pieces (a resampling when the device
        only takes its own rate)."""
        self._feed = feed
        self._done.clear()
        self._pos = 0
        try:
            device = resolve_device(self.device)
            try:
                self._start_stream(device, feed, sample_rate)
                return lambda data: data
            except AudioDeviceError as exc:
                problem = exc
            # Some devices (Windows WASAPI, USB speakers) only take their own rate: resample and retry.
            native = devices.default_samplerate(device, "output", CANNOT_OPEN) if device is not None else 0
            if not native or native == sample_rate:
                raise problem
            with feed._lock:
                feed._pieces = deque(resample(p, sample_rate, native) for p in feed._pieces)
                feed.total = sum(map(len, feed._pieces))
            self._start_stream(device, feed, native)
            return lambda data: resample(data, sample_rate, native)
        except BaseException:
            # Nothing plays: a failed open must never leave the player "playing" (the live loop would then
            # take every answer for its own voice and stop listening).
            feed.stopped.set()
            self._close_stream()
            self._done.set()
            raise

    def _start_stream(self, device, feed: _Feed, sample_rate):
        sd = devices.sounddevice()
        self._rate = sample_rate

        def callback(outdata, count, _time, _status):
            if feed.stopped.is_set():
                outdata.fill(0)
                raise sd.CallbackAbort
            n = feed.read_into(outdata[:, 0])
            outdata[n:] = 0
            self._pos += n
            if n < count:
                if feed.finished.is_set() and feed.total <= self._pos:
                    raise sd.CallbackStop  # PortAudio plays out what is buffered, then finished_callback
                feed.underruns += 1

        self._stream = devices.open_stream("output", CANNOT_OPEN, samplerate=sample_rate, channels=1,
                                           dtype="float32", device=device, callback=callback,
                                           finished_callback=self._done.set, latency="low")

    def wait(self, timeout: float | None = None) -> PlaybackResult:
        """Block until the sound ended or was stopped, or `timeout` seconds passed. Without a timeout the wait
        still ends: a speaker that never reports the end is stopped a few seconds after the sound's length (and
        after its last piece was rendered: the render worker has its own deadlines)."""
        feed = self._feed
        if timeout is not None:
            if not self._done.wait(timeout):
                return PlaybackResult(False, self._pos, feed.total)
        else:
            while True:
                before = self._pos
                rendering = not feed.finished.is_set()
                limit = (feed.total - self._pos) / self._rate + WAIT_MARGIN
                if self._done.wait(limit):
                    break
                if rendering or self._pos != before:
                    continue  # still coming, or still moving: not stuck
                log.warning("扬声器没有放完就卡住了,停止播放 (the speaker stopped responding; playback given up)")
                self._abort()
                break
        self._close_stream()
        completed = (not feed.stopped.is_set() and not feed.failed and feed.finished.is_set()
                     and self._pos >= feed.total)
        return PlaybackResult(completed, self._pos, feed.total)

    def stop(self) -> None:
        """Cut the current sound short (safe from any thread); returns once the device is quiet."""
        if self._done.is_set():
            self._close_stream()
            return
        self._feed.stopped.set()
        if not self._done.wait(1.0):
            self._abort()  # callback not running (device stuck): abort from here
        self._close_stream()

    def _abort(self):
        self._feed.stopped.set()
        stream, self._stream = self._stream, None
        devices.close_stream(stream, abort=True)
        self._done.set()

    def _close_stream(self):
        stream, self._stream = self._stream, None
        devices.close_stream(stream)

    def close(self) -> None:
        self.stop()
