"""Room noise for test and training audio: pink noise mixed in at a chosen signal-to-noise ratio."""

import numpy as np


def add_pink_noise(speech: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """int16 speech with pink (1/f) noise at `snr_db` below the speech's mean power (seeded by `rng`)."""
    samples = speech.astype(np.float64)
    spectrum = np.fft.rfft(rng.standard_normal(len(samples)))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))  # 1/f power: pink
    noise = np.fft.irfft(spectrum, len(samples))
    level = np.sqrt(np.mean(samples ** 2) / (np.mean(noise ** 2) * 10 ** (snr_db / 10) + 1e-12))
    return np.clip(samples + noise * level, -32768, 32767).astype(np.int16)
