"""Noise taken out of the microphone's sound before anything hears it (issue 14).

A community centre is never quiet: chatter, a fan, a television. The recogniser (a small vosk model) loses many
more syllables at 10 and 5 dB SNR than at 20. WebRTC's noise suppressor (`webrtc-noise-gain`, the small wheel
Home Assistant's voice pipeline uses: C++, no model file, about 0.04 ms per 10 ms of 16 kHz audio with the room
judged here) estimates the room's steady noise as it goes and takes it out of each 10 ms frame, with WebRTC's
high-pass filter under the voice. The end-of-turn judge (endpoint.py) keeps the sound as it came: its room level
and margins were measured on it, and in babble it ended turns later on the cleaned sound. Measured on the spoken
dev set (bench/README.md, session 20) before it was switched on; `ASSISTANT_NOISE_SUPPRESSION=off` turns it off
(for comparing, or a headset in a quiet room).

Both ways audio comes in go through it: the live loop's microphone (`Denoiser`, chunk by chunk, one per opened
microphone, so it keeps learning the room between turns) and a recorded file (`denoise`, which lets the
suppressor hear the file once before the pass that counts: a file has no room before its first word).
"""

import logging
import math
import os
from collections import deque

import numpy as np

from assistant.audio.samples import ROOM_PERCENTILE, levels_db

log = logging.getLogger(__name__)

LEVEL = 2
"""WebRTC's suppression level, 0 (off) to 4 (strongest): see bench/README.md, session 20, for the levels tried."""
FRAME_BYTES = 320
"""10 ms of 16 kHz int16: what the suppressor takes."""
SILENT_ROOM_DB = 20.0
"""A room whose level (the 20th percentile of the last 3 s of 10 ms frames, dB of int16 units) is under this has
no noise to take out, and the sound passes as it came: there the suppressor only shaped the voice (the onset of
the natural voice's "好了" 10 dB softer, heard as "好的"). Digital silence (a file, a null sink) is about -30 dB;
the real recordings' rooms are 14–48 dB (median 41), speech 60–78 dB."""
ROOM_FRAMES = 300
"""3 s of 10 ms frames: how far back the room's level is judged."""
LEARN_FRAMES = 100
"""Until 1 s has been heard the room is not known (a speaker who starts at once would be taken for it): the sound
passes as it came."""


_missing: list[str] = []
"""Why the suppressor could not be loaded, once found (then the sound passes as it came; said once in the log)."""


def level() -> int:
    """The suppression level in use: LEVEL, or 0 when ASSISTANT_NOISE_SUPPRESSION is off."""
    return 0 if os.environ.get("ASSISTANT_NOISE_SUPPRESSION", "").strip().lower() in ("off", "0", "no") else LEVEL


def _processor(strength: int):
    """WebRTC's processor, or None when its wheel is missing or broken: the assistant hears without it."""
    if _missing:
        return None
    try:
        from webrtc_noise_gain import AudioProcessor

        return AudioProcessor(0, strength)  # auto gain off: the end-of-turn judge measures loudness itself
    except (ImportError, OSError) as exc:
        _missing.append(str(exc))
        log.warning("用不了降噪,吵的地方可能听不太清 (no noise suppression: %s)", exc)
        return None


def status() -> str:
    """One line for `assistant doctor`."""
    if level() == 0:
        return "降噪关着 (ASSISTANT_NOISE_SUPPRESSION=off):安静的地方没关系,吵的地方可能听不太清。"
    if Denoiser()._proc is None:
        return f"用不了降噪,吵的地方可能听不太清 (noise suppression unavailable: {_missing[0]})"
    return f"降噪开着 (WebRTC noise suppression, level {LEVEL}):周围的杂音先去掉再听。"


class Denoiser:
    """Streaming noise suppression: feed any chunk of 16 kHz int16 PCM, get back the cleaned audio of the whole
    10 ms frames in it (the rest, < 10 ms, waits for the next chunk, so at most 10 ms is held back)."""

    def __init__(self, strength: int | None = None):
        self.strength = level() if strength is None else strength
        self._rest = b""
        self._levels: deque = deque(maxlen=ROOM_FRAMES)
        self._proc = _processor(self.strength) if self.strength > 0 else None

    def process(self, pcm: bytes) -> bytes:
        if self._proc is None:
            return pcm
        data = self._rest + pcm
        usable = len(data) // FRAME_BYTES * FRAME_BYTES
        self._rest = data[usable:]
        self._levels.extend(levels_db(np.frombuffer(data[:usable], dtype="<i2").reshape(-1, FRAME_BYTES // 2)))
        step = self._proc.Process10ms  # every frame, also in a silent room: it keeps learning the room
        cleaned = b"".join(step(data[i:i + FRAME_BYTES]).audio for i in range(0, usable, FRAME_BYTES))
        # The room is judged once per chunk (a live chunk is 0.1 s; a file is one chunk: one judgement for it).
        noisy = len(self._levels) >= LEARN_FRAMES and self.room_db() >= SILENT_ROOM_DB
        return cleaned if noisy else data[:usable]

    def room_db(self) -> float:
        """The room's level lately (dB of int16 units)."""
        return float(np.percentile(self._levels, ROOM_PERCENTILE)) if self._levels else -math.inf


def denoise(samples: np.ndarray, strength: int | None = None) -> np.ndarray:
    """A whole recording cleaned (16 kHz mono int16). The suppressor first hears the recording once, so that it
    knows the room from the start, as the live loop's does. The last part frame (< 10 ms) is dropped."""
    den = Denoiser(strength)
    if den._proc is None or samples.size == 0:
        return samples
    pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    den.process(pcm)
    den._rest = b""  # the second pass starts from the first sample again
    return np.frombuffer(den.process(pcm), dtype="<i2").copy()
