"""Session 66: an elder asking about the pension money after certifying hears that it keeps coming on time, that the
day is set locally (以当地社保部门或12333为准), and that money stopped for a missed deadline is paid back — and stays
where they were.

By hand before: "钱什么时候到账" at the end was asked the last certification's date (the next-date question),
"认证完了钱多久到" was asked back as the fee, "那我这个月的养老金能按时发吧" was "没听明白". A missed deadline, the fee
and the amount keep their own readings. None of these sentences is a training sentence of flows/ (checked below);
how often such turns are understood is measured by the bench on the frozen rows a0894–a0941, written blind."""

from datetime import date

import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from tests.chatdriver import ask, audit_rows_of, said_in, session_at

FLOWS = load_flows()
TODAY = date(2026, 11, 30)

PAYMENT = [("done", "那我的退休金啥时候能打到卡里呀"), ("waiting", "等结果的这几天养老金会不会断"),
           # Session 66's model asked it back as the next date (0.50); answered since session 67's blind payment data.
           ("greeting", "我上礼拜认证过了,钱哪天能到"),
           ("wechat.face.light", "先问一下,弄完以后钱照常发不")]
# Look-alikes: a missed deadline, the fee, the next date keep their answers.
LOOK_ALIKES = [("done", "我过了日子没认证,停了的钱能补不", "q_overdue"), ("done", "认证这个事收费不", "q_fee"),
               ("done", "那明年几月再来认证", "q_next_date")]
# How much the pension is: outside what the guides say (out of scope), never the payment answer.
AMOUNT = [("done", "我一个月到底能领多少钱")]


def at(state: str, understander) -> Session:
    return session_at(FLOWS, state, understander, today=TODAY)


@pytest.mark.parametrize("state, said", PAYMENT)
def test_a_question_about_the_money_is_answered_where_the_user_is(understander, state, said):
    session = at(state, understander)
    reply = ask(session, said)  # "您是说“钱什么时候到账”吗?" answered as the user meant it
    assert reply.intent == "q_payment", (said, reply.intent, reply.say)
    assert "照常按时发" in reply.say and "以当地社保部门或12333为准" in reply.say and "全额补发" in reply.say, reply.say
    assert session.state == state


@pytest.mark.parametrize("state, said, intent", LOOK_ALIKES)
def test_a_look_alike_keeps_its_own_answer(understander, state, said, intent):
    reply = ask(at(state, understander), said)
    assert reply.intent == intent, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said", AMOUNT)
def test_how_much_is_not_answered_as_when(understander, state, said):
    reply = at(state, understander).handle(said)
    assert reply.intent != "q_payment" and "照常按时发" not in reply.say, (said, reply.intent, reply.say)


def test_the_payment_answer_is_an_answer_everywhere_and_every_sentence_is_sourced(understander):
    """Understood in every state (an answer of `global`), and each of its sentences has an audit row."""
    assert FLOWS.answer_of["q_payment"] == "payment" and FLOWS.answers["payment"]
    for name in ("greeting", "done", "waiting", "wechat.face.light", "family_wechat.bind"):
        assert "q_payment" in at(name, understander).allowed_intents(), name
    assert audit_rows_of("knowledge:payment") == 4


def test_the_payment_sentences_are_not_training_sentences():
    from tests.chatdriver import training_sentences_among

    said = said_in(PAYMENT) + [s for _, s, _ in LOOK_ALIKES] + [s for _, s in AMOUNT]
    assert len(said) == 8 and not training_sentences_among(FLOWS, said)


def test_certified_hears_at_once_that_the_pension_is_paid_as_usual(understander):
    """The question comes right after "认证成功了": the congratulation itself says the pension is paid as usual (000:
    certification is what keeps it paid on time), before the next deadline."""
    session = at("wechat.face.result", understander)
    reply = session.handle("认证成功了")
    assert session.state == "done", (reply.intent, reply.say)
    assert reply.say.startswith("太好了,这次的认证办好了,养老金照常按时发!"), reply.say
