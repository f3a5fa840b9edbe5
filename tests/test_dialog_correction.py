"""A move on "done" that was wrong is taken back: right after "好了"/"成功了" was acted on, "不对" or "没成功" returns
the user to the step they left (a misheard "没成功" heard as "成功" must not leave them at the end), while answers
to the new step ("还没好", "没有") and answers to an open question stay what they were."""

from pathlib import Path

import pytest

from assistant.dialog import Session


def _walk_to(session: Session, wanted) -> None:
    """From the greeting through the Alipay walk with "好了" until `wanted(state)` holds."""
    session.handle("支付宝")
    for _ in range(30):
        if wanted(session.flows.states[session.state]):
            return
        session.handle("好了")
    raise AssertionError("the Alipay walk never reached the step wanted")


@pytest.fixture
def session(flows, understander):
    s = Session(flows, understander=understander)
    s.greet()
    return s


def _undone(flows, reply) -> bool:
    return reply.say.startswith(flows.say["undone"])


def test_a_misheard_success_is_taken_back_and_read_again_at_the_result_step(session, flows):
    _walk_to(session, lambda st: "success" in st.on and "failed" in st.on)
    result_step = session.state
    assert session.handle("成功了").state == "done" and session.certified_today
    reply = session.handle("没成功")
    # Back at the result step, "没成功" is what it means there: the failed walk.
    assert _undone(flows, reply), reply.say
    assert reply.state == flows.states[result_step].on["failed"] and reply.intent == "failed"
    assert not session.certified_today, "a certification taken back is not counted as done today"
    assert session.history[-1] == result_step


@pytest.mark.parametrize("asked", ["成功没成功怎么看", "没成功的话我咋知道"])
def test_a_question_about_the_result_right_after_success_is_answered_not_taken_back(session, flows, asked):
    """Correction words inside a question ("没成功" in "how can I tell") ask; only the plain words take it back."""
    _walk_to(session, lambda st: "success" in st.on and "failed" in st.on)
    assert session.handle("成功了").state == "done"
    reply = session.handle(asked)
    assert not _undone(flows, reply) and session.state == "done" and session.certified_today, reply.say


def test_no_right_after_a_step_goes_back_to_that_step(session, flows):
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    left = session.state
    session.handle("好了")
    reply = session.handle("不对")
    assert session.state == left and reply.intent == "back" and _undone(flows, reply)
    assert reply.say.endswith("".join(flows.states[left].sentences)), "the step is said again in full"
    again = session.handle("好了")
    assert again.intent == "next" and session.state != left, "after going back, 好了 moves on as usual"


def test_a_voice_control_first_keeps_the_chance_to_correct(session):
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    left = session.state
    session.handle("好了")
    assert session.handle("慢一点").intent == "slower"
    assert session.handle("再说一遍").intent == "repeat"
    assert session.handle("不对").intent == "back" and session.state == left


@pytest.mark.parametrize("said", ["还没好", "没有", "不要"])
def test_answers_to_the_new_step_are_not_corrections(session, said):
    """After "好了", "还没好" is about the step just reached; "没有", "不要" do not say the move was wrong."""
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    session.handle("好了")
    now = session.state
    reply = session.handle(said)
    assert session.state == now and reply.intent != "back", reply.say


@pytest.mark.parametrize("said", ["哎呀不对,网还没连好呢", "刚刚那步我还没弄完", "不是,我还没连上无线网"])
def test_not_yet_said_of_the_step_left_takes_the_move_back(session, flows, said):
    """"好了" moved on, then the user says the step they left is not done yet ("不对" / "刚才" with "还没"): back at
    that step, not "不着急,您慢慢来" one step ahead (session 51). Held out: none of these is a sentence of flows/."""
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    left = session.state
    session.handle("好了")
    reply = session.handle(said)
    assert session.state == left and _undone(flows, reply), reply.say


@pytest.mark.parametrize("said", ["糟了,我按错了", "我刚才按错了", "等一下,还没好"])
def test_trouble_or_not_yet_at_the_new_step_stays_there(session, said):
    """Without words for the step left behind, trouble ("按错了", though 错了 is a correction word) and "还没好" are
    about the step just reached."""
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    session.handle("好了")
    now = session.state
    reply = session.handle(said)
    assert session.state == now and reply.intent != "back", reply.say


def test_no_more_questions_after_success_is_not_a_correction(session):
    """"认证办好了……还有问题可以接着问我;没有的话,说'再见'": "没有" answers that."""
    _walk_to(session, lambda st: "success" in st.on)
    session.handle("成功了")
    assert session.handle("没有").state == "done"


def test_no_answering_an_open_reminder_question_is_its_answer(flows, understander, tmp_path):
    made = []

    def remind(deadline):
        made.append(deadline)
        return Path(tmp_path / "提醒.ics")

    session = Session(flows, understander=understander, remind=remind)
    session.greet()
    session.handle("我是山西太原的")  # a known place: after success, a calendar reminder is offered
    _walk_to(session, lambda st: "success" in st.on)
    session.handle("成功了")
    assert session.pending and session.pending[0] == "remind"
    reply = session.handle("不是,不要提醒")
    assert session.state == "done" and reply.intent == "no" and not made


def test_a_channel_choice_is_not_taken_back(session):
    """Only moves on "done" are corrected; a channel chosen is said back ("好,咱们用支付宝认证"), and naming another
    one changes it."""
    session.handle("支付宝")
    chosen = session.state
    assert session.handle("不对").intent != "back" and session.state == chosen


def test_a_correction_long_after_the_move_does_nothing(session):
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    session.handle("好了")
    session.handle("上一步")
    session.handle("好了")
    session.handle("好了")
    assert session.moved_on is not None
    session.handle("重新开始")
    assert session.moved_on is None and session.handle("不对").state == "greeting"


def test_the_end_of_a_detour_taken_back_keeps_the_way_back(session, flows):
    """"好了" at a troubleshooting detour's end goes back to the interrupted step; taken back, the user is in the
    detour again ("不对" read there: still not working, the next tip), and its "好了" still leads to that step (not
    to the greeting)."""
    _walk_to(session, lambda st: st.name.endswith("prepare.network"))
    step = session.state
    session.handle("一直在转圈圈")
    detour = session.state
    assert detour != step and session.returns == [step]
    assert session.handle("好了").state == step
    reply = session.handle("不对")
    assert _undone(flows, reply) and flows.states[session.state].returns and session.returns == [step]
    assert session.state in (detour, flows.states[detour].on.get("failed")), session.state
    assert session.handle("好了").state == step
