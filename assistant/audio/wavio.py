"""Reading any audio file as the recogniser's format (16 kHz mono int16), and writing WAV files."""

from pathlib import Path

import numpy as np

from assistant.errors import AudioInputError

RATE = 16000


def read_wav(path, rate: int = RATE) -> np.ndarray:
    """Any rate, channel count or bit depth libsndfile reads -> mono int16 at `rate` (soxr HQ resampling)."""
    import soundfile
    import soxr

    path = Path(path)
    try:
        audio, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioInputError(f"无法读取录音文件 (cannot read the audio file) {path}: {exc}") from exc
    if audio.size == 0:
        raise AudioInputError(f"录音文件是空的 (the audio file has no sound in it): {path}")
    mono = audio.mean(axis=1)  # average, not one channel: a voice may sit on either side
    if source_rate != rate:
        mono = soxr.resample(mono, source_rate, rate, quality="HQ")
    return float_to_int16(mono)


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """[-1, 1) floats to int16, rounding and clipping (resampling can overshoot full scale)."""
    return np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def write_wav(path, samples: np.ndarray, rate: int = RATE) -> None:
    """Write int16 (or float in [-1, 1]) samples, mono or (frames, channels), as 16-bit PCM WAV."""
    import soundfile

    samples = np.asarray(samples)
    if samples.dtype.kind == "f":
        samples = float_to_int16(samples)
    soundfile.write(str(path), samples.astype(np.int16, copy=False), rate, subtype="PCM_16", format="WAV")
