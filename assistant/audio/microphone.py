"""The microphone as a stream of 16 kHz mono int16 chunks; a missing, unplugged or failing one is an
AudioDeviceError with a plain-Chinese message (the devices themselves are reached through audio/devices.py)."""

import logging
import os
import queue
import time

from assistant.audio import devices, pulse_source
from assistant.audio.samples import RATE, to_pcm_bytes
from assistant.errors import AudioDeviceError

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.1

NO_MICROPHONE = ("没有找到麦克风。请把麦克风插好,或者请家里人检查一下声音设置。我会一直等着。"
                 " (No microphone found: plug one in; the assistant keeps waiting and retries.)")
MICROPHONE_SILENT = ("麦克风没有声音传过来。请检查麦克风有没有插好。我会一直等着。"
                     " (The microphone stopped sending sound: it is opened again; the assistant keeps waiting.)")

MICROPHONE_GONE = ("您选的麦克风不见了,可能是拔掉了。插好以后我接着听。"
                   " (The chosen microphone is gone; the assistant waits for it and does not record from another.)")
CHECK_SECONDS = 1.0
"""How often an open stream on a chosen PulseAudio source is checked to be still on it."""


class MicrophoneGone(AudioDeviceError):
    """The microphone the user chose is not there (unplugged); another one is never used instead."""


def input_devices() -> list[tuple[int, str]]:
    """(index, name) of every microphone; the list is re-read first unless one of our streams is open."""
    devices.refresh()
    return devices.devices("input")


def resolve_input(wanted=None):
    """A device index from a number or part of a name; None means the system default."""
    if wanted in (None, ""):
        return None
    listed = input_devices()
    index = devices.find("input", wanted)
    if index is not None:
        return index
    names = ", ".join(f"{i}: {n}" for i, n in listed) or "无 (none)"
    raise AudioDeviceError(f"找不到这个麦克风 (no input device matches '{wanted}'). 现有 (available): {names}")


class Microphone:
    """Opens the input device and hands out chunks; `read()` raises AudioDeviceError if it goes away."""

    def __init__(self, device=None, block_seconds: float = BLOCK_SECONDS):
        self.device = device
        self.block_seconds = block_seconds
        self._queue: queue.Queue = queue.Queue(maxsize=200)
        self._stream = None
        self._resampler = None
        self.source = pulse_source.chosen(device)
        """the PulseAudio source the user chose (PULSE_SOURCE); None = the system default is followed"""
        self._checked = 0.0

    def open(self) -> "Microphone":
        if self.source is not None and pulse_source.present(self.source) is False:
            # Opened now, PulseAudio would record from its default source instead: wait for the chosen one.
            raise MicrophoneGone(MICROPHONE_GONE)
        wanted = self.device
        if self.source is not None and not pulse_source.via_pulse(wanted):
            # `--input-device` named a PulseAudio source: record through PulseAudio, pinned to it (libpulse reads
            # PULSE_SOURCE when the stream connects, as for the echo canceller in audio/echo.py).
            os.environ["PULSE_SOURCE"] = self.source
            wanted = "pulse"
        device = resolve_input(wanted)
        rate = RATE
        try:
            with devices.device_errors(NO_MICROPHONE, "checking the microphone") as sd:
                sd.check_input_settings(device=device, samplerate=RATE, channels=1, dtype="int16")
        except AudioDeviceError:
            # The device cannot do 16 kHz (or has no settings to check): record at its own rate and resample.
            rate = devices.default_samplerate(device, "input", NO_MICROPHONE)
            log.debug("microphone records at %d Hz and is resampled to %d Hz", rate, RATE)
            import soxr

            self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="float32")
        self._stream = devices.open_stream("input", NO_MICROPHONE, device=device, samplerate=rate, channels=1,
                                           dtype="float32", blocksize=int(rate * self.block_seconds),
                                           callback=self._callback)
        self._checked = time.monotonic()
        return self

    def _check_source(self) -> None:
        """The stream is still on the chosen source (at most every CHECK_SECONDS): PulseAudio moves it to another
        source when the chosen one goes, and PortAudio never says so."""
        now = time.monotonic()
        if self.source is None or self._stream is None or now - self._checked < CHECK_SECONDS:
            return
        self._checked = now
        if pulse_source.present(self.source) is False:
            log.warning("选好的麦克风 %s 不见了,等它回来 (the chosen source is gone; waiting for it)", self.source)
            raise MicrophoneGone(MICROPHONE_GONE)
        on = pulse_source.ours()
        if not on or self.source in on:
            return  # PulseAudio cannot be asked, or the recording is where it should be
        # The chosen source is there but the recording was moved off it: open it again on the chosen one.
        log.info("录音被移到了别的麦克风,换回选好的 (recording moved off the chosen source; reopened on it)")
        self.close()
        self.open()

    def _callback(self, indata, _frames, _time, _status):
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:  # nobody is reading (the assistant is thinking): drop the oldest sound
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass  # the reader took it meanwhile: there is room now

    def read(self, timeout: float = 1.0) -> bytes | None:
        """The next chunk as int16 PCM bytes, or None if nothing arrived in `timeout` seconds."""
        if self._stream is not None and not devices.is_active(self._stream, NO_MICROPHONE):
            raise AudioDeviceError(NO_MICROPHONE)
        self._check_source()
        try:
            block = self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._stream is None or not devices.is_active(self._stream, NO_MICROPHONE):
                raise AudioDeviceError(NO_MICROPHONE) from None
            return None
        if self._resampler is not None:
            block = self._resampler.resample_chunk(block)
        return to_pcm_bytes(block)

    def close(self) -> None:
        stream, self._stream = self._stream, None
        devices.close_stream(stream)
