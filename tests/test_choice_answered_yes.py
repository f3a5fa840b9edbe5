"""Session 67, by hand: "对" to a choice ("您是说“这样好了吗”,还是“好了”?") names neither reading. At a step it was
then read as "好了" and moved the user on, whichever they meant; at the greeting it was "好的" and the choice dropped.
Now the choice is asked again, naming both, and the user stays; naming one of them then acts on it, and "不对" still
asks them to say it again."""

from datetime import date

import pytest

from assistant.flows import load_flows
from tests.chatdriver import session_at

FLOWS = load_flows()
TODAY = date(2026, 11, 30)


def asked(state: str, first: str, second: str, understander):
    """A session at `state` that has just asked "您是说“first”,还是“second”?" about the turn "嗯那个"."""
    session = session_at(FLOWS, state, understander, today=TODAY)
    session.pending, session.pending_slots = ("choose", first, second, "嗯那个"), {}
    return session


@pytest.mark.parametrize("yes", ["对", "嗯", "是的"])
def test_a_bare_yes_to_a_choice_asks_which_again_and_nothing_moves(understander, yes):
    session = asked("wechat.city", "next", "cant_find", understander)
    reply = session.handle(yes)
    assert reply.intent == "choose" and session.state == "wechat.city", (reply.intent, reply.say)
    labels = [FLOWS.label_in(i, "wechat.city") for i in ("next", "cant_find")]
    assert reply.say == FLOWS.say["choose_which"].format(first=labels[0], second=labels[1]), reply.say


def test_naming_one_after_the_question_again_acts_on_it(understander):
    session = asked("wechat.city", "next", "cant_find", understander)
    session.handle("对")
    reply = session.handle("找不到")
    assert reply.intent == "cant_find" and session.state != "wechat.city", (reply.intent, reply.say, session.state)


def test_a_no_to_a_choice_still_asks_to_say_it_again(understander):
    session = asked("greeting", "q_next_date", "human", understander)
    reply = session.handle("不对")
    assert reply.say == FLOWS.say["confirm_again"] and session.state == "greeting", reply.say


def test_a_yes_that_is_one_of_the_readings_is_that_reading(understander):
    """Where "yes" itself is one of the two readings, "对" is it: nothing is asked again."""
    session = asked("greeting", "yes", "q_next_date", understander)
    reply = session.handle("对")
    assert reply.intent != "choose", (reply.intent, reply.say)


def test_yes_after_yes_to_the_same_choice_offers_a_person_in_the_end(understander):
    """The choice itself, and each bare yes to it, are turns that went nowhere: the third offers a person."""
    session = asked("wechat.city", "next", "cant_find", understander)
    session.misses = 1  # the choice asked counted as one (Session.handle)
    first = session.handle("对")
    last = session.handle("对")
    assert first.intent == "choose" and last.say == FLOWS.say["offer_person"], (first.say, last.say)
    assert session.state == "wechat.city"
    session.handle("对")  # now a yes to "要不要找人帮忙?" (tests/test_offer_person_answered.py)
    assert session.state == "human", session.state
