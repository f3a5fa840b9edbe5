"""Reading any audio file as the recogniser's format (16 kHz mono int16), and writing WAV files."""

from pathlib import Path

import numpy as np

from assistant.audio.samples import RATE, resample, to_int16
from assistant.errors import AudioInputError


def read_wav(path, rate: int = RATE) -> np.ndarray:
    """Any rate, channel count or bit depth libsndfile reads -> mono int16 at `rate` (soxr HQ resampling)."""
    import soundfile

    path = Path(path)
    try:
        audio, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioInputError(f"无法读取录音文件 (cannot read the audio file) {path}: {exc}") from exc
    if audio.size == 0:
        raise AudioInputError(f"录音文件是空的 (the audio file has no sound in it): {path}")
    mono = audio.mean(axis=1)  # average, not one channel: a voice may sit on either side
    return to_int16(resample(mono, source_rate, rate))


def write_wav(path, samples: np.ndarray, rate: int = RATE) -> None:
    """Write int16 (or float in [-1, 1]) samples, mono or (frames, channels), as 16-bit PCM WAV."""
    import soundfile

    samples = np.asarray(samples)
    if samples.dtype.kind == "f":
        samples = to_int16(samples)
    soundfile.write(str(path), samples.astype(np.int16, copy=False), rate, subtype="PCM_16", format="WAV")
