"""Sample formats, from one place: the recogniser's rate, float <-> 16-bit PCM, and resampling (soxr).

Floats are -1..1; int16 is what vosk, WAV files and the microphone chunks carry. Conversion to int16 always
rounds to the nearest step and clips (resampling and gain can overshoot full scale), never wraps around.
"""

import numpy as np

RATE = 16000
"""The speech model's rate: microphone chunks and every recording are handed on at 16 kHz mono."""


def to_int16(samples) -> np.ndarray:
    """-1..1 floats to int16, rounded and clipped."""
    return np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def to_pcm_bytes(samples) -> bytes:
    """-1..1 floats to little-endian 16-bit PCM bytes (the recogniser's chunks)."""
    return to_int16(samples).astype("<i2", copy=False).tobytes()


def pcm_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian 16-bit PCM bytes to float32 -1..1."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def resample(samples, rate_from: int, rate_to: int) -> np.ndarray:
    """Mono float samples at another rate (soxr, high quality; empty or same-rate input comes back as it is)."""
    samples = np.asarray(samples)
    if rate_from == rate_to or len(samples) == 0:
        return samples
    import soxr  # lazy: the natural voice's render child imports this module without soxr

    return soxr.resample(samples, rate_from, rate_to, quality="HQ")


def levels_db(frames: np.ndarray) -> np.ndarray:
    """The level of each row of int16 samples in dB of int16 units (digital silence -30 dB, speech 60–75 dB): how
    the end-of-turn judge and the noise suppressor both judge the room."""
    x = np.asarray(frames, dtype=np.float64)
    return 10 * np.log10(np.mean(x * x, axis=-1) + 1e-3)


ROOM_PERCENTILE = 20
"""The room's level is the 20th percentile of the frame levels heard lately (the end-of-turn judge's 12 s, the
noise suppressor's 3 s): speech rarely fills 80 % of them, so this is the level of the room between the words
(measured on the dev turns at 10 dB: within ~1.5 dB of the median of the babble or pink noise alone)."""
