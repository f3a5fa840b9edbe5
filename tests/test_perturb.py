"""Room noise for bench and training audio: the ratio asked for, the same noise for the same seed."""

import numpy as np

from assistant.audio.perturb import add_pink_noise


def test_noise_is_mixed_at_the_ratio_asked_and_is_reproducible():
    speech = (np.sin(np.arange(32000) / 7) * 6000).astype(np.int16)
    for snr in (5, 15, 25):
        noisy = add_pink_noise(speech, snr, np.random.default_rng(3))
        noise = noisy.astype(np.float64) - speech
        measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise ** 2))
        assert abs(measured - snr) < 0.2 and noisy.dtype == np.int16
    assert np.array_equal(add_pink_noise(speech, 10, np.random.default_rng(9)),
                          add_pink_noise(speech, 10, np.random.default_rng(9)))


def test_pink_noise_has_more_power_low_than_high():
    noisy = add_pink_noise(np.full(48000, 1000, np.int16), 0, np.random.default_rng(1)).astype(np.float64) - 1000
    power = np.abs(np.fft.rfft(noisy)) ** 2
    low, high = power[10:1000].mean(), power[10000:20000].mean()
    assert low > 5 * high
