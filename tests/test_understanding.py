"""Understanding: normalisation, fuzzy + pinyin matching, confidence, dates and private numbers."""

from datetime import date

import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from assistant.privacy import find_private, mask
from assistant.understanding import ACCEPT, CONFIRM, IntentMatcher, parse_date

FLOWS = load_flows()
MATCHER = IntentMatcher(FLOWS)
STEP = FLOWS.allowed_intents("wechat.open")
GREETING = FLOWS.allowed_intents("greeting")


@pytest.mark.parametrize("raw, expected", [
    ("養老金認證", "养老金认证"),
    ("呃,那个,好了嘛", "好了"),
    ("好了好了好了", "好了"),
    ("掌上１２３３３", "掌上一二三"),
    ("掌上幺二三三三", "掌上一二三"),
    ("您说什么", "你说什么"),
    ("嗯", "嗯"),
])
def test_normalise(raw, expected):
    assert MATCHER.norm.text(raw) == expected


@pytest.mark.parametrize("heard, intent", [
    ("支付包", "ch_alipay"),          # homophone the recogniser writes
    ("只付宝", "ch_alipay"),
    ("维信", "ch_wechat"),
    ("掌上一二三三三", "ch_12333"),
    ("老来往", "ch_laolai"),
    ("赣府通", "ch_ganfutong"),
    ("中国领使", "ch_abroad"),
    ("中国零食", "ch_abroad"),        # 领事 lǐng shì ~ 零食 líng shí: accent + tone
])
def test_recognition_homophones_still_land(heard, intent):
    match = MATCHER.match(heard, GREETING)
    assert match.intent == intent and match.score >= CONFIRM


@pytest.mark.parametrize("heard, intent", [
    ("好了", "next"), ("我点好了", "next"), ("不行", "failed"), ("还是不行啊", "failed"),
    ("再说一遍", "repeat"), ("慢点说", "slower"), ("那个那个上一步", "back"), ("从头开始吧", "start_over"),
    ("找人工", "human"), ("拜拜", "goodbye"), ("打12333问问", "human"),
    ("再讲一次", "repeat"),  # southern 讲 for 说: with -n/-ng folded it sounds like 再见, and must not end the talk
])
def test_step_answers(heard, intent):
    allowed = FLOWS.allowed_intents("trouble_face.light")
    match = MATCHER.match(heard, allowed)
    assert match.intent == intent and match.sure


def test_asking_whether_to_give_the_code_is_reassured_not_warned():
    session = Session(FLOWS)
    session.greet()
    assert session.handle("验证码要告诉你吗").intent == "q_privacy"
    assert session.handle("有人打电话说是社保局的,要我的验证码").intent == "q_scam"


def test_negation_is_not_agreement():
    match = MATCHER.match("没好", STEP)
    assert match is None or match.intent != "next" or match.score < ACCEPT


def test_low_confidence_asks_to_confirm_then_acts():
    session = Session(FLOWS, today=date(2026, 11, 23))
    session.greet()
    reply = session.handle("用微")
    assert reply.intent == "confirm" and "微信" in reply.say and reply.state == "greeting"
    reply = session.handle("对")
    assert reply.state == "wechat.prepare.phone"


def test_denied_confirmation_asks_again():
    session = Session(FLOWS)
    session.greet()
    assert session.handle("用微").intent == "confirm"
    reply = session.handle("不对")
    assert reply.intent == "no" and "再说一遍" in reply.say and reply.state == "greeting"


def test_two_equally_good_readings_ask_which():
    session = Session(FLOWS)
    session.greet()
    reply = session.handle("微信支付宝")
    assert reply.intent == "choose" and "微信" in reply.say and "支付宝" in reply.say
    assert session.handle("支付宝").state == "alipay.prepare.phone"


def test_naming_the_walk_one_is_in_does_not_restart_it():
    session = Session(FLOWS)
    session.greet()
    for text in ["微信", "好了", "好了", "好了"]:
        session.handle(text)
    assert session.state == "wechat.open"
    assert session.handle("我打开微信了").state == "wechat.service"


@pytest.mark.parametrize("text, expected", [
    ("上次是三月五号", date(2026, 3, 5)),
    ("去年十二月三号认证的", date(2025, 12, 3)),
    ("二零二五年三月五日", date(2025, 3, 5)),
    ("2025-03-05", date(2025, 3, 5)),
    ("上回是十二月一号", date(2025, 12, 1)),  # December is still ahead in November: last year's
    ("二月三十号", None),
    ("明年三月五号", None),
    ("没有日期", None),
])
def test_dates(text, expected):
    assert parse_date(text, date(2026, 11, 23)) == expected


@pytest.mark.parametrize("text, kind", [
    ("110101195001011234", "number"), ("11010119500101123X", "number"), ("手机13812345678", "number"),
    ("幺三八 一二三四 五六七八", "number"), ("6222 0212 3456 7890", "number"), ("验证码是4321", "secret"),
    ("打12333", None), ("三月五号", None), ("2025年3月5日", None),
])
def test_private_numbers(text, kind):
    assert find_private(text) == kind
    if kind:
        assert "***" in mask(text) and not any(ch.isdigit() for ch in mask(text).replace("***", ""))


def test_expected_phrases_follow_the_state():
    session = Session(FLOWS)
    session.greet()
    greeting = session.expected_phrases()
    assert "微信" in greeting and "成功了" not in greeting
    session.machine.set_state("wechat.face.result")
    assert "成功了" in session.expected_phrases()


def test_a_step_reported_done_in_other_words_is_asked_about_not_refused():
    session = Session(FLOWS)
    session.greet()
    session.machine.set_state("wechat.face.hair")  # "把头发拨到耳朵后面,别挡住眉毛和眼睛。"
    reply = session.handle("头发撩上去了")
    assert reply.intent == "confirm" and "好了" in reply.say and reply.state == "wechat.face.hair"
    assert session.handle("对").state != "wechat.face.hair"
    session.machine.set_state("wechat.face.hair")
    for trouble in ("手机没电了", "头发剪短了吗", "我按错了"):  # a negation, a question, a mistake: never "done"
        reply = session.handle(trouble)
        assert not (reply.intent == "confirm" and "“好了”" in reply.say), trouble
        session.pending = None
