"""The one door to the sound devices (PortAudio, through sounddevice), for the microphone and the speaker.

- It never tears down a stream it does not own. PortAudio reads the device list once, when it starts; the
  only way to see a device plugged in later is to restart PortAudio, which silently kills every open
  stream (the greeting cut off, the microphone dead). `refresh()` restarts it only while none of our
  streams is open, and says whether it did. sounddevice has no public call for this.
- Every PortAudio error comes out as AudioDeviceError with a plain-Chinese message; the raw PortAudio text
  ("Error querying device -1") goes to the debug log only.
- Streams are opened and closed here (`open_stream`, `close_stream`), so this layer knows which are open.
"""

import contextlib
import logging
import threading
import weakref

from assistant.errors import AudioDeviceError

log = logging.getLogger(__name__)

PORTAUDIO_MISSING = ("找不到声音库 PortAudio,没法用麦克风和扬声器。请安装:sudo apt-get install libportaudio2"
                     " (PortAudio is missing: install libportaudio2 or reinstall sounddevice)")

_lock = threading.RLock()
"""Held while PortAudio is restarted, a device is looked up, or a stream opened or closed."""
_streams: "weakref.WeakSet" = weakref.WeakSet()
"""Our streams that were opened and not yet closed."""


def sounddevice():
    """The sounddevice module; AudioDeviceError (plain words) when PortAudio or sounddevice is missing."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio library itself is missing
        log.debug("importing sounddevice failed: %s", exc)
        raise AudioDeviceError(PORTAUDIO_MISSING) from None
    except ImportError as exc:
        log.debug("importing sounddevice failed: %s", exc)
        raise AudioDeviceError("缺少 sounddevice,请运行 pip install sounddevice"
                               " (sounddevice is not installed)") from None
    return sd


def _device_error_types(sd) -> tuple:
    # sounddevice raises PortAudioError for the library's errors and ValueError for a device it cannot match.
    return (sd.PortAudioError, ValueError, OSError)


@contextlib.contextmanager
def device_errors(message: str, what: str = "sound device"):
    """Turns a PortAudio error inside the block into AudioDeviceError(message); the raw text is logged at
    debug level only."""
    sd = sounddevice()
    try:
        yield sd
    except AudioDeviceError:
        raise
    except _device_error_types(sd) as exc:
        log.debug("%s: PortAudio said: %s", what, exc)
        raise AudioDeviceError(message) from None


def streams_open() -> int:
    with _lock:
        return sum(1 for stream in list(_streams) if not stream.closed)


def refresh() -> bool:
    """Re-read the device list (to find a device plugged in after start). Done only when none of our streams
    is open, since it would stop them; returns whether the list was re-read."""
    sd = sounddevice()
    with _lock:
        busy = streams_open()
        if busy:
            log.debug("device list not refreshed: %d stream(s) of ours are open", busy)
            return False
        try:
            sd._terminate()
            sd._initialize()
        except sd.PortAudioError as exc:  # PortAudio could not restart: the old list stays
            log.warning("声音设备列表没法刷新 (could not re-read the device list): %s", exc)
            return False
        log.debug("device list refreshed")
        return True


def devices(kind: str) -> list[tuple[int, str]]:
    """(index, name) of every device that can record ("input") or play ("output")."""
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    with _lock, device_errors("声音设备列不出来 (the sound devices cannot be listed)", "listing devices") as sd:
        return [(i, d["name"]) for i, d in enumerate(sd.query_devices()) if d[key] > 0]


def default_name(kind: str) -> str | None:
    """Name of the system's default input or output device; None when there is none."""
    sd = sounddevice()
    with _lock:
        try:
            return sd.query_devices(kind=kind)["name"]
        except _device_error_types(sd) as exc:
            log.debug("no default %s device: %s", kind, exc)
            return None


def find(kind: str, wanted) -> int | None:
    """Index of the device named by a number or part of a name (any case); None when nothing matches."""
    listed = devices(kind)
    if str(wanted).isdigit() and any(i == int(wanted) for i, _ in listed):
        return int(wanted)
    for index, name in listed:
        if str(wanted).lower() in name.lower():
            return index
    return None


def default_samplerate(device, kind: str, message: str) -> int:
    """The device's own sample rate; AudioDeviceError(message) when it cannot be asked."""
    with _lock, device_errors(message, "querying a device") as sd:
        return int(sd.query_devices(device, kind)["default_samplerate"])


def open_stream(kind: str, message: str, **settings):
    """A started InputStream ("input") or OutputStream ("output") with these settings, counted as ours.
    Any failure is AudioDeviceError(message), and nothing stays open."""
    with _lock, device_errors(message, f"opening the {kind} stream") as sd:
        make = sd.InputStream if kind == "input" else sd.OutputStream
        stream = make(**settings)
        _streams.add(stream)
        try:
            stream.start()
        except BaseException:
            close_stream(stream)
            raise
        return stream


def close_stream(stream, abort: bool = False) -> None:
    """Stop (or abort: drop what is buffered) and close one of our streams. A device that is already gone may
    fail to close; it is gone either way, and the failure is logged."""
    if stream is None:
        return
    sd = sounddevice()
    with _lock:
        try:
            if abort:
                stream.abort()
            stream.close()
        except _device_error_types(sd) as exc:
            log.debug("closing a %s failed (device gone?): %s", type(stream).__name__, exc)
        finally:
            _streams.discard(stream)


def is_active(stream, message: str) -> bool:
    """Whether the stream still runs; a stream PortAudio no longer knows is AudioDeviceError(message)."""
    with device_errors(message, "checking a stream"):
        return bool(stream.active)
