"""Playback through sounddevice (PortAudio): a chosen output device, volume on the samples, stop() any time.

stop() may be called from another thread (barge-in: the user starts talking while the assistant speaks).
"""

import os
import threading
from dataclasses import dataclass

from assistant.errors import AudioDeviceError
from assistant.speech.effects import apply_volume, as_mono_float32, resample


@dataclass
class PlaybackResult:
    """How one play() ended."""

    completed: bool
    """False when stop() cut it short."""
    frames_played: int
    """Frames handed to the device before the end or the stop."""
    frames_total: int


def _sounddevice():
    """Import sounddevice only when sound is played: it loads PortAudio, which may be missing."""
    try:
        import sounddevice
    except OSError:
        raise AudioDeviceError(
            "找不到声音库 PortAudio，没法放出声音。请安装：sudo apt-get install libportaudio2"
            " / PortAudio is missing: install libportaudio2 (Linux) or reinstall sounddevice."
        ) from None
    except ImportError:
        raise AudioDeviceError("缺少 sounddevice，请运行 pip install sounddevice / sounddevice is not installed.") from None
    return sounddevice


def _refresh(sd):
    # PortAudio lists devices once, at import; a speaker plugged in (or a sound server started) later
    # only shows up after re-initialising. sounddevice offers no public call for that.
    try:
        sd._terminate()
        sd._initialize()
    except Exception:
        pass


def output_devices(sd=None) -> list[tuple[int, str]]:
    """(index, name) of every device that can play sound."""
    sd = sd or _sounddevice()
    return [(i, d["name"]) for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0]


def resolve_device(wanted=None, sd=None):
    """Device index for a number, a name (part of it, any case) or None = $ASSISTANT_OUTPUT_DEVICE / default."""
    sd = sd or _sounddevice()
    wanted = wanted if wanted not in (None, "") else os.environ.get("ASSISTANT_OUTPUT_DEVICE") or None
    for attempt in range(2):
        if attempt:
            _refresh(sd)
        devices = output_devices(sd)
        if wanted is None:
            try:
                default = sd.query_devices(kind="output")
            except sd.PortAudioError:
                continue
            return next((i for i, name in devices if name == default["name"]), None)
        if str(wanted).isdigit() and any(i == int(wanted) for i, _ in devices):
            return int(wanted)
        for i, name in devices:
            if str(wanted).lower() in name.lower():
                return i
    names = "、".join(name for _, name in output_devices(sd)) or "没有 / none"
    if wanted is None:
        raise AudioDeviceError(
            "没有找到扬声器。请接上音箱或耳机，再试一次。/ No speaker found: connect speakers or headphones."
        )
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

    @property
    def playing(self) -> bool:
        return not self._done.is_set()

    def play(self, samples, sample_rate: int, volume: float = 1.0, blocking: bool = True) -> PlaybackResult | None:
        """Play samples at `volume` (gain with peak limiting). Blocking returns how it ended; else use wait()."""
        sd = _sounddevice()
        self.stop()
        data = apply_volume(as_mono_float32(samples), sample_rate, volume)
        with self._lock:
            device = resolve_device(self.device, sd)
            self._open(sd, device, data, sample_rate)
        return self.wait() if blocking else None

    def _open(self, sd, device, data, sample_rate):
        self._stop.clear()
        self._done.clear()
        self._pos = 0
        try:
            self._start_stream(sd, device, data, sample_rate)
            return
        except sd.PortAudioError as exc:
            problem = exc
        # Some devices (Windows WASAPI, USB speakers) only take their own rate: resample once and retry.
        native = int(sd.query_devices(device)["default_samplerate"]) if device is not None else 0
        if native and native != sample_rate:
            try:
                self._start_stream(sd, device, resample(data, sample_rate, native), native)
                return
            except sd.PortAudioError as exc:
                problem = exc
        self._done.set()
        raise AudioDeviceError(
            f"扬声器打不开：{problem}。请检查音箱是否接好。/ Cannot open the speaker: {problem}"
        ) from None

    def _start_stream(self, sd, device, data, sample_rate):
        frames = data.reshape(-1, 1)
        self._total = len(frames)

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

        stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32", device=device,
                                 callback=callback, finished_callback=self._done.set, latency="low")
        stream.start()
        self._stream = stream

    def wait(self, timeout: float | None = None) -> PlaybackResult:
        """Block until the sound ended or was stopped."""
        if not self._done.wait(timeout):
            return PlaybackResult(False, self._pos, self._total)
        self._close_stream()
        return PlaybackResult(not self._stop.is_set() and self._pos >= self._total, self._pos, self._total)

    def stop(self) -> None:
        """Cut the current sound short (safe from any thread); returns once the device is quiet."""
        if self._done.is_set():
            self._close_stream()
            return
        self._stop.set()
        if not self._done.wait(1.0):
            stream = self._stream
            if stream is not None:
                try:
                    stream.abort()  # callback not running (device stuck): abort from here
                except Exception:
                    pass
            self._done.set()
        self._close_stream()

    def _close_stream(self):
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass

    def close(self) -> None:
        self.stop()
