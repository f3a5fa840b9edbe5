"""Sample-level work on speech: trim, loudness, volume with a limiter (slower speech comes from the engine)."""

import numpy as np

#: Speech RMS (over voiced frames) every clip is brought to before volume; 0.2 ≈ -14 dBFS, loud and clear.
#: volume=1.0 keeps this level, so peaks of loud speech exceed full scale and the limiter holds them.
REFERENCE_RMS = 0.2
#: Highest sample value ever sent to a speaker or file (≈ -0.3 dBFS): no wrap-around, no hard clipping.
CEILING = 0.97


def as_mono_float32(samples) -> np.ndarray:
    """float32 mono in -1..1 from int16 or float input of any shape (frames,) or (frames, channels)."""
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1) if x.dtype.kind == "f" else x.astype(np.float64).mean(axis=1).astype(x.dtype)
    if x.dtype == np.int16:
        return (x.astype(np.float32) / 32768.0).astype(np.float32)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        return (x.astype(np.float64) / max(abs(info.min), info.max)).astype(np.float32)
    return x.astype(np.float32, copy=False)


def silence(ms: float, sample_rate: int) -> np.ndarray:
    return np.zeros(int(round(sample_rate * ms / 1000.0)), dtype=np.float32)


def _frame_rms(x: np.ndarray, frame: int) -> np.ndarray:
    usable = len(x) // frame * frame
    if usable == 0:
        return np.sqrt(np.mean(np.square(x, dtype=np.float64))).reshape(1) if len(x) else np.zeros(1)
    return np.sqrt(np.mean(np.square(x[:usable].reshape(-1, frame), dtype=np.float64), axis=1))


def is_silent(samples: np.ndarray, threshold: float = 1e-3) -> bool:
    """True for empty or practically silent audio (what a failed synthesis leaves behind)."""
    return len(samples) == 0 or float(np.max(np.abs(samples))) < threshold


def trim_silence(samples: np.ndarray, sample_rate: int, keep_ms: float = 40, floor_db: float = -40,
                 lead: bool = True, tail: bool = True) -> np.ndarray:
    """Cut leading/trailing silence (below peak frame level + floor_db), keeping keep_ms of it; `lead`/`tail`
    False keep that end (a sentence rendered in pieces is trimmed only where it begins and where it ends).

    Engines pad sentences differently; trimming lets the profile's sentence_pause_ms decide the pauses.
    """
    frame = max(1, int(sample_rate * 0.01))
    rms = _frame_rms(samples, frame)
    if len(rms) == 0 or rms.max() <= 0:
        return samples[:0]
    loud = np.nonzero(rms >= rms.max() * 10 ** (floor_db / 20))[0]
    keep = int(sample_rate * keep_ms / 1000)
    start = max(0, loud[0] * frame - keep) if lead else 0
    end = min(len(samples), (loud[-1] + 1) * frame + keep) if tail else len(samples)
    return samples[start:end]


def speech_rms(samples: np.ndarray, sample_rate: int) -> float:
    """RMS over voiced 20 ms frames only, so long pauses do not make a clip look quiet."""
    rms = _frame_rms(samples, max(1, int(sample_rate * 0.02)))
    if len(rms) == 0 or rms.max() <= 0:
        return 0.0
    voiced = rms[rms >= rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(np.square(voiced))))


def loudness_gain(samples: np.ndarray, sample_rate: int, target_rms: float = REFERENCE_RMS) -> float:
    """The factor that gives voiced speech target_rms (1.0 for silence)."""
    level = speech_rms(samples, sample_rate)
    return 1.0 if level <= 1e-6 else target_rms / level


def normalise_loudness(samples: np.ndarray, sample_rate: int, target_rms: float = REFERENCE_RMS,
                       gain: float | None = None) -> np.ndarray:
    """Scale so voiced speech has target_rms: every engine and every cached clip then sounds equally loud. `gain`:
    a factor already found (a sentence rendered in pieces keeps its first piece's, so its words stay level)."""
    gain = loudness_gain(samples, sample_rate, target_rms) if gain is None else gain
    return samples.astype(np.float32, copy=False) if gain == 1.0 else (samples * gain).astype(np.float32)


def limit_peaks(samples: np.ndarray, sample_rate: int, ceiling: float = CEILING) -> np.ndarray:
    """Smooth gain reduction around peaks above `ceiling` (a simple look-ahead limiter, 5 ms blocks).

    Hard clipping would add harsh distortion exactly when an elder turned the volume up.
    """
    x = np.asarray(samples, dtype=np.float32)
    if len(x) == 0 or float(np.max(np.abs(x))) <= ceiling:
        return x
    block = max(1, int(sample_rate * 0.005))
    blocks = -(-len(x) // block)
    padded = np.zeros(blocks * block, dtype=np.float32)
    padded[: len(x)] = np.abs(x)
    need = np.minimum(1.0, ceiling / np.maximum(padded.reshape(blocks, block).max(axis=1), 1e-9))
    # Hold each reduction 3 blocks either side, then average over ±2 blocks: the averaged gain at a peak
    # block only mixes values that already include that peak, so it never rises above what the peak needs.
    held = _moving_min(need, 3)
    kernel = np.ones(5) / 5
    smooth = np.convolve(np.pad(held, 2, mode="edge"), kernel, mode="valid")
    centres = (np.arange(blocks) + 0.5) * block
    gain = np.interp(np.arange(len(x)), centres, smooth).astype(np.float32)
    return np.clip(x * gain, -ceiling, ceiling)


def _moving_min(values: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(values, radius, mode="edge")
    out = padded[: len(values)].copy()
    for shift in range(1, 2 * radius + 1):
        np.minimum(out, padded[shift : shift + len(values)], out=out)
    return out


#: Most make-up gain added to win back what the limiter took (dB): beyond it louder only means more squashed.
MAX_MAKEUP_DB = 6.0


def apply_volume(samples: np.ndarray, sample_rate: int, volume: float) -> np.ndarray:
    """Gain `volume` on loudness-normalised speech, peaks held below CEILING.

    The limiter takes some loudness back from loud settings, so each 大声点 would sound smaller than the last;
    a little make-up gain (measured, at most MAX_MAKEUP_DB) keeps every step the size the profile promises.
    """
    x = np.asarray(samples, dtype=np.float32)
    out = limit_peaks(x * float(volume), sample_rate)
    wanted = speech_rms(x, sample_rate) * float(volume)
    if wanted <= 0:
        return out
    gain = float(volume)
    for _ in range(3):  # the limiter is not linear: measure, correct, measure again
        got = speech_rms(out, sample_rate)
        if got <= 0 or got >= wanted * 0.989:  # within 0.1 dB
            break
        gain = min(gain * wanted / got, float(volume) * 10 ** (MAX_MAKEUP_DB / 20))
        out = limit_peaks(x * gain, sample_rate)
    return out
