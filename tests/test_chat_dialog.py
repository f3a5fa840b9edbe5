"""Questions asked anywhere, control words, bad input and numbers, through the conversation `chat --json` drives
(in-process, tests/chatdriver.py; the program's own stdin/stdout contract is tests/test_chat_contract.py)."""

import json
import re

import pytest

from assistant.flows import load_flows
from tests.chatdriver import Conversation, chat

# Where a question may be asked: greeting, in the middle of a walk, inside troubleshooting. ("刷脸失败了" said at
# Alipay's first preparation step, before any face step, is acted on or asked about ("您是说……吗?" at 0.88 with
# session 47's model, act band 0.8865): the tests answer "对" to a question back on the way.)
PLACES = {
    "greeting": [],
    "wechat.open": ["微信", "好了", "好了", "好了", "好了"],
    "trouble_face.cover": ["支付宝", "刷脸失败了", "还是不行"],
}

QUESTIONS = [
    ("多久认证一次啊", "q_frequency", ["十二个月", "三百六十五天", "甘肃", "一百八十天", "以当地社保部门或12333为准"]),
    ("我要是过期了怎么办", "q_overdue", ["暂停", "全额补发", "步骤一样"]),
    ("为啥要认证呢", "q_why", ["健在", "冒领"]),
    ("听说有静默认证", "q_silent", ["医院", "火车飞机", "出入过境", "家庭医生"]),
    ("有人打电话要我的验证码", "q_scam", ["骗子", "12333官方不会主动打电话", "挂电话", "子女", "永远不会问"]),
    ("收到短信链接说账户异常", "q_scam", ["陌生链接", "挂电话"]),
    ("要准备什么东西", "q_documents", ["姓名", "身份证号", "社保号"]),
    ("苹果手机能用吗", "q_phone_type", ["安卓", "苹果"]),
    ("怎么知道成功了", "q_result", ["提交成功", "短信", "我的认证记录"]),
    ("你会泄露我的信息吗", "q_privacy", ["不会记下"]),
    ("家里老人卧床出不了门", "bedridden", ["上门认证"]),
]


def _reach(place):
    lines = PLACES[place]
    return lines


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("question, intent, words", QUESTIONS, ids=[q[1] + ":" + q[0] for q in QUESTIONS])
def test_question_answered_anywhere_then_back_to_where_the_user_was(place, question, intent, words):
    records = chat(_reach(place) + [question, "再说一遍"], yes_to_confirm=True)
    before, answer, repeat = records[-3], records[-2], records[-1]
    assert before["state"] == place
    assert answer["intent"] == intent
    assert answer["state"] == place, "a question never moves the user"
    for word in words:
        assert word in answer["say"]
    assert "咱们接着刚才的" in answer["say"]
    assert repeat["say"] == answer["say"]


@pytest.mark.parametrize("place", list(PLACES))
def test_next_date_from_a_spoken_date(place):
    records = chat(_reach(place) + ["我上次是三月五号认证的 下次什么时候"], yes_to_confirm=True)
    say = records[-1]["say"]
    assert records[-1]["intent"] == "q_next_date" and records[-1]["state"] == place
    assert "2027年3月5日" in say and "102天" in say and "以当地社保部门或12333为准" in say


def test_next_date_per_region_and_asked_when_missing():
    records = chat(["我在甘肃 下次什么时候认证", "今年六月一号"])
    assert "哪天" in records[1]["say"]
    assert "甘肃一百八十天一次" in records[2]["say"] and "2026年11月28日" in records[2]["say"]
    records = chat(["我在河南 上次是二零二五年十月一号 下次什么时候"])
    say = records[1]["say"]
    assert "河南的具体规定我这里没有记录" in say and "2026年10月1日" in say and "已经过了53天" in say


CONTROLS = [
    ("再说一遍", "repeat"), ("您说慢一点", "slower"), ("说快一点", "faster"), ("大声点 听不见", "louder"),
    ("小声一点", "softer"), ("我能说什么", "help"),
]


@pytest.mark.parametrize("utterance, intent", CONTROLS)
def test_control_words_keep_the_state(utterance, intent):
    records = chat(["微信", "好了", utterance], yes_to_confirm=True)
    assert records[-1]["intent"] == intent
    assert records[-1]["state"] == "wechat.prepare.network"


@pytest.mark.parametrize("said", ["不对", "不是", "不对,不是这个"])
def test_a_no_where_nothing_was_asked_is_a_disagreement_not_a_miss(said):
    """"不对" at a step that asked nothing (reached by choosing a channel: no move to take back): the user was heard,
    so they are asked what is wrong and stay where they were — never "没听清", which has them say it again louder."""
    records = chat(["微信", said])
    before, reply = records[-2], records[-1]
    assert reply["intent"] == "no" and reply["state"] == before["state"], reply
    assert reply["say"].startswith(load_flows().say["disagree"]) and "没听清" not in reply["say"], reply


@pytest.mark.parametrize("said", ["对", "是的", "对对对", "嗯对"])
def test_a_yes_where_nothing_was_asked_is_never_taken_for_no(said):
    """Found by hand (session 36): "对" at the greeting, the result or "找人帮忙", where no yes is among the readings, was
    asked "您是说“不对”吗?" (对 is in 不对), and a second "对" confirmed the opposite of what was said. It is heard: "好的。"
    and the question of that place again — never "没听清", never "不对"."""
    flows = load_flows()
    for before in ([], ["用微信", "好了", "好了", "好了", "好了", "好了", "好了", "好了", "好了", "好了", "好了", "认证成功"]):
        records = chat([*before, said])
        where, reply = records[-2]["state"], records[-1]
        assert reply["intent"] == "heard_yes" and reply["state"] == where, (before, reply)
        assert reply["say"].startswith(flows.say["heard_yes"]) and "不对" not in reply["say"], reply
        assert "没听清" not in reply["say"], reply
    # "不对" there is still the disagreement.
    assert chat(["不对"])[-1]["intent"] == "no"


def test_a_no_too_unsure_to_act_on_is_not_asked_back(understander, monkeypatch):
    """With the act band out of reach, as an unlucky retraining could put it, a "不对" is read as "no" at the confirm
    level: it gets the disagreement (itself a question), not "您是说“不对”吗? 对的话说“对”", which has the user say
    "对" to mean "不对"."""
    import dataclasses

    from assistant.dialog import Session

    session = Session(understander.flows, understander=understander)
    session.greet()
    session.handle("用微信")
    step = session.state
    assert step.startswith("wechat.") and session.pending is None, step
    bands = understander.model.bands
    monkeypatch.setattr(understander.model, "bands", dataclasses.replace(bands, act=0.9999, answer=0.9999,
                                                                          confirm=0.01, pair=0.01))
    # "不对" is no's own phrase: acted on whatever the bands, since session 43 (before, read at the confirm level
    # and kept from being asked back by the session).
    u = understander.understand("不对", step, session.allowed_intents(), same=session.same_effect())
    assert (u.intent, u.action, u.guard) == ("no", "act", "its own words"), u
    reply = session.handle("不对")
    assert reply.intent == "no" and session.state == step and session.pending is None, reply


def test_a_steps_own_no_comes_before_the_control():
    """"没有" to "您以前注册过吗?" is that step's answer (on: no → register), not the disagreement of every step."""
    records = chat(["掌上12333", "好了", "好了", "好了", "好了", "好了", "没有"], yes_to_confirm=True)
    assert records[-2]["state"] == "app12333.account" and records[-1]["state"] == "app12333.register", records[-1]


def test_voice_controls_acknowledge_and_repeat_the_step():
    records = chat(["微信", "慢一点", "慢一点", "慢一点", "慢一点", "大声点"])
    assert records[2]["say"].startswith("好的,我说慢一点。") and "先准备好手机" in records[2]["say"]
    assert records[5]["say"].startswith("已经是最慢了")
    assert records[6]["say"].startswith("好的,我大声一点")


def test_back_start_over_person_goodbye():
    records = chat(["微信", "好了", "好了", "上一步", "重新开始", "上一步", "找人工", "再见", "支付宝"])
    states = [r["state"] for r in records]
    assert states[4:] == ["wechat.prepare.network", "greeting", "greeting", "human", "goodbye", "alipay.prepare.phone"]
    assert "回到上一步" in records[4]["say"]
    assert "从头开始" in records[5]["say"]
    assert "第一步" in records[6]["say"]
    assert "12333" in records[7]["say"] and "社区" in records[7]["say"]
    assert "再见" in records[8]["say"]


@pytest.mark.parametrize("said, state", [("那就用那个", "wechat.prepare.phone"), ("好", "wechat.prepare.phone"),
                                         ("行,就它吧", "wechat.prepare.phone"), ("不用了", "greeting"),
                                         ("那用支付宝呢", "alipay.prepare.phone")])
def test_a_yes_right_after_the_simplest_way_is_recommended_takes_it(said, state):
    """Session 59, by hand: "哪个最简单" is answered "用微信最省事……想用微信,就说“微信”", and "那就用那个" then was
    "没听清". The answer offers that walk (knowledge.yaml `offers`): a yes takes it, a no is heard ("好的,那就不用。")
    and the question asked again, another channel named is that one."""
    records = chat(["哪个最简单", said])
    assert records[-2]["state"] == "greeting" and "微信最省事" in records[-2]["say"], records[-2]
    assert records[-1]["state"] == state, records[-1]
    if said == "不用了":
        assert records[-1]["say"].startswith("好的,那就不用") and "您想用什么认证" in records[-1]["say"], records[-1]


def test_a_channel_said_to_be_lacked_is_never_taken_by_a_yes_to_the_simplest_answer():
    """Found rereading (session 59): after "我没有微信", "哪个最简单" still says WeChat is simplest (the guides' fact), and
    a "好" then started the WeChat walk the user had just said they lack. Nothing lacked is offered."""
    records = chat(["我没有微信", "哪个最简单", "好"])
    assert not records[-1]["state"].startswith("wechat."), records[-1]


@pytest.mark.parametrize("lacks, simplest, taken", [
    (["我没有微信"], "支付宝也方便", "alipay.prepare.phone"),
    (["我没有微信", "支付宝也没有"], "家里人用他们的手机", "family"),
    (["我没有支付宝"], "微信最省事", "wechat.prepare.phone"),
])
def test_the_simplest_way_named_is_one_the_user_has(lacks, simplest, taken):
    """Session 60, by hand: after "我没有微信", "哪个最简单" still said "用微信最省事……想用微信,就说“微信”" — an app the
    user had just said they do not have. The answer names the simplest way left (knowledge.yaml `instead`), and a yes
    takes that one."""
    records = chat([*lacks, "哪个最简单", "好"])
    answer = records[-2]["say"]
    assert simplest in answer, records[-2]
    for lacked in ("微信", "支付宝"):
        if any(lacked in said for said in lacks):
            assert f"用{lacked}" not in answer.replace(f"没有{lacked}", ""), answer
    assert records[-1]["state"] == taken, records[-1]


def test_the_ways_offered_leave_out_the_apps_said_to_be_lacked():
    """Session 60, by hand: "我没有微信" then "支付宝我也没有" was answered "没有支付宝也没关系。还可以用“微信”或者……",
    and every question of the greeting after it listed 微信 and 支付宝 again. The ways offered are those left; with
    none left, a relative's help and the other ways; choosing a lacked app after all takes it (and it is offered
    again). "重新开始" forgets what was lacked."""
    records = chat(["我没有微信", "支付宝我也没有", "我能说什么", "上一步", "掌上12333也没有", "重新开始"])
    second, helped, back, none_left, fresh = (r["say"] for r in records[2:])
    assert "没有支付宝也没关系" in second and "微信" not in second and "掌上12333" in second, second
    assert "微信" not in helped and "支付宝" not in helped and "“掌上12333”或者“家里人帮忙”" in helped, helped
    assert "微信" not in back and "掌上12333" in back, back
    assert "12333" in none_left and "家里人帮忙" in none_left and "其他办法" in none_left, none_left
    assert "还可以用" not in none_left, none_left
    assert "“微信”" in fresh and "“支付宝”" in fresh, fresh
    records = chat(["我没有微信", "那还是微信吧", "重新开始"])
    assert records[2]["state"] == "wechat.prepare.phone", records[2]


def test_in_a_walk_a_done_after_the_simplest_answer_is_the_steps_own():
    """Inside a walk nothing is offered: "好了" after the answer is the step's done, never another walk."""
    records = chat(["支付宝", "哪个最简单", "好了"])
    assert records[-1]["state"] == "alipay.prepare.network", records[-1]


@pytest.mark.parametrize("control, ack", [("上一步", "回到上一步"), ("重新开始", "从头开始")])
def test_say_it_again_after_going_back_repeats_the_step_not_the_going_back(control, ack):
    """Session 59, by hand: "刚才说啥来着" after "上一步" was "好的,回到上一步。先准备好手机……" — as if it had gone back
    once more. "再说一遍" repeats the step's words without the acknowledgement."""
    records = chat(["微信", "好了", "好了", control, "再说一遍"])
    assert ack in records[4]["say"], records[4]
    assert ack not in records[5]["say"] and records[5]["state"] == records[4]["state"], records[5]
    assert records[5]["say"] and records[5]["say"] in records[4]["say"], records[5]


BAD = [
    ("", "silence", "我还在听"),
    ("asdf qwer zxcv", "foreign", "普通话"),
    ("Hello, can you help me with my pension?", "foreign", "普通话"),
    ("乒乓球拍子桌布", ("unknown", "out_of_scope"), ("没听清", "帮不上忙")),
    ("x" * 10000, "too_long", "短一点"),
    ("我" * 10000, "too_long", "短一点"),
    ("\x00\x07\x1b[31m", "foreign", "普通话"),
    ("😀🎉🙏", "foreign", "普通话"),
    ("好\u2028了\x85", "next", "无线网"),  # the next step's words ("" would be in any reply)
]


@pytest.mark.parametrize("utterance, intent, words", BAD, ids=[str(b[1][0] if isinstance(b[1], tuple) else b[1]) + str(i)
                                                                for i, b in enumerate(BAD)])
def test_bad_input_gets_a_kind_answer_with_choices(utterance, intent, words):
    records = chat(["微信", utterance, "好了"])
    reply = records[2]
    intents, words = (intent, words) if isinstance(intent, tuple) else ((intent,), (words,))
    assert reply["intent"] in intents and any(w in reply["say"] for w in words), reply
    if intent == "next":  # a line separator inside a line is still one record, and is understood
        assert records[3]["state"] == "wechat.prepare.info"
        return
    assert reply["state"] == "wechat.prepare.phone"
    if intent != "too_long":
        assert "“好了”" in reply["say"], "the choices of this step are offered"
    assert records[3]["state"] == "wechat.prepare.network", "the session goes on"


def test_three_misses_offer_a_person():
    records = chat(["微信", "乒乓球", "桌子椅子", "天气不错"])
    # Not acted on (not understood, chit-chat, or a question back), and no person offered yet.
    assert records[2]["intent"] in ("unknown", "out_of_scope", "confirm") and "12333" not in records[2]["say"]
    assert records[2]["state"] == records[1]["state"]
    assert "找人帮忙" in records[4]["say"] and "12333" in records[4]["say"]


@pytest.mark.parametrize("secret", [
    "我的身份证号是110101195001011234", "身份证 11010119500101123X", "我手机号13912345678",
    "手机 一三九 一二三四 五六七八", "银行卡6222 0212 3456 7890 123", "验证码是482913", "我的密码是abc123",
])
def test_numbers_and_secrets_are_never_echoed(secret):
    records = chat(["微信", secret, "再说一遍"])
    out = json.dumps(records, ensure_ascii=False)
    # Every run of 4+ digits (a card said in groups too); the ones said in words are checked by name below.
    for run in re.findall(r"[0-9][0-9X]{3,}", secret):
        assert run not in out
    assert "一三九" not in out and "abc123" not in out and "482913" not in out
    assert records[2]["intent"] == "private" and "***" in records[2]["heard"]
    assert "不用告诉我" in records[2]["say"] or "不会记下" in records[2]["say"]
    assert records[3]["intent"] == "repeat" and "先准备好手机" in records[3]["say"], "the number was not kept as content"


def test_understanding_under_recognition_noise():
    with Conversation() as c:
        assert c.say("支付包")["state"] == "alipay.prepare.phone"  # homophone from the recogniser
        assert c.say("養老金過期了怎麼辦")["intent"] == "q_overdue"  # traditional characters
        assert c.say("呃 嗯 那个 好了好了")["intent"] == "next"  # fillers and repetition
        assert c.say("掌上幺二三三三")["state"] == "app12333.prepare.phone"  # digits as spoken


def test_the_rest_of_a_refused_number_is_never_echoed_in_heard():
    records = chat(["我的身份证前六位是110105", "最后是1234", "上次是2026-06-01认证的"])
    assert records[1]["intent"] == "private" and "110105" not in json.dumps(records[1], ensure_ascii=False)
    assert records[2]["intent"] == "private" and "1234" not in json.dumps(records[2], ensure_ascii=False)
    assert "2026-06-01" in records[3]["heard"], "a date is no ID number"


@pytest.mark.parametrize("said", ["这个月能认证吗", "今天可以认证吗,下次什么时候认证"])
def test_a_date_that_takes_in_today_asked_about_is_not_the_last_certification(said):
    """Found by hand (session 54): "这个月能认证吗" was told "您上次是2026年12月1日认证的,下次最晚在……": a date that
    takes in today, said without a word of having done it (phrases.yaml `certified_words`), is when the user wants to
    certify. Asked when they last did instead; said with one, it is the last time."""
    from datetime import date

    from assistant.dialog import Session

    session = Session(load_flows(), today=date(2026, 11, 23))
    session.greet()
    reply = session.handle(said)
    if reply.intent in ("confirm", "choose") and session.pending[1] == "q_next_date":
        reply = session.handle("对" if reply.intent == "confirm" else "下次什么时候认证")
    assert reply.intent == "q_next_date" and "上次是哪天" in reply.say, reply.say
    done = Session(load_flows(), today=date(2026, 11, 23))
    done.greet()
    reply = done.handle("我今天刚认证完,下次啥时候")
    assert "您上次是2026年11月23日认证的" in reply.say and "2027年11月23日" in reply.say, reply.say


@pytest.mark.parametrize("state, asked, said, to", [
    ("app12333.face.submitted", "next", "短信来了,说认证通过了", "done"),
    ("wechat.face.result", "next", "上面写着认证成功了", "done")])
def test_a_sentence_that_surely_tells_another_move_of_the_step_answers_a_question_back_with_that_move(
        state, asked, said, to):
    """Session 59, by hand: asked "您是说“好了”吗?" at the submitted step, "短信来了,说认证通过了" was taken as the yes
    (it reads as done among yes, no and 好了) and the user was sent to wait for the result they had just told. A
    sentence the step surely reads as another of its own moves is that move."""
    from assistant.dialog import Session

    session = Session(load_flows())
    session.greet()
    session.machine.set_state(state)
    session.pending = ("confirm", asked, "好的")
    reply = session.handle(said)
    assert session.state == to, (said, reply.intent, reply.say)
