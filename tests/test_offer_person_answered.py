"""Session 67, by hand: after three turns that went nowhere the assistant asks "好像不太顺利。要不要找人帮忙?……", and
"要" at a step was read as the step's "好了": the elder who wanted help was moved on. A yes to the offer now reaches the
person (the `human` control), "不用了" is heard and the step's question asked again, and the step's own words still
do the step."""

from datetime import date

import pytest

from assistant.flows import load_flows
from tests.chatdriver import session_at

FLOWS = load_flows()
TODAY = date(2026, 11, 30)
NOWHERE = ("今天天气怎么样", "给我讲个笑话", "今天天气怎么样")  # out of scope, three times


def offered(understander, state="wechat.prepare.phone"):
    session = session_at(FLOWS, state, understander, today=TODAY)
    replies = [session.handle(said) for said in NOWHERE]
    assert FLOWS.say["offer_person"] in replies[-1].say, replies[-1].say
    return session


@pytest.mark.parametrize("yes", ["要", "对", "好的"])
def test_a_yes_to_the_offer_of_a_person_reaches_the_person(understander, yes):
    session = offered(understander)
    reply = session.handle(yes)
    assert session.state == "human" and reply.say.startswith("可以找人帮忙"), (reply.intent, session.state, reply.say)


def test_no_thanks_to_the_offer_keeps_the_step(understander):
    session = offered(understander)
    reply = session.handle("不用了")
    assert session.state == "wechat.prepare.phone" and reply.say.startswith(FLOWS.say["declined"]), reply.say


def test_the_steps_own_done_after_the_offer_is_the_step_done(understander):
    session = offered(understander)
    session.handle("好了")
    assert session.state == "wechat.prepare.network", session.state
