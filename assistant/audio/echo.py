"""Echo cancellation on the loop's input, so the assistant never hears itself through a laptop's speakers.

PulseAudio's `module-echo-cancel` (the WebRTC canceller, built into Debian's pulseaudio package) makes a
microphone source from which the sound played to its sink is subtracted. The assistant loads it once (or
finds it loaded by `script/setup` or an earlier run) and then records from that source and plays into that
sink by PULSE_SOURCE / PULSE_SINK, which libpulse clients (PortAudio's "pulse" and "default" devices) honour.

Where no canceller can be had (no PulseAudio, a microphone chosen by its ALSA number, the module missing),
the loop falls back to half-duplex: it does not listen for a barge-in while it speaks, and `assistant
doctor` says so. ASSISTANT_ECHO_CANCEL=off turns it off (a headset needs none).
"""

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

SOURCE = "assistant_echo_cancel"
"""The cancelled microphone."""
SINK = "assistant_echo_cancel_sink"
"""Where the assistant plays, so the canceller knows what to subtract."""
METHOD = "webrtc"
# A virtual or fixed-gain microphone has no analog gain to steer; the canceller's own AGC would pump levels.
AEC_ARGS = "analog_gain_control=0 digital_gain_control=0"
_DEVICES_VIA_PULSE = (None, "", "pulse", "default")


@dataclass(frozen=True)
class Echo:
    cancelled: bool
    why: str
    """one plain line for doctor and the log"""


def _pactl(*args: str) -> str | None:
    """pactl's output, or None when there is no pactl, no PulseAudio server, or the command failed."""
    if not shutil.which("pactl"):
        return None
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _has_source() -> bool:
    listed = _pactl("list", "short", "sources") or ""
    return any(line.split("\t")[1:2] == [SOURCE] for line in listed.splitlines())


def _load() -> bool:
    """Loads the canceller between the current microphone and speaker (PULSE_SOURCE/PULSE_SINK if set)."""
    args = ["load-module", "module-echo-cancel", f"aec_method={METHOD}", f'aec_args="{AEC_ARGS}"',
            f"source_name={SOURCE}", f"sink_name={SINK}"]
    for key, env in (("source_master", "PULSE_SOURCE"), ("sink_master", "PULSE_SINK")):
        if os.environ.get(env) and os.environ[env] not in (SOURCE, SINK):
            args.append(f"{key}={os.environ[env]}")
    return _pactl(*args) is not None


def status(input_device=None, output_device=None) -> Echo:
    """Whether the loop's input can be echo-cancelled, without changing anything (for doctor)."""
    if os.environ.get("ASSISTANT_ECHO_CANCEL", "").lower() in ("0", "off", "no"):
        return Echo(False, "回声消除关掉了 (ASSISTANT_ECHO_CANCEL=off):助手说话时不能打断它 (half-duplex)")
    if input_device not in _DEVICES_VIA_PULSE or output_device not in _DEVICES_VIA_PULSE:
        return Echo(False, "选了具体的麦克风或扬声器(不是 pulse 或默认的),用不了回声消除:助手说话时不能打断它。"
                           " (a device chosen by number or name bypasses PulseAudio's echo canceller: half-duplex)")
    if _pactl("info") is None:
        return Echo(False, "没有 PulseAudio,用不了回声消除:助手说话时不能打断它,说完再说话就行。"
                           " (no PulseAudio: no echo cancelling, half-duplex)")
    if _has_source():
        return Echo(True, f"回声消除已经开着 (PulseAudio module-echo-cancel, {METHOD}):助手说话时可以打断它。")
    modules = _pactl("list", "short", "modules") or ""
    return Echo(True, f"回声消除可以用,启动时打开 (PulseAudio module-echo-cancel, {METHOD}; "
                      f"{'loaded' if 'module-echo-cancel' in modules else 'loaded at start'})")


def prepare(input_device=None, output_device=None) -> Echo:
    """Makes the loop record from the cancelled microphone and play into the canceller's sink, loading the
    module if needed. Returns whether that worked; the caller falls back to half-duplex if not."""
    state = status(input_device, output_device)
    if not state.cancelled:
        return state
    if not _has_source() and not _load():
        return Echo(False, "PulseAudio 的回声消除模块打不开:助手说话时不能打断它。"
                           " (module-echo-cancel could not be loaded: half-duplex)")
    os.environ["PULSE_SOURCE"] = SOURCE
    os.environ["PULSE_SINK"] = SINK
    return Echo(True, f"回声消除开着 (PulseAudio module-echo-cancel, {METHOD})")
