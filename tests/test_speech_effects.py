import numpy as np
import pytest

from assistant.audio import samples as samples_mod
from assistant.speech import effects
from speech_support import espeak_engine, estimate_f0, isolated_voice_env  # noqa: F401


@pytest.fixture(scope="module")
def clip(espeak_engine):
    samples, rate = espeak_engine.synthesize("请您对着摄像头，慢慢眨一眨眼睛。", 1.0)
    return effects.trim_silence(samples, rate), rate


def test_naive_resampling_would_have_lowered_pitch(clip):
    """Guards the F0 check itself: slowing by resampling must be caught as a pitch change."""
    samples, rate = clip
    slowed = samples_mod.resample(samples, rate, int(rate * 1.4))  # played at `rate`: 1.4x longer, lower
    assert estimate_f0(slowed, rate) < 0.8 * estimate_f0(samples, rate)


def test_louder_is_louder_and_never_clips(clip):
    samples, rate = clip
    speech = effects.normalise_loudness(samples, rate)
    soft, loud = effects.apply_volume(speech, rate, 0.4), effects.apply_volume(speech, rate, 1.0)
    assert effects.speech_rms(loud, rate) > 1.5 * effects.speech_rms(soft, rate)
    assert np.max(np.abs(loud)) <= effects.CEILING + 1e-6
    pcm = samples_mod.to_int16(effects.apply_volume(speech, rate, 1.0) * 1.0)
    assert pcm.max() < 32767 and pcm.min() > -32768
    # limited, not wrapped or squared off: the waveform keeps its shape
    unlimited = speech * 1.0
    assert np.corrcoef(loud, unlimited)[0, 1] > 0.95
    assert np.mean(np.abs(loud) >= effects.CEILING - 1e-4) < 0.001, "hard clipping instead of limiting"


def test_limiter_leaves_quiet_audio_alone():
    tone = 0.5 * np.sin(np.linspace(0, 200 * np.pi, 22050)).astype(np.float32)
    assert np.array_equal(effects.limit_peaks(tone, 22050), tone)


def test_int16_conversion_clips_instead_of_wrapping():
    pcm = samples_mod.to_int16(np.array([1.5, -1.5, 0.5], np.float32))
    assert pcm.tolist() == [32767, -32768, 16384]


def test_trim_and_silence_helpers(clip):
    samples, rate = clip
    padded = np.concatenate([effects.silence(800, rate), samples, effects.silence(800, rate)])
    trimmed = effects.trim_silence(padded, rate)
    assert len(trimmed) < len(padded) - rate  # most of the 1.6 s of padding is gone
    assert effects.is_silent(effects.silence(100, rate)) and not effects.is_silent(samples)


def test_resample_keeps_duration(clip):
    samples, rate = clip
    out = samples_mod.resample(samples, rate, 24000)
    assert len(out) / 24000 == pytest.approx(len(samples) / rate, abs=1e-3)
    assert estimate_f0(out, 24000) == pytest.approx(estimate_f0(samples, rate), rel=0.05)


def test_as_mono_float32_from_int16_stereo():
    stereo = np.array([[32767, -32768], [16384, 16384]], np.int16)
    mono = effects.as_mono_float32(stereo)
    assert mono.dtype == np.float32 and mono.shape == (2,)
    assert mono[1] == pytest.approx(0.5, abs=1e-3)
