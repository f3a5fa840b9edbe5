"""Before a way is picked nothing was tried yet: a "failed" reading asked back at the greeting was "您是说“还是不行”吗?"
after "这些玩意儿俺都整不明白" (session 52). There it is named by its `start_label` (intents.yaml: "不会弄"); in a walk,
whose steps teach "还不行说“还是不行”", by its label as before."""

import pytest

from assistant.understanding import CHOOSE, CONFIRM, Understanding
from tests.chatdriver import Conversation


def _asked_failed(session, monkeypatch, action=CONFIRM):
    reading = Understanding("failed", action, 0.45, second="want_certify" if action == CHOOSE else None,
                            ranked=[("failed", 0.45), ("want_certify", 0.3)])
    monkeypatch.setattr(session.understander, "understand", lambda *a, **k: reading)
    said = session.handle("随便什么").say
    monkeypatch.undo()
    return said


def test_failed_asked_back_before_a_way_is_picked_is_not_knowing_how(monkeypatch):
    session = Conversation().session
    assert session.state == "greeting"
    said = _asked_failed(session, monkeypatch)
    assert said.startswith("您是说“不会弄”吗?"), said
    reply = session.handle("对")
    assert reply.intent == "failed" and "别着急" in reply.say and session.state == "greeting", reply.say


def test_failed_offered_as_one_of_two_at_the_greeting_is_named_so_and_answered_in_those_words(monkeypatch):
    session = Conversation().session
    said = _asked_failed(session, monkeypatch, CHOOSE)
    assert "“不会弄”" in said and "还是不行" not in said, said
    reply = session.handle("不会弄")  # the user picks by saying the words offered (the real model reads them)
    assert reply.intent == "failed" and "别着急" in reply.say, reply.say


@pytest.mark.parametrize("state", ["wechat.prepare.network", "alipay.face.frame"])
def test_failed_asked_back_in_a_walk_keeps_the_words_the_walk_teaches(monkeypatch, state):
    session = Conversation().session
    session.machine.set_state(state)
    said = _asked_failed(session, monkeypatch)
    assert said.startswith("您是说“还是不行”吗?"), said


def test_every_start_label_is_read_as_its_intent_where_it_is_used():
    """A user answering "您是说“不会弄”,还是……?" says the words offered: they must mean that reading there."""
    flows = Conversation().session.flows
    labelled = [i for i, intent in flows.intents.items() if intent.start_label]
    assert labelled, "no intent has a start_label"
    for intent in labelled:
        for state in ("greeting", "other_ways"):
            session = Conversation().session
            session.machine.set_state(state)
            reply = session.handle(flows.intents[intent].start_label)
            read = set(session.pending[1:-1]) if reply.intent in ("confirm", "choose") else {reply.intent}
            assert intent in read, (intent, state, reply.intent, reply.say)
