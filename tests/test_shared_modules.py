"""The one-of-each modules: user folders (paths), sample formats (audio/samples), numbers, and the composition root."""

import argparse
from pathlib import Path

import numpy as np
import pytest

from assistant import app, numbers, paths
from assistant.audio import samples


def test_each_folder_has_its_override_and_a_platform_default(monkeypatch, tmp_path):
    for name in ("ASSISTANT_DATA_DIR", "ASSISTANT_CONFIG_DIR", "ASSISTANT_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    defaults = paths.data_dir(), paths.config_dir(), paths.cache_dir()
    assert len(set(defaults)) == 3 and all(p.name == "pension-assistant" for p in defaults)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "k"))
    assert (paths.data_dir(), paths.config_dir(), paths.cache_dir()) == (tmp_path / "d", tmp_path / "c", tmp_path / "k")
    assert paths.user_cache_dir() == defaults[2]  # the understanding model also looks in the real cache


def test_the_stages_use_the_shared_folders(monkeypatch, tmp_path):
    from assistant.family.stats import StatsStore
    from assistant.recognition.model import user_model_dir
    from assistant.settings import settings_path
    from assistant.speech.cache import cache_dir

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "k"))
    assert StatsStore().path.parent == tmp_path / "d"
    assert user_model_dir().is_relative_to(tmp_path / "d")
    assert settings_path() == tmp_path / "c" / "settings.toml"
    assert cache_dir() == tmp_path / "k" / "voice"


def test_int16_rounds_to_the_nearest_step_and_clips():
    pcm = samples.to_int16(np.array([1.5, -1.5, 0.5, 0.7 / 32768, -0.7 / 32768, 0.2 / 32768]))
    assert pcm.dtype == np.int16 and pcm.tolist() == [32767, -32768, 16384, 1, -1, 0]
    assert samples.pcm_to_float(samples.to_pcm_bytes(np.array([0.25, -0.5]))).tolist() == [0.25, -0.5]


def test_resample_keeps_the_duration_and_the_tone():
    rate = 22050
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    out = samples.resample(tone, rate, samples.RATE)
    assert len(out) == pytest.approx(samples.RATE, abs=2)
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) * samples.RATE / len(out) == pytest.approx(440, abs=2)
    assert samples.resample(tone, rate, rate) is tone


def test_numbers_are_said_and_read_back():
    assert numbers.digit_by_digit("12333") == "一二三三三"
    assert numbers.as_number("15") == "十五"
    assert numbers.to_digits("三月五号") == "3月5号"
    assert numbers.to_digits("幺二三三三".translate(numbers.PLAIN_NUMERALS)) == "12333"
    assert set("幺两〇") <= set(numbers.NUMERALS)


def test_the_composition_root_builds_a_text_kiosk_and_a_session(monkeypatch, tmp_path):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))  # the typed lines: none
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path))
    args = argparse.Namespace(flows=None, today="2026-11-20", config=None, key="space", key_label=None, text=True,
                              hands_free=False, no_screen=True, idle=90.0)
    kiosk = app.build_kiosk(args)
    assert kiosk.speaker is None and kiosk.controller.session.today.isoformat() == "2026-11-20"
    assert type(kiosk.listener).__name__ == "TextListener"
    session = app.build_session(args)
    assert session.today.isoformat() == "2026-11-20" and session.remind is not None
    assert Path(session.flows.root).name == "flows"
