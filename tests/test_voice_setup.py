"""`assistant setup --voice`: the real setup engine driven by spoken answers (the microphone is a neighbour)."""

from datetime import date

from assistant.flows import load_flows
from assistant.family.setup_engine import SetupEngine
from assistant.family.voice_setup import run_voice_setup

FLOWS = load_flows()


def drive(answers):
    engine = SetupEngine(FLOWS, today=date(2026, 11, 23), mode="voice", voices=["elder-slow", "standard"])
    said, printed = [], []
    heard = iter(answers)
    ok = run_voice_setup(engine, lambda: next(heard), said.append, printed.append)
    return ok, engine, said, printed


def test_spoken_answers_fill_every_setting():
    ok, engine, said, _ = drive(["我在甘肃兰州", "用微信", "今年六月一号", "慢一点"])
    assert ok and engine.done
    s = engine.settings
    assert (s.region, s.channel, s.last_certified, s.voice) == ("甘肃", "wechat", date(2026, 6, 1), "elder-slow")
    assert said[0].startswith("(1/4)") and "省或城市" in said[0]
    assert not any("Region:" in text for text in said), "no English hints read aloud"


def test_misheard_answer_asks_again_and_silence_is_forgiven_then_gives_up():
    ok, engine, said, printed = drive(["乒乓球", None, "", None])
    assert not ok and not engine.done
    assert "我没有听到" in said[2]
    assert "什么也没有保存" in printed[-1]
