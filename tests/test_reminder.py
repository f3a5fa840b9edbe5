"""`assistant reminder --ics`: a calendar file for the next deadline, alarm three days before, read back."""

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from tests.kioskdriver import assistant, err, out, run_main


def read_event(path):
    cal = Calendar.from_ical(path.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ASSISTANT_TODAY", "2026-11-20")
    return tmp_path


def test_from_the_command_line_for_a_region_with_its_own_rule(env, monkeypatch, capsys):
    ics = env / "提醒.ics"
    assert run_main(monkeypatch, "reminder", "--ics", ics, "--last", "2026-06-01", "--region", "兰州") == 0
    printed = capsys.readouterr().out
    assert "按甘肃一百八十天一次" in printed and "2026年11月28日" in printed and "还有8天" in printed
    event = read_event(ics)
    assert event.decoded("dtstart") == date(2026, 11, 28)
    assert str(event["summary"]) == "养老金资格认证截止日"
    assert "甘肃一百八十天一次" in str(event["description"]) and "12333" in str(event["description"])
    alarms = list(event.walk("VALARM"))
    assert len(alarms) == 1 and alarms[0].decoded("trigger") == timedelta(days=-3, hours=9)
    assert "TRIGGER:-P2DT15H" in ics.read_text(encoding="utf-8")  # 9:00, three days before the all-day deadline
    assert str(alarms[0]["action"]) == "DISPLAY" and "提前认证" in str(alarms[0]["description"])


def test_unknown_region_falls_back_to_the_general_rule_and_says_so(env, monkeypatch, capsys):
    ics = env / "r.ics"
    assert run_main(monkeypatch, "reminder", "--ics", ics, "--last", "去年十二月一号", "--region", "河南") == 0
    printed = capsys.readouterr().out
    assert "河南的具体规定我这里没有记录,先按大部分地区的规定算" in printed
    assert read_event(ics).decoded("dtstart") == date(2026, 12, 1)


def test_no_region_at_all_is_said_too(env, monkeypatch, capsys):
    assert run_main(monkeypatch, "reminder", "--ics", env / "r.ics", "--last", "2026-03-05") == 0
    assert "没有设置地区" in capsys.readouterr().out
    assert read_event(env / "r.ics").decoded("dtstart") == date(2027, 3, 5)


def test_same_deadline_same_uid_so_a_reimport_updates(env, monkeypatch, capsys):
    for name in ("a.ics", "b.ics"):
        run_main(monkeypatch, "reminder", "--ics", env / name, "--last", "2026-03-05")
    assert str(read_event(env / "a.ics")["uid"]) == str(read_event(env / "b.ics")["uid"])


@pytest.mark.parametrize("args, words", [
    (["--last", "2027-01-01"], "看不懂上次认证的日期"),
    (["--last", "随便哪天"], "看不懂上次认证的日期"),
    (["--last", "2025-01-02"], "已经过了"),  # overdue: certify first, a reminder in the past helps nobody
    ([], "不知道上次认证的日期"),
])
def test_problems_are_one_kind_line_and_no_file(env, monkeypatch, capsys, args, words):
    assert run_main(monkeypatch, "reminder", "--ics", env / "r.ics", *args) == 2
    assert words in capsys.readouterr().err
    assert not (env / "r.ics").exists()


def test_missing_folder_is_reported(env, monkeypatch, capsys):
    assert run_main(monkeypatch, "reminder", "--ics", env / "no" / "r.ics", "--last", "2026-03-05") == 2
    assert "文件夹不存在" in capsys.readouterr().err


def test_with_the_settings_from_setup_end_to_end(tmp_path):
    environment = {"ASSISTANT_CONFIG_DIR": str(tmp_path), "ASSISTANT_TODAY": "2026-11-20"}
    made = assistant("setup", stdin="佛山\n支付宝\n今年三月五号\n正常\n", env=environment)
    assert made.returncode == 0, err(made)
    proc = assistant("reminder", "--ics", tmp_path / "r.ics", env=environment)
    assert proc.returncode == 0, err(proc)
    assert "按佛山十二个月一次" in out(proc)
    assert read_event(tmp_path / "r.ics").decoded("dtstart") == date(2027, 3, 5)
