"""Which PulseAudio source our microphone stream really records from, for a microphone the user chose.

When the source a recording is on goes away (a USB microphone unplugged), PulseAudio silently moves the
recording to another source (the laptop's own microphone, a monitor), and PortAudio never hears of it: the
stream stays "active". A microphone the user chose (PULSE_SOURCE, which libpulse clients such as PortAudio's
"pulse" and "default" devices honour) is therefore checked here with `pactl`: is the source still there, and is
our recording still on it. Without pactl or a PulseAudio server nothing can be known and nothing is claimed.
"""

import logging
import os
import shutil
import subprocess

log = logging.getLogger(__name__)

_VIA_PULSE = (None, "", "pulse", "default")
"""PortAudio devices that record through PulseAudio (and so honour PULSE_SOURCE)."""


def chosen(device=None) -> str | None:
    """The PulseAudio source the user pinned the recording to, or None (the system default is followed):
    PULSE_SOURCE for PortAudio's "pulse"/"default" devices, or `--input-device` naming a source exactly
    (PortAudio lists only ALSA devices, never PulseAudio's sources)."""
    if device in _VIA_PULSE:
        return os.environ.get("PULSE_SOURCE") or None
    if isinstance(device, str) and not device.isdigit() and present(device):
        return device
    return None  # a device by its ALSA name or number: PortAudio's own stream dies with it


def via_pulse(device) -> bool:
    return device in _VIA_PULSE


def _pactl(*args: str) -> str | None:
    """pactl's output; None when there is no pactl or no server answers (then nothing is claimed)."""
    if not shutil.which("pactl"):
        return None
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=5,
                              env=dict(os.environ, LC_ALL="C"))  # field names in English
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("pactl %s failed: %s", args[0], exc)
        return None
    return done.stdout if done.returncode == 0 else None


def sources() -> dict[str, str] | None:
    """Index -> name of every PulseAudio source; None when PulseAudio cannot be asked."""
    listed = _pactl("list", "short", "sources")
    if listed is None:
        return None
    return {f[0]: f[1] for f in (line.split("\t") for line in listed.splitlines()) if len(f) > 1}


def present(source: str) -> bool | None:
    """Whether the source exists; None when PulseAudio cannot be asked."""
    names = sources()
    return None if names is None else source in names.values()


def ours(pid: int | None = None) -> list[str] | None:
    """Names of the sources this process's recordings are on now; None when PulseAudio cannot be asked."""
    names = sources()
    listed = _pactl("list", "source-outputs")
    if names is None or listed is None:
        return None
    pid = os.getpid() if pid is None else pid
    found = []
    # Long format: one block per recording, "Source: N" then its properties, "application.process.id = "PID"".
    for block in listed.split("\n\n"):
        source = process = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("Source:"):
                source = line.split(":", 1)[1].strip()
            elif line.startswith("application.process.id"):
                process = line.split("=", 1)[1].strip().strip('"')
        if source is not None and process == str(pid):
            found.append(names.get(source, source))
    return found
