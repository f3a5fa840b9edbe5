"""Playback through sounddevice (PortAudio): a chosen output device, volume on the samples, stop() any time.

stop() may be called from another thread (barge-in: the user starts talking while the assistant speaks).
Devices are reached through assistant/audio/devices.py: a PortAudio error is an AudioDeviceError in plain
words, and looking for a speaker never stops the microphone's stream. Whatever happens while a sound is
being opened, the player ends up either playing it or quiet (`playing` False), never in between.
"""

import logging
import os
import threading
from dataclasses import dataclass

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
    """False when stop() cut it short."""
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


class Player:
    """Plays float or int16 mono samples on one output device; one sound at a time."""

    def __init__(self, device=None):
        self.device = device
        self._lock = threading.Lock()
        self._stream = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._pos = 0
        self._total = 0
        self._rate = 1

    @property
    def playing(self) -> bool:
        return not self._done.is_set()

    def play(self, samples, sample_rate: int, volume: float = 1.0, blocking: bool = True) -> PlaybackResult | None:
        """Play samples at `volume` (gain with peak limiting). Blocking returns how it ended; else use wait()."""
        devices.sounddevice()  # PortAudio missing: say so before any work
        self.stop()
        data = apply_volume(as_mono_float32(samples), sample_rate, volume)
        with self._lock:
            self._open(data, sample_rate)
        return self.wait() if blocking else None

    def _open(self, data, sample_rate):
        self._stop.clear()
        self._done.clear()
        self._pos = 0
        try:
            device = resolve_device(self.device)
            try:
                self._start_stream(device, data, sample_rate)
                return
            except AudioDeviceError as exc:
                problem = exc
            # Some devices (Windows WASAPI, USB speakers) only take their own rate: resample once and retry.
            native = devices.default_samplerate(device, "output", CANNOT_OPEN) if device is not None else 0
            if not native or native == sample_rate:
                raise problem
            self._start_stream(device, resample(data, sample_rate, native), native)
        except BaseException:
            # Nothing plays: a failed open must never leave the player "playing" (the live loop would then
            # take every answer for its own voice and stop listening).
            self._close_stream()
            self._done.set()
            raise

    def _start_stream(self, device, data, sample_rate):
        sd = devices.sounddevice()
        frames = data.reshape(-1, 1)
        self._total = len(frames)
        self._rate = sample_rate

        def callback(outdata, count, _time, _status):
            if self._stop.is_set():
                outdata.fill(0)
                raise sd.CallbackAbort
            chunk = frames[self._pos : self._pos + count]
            outdata[: len(chunk)] = chunk
            outdata[len(chunk) :] = 0
            self._pos += len(chunk)
            if len(chunk) < count:
                raise sd.CallbackStop  # PortAudio plays out what is buffered, then finished_callback

        self._stream = devices.open_stream("output", CANNOT_OPEN, samplerate=sample_rate, channels=1,
                                           dtype="float32", device=device, callback=callback,
                                           finished_callback=self._done.set, latency="low")

    def wait(self, timeout: float | None = None) -> PlaybackResult:
        """Block until the sound ended or was stopped, or `timeout` seconds passed. Without a timeout the wait
        still ends: a speaker that never reports the end is stopped a few seconds after the sound's length."""
        limit = timeout if timeout is not None else (self._total - self._pos) / self._rate + WAIT_MARGIN
        if not self._done.wait(limit):
            if timeout is not None:
                return PlaybackResult(False, self._pos, self._total)
            log.warning("扬声器没有放完就卡住了,停止播放 (the speaker stopped responding; playback given up)")
            self._abort()
        self._close_stream()
        return PlaybackResult(not self._stop.is_set() and self._pos >= self._total, self._pos, self._total)

    def stop(self) -> None:
        """Cut the current sound short (safe from any thread); returns once the device is quiet."""
        if self._done.is_set():
            self._close_stream()
            return
        self._stop.set()
        if not self._done.wait(1.0):
            self._abort()  # callback not running (device stuck): abort from here
        self._close_stream()

    def _abort(self):
        stream, self._stream = self._stream, None
        devices.close_stream(stream, abort=True)
        self._done.set()

    def _close_stream(self):
        stream, self._stream = self._stream, None
        devices.close_stream(stream)

    def close(self) -> None:
        self.stop()
