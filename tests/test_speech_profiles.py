import math
from types import SimpleNamespace

import pytest

from assistant import VOICES_DIR
from assistant.errors import FlowError, VoiceError
from assistant.speech.profiles import (DEFAULT_PROFILE, LOUDEST, available_profiles, key_line, load_profile,
                                       parse_profile)
from speech_support import isolated_voice_env  # noqa: F401  (autouse)

GOOD = """\
description = "test"
engine = "auto"
voice = "auto"
rate = 0.8
volume = 0.8
sentence_pause_ms = 700

[steps]
rate = 0.1
rate_min = 0.5
rate_max = 1.1
volume_db = 3
volume_min = 0.4
volume_max = 1.58
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_load_and_elder_is_default():
    assert {"elder-slow", "standard"} <= set(available_profiles())
    default = load_profile()
    assert default.name == DEFAULT_PROFILE == "elder-slow"
    standard = load_profile("standard")
    assert default.rate < standard.rate, "the elder profile must speak slower"
    assert default.sentence_pause_ms > standard.sentence_pause_ms
    assert default.path == VOICES_DIR / "elder-slow.toml"


def test_env_chooses_profile(monkeypatch):
    monkeypatch.setenv("ASSISTANT_VOICE", "standard")
    assert load_profile().name == "standard"


def test_profile_by_path(tmp_path):
    assert load_profile(write(tmp_path, GOOD, "mine.toml")).name == "mine"


def test_user_profile_dir_wins(tmp_path, monkeypatch):
    voices = tmp_path / "config" / "voices"
    voices.mkdir(parents=True)
    (voices / "standard.toml").write_text(GOOD.replace("rate = 0.8", "rate = 0.9"), encoding="utf-8")
    assert load_profile("standard").rate == 0.9


def test_unknown_name_lists_choices():
    with pytest.raises(VoiceError, match="elder-slow"):
        load_profile("no-such-voice")


@pytest.mark.parametrize(
    "old, new, line, fragment",
    [
        ('engine = "auto"', 'engine = "espeak"', 2, "engine"),
        ("rate = 0.8", "rate = 5", 4, "rate"),
        ("rate = 0.8", 'rate = "fast"', 4, "数字"),
        ("volume = 0.8", "volume = 1.7", 5, "volume"),
        ("volume = 0.8", "volume = true", 5, "数字"),
        ("sentence_pause_ms = 700", "sentence_pause_ms = 0.7", 6, "整数"),
        ("sentence_pause_ms = 700", "sentence_pause_ms = 700\nspeed = 2", 7, "speed"),
        ("rate_min = 0.5", "rate_min = 0.85", 4, "rate_min"),  # base rate now below the minimum
        ("volume_max = 1.58", "volume_max = 2.0", 14, "volume_max"),  # above the loudness ceiling
        ("volume_db = 3", "volume_db = 0.1", 12, "volume_db"),  # a step nobody would hear
        ("volume_db = 3", "volume = 0.1", 12, "volume_db"),  # the old linear step: told what it is now
        ("[steps]\nrate = 0.1", "[steps]\nrate = 0", 9, "steps.rate"),
        ('voice = "auto"', 'voice = "  "', 3, "voice"),
        ("rate = 0.8", "rate = ", 4, "TOML"),
    ],
)
def test_bad_values_point_at_their_line(tmp_path, old, new, line, fragment):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(FlowError) as err:
        parse_profile(path)
    assert err.value.line == line
    assert err.value.file == str(path)
    assert fragment in err.value.message
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_missing_table_and_key(tmp_path):
    with pytest.raises(FlowError, match="steps"):
        parse_profile(write(tmp_path, GOOD.split("[steps]")[0]))
    with pytest.raises(FlowError, match="rate_max") as err:
        parse_profile(write(tmp_path, GOOD.replace("rate_max = 1.1\n", "")))
    assert err.value.line == 8, "a missing key points at its table"


def test_dotted_keys_are_found():
    text = 'engine = "auto"\nsteps.rate = 0.1\n[other]\n"quoted key" = 1\n'
    assert key_line(text, ("steps", "rate")) == 2
    assert key_line(text, ("other", "quoted key")) == 4
    assert key_line(text, ("steps", "nope")) is None


def test_steps_are_clamped_and_pauses_follow_speed(tmp_path):
    p = parse_profile(write(tmp_path, GOOD))
    slower = SimpleNamespace(rate_step=-2, volume_step=0)
    assert p.effective_rate(slower) == pytest.approx(0.6)
    assert p.effective_rate(SimpleNamespace(rate_step=-20, volume_step=0)) == p.rate_min
    assert p.effective_rate(SimpleNamespace(rate_step=20, volume_step=0)) == p.rate_max
    assert p.effective_volume(SimpleNamespace(rate_step=0, volume_step=1)) == pytest.approx(0.8 * 10 ** (3 / 20), rel=1e-3)
    assert p.effective_volume(SimpleNamespace(rate_step=0, volume_step=-20)) == p.volume_min
    assert p.effective_rate(None) == p.rate and p.effective_volume(None) == p.volume
    assert p.pause_ms(slower) > p.pause_ms(None) == 700


@pytest.mark.parametrize("name", ["elder-slow", "standard"])
def test_louder_and_softer_go_in_about_3_db_steps_to_the_ceiling_and_floor(name):
    p = load_profile(name)
    low, high = p.step_limits()["volume_step"]
    assert low <= -2 and high >= 2, "at least two steps each way"
    levels = [p.effective_volume(SimpleNamespace(volume_step=k)) for k in range(low, high + 1)]
    steps_db = [20 * math.log10(b / a) for a, b in zip(levels, levels[1:])]
    assert all(2.0 <= d <= 4.0 for d in steps_db), steps_db  # every step one a listener hears
    assert levels[-1] == p.volume_max <= LOUDEST and levels[0] == p.volume_min
    # One more step changes nothing: the dialog is told where the limit is, and says so.
    assert p.effective_volume(SimpleNamespace(volume_step=high + 1)) == p.volume_max
    assert p.effective_volume(SimpleNamespace(volume_step=low - 1)) == p.volume_min


def test_step_limits_are_where_the_voice_stops_changing():
    p = load_profile("elder-slow")
    for field, effective in (("rate_step", p.effective_rate), ("volume_step", p.effective_volume)):
        low, high = p.step_limits()[field]
        values = [effective(SimpleNamespace(**{field: k})) for k in range(low - 1, high + 2)]
        assert values[0] == values[1] and values[-1] == values[-2], field
        assert len(set(values[1:-1])) == high - low + 1, f"{field}: each step inside the limits changes the voice"


def test_dialog_says_the_limit_when_the_profile_is_at_it():
    from assistant.dialog.reply import VoiceSettings

    p = load_profile("elder-slow")
    settings = VoiceSettings(limits=p.step_limits())
    high = p.step_limits()["volume_step"][1]
    assert all(settings.step("volume_step", 1) for _ in range(high))
    assert not settings.step("volume_step", 1), "past the ceiling: 已经是最大声了"
    assert settings.volume_step == high
