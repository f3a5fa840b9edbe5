"""normalize_asr: the one form recognised and reference text are compared in."""

import pytest

from assistant.recognition.normalize import normalize_asr


@pytest.mark.parametrize("raw, expected", [
    ("一二三三三", "12333"),
    ("幺 二 三三 三", "12333"),
    ("掌上 12333", "掌上12333"),
    ("您 好", "你好"),
    ("你好", "你好"),
    ("[unk] 微信 [unk]", "微信"),
    ("[unk]", ""),
    ("", ""),
    ("好了！", "好了"),
    ("三点五", "3.5"),
    ("Hello WiFi", "hellowifi"),
])
def test_normalize_asr(raw, expected):
    assert normalize_asr(raw) == expected


def test_numbers_written_either_way_compare_equal():
    assert normalize_asr("一年返个三千") == normalize_asr("1年返个3000")
    assert normalize_asr("您可以打幺二三三三") == normalize_asr("你 可以 打 一二三三三")
