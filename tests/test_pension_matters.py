"""Session 67: questions about the pension itself — how much, this year's rise, a changed amount, the bank card, medical
insurance — are out of what the assistant can answer. The elder hears so, where such questions are answered (12333,
which the guides name for questions), and the choices of their step; they stay where they were.

By hand before: "一个月能领多少钱啊" heard only "这个我帮不上忙,我只会教您做养老金认证", with
nowhere to go; "我那个养老金今年涨没涨", "怎么查我养老金有多少", "我想换个银行卡领养老金" were
"没听明白,换个说法" (said again, louder, to no end); "养老金一年涨几回" got how often to certify.
Now a sure one hears "这个我帮不上忙" and where to ask; a whole sentence read likeliest as out of
scope, not surely, hears "没听明白" and where to ask (session.py `_not_understood`). None of these
sentences is a training sentence of flows/ (checked below); how often such turns are understood is
measured by the bench on the frozen rows a0942–a0989, written blind."""

from datetime import date

import pytest

from assistant.flows import load_flows
from tests.chatdriver import said_in, session_at, training_sentences_among

FLOWS = load_flows()
TODAY = date(2026, 11, 30)
HOTLINE = "养老金每月领多少、涨多少这些事,可以打12333问问。"


def _still_missed(why: str):
    return pytest.mark.xfail(strict=True, reason=f"session 67, model 07da2bf6: {why}; a user still meets this")


# Out of scope is acted on at the act band of moves (0.90 for model 07da2bf6), not the answer band: below it a whole
# sentence whose likeliest reading is out of scope hears "没听明白,换个说法" and where to ask all the same; a short one
# ("没听清") and one asked back as something else do not.
PENSION_MATTERS = [("greeting", "一个月能领多少钱啊"), ("greeting", "我那个养老金今年涨没涨"),  # 0.73: not understood
                   ("greeting", "怎么查我养老金有多少"),
                   pytest.param("greeting", "养老金一年涨几回", marks=_still_missed(
                       "asked back as how often to certify (q_frequency 0.44; it was answered so at 0.66 before)")),
                   ("greeting", "我退休工资是不是算错了"), ("greeting", "我这个月养老金少了两百,咋回事"),  # 0.82, 0.87
                   ("greeting", "我想换个银行卡领养老金"),
                   pytest.param("greeting", "医保的事找谁问", marks=_still_missed(
                       "out of scope at 0.89, under the act band, and short (7 characters): \"没听清\""))]
# Look-alikes the assistant does answer: a missed deadline's stopped money, when the money comes, how often to certify.
LOOK_ALIKES = [("greeting", "认证过了期会不会停我的钱", "q_overdue"), ("done", "那明年还得弄吗", "q_frequency")]


@pytest.mark.parametrize("state, said", PENSION_MATTERS)
def test_a_question_about_the_pension_itself_is_pointed_to_12333(understander, state, said):
    session = session_at(FLOWS, state, understander, today=TODAY)
    reply = session.handle(said)
    # Sure: "这个我帮不上忙……" and where to ask; not sure: "没听明白,换个说法" and where to ask. Nothing moves.
    first = {"out_of_scope": FLOWS.say["out_of_scope"], "unknown": FLOWS.say["not_understood_long"]}.get(reply.intent)
    assert first and reply.say.startswith(first + HOTLINE), (said, reply.intent, reply.say)
    assert session.state == state


def test_short_babble_is_not_told_about_the_pension(understander):
    reply = session_at(FLOWS, "greeting", understander, today=TODAY).handle("叽里呱啦")
    assert reply.intent == "unknown" and HOTLINE not in reply.say, reply.say


def test_a_sentence_not_understood_that_leans_to_a_step_is_not_told_about_the_pension(understander):
    """"I have no green one" at the WeChat step (its likeliest readings are the step's: not out of scope)."""
    reply = session_at(FLOWS, "wechat.open", understander, today=TODAY).handle("我手机上没有那个绿色的")
    assert reply.intent == "unknown" and reply.say.startswith(FLOWS.say["not_understood_long"]), reply.say
    assert HOTLINE not in reply.say, reply.say


@pytest.mark.parametrize("state, said, intent", LOOK_ALIKES)
def test_a_look_alike_keeps_its_answer(understander, state, said, intent):
    session = session_at(FLOWS, state, understander, today=TODAY)
    reply = session.handle(said)
    assert reply.intent == intent and HOTLINE not in reply.say, (said, reply.intent, reply.say)


def test_chit_chat_hears_the_pointer_and_its_choices(understander):
    reply = session_at(FLOWS, "wechat.open", understander, today=TODAY).handle("今天天气怎么样")
    assert reply.intent == "out_of_scope" and reply.say.startswith(FLOWS.say["out_of_scope"] + HOTLINE), reply.say
    assert "好了" in reply.say.split(HOTLINE)[1], reply.say  # the step's choices after it


def test_the_third_turn_that_goes_nowhere_offers_a_person_and_names_12333_once(understander):
    session = session_at(FLOWS, "greeting", understander, today=TODAY)
    replies = [session.handle(said) for said in ("今天天气怎么样", "给我讲个笑话", "今天天气怎么样")]
    assert [r.intent for r in replies] == ["out_of_scope"] * 3
    assert HOTLINE in replies[0].say and HOTLINE in replies[1].say
    assert HOTLINE not in replies[2].say and replies[2].say.count("12333") == 1, replies[2].say
    assert FLOWS.say["offer_person"] in replies[2].say


def test_the_pension_sentences_are_not_training_sentences():
    said = said_in(PENSION_MATTERS) + [s for _, s, _ in LOOK_ALIKES] + ["我手机上没有那个绿色的"]
    assert len(said) == 11 and not training_sentences_among(FLOWS, said)
