"""The dialog's state machine: every move is a transition whose callbacks keep the way back (上一步) and the step a
detour interrupted; a move flows/ does not allow is an error, never silently ignored."""

import pytest
from transitions import Machine, MachineError

from assistant.dialog import Session
from assistant.dialog.session import _Position, build_machine


@pytest.fixture
def session(flows, understander):
    s = Session(flows, understander=understander)
    s.greet()
    return s


def test_a_move_flows_does_not_allow_raises(flows):
    position = _Position()
    build_machine(flows, position)
    assert position.state == flows.start
    with pytest.raises(MachineError):
        position.trigger("next")  # the greeting is no step: there is nothing to be done with
    position.trigger("ch_wechat")
    assert position.state == "wechat.prepare.phone" and position.history == [flows.start]


def test_moves_keep_history_and_the_return_stack(session):
    session._execute("ch_alipay", "支付宝")
    session._execute("next", "好了")
    assert session.state == "alipay.prepare.network"
    assert session.history == ["greeting", "alipay.prepare.phone"] and session.returns == []
    session._execute("spinning", "一直在转圈圈")  # a detour remembers the step it interrupted
    assert session.state == "trouble_spinning.network" and session.returns == ["alipay.prepare.network"]
    reply = session._execute("next", "好了")  # the detour's end: back where it was
    assert session.state == "alipay.prepare.network" and reply.intent == "next" and session.returns == []
    assert session.history[-1] == "trouble_spinning.network"
    session._control("back")  # 上一步 goes back through the detour
    assert session.state == "trouble_spinning.network" and session.history[-1] == "alipay.prepare.network"
    session._control("human")
    assert session.state == "human" and session.history[-1] == "trouble_spinning.network"
    session._control("start_over")
    assert session.state == "greeting" and session.history == [] and session.returns == []
    assert session._control("back").state == "greeting", "上一步 at the first step stays (and says so)"


def test_every_move_of_a_conversation_is_a_transition(session, monkeypatch):
    """Placing the machine by hand (`set_state` without the model a transition passes) is for tests and the bench
    only; the conversation itself only triggers."""
    placed = []
    real = Machine.set_state

    def set_state(machine, state, model=None):
        if model is None:
            placed.append(state)
        return real(machine, state, model)

    monkeypatch.setattr(Machine, "set_state", set_state)
    for said in ["微信", "好了", "好了", "一直在转圈圈", "好了", "上一步", "我没有微信", "找人工", "重新开始", "支付宝",
                 "再见"]:
        reply = session.handle(said)
        if reply.intent == "confirm":
            session.handle("对")
    assert session.state == "goodbye" and len(session.history) >= 2
    assert placed == []
