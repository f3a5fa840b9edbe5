"""The microphone as a stream of 16 kHz mono int16 chunks; a missing or unplugged one is an AudioDeviceError."""

import queue

import numpy as np

from assistant.errors import AudioDeviceError

RATE = 16000
BLOCK_SECONDS = 0.1

NO_MICROPHONE = ("没有找到麦克风。请把麦克风插好,或者请家里人检查一下声音设置。我会一直等着。"
                 " (No microphone found: plug one in; the assistant keeps waiting and retries.)")


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        raise AudioDeviceError(f"{NO_MICROPHONE} [PortAudio: {exc}; apt-get install libportaudio2]") from None
    return sounddevice


def input_devices() -> list[tuple[int, str]]:
    sd = _sounddevice()
    try:
        sd._terminate()
        sd._initialize()  # PortAudio lists devices as they were at start: refresh to see a re-plugged one
    except Exception:  # noqa: BLE001 - refreshing is best effort; listing below still works
        pass
    return [(i, d["name"]) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def resolve_input(wanted=None):
    """A device index from a number or part of a name; None means the system default."""
    if wanted in (None, ""):
        return None
    devices = input_devices()
    if str(wanted).isdigit() and any(i == int(wanted) for i, _ in devices):
        return int(wanted)
    for index, name in devices:
        if str(wanted).lower() in name.lower():
            return index
    names = ", ".join(f"{i}: {n}" for i, n in devices) or "无 (none)"
    raise AudioDeviceError(f"找不到这个麦克风 (no input device matches '{wanted}'). 现有 (available): {names}")


class Microphone:
    """Opens the input device and hands out chunks; `read()` raises AudioDeviceError if it goes away."""

    def __init__(self, device=None, block_seconds: float = BLOCK_SECONDS):
        self.device = device
        self.block_seconds = block_seconds
        self._queue: queue.Queue = queue.Queue(maxsize=200)
        self._stream = None
        self._resampler = None

    def open(self) -> "Microphone":
        sd = _sounddevice()
        device = resolve_input(self.device)
        try:
            rate = RATE
            try:
                sd.check_input_settings(device=device, samplerate=RATE, channels=1, dtype="int16")
            except Exception:  # noqa: BLE001 - the device cannot do 16 kHz: record at its own rate and resample
                rate = int(sd.query_devices(device, "input")["default_samplerate"])
                import soxr

                self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="float32")
            self._stream = sd.InputStream(device=device, samplerate=rate, channels=1, dtype="float32",
                                          blocksize=int(rate * self.block_seconds), callback=self._callback)
            self._stream.start()
        except AudioDeviceError:
            raise
        except Exception as exc:  # noqa: BLE001 - PortAudio raises several types for "no device"
            self.close()
            raise AudioDeviceError(f"{NO_MICROPHONE} [{exc}]") from None
        return self

    def _callback(self, indata, _frames, _time, _status):
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:  # nobody is reading (the assistant is thinking): drop the oldest sound
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass

    def read(self, timeout: float = 1.0) -> bytes | None:
        """The next chunk as int16 PCM bytes, or None if nothing arrived in `timeout` seconds."""
        if self._stream is not None and not self._stream.active:
            raise AudioDeviceError(NO_MICROPHONE)
        try:
            block = self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._stream is None or not self._stream.active:
                raise AudioDeviceError(NO_MICROPHONE) from None
            return None
        if self._resampler is not None:
            block = self._resampler.resample_chunk(block)
        return np.clip(np.rint(block * 32768.0), -32768, 32767).astype("<i2").tobytes()

    def drain(self) -> None:
        """Forget sound recorded while it was not wanted (the assistant's own voice)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - closing an unplugged device may fail; it is gone either way
                pass
            self._stream = None
