"""Family setup: the question/answer engine, the keyboard command, and what chat then does with the settings."""

from datetime import date

import pytest

from assistant.family.setup_engine import SetupEngine
from assistant.settings import Settings, load_settings
from tests.chatdriver import chat
from tests.kioskdriver import assistant, err, out, run_main

TODAY = date(2026, 11, 23)


@pytest.fixture
def engine(flows, understander):
    def make(flows=flows, **kw):
        return SetupEngine(flows, understander=understander, today=TODAY, voices=["elder-slow", "standard"], **kw)
    return make


def answers(e, *texts):
    return [e.answer(t) for t in texts]


def test_four_questions_understood_the_way_the_dialog_understands(flows, engine):
    e = engine(flows)
    assert "(1/4)" in e.ask() and "省或城市" in e.ask() and "(Region" in e.ask()
    turns = answers(e, "我们家在兰州", "呃 用微信认证", "去年十二月三号", "说慢一点")
    assert all(t.ok for t in turns) and turns[-1].done and e.done
    assert e.settings == Settings(region="甘肃", channel="wechat", last_certified=date(2025, 12, 3), voice="elder-slow")
    assert "甘肃一百八十天一次" in turns[0].say and "(2/4)" in turns[0].say
    # 2025-12-03 + 180 days
    assert "下次最晚在2026年6月1日之前认证" in turns[2].say and "已经过了175天" in turns[2].say
    assert "都设好了" in turns[-1].say and "2025年12月3日" in turns[-1].say


def test_unknown_region_falls_back_and_says_so(flows, engine):
    e = engine(flows)
    turn = e.answer("河南")
    assert turn.ok and e.settings.region == "河南"
    assert "河南的具体规定我这里没有记录,先按大部分地区的规定算" in turn.say
    e = engine(flows)
    turn = e.answer("绵阳市")  # found in the division table as 四川's 绵阳, which has no rule of its own
    assert turn.ok and e.settings.region == "绵阳" and "绵阳的具体规定我这里没有记录" in turn.say
    turn = e.answer("今年三月五号")  # the channel question does not take a date
    assert not turn.ok and e.question == "channel"


@pytest.mark.parametrize("text", ["火星", "我不太清楚在哪儿", "hello", "12345"])
def test_a_non_place_is_asked_again(flows, engine, text):
    e = engine(flows)
    turn = e.answer(text)
    assert not turn.ok and "没听出是哪个地方" in turn.say and "(1/4)" in turn.say and e.settings.region is None


@pytest.mark.parametrize("text, channel", [
    ("支付宝", "alipay"), ("掌上12333", "app12333"), ("12333", "app12333"), ("老来网", "laolai"),
    ("孩子帮我弄", "family"), ("我住在国外", "abroad"), ("wechat", "wechat"), ("ganfutong", "ganfutong")])
def test_channels_by_intent_or_by_name(flows, engine, text, channel):
    e = engine(flows)
    e.answer("跳过")
    assert e.answer(text).ok and e.settings.channel == channel


def test_channel_ambiguity_and_local_app_by_region(flows, engine):
    e = engine(flows)
    e.answer("跳过")
    turn = e.answer("微信还是支付宝")
    assert not turn.ok and "还是" in turn.say and e.settings.channel is None
    assert not e.answer("本地的软件").ok, "which local app depends on the place"
    e = engine(flows)
    e.answer("广东")
    assert e.answer("本地的软件").ok and e.settings.channel == "yueshitong"


@pytest.mark.parametrize("text", ["明年三月五号", "2027-01-01", "不晓得哪天", "三十二号"])
def test_dates_must_be_real_and_past(flows, engine, text):
    e = engine(flows, current=Settings(region="甘肃"))
    answers(e, "", "")
    turn = e.answer(text)
    assert not turn.ok and "没听出是哪天" in turn.say and e.question == "last_certified"


def test_empty_keeps_and_dont_know_clears(flows, engine):
    current = Settings(region="佛山", channel="alipay", last_certified=date(2026, 3, 5), voice="standard")
    e = engine(flows, current=current)
    assert "现在是:佛山" in e.ask() and "Enter keeps it" in e.ask()
    answers(e, "", "不变", "不记得", "正常")
    assert e.settings == Settings(region="佛山", channel="alipay", last_certified=None, voice="standard")
    assert current.last_certified == date(2026, 3, 5), "the engine works on a copy"


def test_voice_mode_has_no_keyboard_hints(flows, engine):
    e = SetupEngine(flows, today=TODAY, mode="voice", voices=["elder-slow", "standard"],
                    current=Settings(region="甘肃"))
    assert "Enter" not in e.ask() and "(Region" not in e.ask() and "说“不变”就不改" in e.ask()
    assert "(Not" not in e.answer("火星").say
    answers(e, "不变", "微信", "三月五号")
    turn = e.answer("快一点")
    assert turn.done and e.settings.voice == "standard"
    assert not engine(flows, current=Settings(region="x", channel="wechat", last_certified=TODAY)).done


# --- the command ---------------------------------------------------------------------------------------------
def run_setup(config_dir, lines, today="2026-11-20"):
    return assistant("setup", stdin="".join(line + "\n" for line in lines),
                     env={"ASSISTANT_CONFIG_DIR": str(config_dir), "ASSISTANT_TODAY": today})


def test_setup_by_keyboard_writes_a_valid_hand_editable_file(tmp_path):
    proc = run_setup(tmp_path, ["火星", "我在甘肃", "微信", "今年六月一号", "慢"])
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    assert "没听出是哪个地方" in text and "已保存 (saved)" in text
    saved = (tmp_path / "settings.toml").read_text(encoding="utf-8")
    assert 'region = "甘肃"' in saved and 'channel = "wechat"' in saved and "last_certified = 2026-06-01" in saved
    assert load_settings(tmp_path / "settings.toml") == Settings("甘肃", "wechat", date(2026, 6, 1), "elder-slow")
    shown = assistant("setup", "--show", env={"ASSISTANT_CONFIG_DIR": str(tmp_path), "ASSISTANT_TODAY": "2026-11-20"})
    assert "按甘肃一百八十天一次" in out(shown) and "2026年11月28日" in out(shown) and "还有8天" in out(shown)


def test_setup_ended_early_saves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path))
    assert run_main(monkeypatch, "setup", stdin="甘肃\n微信\n") == 1
    assert "什么也没有保存" in capsys.readouterr().out
    assert not (tmp_path / "settings.toml").exists()


def test_hand_edited_mistakes_are_shown_with_their_line_and_setup_rewrites_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(tmp_path))
    (tmp_path / "settings.toml").write_text('region = "甘肃"\nchannel = "pigeon"\n', encoding="utf-8")
    assert run_main(monkeypatch, "setup", "--show") == 2
    assert "settings.toml:2:" in capsys.readouterr().err
    assert run_main(monkeypatch, "setup", stdin="\n支付宝\n\n\n") == 0
    assert "设置文件有错" in capsys.readouterr().out
    assert load_settings(tmp_path / "settings.toml") == Settings(channel="alipay")


# --- what the assistant then says ------------------------------------------------------------------------------
def test_chat_answers_with_the_real_date_and_reminds_at_the_greeting(tmp_path):
    assert run_setup(tmp_path, ["甘肃", "微信", "2026-06-01", "正常"], today="2026-11-20").returncode == 0
    records = chat(["还有多久", "下次什么时候认证"], today="2026-11-20", config_dir=tmp_path)
    assert "提醒您:按您设置的日子,下次认证最晚在2026年11月28日之前,还有8天" in records[0]["say"]
    for record in records[1:]:
        assert record["intent"] == "q_next_date"
        assert "按甘肃一百八十天一次" in record["say"] and "2026年11月28日" in record["say"]
        assert "离现在还有8天" in record["say"]
    far = chat([], today="2026-07-01", config_dir=tmp_path)
    assert "提醒您" not in far[0]["say"], "more than 30 days away: no reminder at the greeting"


def test_chat_with_an_unknown_saved_region_falls_back_and_says_so(tmp_path):
    assert run_setup(tmp_path, ["河南", "跳过", "二零二五年十二月一号", "跳过"], today="2026-11-20").returncode == 0
    records = chat(["下次什么时候认证"], today="2026-11-20", config_dir=tmp_path)
    say = records[1]["say"]
    assert "河南的具体规定我这里没有记录" in say and "2026年12月1日" in say and "还有11天" in say
    assert "提醒您" in records[0]["say"]


def test_a_city_without_its_own_entry_takes_its_provinces_rule(flows, engine):
    """Issue 12: every city of 甘肃 is told 甘肃's rule (not only 兰州); 江西 is not 新余."""
    e = engine(flows)
    turn = e.answer("天水")
    assert turn.ok and e.settings.region == "甘肃" and "甘肃一百八十天一次" in turn.say, turn.say
    e = engine(flows)
    turn = e.answer("江西")
    assert turn.ok and e.settings.region == "江西" and "赣服通" not in turn.say, turn.say
