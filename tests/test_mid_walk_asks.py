"""Things elders say in the middle of a walk that went wrong before session 46 (found in session 45 by trying it as
a new user would; the sentences that mend them were kept out then because the act band fell with them; since
session 46 the bands have floors, understanding.yaml `bands: floor`).

- "这里有好多,我点哪个" looking at a screen full of icons was "没听明白", and "我点哪个" was answered with 本人认证 /
  代人认证 at steps that have nothing to do with them. It asks for the step again: the step says what to tap.
- "它说要人脸识别" (the phone moved on to the face scan) got the face-failure tips; it is the step done.

"我眼睛不好" alone was out of scope until session 47 (8 sentences for it in session 46 made one more frozen spoken
turn wrong & confident, within what recognition moves by itself); since, its phrases are cant_read's, and asking
which city to pick at the city step gets the step again (tests at the end).

The sentences were written for these tests: none is a training sentence (checked below)."""

import pytest

from assistant.flows import load_flows
from tests.chatdriver import Conversation, training_sentences_among

CHANNEL_WORD = {"wechat": "微信", "alipay": "支付宝", "app12333": "掌上12333"}
# (the step, what is said there)
WHICH = [("wechat.entry", "满屏都是字,我该按哪一个"),
         ("alipay.entry", "花里胡哨一大堆,我摁哪个呀"),
         ("app12333.entry", "这上头好些个,点哪一个")]
# A user still meets the second (session 46): it is asked about as a face failure (p 0.45; "next" 0.29). Kept as a
# strict expected failure, to be seen when it starts to pass; the sentence is never to be trained on.
STILL_MISSED = pytest.mark.xfail(strict=True, reason="a user still meets this (session 46): see the note above")
FACE_NOW = [("alipay.fill", "这会儿它叫我刷脸了"),
            pytest.param("wechat.fill", "它蹦出来说要人脸识别", marks=STILL_MISSED)]


def test_the_test_sentences_are_not_training_sentences():
    said = [row.values[1] if hasattr(row, "values") else row[1] for row in WHICH + FACE_NOW]
    assert not training_sentences_among(load_flows(), said)


def _at(state: str) -> Conversation:
    """A conversation walked to `state` the way a user gets there: the channel named, then "好了" at each step."""
    conversation = Conversation()
    conversation.say_surely(CHANNEL_WORD[state.split(".")[0]])
    for _ in range(20):
        if conversation.session.state == state:
            return conversation
        conversation.say_surely("好了")
    raise AssertionError(f"never reached {state}: at {conversation.session.state}")


@pytest.mark.parametrize("state, said", WHICH)
def test_which_one_do_i_tap_gets_the_step_again(state, said):
    conversation = _at(state)
    step = conversation.records[-1]["say"]
    reply = conversation.say_surely(said)
    assert conversation.session.state == state, reply
    assert reply["intent"] == "repeat", reply
    assert "没听" not in reply["say"] and "代人认证" not in reply["say"], reply
    assert step.split("。")[0] in reply["say"], (step, reply)


@pytest.mark.parametrize("state, said", FACE_NOW)
def test_it_asks_for_my_face_now_is_the_step_done(state, said):
    conversation = _at(state)
    reply = conversation.say_surely(said)
    assert reply["intent"] == "next", reply
    assert ".face." in conversation.session.state, reply


# At the city step ("城市要选您的参保地……选好了说“好了”"), elders answer with the city: "北京" was asked
# "您是说“我是哪里的”吗?" (session 46). A place named and nothing else is where they are; among other words, read
# unsurely, it is asked about by its name.
PLACES = [("天津", "天津"), ("嗯,石家庄", "石家庄"), ("湖北武汉的", "武汉")]


def test_the_place_sentences_are_not_training_sentences():
    assert not training_sentences_among(load_flows(), [s for s, _ in PLACES] + ["选的是济南", "和平"])


@pytest.mark.parametrize("said, name", PLACES)
def test_a_city_named_at_the_city_step_is_noted_and_the_step_asked_again(said, name):
    conversation = _at("wechat.city")
    step = conversation.records[-1]["say"]
    reply = conversation.say(said)
    assert reply["intent"] == "tell_region" and conversation.session.state == "wechat.city", reply
    assert f"您是{name}的" in reply["say"] and step in reply["say"], reply


def test_a_place_among_other_words_read_unsurely_is_asked_about_by_its_name():
    # Session 46: "您是说“好了”,还是“我是济南的”?" (the model: done 0.5, where I am 0.4); session 47's model (done
    # 0.48, place 0.39) asks "您是说“好了”吗?" — the city chosen, as good a reading. Acted on is as good too. Whenever
    # the place is offered, it is offered by its name.
    conversation = _at("wechat.city")
    reply = conversation.say("选的是济南")
    assert reply["intent"] in ("tell_region", "confirm", "choose"), reply
    assert "我是哪里的" not in reply["say"], reply
    assert "“我是" not in reply["say"] or "“我是济南的”" in reply["say"], reply


def test_a_question_back_about_a_place_names_it_and_about_anything_else_uses_its_label():
    from assistant.understanding.regions import Place
    from assistant.understanding.understander import Understanding

    session = Conversation().session
    place = Place(province="河北", city="石家庄", county="正定", said="正定")
    heard = Understanding(intent="tell_region", action="confirm", slots={"region": place})
    assert session._label("tell_region", heard.slots) == "我是正定的"
    assert session._label("next", heard.slots) == session.flows.intents["next"].label
    assert session._label("tell_region", Understanding(intent="tell_region", action="confirm").slots) == "我是哪里的"


def test_a_word_that_is_also_a_county_is_no_place_named():
    reply = _at("wechat.city").say("和平")
    assert reply["intent"] != "tell_region", reply


# Session 47: at the city step, asking which city to pick ("城市就选我住的地方吗", "选北京吗") was "没听清" or
# asked "您是问“这样好了吗”?"; "我眼睛不好" alone was "没听清" wherever it was said. The step again says what the
# city is (the 参保地, where the pension is paid); not reading well is no obstacle (the cant_read answer).
CITY_QUESTIONS = ["城市这块是选我现在待的地方不", "那是不是就选西安", "城市选我领退休金那儿吗"]
EYES = [("greeting", "我眼睛不好"), ("wechat.entry", "我这眼睛不好啊"), ("alipay.open", "眼睛不好,看不大清")]


def test_the_session_47_sentences_are_not_training_sentences():
    assert not training_sentences_among(load_flows(), CITY_QUESTIONS + [s for _, s in EYES if s != "我眼睛不好"])


@pytest.mark.parametrize("said", CITY_QUESTIONS)
def test_which_city_to_pick_gets_the_city_step_again(said):
    conversation = _at("wechat.city")
    step = conversation.records[-1]["say"]
    reply = conversation.say_surely(said)
    assert conversation.session.state == "wechat.city", reply
    assert step.split("。")[0] in reply["say"] and "没听" not in reply["say"], reply


@pytest.mark.parametrize("state, said", EYES)
def test_poor_eyes_said_alone_gets_the_cant_read_answer_and_the_walk_goes_on(state, said):
    conversation = _at(state) if state != "greeting" else Conversation()
    reply = conversation.say_surely(said)
    assert reply["intent"] == "cant_read" and "说给您听" in reply["say"], reply
    assert conversation.session.state == state, reply


# Session 48: stuck at a step with no failure walk of its own ("弄不了", "不会弄", "还是不行" at a preparation step
# or an app's menu) was "没听清", and "咋整啊" (how is this done) too; "我看见了" was out of scope. Stuck gets "别着急"
# with the words that start each troubleshooting walk and the step again, in place; "咋整" gets the step again;
# seeing it is the step done. At a step that has its own failure (the face steps) that comes first, as before.
STUCK = [("wechat.prepare.network", "唉,我整不好这个"), ("alipay.open", "弄来弄去都弄不成"),
         ("app12333.download", "还是弄不好哇")]
HOW = [("wechat.service", "这玩意儿咋整呢"), ("alipay.entry", "这一步咋弄")]
SEEN = [("wechat.entry", "嗯,我瞅见它了"), ("alipay.open", "看见了看见了")]


def test_the_session_48_and_49_sentences_are_not_training_sentences():
    said = [s for _, s in STUCK + HOW + SEEN + SURE_STUCK + NETWORK_STUCK] + [CITY_IS_RIGHT, "它说提交上去了,让我等着",
                                                                       "我这咋弄都弄不成啊", "这些我一样都弄不明白"]
    assert not training_sentences_among(load_flows(), said)


@pytest.mark.parametrize("state, said", STUCK)
def test_stuck_at_a_step_gets_the_trouble_words_and_the_step_again_in_place(state, said):
    # Read unsurely, it may be asked about first ("您是说“还是不行”吗?", or that as one of two): the user answers it.
    conversation = _at(state)
    step = conversation.records[-1]["say"]
    reply = conversation.say(said)
    if reply["intent"] in ("confirm", "choose"):
        assert "“还是不行”" in reply["say"], reply
        reply = conversation.say("对" if reply["intent"] == "confirm" else "还是不行")
    assert conversation.session.state == state, reply
    assert reply["intent"] == "failed" and "别着急" in reply["say"] and "“找不到”" in reply["say"], reply
    assert step.split("。")[0] in reply["say"], (step, reply)


def test_stuck_at_a_face_step_is_still_the_face_trouble_walk():
    conversation = _at("wechat.face.move")
    reply = conversation.say_surely("还是不行啊")
    assert conversation.session.state.startswith("trouble_face"), reply


@pytest.mark.parametrize("state, said", HOW)
def test_how_is_this_done_gets_the_step_again(state, said):
    conversation = _at(state)
    step = conversation.records[-1]["say"]
    reply = conversation.say_surely(said)
    assert conversation.session.state == state and reply["intent"] == "repeat", reply
    assert step.split("。")[0] in reply["say"], (step, reply)


@pytest.mark.parametrize("state, said", SEEN)
def test_i_see_it_is_the_step_done(state, said):
    conversation = _at(state)
    reply = conversation.say_surely(said)
    assert reply["intent"] == "next" and conversation.session.state != state, reply


# Session 49: an answer that a step's own `on:` makes a move needs the act band of moves in that step only, so a
# sure "stuck" at a step with no failure of its own is answered at the answer band, without asking first (session
# 48 held it to the act band everywhere); stuck with the network at the network step is the network answer.
SURE_STUCK = [("wechat.open", "这个东西我实在弄不成"), ("alipay.entry", "这个我真是弄不来")]
READ_AS_WORRY = pytest.mark.xfail(
    strict=True, reason="session 65: since the worry of one's own ability is an intent (worried), read as it at 0.53 "
    "and asked back \"您是说“我怕弄不来”吗?\" — a yes gets the reassurance, not the trouble words")
NETWORK_STUCK = [("wechat.prepare.network", "这个网我弄不了")]

CITY_IS_RIGHT = "城市它自己跳到哈尔滨了,没毛病"  # "了,没毛病" once had the question cue of "V了没"


ASKED_BACK = pytest.mark.xfail(
    strict=True, reason="session 66: asked back \"您是说“还是不行”吗?\" (failed 0.59 with model f18f4701, 0.56 with "
    "07da2bf6; acted on at once with session 65's and session 67's first model, answer band 0.57) — the right reading "
    "offered, a yes gets the trouble words")


@pytest.mark.parametrize("state, said", [pytest.param(*SURE_STUCK[0], marks=READ_AS_WORRY),
                                         pytest.param(*SURE_STUCK[1], marks=ASKED_BACK)])
def test_sure_stuck_at_a_step_without_a_failure_of_its_own_is_answered_at_once(state, said):
    conversation = _at(state)
    step = conversation.records[-1]["say"]
    reply = conversation.say(said)
    assert reply["intent"] == "failed" and "别着急" in reply["say"], reply
    assert conversation.session.state == state and step.split("。")[0] in reply["say"], (step, reply)


@pytest.mark.parametrize("state, said", NETWORK_STUCK)
def test_stuck_with_the_network_at_the_network_step_gets_the_network_answer(state, said):
    # Read unsurely, it is asked about as the network question first ("您是说“网怎么连”吗?"): the user says 对.
    conversation = _at(state)
    reply = conversation.say_surely(said)
    assert reply["intent"] == "q_network" and "无线网" in reply["say"], reply
    assert conversation.session.state == state, reply


def test_it_is_right_no_problem_at_the_city_step_is_the_step_done():
    conversation = _at("wechat.city")
    reply = conversation.say(CITY_IS_RIGHT)
    assert reply["intent"] == "next" and conversation.session.state != "wechat.city", reply


@pytest.mark.parametrize("said", ["我这咋弄都弄不成啊", "这些我一样都弄不明白"])
def test_stuck_before_a_way_is_picked_is_pointed_to_the_easiest_way_not_to_face_scans(said):
    # Before a way is picked there is no screen to tap and no face to scan: knowledge.yaml stuck `by: where`.
    conversation = Conversation()
    reply = conversation.say_surely(said)
    assert conversation.session.state == "greeting" and reply["intent"] == "failed", reply
    assert "“哪个最简单”" in reply["say"] and "刷不了脸" not in reply["say"] and "找人帮忙" in reply["say"], reply
    reply = conversation.say("哪个最简单")
    assert reply["intent"] == "q_simplest" and "微信" in reply["say"], reply


# Session 64, by hand: after "提交成功" (handed in, the result awaited) "要等多久啊" was told "不麻烦,一般三到五分钟就能
# 做完" — how long certifying takes, to someone already done. There it is when the result comes (knowledge.yaml
# duration `by: where`, the states marked `awaiting_result` in dialog.yaml); at a step of the walk, how long it takes.
HOW_LONG = "那得等多长时间啊"


def test_how_long_sentence_is_not_a_training_sentence():
    assert not training_sentences_among(load_flows(), [HOW_LONG])


def test_how_long_after_handing_in_is_when_the_result_comes_not_how_long_it_takes():
    conversation = _at("wechat.face.result")
    conversation.say_surely("提交成功")
    assert conversation.session.state == "wechat.face.submitted"
    for where in ("wechat.face.submitted", "waiting"):
        reply = conversation.say_surely(HOW_LONG)
        assert reply["intent"] == "q_duration" and conversation.session.state == where, reply
        assert "几分钟内就出结果" in reply["say"] and "12333问问" in reply["say"], reply
        assert "三到五分钟就能做完" not in reply["say"], reply
        conversation.say_surely("好了")  # the submitted step, done: waiting for the result
    reply = _at("wechat.face.move").say_surely(HOW_LONG)
    assert reply["intent"] == "q_duration" and "三到五分钟就能做完" in reply["say"], reply


# Session 64, by hand: "点不进去", "不会选", "下载不了" at their steps were "对不起,我没听清" — though said clearly. Not
# being able to do it (understanding.yaml guards `cannot`), nothing else understood at a step, moves nothing and is
# no miss: take your time, and how to get help (phrases.yaml went_wrong). At the greeting it is left to the model.
CANNOT = [("wechat.city", "这个城市我选不来"), ("app12333.login", "我登录不进去啊"), ("wechat.face.frame", "这个我搞不明白")]
HEARD_AS = {"这个我搞不明白": "worried"}
"""Session 65: "这个我搞不明白" is read as the worry of one's own ability (worried, 0.90) — reassured, with the same ways
to help; the others are the went_wrong words. Either way nothing moves and it is no miss."""


def test_cannot_sentences_are_not_training_sentences():
    assert not training_sentences_among(load_flows(), [s for _, s in CANNOT])


@pytest.mark.parametrize("state, said", CANNOT)
def test_cannot_do_it_at_a_step_moves_nowhere_and_is_not_a_miss(state, said):
    conversation = _at(state)
    reply = conversation.say(said)
    worried = HEARD_AS.get(said) == "worried"
    assert reply["intent"] == ("worried" if worried else "went_wrong"), reply
    assert reply["say"].startswith("别担心" if worried else "别着急") and "找人帮忙" in reply["say"], reply
    assert "我没听" not in reply["say"] and conversation.session.state == state, reply


# Session 65, by hand: where there is no step to finish, a "can't" that nothing else understood was "没听清" too.
CANNOT_HERE = [("greeting", "呃我点不进去啊")]


@pytest.mark.parametrize("state, said", CANNOT_HERE)
def test_cannot_do_it_where_there_is_no_step_is_heard_and_the_question_comes_again(state, said):
    assert not training_sentences_among(load_flows(), [said])
    conversation = Conversation()  # it starts at the greeting
    assert conversation.session.state == state
    reply = conversation.say(said)
    assert reply["intent"] == "went_wrong" and reply["say"].startswith("别着急") and "家里人帮忙" in reply["say"], reply
    assert "弄好了再说" not in reply["say"] and "没听" not in reply["say"], reply
    assert "您想用什么认证" in reply["say"] and conversation.session.state == state, reply
