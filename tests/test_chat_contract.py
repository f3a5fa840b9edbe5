"""The stdin/stdout contract of the real `assistant chat --json` program, which the voice loop and volunteers' scripts
rely on. Only what needs the program is here; what the dialog says is tested in-process (tests/test_chat_dialog.py,
test_chat_walks.py), through the same record and JSON line."""

import json

import pytest

from tests.chatdriver import ChatProcess, chat_program

pytestmark = pytest.mark.seconds(13)  # alone, idle 2 cores: the longest units start first (conftest.py)


def test_contract_shape_exactly():
    records, _ = chat_program(["微信", ""])
    assert list(records[0]) == ["turn", "heard", "say", "state"]
    assert records[0]["turn"] == 0 and records[0]["heard"] is None and records[0]["state"] == "greeting"
    assert [list(r) for r in records[1:]] == [["turn", "heard", "say", "state", "intent"]] * 2
    assert [r["turn"] for r in records] == [0, 1, 2]
    assert records[1]["heard"] == "微信" and records[1]["state"] == "wechat.prepare.phone"
    assert records[2]["heard"] == "" and records[2]["intent"] == "silence"


def test_end_of_input_exits_zero_even_without_any_line():
    records, _ = chat_program([])
    assert len(records) == 1


def test_invalid_utf8_line_is_answered():
    records, _ = chat_program([], stdin=b"\xff\xfe\xfa\n\xe5\xbe\xae\xe4\xbf\xa1\n")
    assert records[1]["intent"] == "foreign" and records[2]["intent"] == "ch_wechat"


def test_a_line_separator_inside_a_line_is_one_record():
    records, _ = chat_program(["微信", "好\u2028了\x85", "好了"])
    assert [r["turn"] for r in records] == [0, 1, 2, 3]
    assert records[2]["intent"] == "next" and records[2]["state"] == "wechat.prepare.network"
    assert records[3]["state"] == "wechat.prepare.info"


def test_a_number_said_never_reaches_stdout_or_stderr():
    records, stderr = chat_program(["微信", "我的身份证号是110101195001011234", "再说一遍"])
    out = json.dumps(records, ensure_ascii=False)
    assert "110101195001011234" not in out and "110101195001011234" not in stderr
    assert records[2]["intent"] == "private" and "***" in records[2]["heard"]


def test_saved_settings_and_today_reach_the_program(tmp_path):
    (tmp_path / "settings.toml").write_text('region = "甘肃"\nlast_certified = 2026-06-01\n', encoding="utf-8")
    records, _ = chat_program(["下次什么时候认证"], today="2026-11-20", config_dir=tmp_path)
    assert "下次认证最晚在2026年11月28日之前,还有8天" in records[0]["say"]
    assert "按甘肃一百八十天一次" in records[1]["say"]


def test_each_line_is_answered_before_the_next_is_read():
    """The voice loop waits for each answer: the program must answer (and flush) one line at a time."""
    with ChatProcess() as program:
        assert program.say("微信")["state"] == "wechat.prepare.phone"
        assert program.say("好了")["state"] == "wechat.prepare.network"
