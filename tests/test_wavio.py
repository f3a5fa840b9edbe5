"""read_wav turns any file into 16 kHz mono int16; unreadable files are a clear AudioInputError."""

import numpy as np
import pytest
import soundfile

from assistant.audio.wavio import RATE, read_wav, write_wav
from assistant.errors import AudioInputError


def tone(rate, seconds=1.0, freq=440.0, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def dominant_frequency(samples):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1 / RATE)[spectrum.argmax()]


def test_48k_stereo_is_downmixed_and_resampled(tmp_path):
    left, right = tone(48000), tone(48000, amplitude=0.1)
    soundfile.write(tmp_path / "a.wav", np.stack([left, right], axis=1), 48000, subtype="PCM_16")
    samples = read_wav(tmp_path / "a.wav")
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert abs(len(samples) - RATE) <= 1
    assert abs(dominant_frequency(samples) - 440) < 2
    # The average of the two channels: amplitude 0.3 of full scale, not lost to filtering or clipping.
    assert 0.28 * 32768 < np.abs(samples[1000:-1000]).max() < 0.32 * 32768


def test_8k_is_upsampled(tmp_path):
    soundfile.write(tmp_path / "a.wav", tone(8000, freq=300), 8000, subtype="PCM_16")
    samples = read_wav(tmp_path / "a.wav")
    assert abs(len(samples) - RATE) <= 1
    assert abs(dominant_frequency(samples) - 300) < 2


def test_24_bit_and_float_files(tmp_path):
    for subtype in ("PCM_24", "FLOAT"):
        soundfile.write(tmp_path / f"{subtype}.wav", tone(16000), 16000, subtype=subtype)
        samples = read_wav(tmp_path / f"{subtype}.wav")
        np.testing.assert_allclose(samples, np.rint(tone(16000) * 32768), atol=1)


def test_16k_mono_16_bit_is_read_exactly(tmp_path):
    original = (np.random.default_rng(1).standard_normal(RATE) * 3000).astype(np.int16)
    write_wav(tmp_path / "a.wav", original)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), original)


def test_write_wav_float_and_rate(tmp_path):
    write_wav(tmp_path / "a.wav", tone(22050) * 2, 22050)  # over full scale: clipped, not wrapped around
    info = soundfile.info(tmp_path / "a.wav")
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    data, _ = soundfile.read(tmp_path / "a.wav", dtype="int16")
    assert data.max() == 32767 and data.min() == -32768


@pytest.mark.parametrize("content", [b"", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, b"not audio at all" * 100])
def test_corrupt_files(tmp_path, content):
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(AudioInputError, match="bad.wav"):
        read_wav(tmp_path / "bad.wav")


def test_missing_file(tmp_path):
    with pytest.raises(AudioInputError, match="无法读取"):
        read_wav(tmp_path / "nowhere.wav")


def test_file_without_samples(tmp_path):
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16), 16000)
    with pytest.raises(AudioInputError, match="空的"):
        read_wav(tmp_path / "empty.wav")
