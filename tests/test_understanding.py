"""Understanding as a user meets it, through the conversation `chat --json` drives (in-process, tests/chatdriver.py):
the sentences issue 11 measured going wrong, and the guards that must never fail. (Unit checks of the model and its
data are at the end.)"""

import subprocess
import sys
from datetime import date

import numpy as np
import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from tests.chatdriver import ROOT, Conversation, training_sentences_among

FLOWS = load_flows()
WALKS = {"wechat", "alipay", "app12333", "laolai", "ganfutong", "yueshitong", "abroad", "family_wechat", "family_alipay"}


def walk(state: str) -> str:
    return state.split(".")[0]


def to_step(chat: Conversation, channel="用微信", steps=1):
    """Choose a channel and move `steps` steps into its walk."""
    chat.say(channel)
    for _ in range(steps - 1):
        chat.say("好了")
    return chat.records[-1]["state"]


def test_not_yet_and_done_questions_never_move_on():
    with Conversation() as chat:
        step = to_step(chat, steps=4)
        for said in ["我还没弄好呢", "没弄好呢", "这样弄好了吗", "是不是好了", "等一下啊,我还在找"]:
            reply = chat.say(said)
            assert reply["state"] == step, (said, reply)
            assert reply["intent"] in ("not_yet", "check_done", "confirm", "choose"), (said, reply)
        # 正…着 / …着呢 with a verb of work under way (the not_yet cue) is waiting, not "您是说“好了”吗?" ("正传着嘞":
        # still uploading, was asked about as 好了 at 0.89): taken as not yet, or asked about as not yet
        for said in ["正传着嘞", "还下载着呢"]:
            reply = chat.say(said)
            assert reply["state"] == step, (said, reply)
            assert reply["intent"] == "not_yet" or (reply["intent"] == "confirm" and "还没弄好" in reply["say"]
                                                    and "“好了”吗" not in reply["say"]), (said, reply)
        assert chat.say("好了")["state"] != step  # and a real "好了" still does


def _to(chat: Conversation, state: str, channel="用微信"):
    chat.say(channel)
    for _ in range(20):
        if chat.records[-1]["state"] == state:
            return
        chat.say("好了")
    raise AssertionError(f"never reached {state}: {chat.records[-1]}")


def test_a_negated_obstacle_is_done_but_any_other_negation_is_not():
    """"不戴眼镜", "挡不住", "没反光" say the way is clear (`cue_exceptions` in flows/understanding.yaml): on the face
    steps they move on like "好了" did, where before every one was asked "您是说“好了”吗?". A negation of anything
    else in the same turn still holds the step."""
    for step, said in [("wechat.face.cover", "俺不戴眼镜,口罩也摘了"), ("wechat.face.cover", "眼镜没有反光,口罩摘了"),
                       ("wechat.face.hair", "俺头发短,挡不住"), ("wechat.face.hair", "头发别到耳朵后面了")]:
        with Conversation() as chat:
            _to(chat, step)
            reply = chat.say(said)
            assert reply["state"] != step and reply["intent"] == "next", (said, reply)
    for step, said in [("wechat.face.cover", "不戴眼镜我看不清"), ("wechat.face.cover", "眼镜还没摘"),
                       ("wechat.face.cover", "口罩没摘"), ("wechat.face.hair", "头发没别好")]:
        with Conversation() as chat:
            _to(chat, step)
            reply = chat.say(said)
            assert reply["state"] == step and reply["intent"] != "next", (said, reply)


def test_done_and_asking_for_the_next_step_moves_on_but_a_done_question_does_not():
    """"…点开了,下一步是啥" asks for what "好了" asks for (`cue_exceptions: question` in flows/understanding.yaml):
    it moves on, where every such turn was asked "您是说“好了”吗?" at p 0.99 (session 38). A turn that asks whether
    the step is done, or says it is not, is never taken as done whatever it asks next: it holds the step, or (not
    found) goes to the help for finding it."""
    for step, said in [("wechat.open", "微信打开了,下一步干啥"), ("wechat.service", "城市服务点进去了,接下来咋弄"),
                       ("wechat.city", "城市选好了,然后点哪里")]:
        with Conversation() as chat:
            _to(chat, step)
            reply = chat.say(said)
            assert reply["state"] != step and reply["intent"] == "next", (said, reply)
    for step, said in [("wechat.open", "这样打开了吗,下一步干啥"), ("wechat.service", "城市服务还没找着,接下来咋弄")]:
        with Conversation() as chat:
            _to(chat, step)
            reply = chat.say(said)
            assert reply["intent"] not in ("next", "yes") and reply["state"] != FLOWS.states[step].on["next"], \
                (said, reply)
            assert reply["state"] == step or reply["intent"] == "cant_find", (said, reply)


def test_a_request_turned_down_is_never_carried_out_but_asked_plainly_it_is():
    """"别从头来" was read as start over at 1.00 and "不要转人工" as a person at 0.99: a decline word right before a
    request's phrase (guards.declined in flows/understanding.yaml) means the user does not want it. Mid-walk the
    step stays where it is; the same requests said plainly are still carried out."""
    # The decline word is a negation too, so "…,好了" after it is asked about, never taken as done.
    for said in ["别从头来", "不用重新开始", "不要重来,我接着弄", "不要给我转人工", "不用找人帮忙", "不用再说一遍了",
                 "不用慢一点", "我不想找人工", "不用重新开始,好了", "我已经弄成功了,不用找人了", "不用打电话了",
                 "不要人工"]:
        with Conversation() as chat:
            step = to_step(chat, steps=3)
            reply = chat.say(said)
            assert reply["state"] == step, (said, reply)
            assert reply["intent"] not in ("start_over", "human", "repeat", "slower"), (said, reply)
            assert reply["intent"] != "next" or "成功" in said, (said, reply)
            if reply["intent"] == "declined":  # understood: said so, and the step's question again — no "没听清"
                assert reply["say"].startswith(FLOWS.say["declined"]) and "没听清" not in reply["say"], reply
                assert FLOWS.states[step].ask_sentences[-1] in reply["say"], reply
    for said, intent in [("重新开始", "start_over"), ("我要找人工", "human"), ("没听清,再说一遍", "repeat"),
                         ("太快了,慢一点", "slower")]:
        with Conversation() as chat:
            to_step(chat, steps=3)
            assert chat.say(said)["intent"] == intent, said


def test_help_from_home_turned_down_never_starts_the_family_walk(understander):
    """Session 47, tried as a user would: "不要家里人帮忙" and "不用孩子帮,我会弄" at the greeting started the family
    walk (p 0.92, 0.99), the opposite of what was said. Help from home turned down (guards.declined) is never the
    family walk, even from a model sure of it: "好的,那就不用。" and the question of channels; asked for plainly,
    it is still the family walk."""
    from assistant.understanding import Understander
    from assistant.understanding.model import IntentModel

    model = understander.model
    sure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, model.bands)
    sure.bias[sure.class_index["ch_family"]] = 9.0  # a model that reads every turn as the family walk, p > 0.99
    biased = Understander(FLOWS, model=sure)
    allowed = FLOWS.allowed_intents("greeting")
    for said in ["甭叫我闺女,俺自个儿能弄", "不用麻烦儿子,我自己来", "不要孙子弄,我学", "不找家里人了,我自己试试"]:
        u = biased.understand(said, "greeting", allowed)
        assert (u.action, u.guard) == ("unknown", "declined"), (said, u.action, u.intent, u.guard)
    for said in ["让我闺女帮我弄", "家里人帮忙", "我不会,叫孙子帮我"]:
        assert biased.understand(said, "greeting", allowed).intent == "ch_family", said
    # The real model, in the conversation: never the family walk; said so, or the channel it names.
    for said in ["甭叫我闺女,俺自个儿能弄", "不用麻烦儿子,我自己来", "不要孙子弄,我学", "不找家里人了,我自己试试",
                 "不用家里人,用微信"]:
        with Conversation() as chat:
            reply = chat.say_surely(said)
            assert not reply["state"].startswith("family") and reply["intent"] != "ch_family", (said, reply)
            assert reply["intent"] != "declined" or reply["say"].startswith(FLOWS.say["declined"]), (said, reply)
            if said.endswith("用微信"):
                assert reply["state"].startswith("wechat"), (said, reply)
    with Conversation() as chat:
        assert chat.say_surely("让我闺女帮我弄")["state"].startswith("family")


def test_not_having_an_app_never_starts_its_walk():
    # Each in a conversation of its own: the apps lacked earlier in one are left out of what is offered (session 60).
    for said, app in [("我没有微信", "微信"), ("我不想用支付宝", "支付宝"), ("我手机上没装支付宝", "支付宝")]:
        with Conversation() as chat:
            reply = chat.say(said)
            assert reply["state"] == "greeting", (said, reply)
            assert reply["intent"] == "lacks_channel" and app in reply["say"]
            others = {"微信", "支付宝", "掌上12333"} - {app}
            assert all(o in reply["say"] for o in others), reply["say"]


@pytest.mark.parametrize("state, said, lack", [
    ("alipay.prepare.phone", "我手机是智能的", "no_smartphone"),
    ("wechat.prepare.phone", "俺家有智能手机", "no_smartphone"),
    ("app12333.prepare.phone", "智能手机我有一个,儿子买的", "no_smartphone"),
    ("wechat.prepare.phone", "手机我会使,能上网", "no_smartphone"),
    ("greeting", "我家里有智能手机", "no_smartphone"),
    ("app12333.account", "密码我还记得", "forgot_password"),
    ("app12333.account", "我记着密码呢", "forgot_password"),
])
def test_having_what_a_step_asks_for_is_never_taken_for_lacking_it(state, said, lack):
    """The mirror of a lack: "我有智能手机" at the phone step was the no-smartphone answer (0.99), again at every
    repeat; "密码我记得" at the account step took the user to resetting the password. Sentences not in flows/."""
    reply = _said_at(state, said)
    assert reply.intent != lack, (said, reply.intent, reply.say)
    assert reply.state != "app12333.reset"


@pytest.mark.parametrize("said", ["手机我天天用", "我那手机能视频", "智能手机俺也有一个"])
def test_having_a_smartphone_at_the_greeting_is_neither_lacking_one_nor_asked_as_that(said):
    """Session 51: "俺有智能手机" at the greeting was the no-smartphone answer (0.70), "我会用手机" asked as it.
    Session 52: without a lack word or a basic phone (understanding.yaml `needs_cue`) it is never that reading
    ("智能手机俺也有一个" got it at 0.60 before). Sentences not in flows/."""
    reply = _said_at("greeting", said)
    assert reply.intent != "no_smartphone" and "没有智能手机" not in reply.say, (said, reply.intent, reply.say)


NOT_KNOWING_HOW = ["这些玩意儿俺都整不明白", "手机上这些我不会鼓捣"]
"""(Session 52's expected failure "我一点都不懂这个" is gone: since session 65 "我一点都不懂" is a phrase of `worried`,
the same sentence once 这个 is taken out as a filler, so it would test only that the model remembers.)"""


def test_the_not_knowing_how_sentences_are_not_training_sentences():
    from tests.chatdriver import training_sentences_among

    assert not training_sentences_among(FLOWS, NOT_KNOWING_HOW)


@pytest.mark.parametrize("said", NOT_KNOWING_HOW)
def test_not_knowing_how_at_the_greeting_is_heard(said):
    """"这玩意我压根不会弄" at the greeting was "这句话我没听明白" (session 50): not knowing how is heard there —
    answered ("别着急,咱们慢慢来……", a step-by-step start, the ways without a smartphone) or asked about as one of
    those, never "没听明白". Sentences not in flows/ ("手机上这些我不会鼓捣" was "没听明白" with session 57's model, 0.37
    against a confirm band of 0.38; session 58 added three sentences of not knowing how to handle (摆弄, 捣鼓) a phone,
    and it is asked "您是说“没有智能手机”吗?"). Since session 65 the reassurance of `worried` ("别担心,咱们慢慢来……家里人
    帮忙……找人帮忙") is such an answer too."""
    session = Session(FLOWS)
    session.greet()
    reply = session.handle(said)
    read = _read_as(session, reply)
    assert read & {"failed", "want_certify", "no_smartphone", "other_ways", "worried"}, (said, reply.intent, reply.say)


@pytest.mark.parametrize("said", ["我人在西雅图", "我在芬兰女儿那边"])
def test_a_place_abroad_no_sentence_names_still_points_to_the_consulate_way(said):
    """`slots: abroad` (understanding.yaml): the model sees that a place abroad was named, whichever it is. No
    sentence of flows/ names 西雅图 or 芬兰; the consulate walk is started or offered ("您是说“在国外”吗?")."""
    session = Session(FLOWS)
    session.greet()
    reply = session.handle(said)
    read = _read_as(session, reply)
    assert "ch_abroad" in read, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said, meant", [("wechat.city", "声儿太小了听不清", "louder"),
                                                ("wechat.open", "好了,下一步说啥", "next")])
def test_a_small_voice_and_what_the_next_step_says_are_acted_on(state, said, meant):
    """"声音太小了" at the end was asked about ("了" leant to 小声点), and "下一步说啥" (下一步是啥 as recognition often
    hears it) kept its question cue, so the step was asked back as "好了" (spoken fresh set, session 52)."""
    assert _said_at(state, said).intent == meant


def test_inner_mongolia_is_no_place_abroad():
    reply = _said_at("greeting", "我住在内蒙古")
    assert reply.intent == "tell_region" and "内蒙古" in reply.say, reply.say


@pytest.mark.parametrize("state, said, lack", [("alipay.prepare.phone", "我家没有智能手机", "no_smartphone"),
                                                ("greeting", "俺不会使智能手机", "no_smartphone"),
                                                ("greeting", "我就一个老人机", "no_smartphone"),
                                                ("wechat.prepare.phone", "俺那手机只能打电话", "no_smartphone"),
                                                ("app12333.account", "密码我记不得了", "forgot_password")])
def test_lacking_it_is_still_understood(state, said, lack):
    assert _said_at(state, said).intent == lack


@pytest.mark.parametrize("state, said", [("greeting", "我能出门"), ("greeting", "字我都认得"),
                                         ("wechat.prepare.phone", "我自己能走着去"), ("alipay.open", "我认字")])
def test_saying_one_can_is_not_saying_one_cannot(state, said):
    """Session 52: "我能出门" got the home-visit answer (0.83), "我识字" the can't-read one (0.90). Without a
    negation or a word of their own (understanding.yaml `needs_cue`: immobile, illiterate) neither is read, acted on
    or asked about. Sentences not in flows/."""
    session, reply = _heard_at(state, said)
    read = _read_as(session, reply)
    assert not read & {"bedridden", "cant_read"}, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said, meant", [("greeting", "我妈瘫在床上好些年了", "bedridden"),
                                                pytest.param("greeting", "俺是个睁眼瞎", "cant_read", marks=pytest.mark.xfail(
                                                    strict=True, reason="want_certify or tell_region (0.35); five "
                                                    "sentences of not reading without a negation fixed it but asked "
                                                    "\"好的吧\" at the greeting as 对 or 再见: not kept (session 53)")),
                                                ("greeting", "我这手机光能打电话", "no_smartphone"),
                                                ("wechat.prepare.phone", "俺的手机净能接电话", "no_smartphone"),
                                                pytest.param("greeting", "俺现在在日本儿子家", "ch_abroad", marks=pytest.mark.xfail(
                                                    strict=True, reason="session 67, model 07da2bf6: out of scope 0.44 "
                                                    "beside ch_abroad 0.42 (家 pulls to out of scope; it passed with "
                                                    "f18f4701 and 464275d1): \"没听明白\"; a user still meets this")),
                                                ("greeting", "我如今住在德国闺女那儿", "ch_abroad")])
def test_what_is_said_without_a_negation_is_still_heard(state, said, meant):
    """The other side of that guard: being kept from home, not reading, a phone that only makes calls ("光能打电话":
    光 for only, session 52 not understood) and living with a child abroad (out of scope at 0.46 in session 52)
    are read without a negation: acted on or asked about. Sentences not in flows/."""
    session, reply = _heard_at(state, said)
    read = _read_as(session, reply)
    assert meant in read, (said, reply.intent, reply.say)


@pytest.mark.parametrize("said, lacked, kept", [("我不用微信,用支付宝", "微信", "支付宝"),
                                                ("微信我没装,我有支付宝", "微信", "支付宝"),
                                                ("我手机上没有支付宝,只有微信", "支付宝", "微信"),
                                                ("俺不会用支付宝,微信俺会", "支付宝", "微信"),
                                                ("我没有微信,用支付宝吧", "微信", "支付宝")])
def test_of_two_channels_the_one_said_to_be_lacked_is_the_one_lacked(said, lacked, kept):
    """Found by hand (session 53): the lack answer named the longer name (`channel` slot), so "我不用微信,用支付宝" was
    told "没有支付宝也没关系。还可以用“微信”……", and "俺不会用支付宝,微信俺会" was asked "……还是“支付宝”?". Now the
    channel with a lack word beside it (understanding.yaml `lacked_channel`) is named, and never offered as a walk."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at("greeting", said)
    read = _read_as(session, reply)
    assert {"ch_wechat" if lacked == "微信" else "ch_alipay"}.isdisjoint(read), (said, reply.intent, reply.say)
    assert f"没有{kept}" not in reply.say, (said, reply.say)
    if reply.intent == "confirm":
        reply = session.handle("对")
    if reply.intent in ("lacks_channel", "ch_wechat", "ch_alipay"):
        assert reply.say.startswith(f"没有{lacked}"), (said, reply.say)


@pytest.mark.parametrize("said, walk", [("我不用微信,用支付宝", "alipay"), ("微信我没装,我有支付宝", "alipay"),
                                        ("没有微信,支付宝有", "alipay"), ("我不用微信和支付宝,用掌上12333", "app12333"),
                                        ("我手机上没有支付宝,只有微信", "wechat"), ("我没有微信,用支付宝吧", "alipay")])
@pytest.mark.parametrize("where", ["greeting", "the lacked one's walk"])
def test_the_other_channel_named_beside_the_lacked_one_is_walked_at_once(said, walk, where):
    """Tried as a new user (session 54): "我不用微信,用支付宝" was told "没有微信也没关系。还可以用“支付宝”……" and had to say
    支付宝 again. The one channel named without a lack word (slot `wanted`) is the way wanted: its walk at once, after
    the lack sentence — from the greeting, and from inside the walk of the channel lacked."""
    session = Session(FLOWS)
    session.greet()
    if where != "greeting":
        session.handle("我用支付宝" if walk == "wechat" else "我用微信")
        session.handle("好了")
    reply = session.handle(said)
    if reply.intent == "confirm":
        reply = session.handle("对")
    assert FLOWS.states[session.state].walk == walk, (said, reply.intent, reply.say)
    assert reply.say.startswith("没有") and "还可以用" not in reply.say, (said, reply.say)


@pytest.mark.parametrize("said", ["微信没有,支付宝也没有", "我手机上没有微信也没有支付宝",
                                  "我没有微信和支付宝", "微信和支付宝都没有", "微信支付宝我都没装", "微信跟支付宝我都不会用"])
def test_every_channel_said_to_be_lacked_is_named_and_none_offered(said):
    """"微信没有,支付宝也没有" was told "没有微信也没关系。还可以用“支付宝”……": both lacked, neither offered. Session 55,
    by hand: names said together share the lack (understanding.yaml lacked_channel `joined`, `all`) — "我没有微信和
    支付宝" had walked Alipay and "微信和支付宝都没有" WeChat, each the name without a lack word beside it."""
    _, reply = _answered_at_greeting(said)
    assert reply.intent == "lacks_channel", (said, reply.intent, reply.say)
    assert reply.say.startswith("没有微信和支付宝也没关系"), reply.say
    assert "“支付宝”" not in reply.say and "“微信”" not in reply.say, reply.say


@pytest.mark.parametrize("said, lacked, kept", [("我有微信和支付宝,没有掌上12333", ["掌上12333"], ["微信", "支付宝"]),
                                                ("我手机里有支付宝,没有微信跟掌上12333", ["微信", "掌上12333"], ["支付宝"]),
                                                ("支付宝和微信没有,掌上12333有", ["支付宝", "微信"], ["掌上12333"])])
def test_one_lack_word_between_names_is_the_one_without_its_own_having(said, lacked, kept):
    """Session 55's note, by hand: "我有微信和支付宝,没有掌上12333" was told all three were missing — the comma is gone
    once normalised (as when spoken) and 没有 stood after 支付宝 as much as before 掌上12333. The names with a "有" of
    their own are had (understanding.yaml lacked_channel `had_before` / `had_after`): only the rest are said to be
    lacked, and the ones had are offered or walked."""
    session, reply = _answered_at_greeting(said)
    assert reply.say.startswith("没有" + "和".join(lacked) + "也没关系"), (said, reply.intent, reply.say)
    if len(kept) > 1:  # offered back, none walked
        assert all(f"“{name}”" in reply.say for name in kept), reply.say
    else:  # the one had is walked at once
        assert FLOWS.states[session.state].walk != FLOWS.states[session.flows.start].walk, reply.say
        assert "还可以用" not in reply.say, reply.say


@pytest.mark.parametrize("said", ["俺手机上没有掌上12333那个", "我有微信和支付宝,没有掌上12333", "掌上12333我没装,用微信"])
def test_lacking_another_channel_inside_a_walk_stays_in_it(said):
    """Session 56, by hand: in the WeChat walk "我没有掌上12333" was told "还可以用“微信”或者“支付宝”……" — offered the
    way already in use — and the step was not said again. Lacking another channel is no reason to leave the walk of
    one the user has: the lack is acknowledged and the step said again, where they were."""
    assert not training_sentences_among(FLOWS, [said])
    session = Session(FLOWS)
    session.greet()
    session.handle("我用微信")
    session.handle("好了")
    step = session.state
    reply = session.handle(said)
    if reply.intent == "confirm":
        reply = session.handle("对")
    assert session.state == step, (said, session.state, reply.say)
    assert reply.say.startswith("没有掌上12333也没关系") and "还可以用" not in reply.say, reply.say
    assert FLOWS.states[step].say.split("。")[0] in reply.say, reply.say


def test_lacking_the_channel_walked_among_others_leaves_its_walk():
    """Rereading session 56: the walk was left only when the first channel named as lacked was the one walked, so
    "掌上12333和微信我都没有" in the WeChat walk listed Alipay and stayed in the WeChat walk ("好了" went on with it)."""
    said = "掌上12333和微信我都没有"
    assert not training_sentences_among(FLOWS, [said])
    session = Session(FLOWS)
    session.greet()
    session.handle("我用微信")
    session.handle("好了")
    reply = session.handle(said)
    if reply.intent == "confirm":
        reply = session.handle("对")
    assert FLOWS.states[session.state].walk != "wechat", (session.state, reply.say)
    assert reply.say.startswith("没有掌上12333和微信也没关系") and "“支付宝”" in reply.say, reply.say


def _answered_at_greeting(said: str):
    """A session that greeted, and its reply to `said` (a sentence not in flows/), confirmed with "对" if asked."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at("greeting", said)
    if reply.intent == "confirm":
        reply = session.handle("对")
    return session, reply


def _read_as(session, reply) -> set:
    """What a reply acted on, or, asked back ("您是说……吗?" / "……还是……?"), the reading(s) it offers (kept as
    pending: kind, reading(s)…, text)."""
    return set(session.pending[1:-1]) if reply.intent in ("confirm", "choose") else {reply.intent}


def _heard_at(state: str, said: str):
    """A session that has greeted, set to `state`, and its reply to `said`."""
    session = Session(FLOWS)
    session.greet()
    session.machine.set_state(state)
    return session, session.handle(said)


def _said_at(state: str, said: str):
    """The reply to `said` at `state` of a session that has greeted."""
    return _heard_at(state, said)[1]


def test_asking_to_hear_it_again_is_never_goodbye():
    with Conversation() as chat:
        to_step(chat, steps=2)
        for said in ["再讲一下", "你再讲讲", "再讲一次"]:
            assert chat.say(said)["intent"] == "repeat", said
        for said in ["微信退出了", "结束了吗", "就这样吗", "我没事了吧", "再讲一下"]:
            reply = chat.say(said)
            assert reply["intent"] != "goodbye" and reply["state"] not in ("goodbye", "greeting"), (said, reply)


@pytest.mark.parametrize("story, kind_words", [
    ("电话显示是12333,说我社保卡异常要被终止,要我报卡号和密码", "账户异常"),
    ("有人说认证要先交一百块钱手续费", "先交钱"),
    ("群里有人发了个二维码,说扫了就能认证养老金", "二维码"),
    ("有个自称社保局的打电话,让我把钱转到安全账户", "安全账户"),
    ("收到短信说养老金认证要过期了,让我点链接重新认证", "短信里"),
])
def test_scam_stories_are_scams_whatever_channel_they_name(story, kind_words):
    with Conversation() as chat:
        reply = chat.say(story)
        assert reply["intent"] == "q_scam" and reply["state"] == "greeting", reply
        assert "骗" in reply["say"] and kind_words in reply["say"].split("。")[0]  # the answer names that scam first
        assert "12333官方不会主动打电话要密码" in reply["say"]
        step = to_step(chat, "用掌上12333", steps=2)
        reply = chat.say(story)  # in the middle of the 12333 walk too
        assert reply["intent"] == "q_scam" and reply["state"] == step, reply


def test_everyday_sentences_take_the_right_turn():
    with Conversation() as chat:
        reply = chat.say("我要认证养老金")
        assert reply["intent"] == "want_certify" and reply["state"] == "greeting" and "微信" in reply["say"]
        reply = chat.say("我女儿在国外")
        assert walk(reply["state"]) != "abroad", reply
        reply = chat.say("你吃饭了没有")
        assert reply["intent"] in ("out_of_scope", "unknown") and reply["state"] == "greeting", reply


def test_a_region_said_mid_walk_is_remembered_not_a_reason_to_leave():
    with Conversation() as chat:
        to_step(chat, steps=1)
        while chat.records[-1]["state"] != "wechat.city":
            chat.say("好了")
        reply = chat.say("我是广州的")
        assert reply["state"] == "wechat.city" and reply["intent"] == "tell_region", reply
        assert "广州" in reply["say"]


def test_failure_words_lead_to_troubleshooting():
    for said in ["失败了", "不行", "还是不行", "没成功"]:
        with Conversation() as chat:
            chat.say("用支付宝")
            while not chat.records[-1]["state"].endswith("face.result"):
                chat.say("好了")
            reply = chat.say(said)
            assert reply["state"].startswith("trouble_face"), (said, reply)


def test_short_yes_answers_a_confirmation():
    flows = FLOWS
    session = Session(flows, today=date(2026, 11, 30))
    for yes in ["嗯", "好的", "可以", "要", "对"]:
        session.greet()
        session.pending = ("confirm", "ch_alipay", "支付")
        reply = session.handle(yes)
        assert reply.state == "alipay.prepare.phone", (yes, reply.say)
    for no in ["不对", "不是"]:
        session.greet()
        session.pending = ("confirm", "ch_alipay", "支付")
        assert session.handle(no).state == "greeting"


def test_a_question_asked_back_is_answered_not_taken_for_a_no():
    """After "您是说“还没弄好”吗?", a turn the step would act on as something else is that, not an answer among the
    question's few readings: "…老花镜用不用摘" holds a 不 and was read as "no" ("好的,请您再说一遍")."""
    session = Session(FLOWS, today=date(2026, 11, 30))
    session.greet()
    for said in ("用微信", "好了", "好了", "好了"):
        session.handle(said)
    step = session.state
    session.pending = ("confirm", "not_yet", "那我接着弄")
    reply = session.handle("要刷脸了,我这老花镜用不用摘")
    assert reply.intent == "q_glasses" and reply.state == step, (reply.intent, reply.say)
    assert FLOWS.answers[FLOWS.answer_of["q_glasses"]].say[:8] in reply.say
    for answer, intent in (("不对", "no"), ("对", "not_yet")):  # a plain yes or no still answers it
        session.pending = ("confirm", "not_yet", "那我接着弄")
        assert session.handle(answer).intent == intent, answer
    # A sure answer to the question stays one, though the step alone reads it otherwise ("不用了" as goodbye).
    session.machine.set_state("done")
    session.pending = ("remind", date(2027, 11, 30))
    reply = session.handle("不用了")
    assert reply.intent == "no" and reply.state == "done", (reply.intent, reply.say)


def test_a_choice_is_said_back_before_the_first_step():
    with Conversation() as chat:
        reply = chat.say("用支付宝")
        assert reply["state"] == "alipay.prepare.phone"
        assert reply["say"].startswith("好,咱们用支付宝认证。")


def test_two_part_sentences_act_on_both_parts():
    with Conversation(today="2026-11-30") as chat:
        reply = chat.say_surely("我是广东佛山的,用支付宝")  # acted on, or "您是说“支付宝”吗?" then "对"
        assert walk(reply["state"]) == "alipay", reply
        reply = chat.say("上次是三月五号认证的,下次什么时候")
        assert reply["intent"] == "q_next_date" and "2027年3月5日" in reply["say"], reply  # 佛山: 365 days
    with Conversation() as chat:
        reply = chat.say("我是山西的,用什么软件")
        assert reply["state"] == "greeting" and "老来网" in reply["say"], reply


@pytest.mark.parametrize("said, expect", [
    ("上次是五月份认证的,下次什么时候", "2027年5月1日"),          # month only: counted from its first day
    ("去年腊月初三认证的,还有多久", "2027年1月21日"),              # lunar 2025-12-03 = 2026-01-21
    ("上个月五号认证的,下次啥时候", "2027年10月5日"),
])
def test_dates_the_way_elders_say_them(said, expect):
    with Conversation(today="2026-11-30") as chat:
        reply = chat.say(said)
        assert reply["intent"] == "q_next_date" and expect in reply["say"], reply


def test_a_vague_date_is_counted_from_its_first_day_and_the_exact_day_asked_for():
    with Conversation(today="2026-11-30") as chat:
        reply = chat.say("上次是五月份认证的,下次什么时候")
        assert "2027年5月1日" in reply["say"] and "哪一天" in reply["say"], reply
        reply = chat.say("五月二十号")
        assert reply["intent"] == "q_next_date" and "2027年5月20日" in reply["say"], reply
        assert chat.say("微信")["state"] == "wechat.prepare.phone"  # anything else goes on as usual


def test_a_feature_phone_gets_the_no_smartphone_answer():
    session = Session(FLOWS)
    session.greet()
    reply = session._answer("q_phone_type", "我的是老年机能用吗", {"phone": "feature"})
    assert "社区" in reply.say and "身份证" in reply.say  # what to do without a smartphone
    assert "安卓" in session._answer("q_phone_type", "苹果手机能用吗", {"phone": "iphone"}).say
    with Conversation() as chat:
        reply = chat.say_surely("我的是老年机能用吗")
        if reply["intent"] == "choose":  # "您是说“什么手机能用”,还是“没有智能手机”?"
            reply = chat.say("没有智能手机")
        assert "社区" in reply["say"] and "身份证" in reply["say"], reply


def test_a_city_gets_its_provinces_rule():
    with Conversation(today="2026-11-30") as chat:
        reply = chat.say("我是甘肃天水的,上次是三月五号认证的,下次什么时候")
        assert "2026年9月1日" in reply["say"] and "已经过了90天" in reply["say"], reply  # 180 days after 3-5


def test_why_explains_a_reading():
    proc = subprocess.run([sys.executable, "-m", "assistant", "why", "我还没弄好呢", "--state", "wechat.open"],
                          capture_output=True, cwd=ROOT, timeout=300)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert "not_yet" in out and "top intents" in out and "what pushed" in out and "%" in out
    proc = subprocess.run([sys.executable, "-m", "assistant", "why", "验证码是四五六七八九", "--state", "greeting"],
                          capture_output=True, cwd=ROOT, timeout=300)
    assert "四五六七八九" not in proc.stdout.decode("utf-8") and "private" in proc.stdout.decode("utf-8")


# --- in-process: the model, its bands and its data ----------------------------------------------------------

def test_bands_come_from_cross_validation_and_are_ordered(understander):
    bands = understander.model.bands
    assert 0.0 < bands.confirm <= bands.act < 1.0
    assert 0.0 < bands.choose < bands.act
    assert bands.pair is None or bands.choose * 2 <= bands.pair <= 1.0


def test_the_pair_band_is_the_lowest_sum_where_the_truth_is_one_of_the_two_often_enough():
    from assistant.understanding.model import _pair_band

    # (p1, p2, top right?, original, top, one of the two right?), surest first; confirm band 0.6
    seen = [(0.9, 0.05, True, True, "a", True),  # above confirm: not a pair question
            (0.5, 0.45, False, True, "a", True), (0.5, 0.4, True, True, "a", True),
            (0.45, 0.4, False, True, "a", True), (0.4, 0.4, False, True, "a", False),
            (0.4, 0.3, False, True, "a", False), (0.3, 0.3, False, True, "a", False),
            (0.5, 0.1, False, True, "a", True)]  # second too unlikely to offer
    # cumulated from the surest pair: 1/1, 2/2, 3/3, 3/4 = 0.75, 3/5, 3/6
    assert _pair_band(seen, 0.6, 0.25, 0.75) == 0.8
    assert _pair_band(seen, 0.6, 0.25, 1.0) == 0.85
    assert _pair_band(seen, 0.6, 0.25, None) is None
    assert _pair_band(seen[-1:], 0.6, 0.25, 0.75) is None


def _readings(n, seed, right_at, answer_share=0.0):
    """n cross-validated readings (p1, p2, right?, original, top, one of two right?) with p1 spread evenly and
    each right with probability right_at(p1); a share of them answers ("q_a"), the rest moves ("m")."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 1.0, n)
    right = rng.uniform(size=n) < right_at(p)
    top = np.where(rng.uniform(size=n) < answer_share, "q_a", "m")
    return [(float(a), 0.0, bool(r), True, str(t), bool(r)) for a, r, t in zip(p, right, top)]


def test_the_bands_sit_where_the_goals_put_them_on_readings_as_right_as_they_are_sure():
    from assistant.understanding.model import bands_from

    # Right exactly as often as sure: wrong above t, per reading, is (1-t)^2/2 → 0.4 % of all at t = 1 - √0.008
    # ≈ 0.911; right at least half the time from 0.5 up.
    goal = {"wrong_acted_max": 0.004, "confirm_min_right": 0.5, "choose_second_min": 0.25}
    bands = bands_from(_readings(20000, 1, lambda p: p), goal)
    assert abs(bands.act - (1 - 0.008 ** 0.5)) < 0.02
    assert abs(bands.confirm - 0.5) < 0.05
    assert bands.answer is None
    # Answers right more often at the same p get a lower band of their own, against their own budget.
    goal = {**goal, "answer_wrong_max": 0.0075}
    seen = _readings(20000, 2, lambda p: p, 0.3)
    seen = [(s[0], s[1], s[2] or (s[4] == "q_a" and s[0] > 0.3), *s[3:]) for s in seen]
    bands = bands_from(seen, goal, [s[4] == "q_a" for s in seen])
    assert bands.answer < bands.act


def test_the_bands_hold_still_when_a_few_sentences_come_and_go():
    """Sessions 19-22: the bands read off the counts moved with every retraining (a handful of confidently wrong
    sentences decided them). Read off the fitted curve, resampling the readings barely moves them."""
    from assistant.understanding.model import bands_from

    goal = {"wrong_acted_max": 0.004, "confirm_min_right": 0.5, "choose_second_min": 0.25}
    seen = _readings(15000, 3, lambda p: p ** 1.5)
    rng = np.random.default_rng(4)
    drawn = [bands_from([seen[i] for i in rng.integers(0, len(seen), len(seen))], goal) for _ in range(12)]
    acts, confirms = [b.act for b in drawn], [b.confirm for b in drawn]
    # Read off the counts, these 12 draws spread act by 0.019 and confirm by 0.106; off the curve 0.010 and 0.013.
    assert max(acts) - min(acts) < 0.015, acts
    assert max(confirms) - min(confirms) < 0.03, confirms
    # Five confident mistakes more: the counts moved the act band 0.0036, the curve 0.0009.
    more = seen + [(0.99, 0.0, False, True, "m", False)] * 5
    assert abs(bands_from(more, goal).act - bands_from(seen, goal).act) < 0.002


def test_a_band_is_never_calibrated_below_its_floor_and_a_higher_one_is_kept():
    """Session 45: 48 easy sentences lowered the cross-validated act band 0.887 → 0.876, and 13 more frozen turns
    were acted on wrongly for it; the floor (understanding.yaml `bands: floor`) keeps the band where it was."""
    from assistant.understanding.model import bands_from

    goal = {"wrong_acted_max": 0.004, "confirm_min_right": 0.5, "choose_second_min": 0.25,
            "answer_wrong_max": 0.0075}
    seen = _readings(20000, 2, lambda p: p, 0.3)
    free = bands_from(seen, goal, [s[4] == "q_a" for s in seen])
    floored = bands_from(seen, {**goal, "floor": {"act": 0.97, "answer": free.answer + 0.05, "confirm": 0.2}},
                         [s[4] == "q_a" for s in seen])
    assert floored.act == 0.97 and free.act < 0.97
    assert floored.answer == pytest.approx(free.answer + 0.05)
    assert floored.confirm == free.confirm  # calibrated above its floor: kept as calibrated
    assert floored.confirm <= floored.act


def test_a_band_floor_that_is_no_probability_is_refused_at_load_with_its_line(tmp_path):
    import shutil

    from assistant.errors import FlowError
    from assistant.understanding.data import load_config

    shutil.copy(ROOT / "flows" / "understanding.yaml", tmp_path / "understanding.yaml")
    text = (tmp_path / "understanding.yaml").read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.strip().startswith("floor:"))
    for bad, says in (("{act: 1.5}", "from 0 to below 1"), ("{acts: 0.9}", "not a band"), ("0.9", "must map")):
        (tmp_path / "understanding.yaml").write_text(
            text.replace(text.splitlines()[line - 1], f"  floor: {bad}"), encoding="utf-8")
        with pytest.raises(FlowError) as caught:
            load_config(tmp_path)
        assert f"understanding.yaml:{line}" in str(caught.value) and says in str(caught.value)


def test_readings_all_right_or_all_wrong_still_give_bands():
    from assistant.understanding.model import bands_from

    goal = {"wrong_acted_max": 0.004, "confirm_min_right": 0.5, "choose_second_min": 0.25}
    right = bands_from([(p, 0.0, True, True, "m", True) for p in (0.2, 0.5, 0.9)], goal)
    assert right.act == 0.2 and right.confirm == right.act
    wrong = bands_from([(p, 0.0, False, True, "m", False) for p in (0.2, 0.5, 0.9)], goal)
    assert wrong.act == 1.0 and wrong.confirm <= wrong.act


@pytest.mark.parametrize("heard, intent", [
    ("支付包", "ch_alipay"), ("维信", "ch_wechat"), ("掌上幺二三三三", "ch_12333"), ("中国领使", "ch_abroad"),
])
def test_recognition_homophones_still_land(understander, heard, intent):
    u = understander.understand(heard, "greeting", FLOWS.allowed_intents("greeting"))
    assert u.intent == intent and u.action in ("act", "confirm")


# Babble, a syllable string, a cough, other languages in characters, what the recogniser writes for a crowd
# behind the user: none of these is in the training data (its out_of_scope negatives are other such turns), and a
# turn of fillers and sounds alone is "not understood" by a guard (tests/test_fillers.py has many more cases).
GIBBERISH = ["啊吧啊吧", "巴拉巴拉", "咿咿呀呀", "古德猫宁", "撒浪嘿哟", "米西米西", "咳咳咳", "而 那 博士 一个 学到"]


@pytest.mark.parametrize("state", ["greeting", "wechat.open"])
def test_gibberish_is_not_understood_rather_than_asked_about(understander, state):
    allowed = Session(FLOWS).allowed_intents() if state == "greeting" else [*FLOWS.allowed_intents(state), "yes"]
    for said in GIBBERISH:
        u = understander.understand(said, state, allowed)
        # "您是说“再见”吗?" after "啊吧啊吧" is odd: neither acted on nor offered as a real intent.
        assert u.action == "unknown" or u.intent == "out_of_scope", (said, u.action, u.intent, u.ranked[:2])
    with Conversation() as chat:
        if state != "greeting":
            to_step(chat)
        before = chat.records[-1]["state"]
        reply = chat.say("啊吧啊吧")
        assert reply["intent"] in ("unknown", "out_of_scope") and reply["state"] == before, reply


def test_a_negated_done_is_never_done_even_when_the_model_says_so(understander):
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    # A model that always says "next": the guard alone must stop it.
    biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.1, 0.05, 0.9))
    biased.bias[biased.class_index["next"]] = 20.0
    from assistant.understanding import Understander

    guarded = Understander(FLOWS, model=biased)
    allowed = ["next", "yes", "not_yet", "check_done", "repeat"]
    for said in ["没好呢", "好了吗", "还没弄完"]:
        u = guarded.understand(said, "wechat.open", allowed)
        assert not (u.intent in ("next", "yes") and u.action == "act"), said  # asked about at most
        assert u.guard == "not-done"
    assert guarded.understand("好了", "wechat.open", allowed).intent == "next"


def test_a_not_yet_read_as_done_is_never_asked_back_as_done_even_when_the_model_says_so(understander):
    """"正传着嘞" (still uploading) read as done at 0.89 by one retraining was asked "您是说“好了”吗?" — a "对" to that
    would have moved the user on. A model that says "next" at the confirm band: a turn with a not-yet cue is asked
    about as its likeliest other reading when that is likely enough, else as "not yet"; a question or a negation
    alone is still asked about as done ("口罩摘了,眼镜不戴" is done)."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.95, 0.3, 0.9))
    biased.bias[biased.class_index["next"]] = 3.0
    guarded = Understander(FLOWS, model=biased)
    allowed = ["next", "yes", "not_yet", "spinning", "repeat"]
    for said in ["正传着嘞", "还下载着呢", "等一下,马上就好了", "还在弄呢"]:
        u = guarded.understand(said, "wechat.open", allowed)
        assert (u.intent, u.action, u.guard) == ("not_yet", "confirm", "not-done"), (said, u.intent, u.action)
    biased.bias[biased.class_index["spinning"]] = 2.8  # next ≈ 0.49, spinning ≈ 0.40: over the confirm band
    u = guarded.understand("还在转着呢", "wechat.open", allowed)
    assert (u.intent, u.action) == ("spinning", "confirm"), (u.intent, u.action, u.ranked[:2])
    u = guarded.understand("还在转着呢", "wechat.open", ["next", "yes", "repeat"])
    assert u.action == "unknown", "no not-done reading here: not understood, never asked about as done"
    u = guarded.understand("好了吗", "wechat.open", allowed)
    assert (u.intent, u.action) == ("next", "confirm"), "a done question is still asked back"
    session = Session(FLOWS, understander=guarded)
    session.machine.set_state("wechat.open")
    reply = session.handle("正传着嘞")
    assert session.state == "wechat.open" and "“好了”吗" not in reply.say and "还没弄好" in reply.say, reply.say


def test_a_turn_that_opens_with_no_is_never_asked_about_as_yes_even_when_the_model_says_so(understander):
    """"不是不是,我不是给我自己弄" read as "yes" at 0.50 by one retraining was asked "您是说“对”吗?". A model that always
    says "yes": the guard alone keeps a turn whose first words are "no" from being asked back as yes, while a
    negation later in the turn ("眼镜摘了,口罩没摘") is still asked about, since only the user knows."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.99, 0.05, 0.9))
    biased.bias[biased.class_index["yes"]] = 20.0
    guarded = Understander(FLOWS, model=biased)
    allowed = ["yes", "no", "ch_family", "not_yet"]
    # "不会弄" is a can't as well: where "好了" is not understood, it is then heard as one (guard "cannot here",
    # session 65) — after the not-done rule made it not understood (the model here only ever says "yes").
    for said, guard in [("不是不是,我不是给我自己弄", "not-done"), ("不对,我不会弄", "cannot here")]:
        u = guarded.understand(said, "alipay.who", allowed)
        assert (u.action, u.intent, u.guard) == ("unknown", None, guard), (said, u.action, u.intent, u.guard)
    # "Not yet" said after the "no" is asked about as not yet (session 50), never as yes.
    u = guarded.understand("没有,还没好", "alipay.who", allowed)
    assert (u.intent, u.action, u.guard) == ("not_yet", "confirm", "not-done"), (u.intent, u.action)
    u = guarded.understand("眼镜摘了,口罩没摘", "alipay.who", allowed)
    assert (u.intent, u.action) == ("yes", "confirm"), "a negation inside the turn is asked about, not dropped"


@pytest.mark.parametrize("state", ["alipay.who", "wechat.city", "ganfutong.who"])
def test_a_plain_no_in_a_step_is_never_asked_about_as_yes(understander, state):
    """"不对" where no yes/no was asked read as "yes" at about 0.3: the guard kept it from acting, then asked
    "您是说“对”吗?", the opposite of what was said. Below the confirm band it is not understood, as any turn."""
    session = Session(FLOWS, understander=understander)
    session.machine.set_state(state)
    for said in ["不对", "不是不是,我不是给我自己弄"]:
        u = understander.understand(said, state, session.allowed_intents(), None, session.same_effect())
        assert not (u.intent == "yes" and u.action in ("act", "confirm")), (said, u.action, u.probability)
        assert u.action != "confirm" or u.probability >= understander.model.bands.confirm


def test_a_scam_is_caught_by_the_guard_even_when_the_model_says_channel(understander):
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.1, 0.05, 0.9))
    biased.bias[biased.class_index["ch_12333"]] = 20.0
    guarded = Understander(FLOWS, model=biased)
    u = guarded.understand("电话里说是12333的,叫我把验证码念给他", "greeting", FLOWS.allowed_intents("greeting"))
    assert u.intent == "q_scam" and u.guard.startswith("scam")


@pytest.mark.parametrize("story", [
    "前两天有个女的打电话,说她是支付宝客服,让我开屏幕共享她帮我认证",  # a stranger wants the screen
    "社区门口有个小伙子,说帮我装个软件就能在家认证微信的",  # ... or his app on the phone
    "那个人说养老金认证要交三百块,交了他帮我弄好",  # a fee in 块, told of "那个人"
    "有个中介说替我在掌上12333认证,收五十块",
    "电话里说是12333的,要我把验正码念给他",  # 验证码 as recognition writes it: the cue by its sound
    "对方说是微信客服,问我的秘码是多少",
])
def test_a_strangers_request_is_a_scam_even_when_the_model_says_channel(understander, story):
    """Scams before channels, for the stranger elders tell of ("有个女的", "那个人", "中介") and what he wants (the
    screen shared, his app installed, a fee in 块, a code or password even when misheard as another word of the same
    sound): the guard, whatever the model reads."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    for channel in ("ch_12333", "ch_wechat", "ch_alipay"):
        biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.1, 0.05, 0.9))
        biased.bias[biased.class_index[channel]] = 20.0
        u = Understander(FLOWS, model=biased).understand(story, "greeting", FLOWS.allowed_intents("greeting"))
        assert u.intent == "q_scam" and u.guard.startswith("scam"), (story, channel, u.intent, u.guard)


@pytest.mark.parametrize("said", ["我儿子在外地,他说开屏幕共享他帮我点", "闺女说给我手机下个软件,她远程教我"])
def test_a_relative_sharing_the_screen_is_no_scam(understander, said):
    """The screen shared with a son far away is the remote help the guides describe, not a stranger's trick."""
    u = understander.understand(said, "family", FLOWS.allowed_intents("family"))
    assert u.intent != "q_scam" and not (u.guard or "").startswith("scam"), (u.intent, u.guard)


def test_no_scam_story_of_the_blind_dev_set_is_routed_into_a_walk():
    """Scams before channels, on the 183 scam stories and questions a blind writer wrote (bench/corpus/dev_scam.tsv,
    92 naming 12333 or a channel), as written and in two recognition-style noisy copies each: none goes into a walk.
    (The frozen test corpus is the honest figure; this one is a dev set, so it may be tuned on.)"""
    from bench.accuracy import Judge, dangers
    from bench.dev import SCAM_FILE, load_dev, noisy_rows

    judge = Judge()
    rows = [r for r in load_dev(SCAM_FILE) if r.intent == "q_scam"]
    assert len(rows) >= 150
    results = [(r, judge.hear(r.state, r.utterance, r.intent, "dev")) for r in [*rows, *noisy_rows(rows, 2)]]
    d = dangers(results, judge.flows)
    assert d["scams"] == 3 * len(rows) and d["scams_to_walk"] == 0, d["walked_rows"]
    answered = sum(v.reported == "q_scam" for _, v in results[:len(rows)])
    # 150 of 183 with the final model of session 40; 127 with no scam guard at all (an earlier model alone).
    assert answered >= 0.75 * len(rows), f"only {answered} of {len(rows)} scam stories warned of at once"


@pytest.mark.parametrize("said, kind", [
    ("老人家咋样才能不被骗啊", "advice"),  # asked how to avoid one: advice first, not "这多半是骗子!"
    ("骗子一般都用啥法子骗人", "advice"),
    ("有个人打电话要我的验证码,咋办", "call"),  # a story with a stranger and a code: the warning
    ("对方说我卡里的钱有问题,这咋回事", "general"),
])
def test_a_question_about_scams_gets_advice_and_a_story_the_warning(understander, said, kind):
    """"怎么防骗" tells nobody they are being cheated: the answer opens "防骗,记住这几条" (knowledge.yaml, scam:
    advice); a story of a stranger or money opens with the warning of its kind."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    sure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.5, 0.3, 0.9))
    sure.bias[sure.class_index["q_scam"]] = 20.0
    u = Understander(FLOWS, model=sure).understand(said, "greeting", FLOWS.allowed_intents("greeting"))
    assert u.intent == "q_scam" and u.slots.get("scam") == kind, (said, u.slots)
    answer = FLOWS.answers[FLOWS.answer_of["q_scam"]]
    assert "骗子" not in answer.templates["advice"] and "骗子" in answer.templates["general"]


def test_the_models_own_scam_reading_is_acted_on_when_person_and_money_are_told(understander):
    """With a person and money in the story, the rule acts on a scam reading as on any other: the model's own
    scam reading below the act band (it was asked "您是问防骗吗?" at p 0.78) is no reason to ask."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    unsure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.95, 0.3, 0.9))
    unsure.bias[unsure.class_index["q_scam"]] = 3.0
    unsure.bias[unsure.class_index["other_ways"]] = 2.0
    u = Understander(FLOWS, model=unsure).understand("刚才有人说花两百块钱他就包我认证", "other_ways",
                                                    FLOWS.allowed_intents("other_ways"))
    assert u.ranked[0][0] == "q_scam" and u.ranked[0][1] < 0.95, u.ranked[:2]  # below the act band by itself
    assert u.intent == "q_scam" and u.action == "act" and u.guard == "scam:money+person"


def test_goodbye_needs_to_be_sure(understander):
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    unsure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.3, 0.1, 0.9))
    unsure.bias[unsure.class_index["goodbye"]] = 1.5
    u = Understander(FLOWS, model=unsure).understand("那我走了", "greeting", ["goodbye", "repeat", "help"])
    assert u.intent == "goodbye" and u.action == "confirm"


def test_leaving_in_the_middle_of_a_walk_is_asked_back_however_sure(understander):
    """`asked_in_a_walk: [goodbye]`: at a step of a walk, leaving is asked back even when the model is sure of it,
    unless said in goodbye's own phrases ("再见"); outside a walk a sure goodbye is acted on. (Session 42: whether
    "算了不弄了" was asked back hung on p 0.885 against `goodbye_min` 0.9, and a fresh training in CI crossed it.)"""
    from assistant.understanding import ACT, CONFIRM, Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    sure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.5, 0.3, 0.25))
    sure.bias[sure.class_index["goodbye"]] = 20.0
    u = Understander(FLOWS, model=sure)
    step = "wechat.open"
    assert FLOWS.states[step].walk
    left = u.understand("算了算了,今天先不弄了", step, FLOWS.allowed_intents(step))
    assert (left.intent, left.action, left.guard) == ("goodbye", CONFIRM, "in a walk"), left
    trouble = next(s for s, st in FLOWS.states.items() if (st.walk or "").startswith("trouble"))
    assert u.understand("算了算了,今天先不弄了", trouble, FLOWS.allowed_intents(trouble)).action == CONFIRM
    assert u.understand("再见", step, FLOWS.allowed_intents(step)).action == ACT, "its own words act at once"
    at_start = u.understand("算了算了,今天先不弄了", "greeting", FLOWS.allowed_intents("greeting"))
    assert (at_start.intent, at_start.action) == ("goodbye", ACT), "outside a walk nothing is lost"


def test_an_answer_in_the_steps_own_words_is_acted_on_when_the_model_agrees(understander):
    """A turn that is exactly a phrase of one intent allowed here ("行", a yes) is that intent when the model also
    ranks it first, however unsure: "行" at a face step was asked back at p 0.81, and whether "嗯呐" moved on hung
    on 0.891 against an act band of 0.883. The model still has the last word: read otherwise, it is not forced."""
    from assistant.dialog import Session
    from assistant.understanding import ACT, CONFIRM, Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    session = Session(FLOWS, understander=understander)
    session.greet()
    step = "wechat.face.frame"
    session.machine.set_state(step)
    allowed = session.allowed_intents()  # in a step a yes ("对", "行") means the same as "好了"
    assert "yes" in allowed and "行" in [p.text for p in FLOWS.intents["yes"].phrases]

    def leaning(intent):
        unsure = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.95, 0.3, 0.9))
        unsure.bias[unsure.class_index[intent]] = 4.0  # first, at about 0.6 among the step's readings
        return Understander(FLOWS, model=unsure)

    u = leaning("yes")
    said = u.understand("行", step, allowed)
    assert (said.intent, said.action, said.guard) == ("yes", ACT, "its own words"), said
    assert u.understand("行吧,我看看", step, allowed).action == CONFIRM, "more than the phrase: the bands decide"
    other = leaning("not_yet").understand("行", step, allowed)
    assert other.action != ACT or other.intent != "yes", other


@pytest.mark.parametrize("home", ["俺在儿子家住了两年了,咋认证", "我和老伴住在闺女家,认证怎么弄", "我住在敬老院,咋弄这个认证"])
def test_living_with_a_child_or_in_a_home_is_not_living_abroad(understander, home):
    """Session 41: "我在儿子家住着,咋认证" started the 中国领事 walk at p 0.95; the model had learnt any "住在 / 住着" as
    abroad. Sentences of living at home (flows/state_examples_targeted.tsv) teach it otherwise."""
    u = understander.understand(home, "greeting", FLOWS.allowed_intents("greeting"))
    assert u.intent != "ch_abroad", (home, u.ranked[:3])


def test_two_readings_below_the_confirm_band_are_asked_which_not_misheard(understander):
    """Below the confirm band, two readings summing to the `pair` band get "您是说A,还是B?" instead of "没听清";
    without a pair band (an older model) only at the act band; a scam reading the scam rule turned down is never
    one of the two offered."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    torn = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.95, 0.6, 0.25, None, 0.7))
    torn.bias[torn.class_index["ch_wechat"]] = 6.0
    torn.bias[torn.class_index["q_region_app"]] = 5.8
    allowed = FLOWS.allowed_intents("greeting")
    u = Understander(FLOWS, model=torn).understand("俺们那用微信行不行", "greeting", allowed)
    assert u.action == "choose" and {u.intent, u.second} == {"ch_wechat", "q_region_app"}, (u.action, u.ranked[:3])
    assert u.probability < 0.6
    torn.bands = Bands(0.95, 0.6, 0.25)
    assert Understander(FLOWS, model=torn).understand("俺们那用微信行不行", "greeting", allowed).action == "unknown"
    torn.bands = Bands(0.95, 0.6, 0.25, None, 0.7)
    torn.bias[torn.class_index["q_register"]] = 6.0
    torn.bias[torn.class_index["q_scam"]] = 5.8
    torn.bias[torn.class_index["ch_wechat"]] = torn.bias[torn.class_index["q_region_app"]] = 0.0
    # (Not "短信验证码……": since session 62 the code's own name is no stranger — no cue, no rule to turn it down.)
    u = Understander(FLOWS, model=torn).understand("短信里说验证码一直不来", "greeting", allowed)
    assert "q_scam" not in (u.intent, u.second), (u.action, u.intent, u.second)


def test_two_channels_said_together_ask_which():
    session = Session(FLOWS)
    session.greet()
    reply = session.handle("微信还是支付宝啊")
    assert reply.intent == "choose" and "微信" in reply.say and "支付宝" in reply.say
    assert session.handle("支付宝").state == "alipay.prepare.phone"


def test_naming_the_walk_one_is_in_does_not_restart_it():
    session = Session(FLOWS)
    session.greet()
    for text in ["微信", "好了", "好了", "好了", "好了"]:
        session.handle(text)
    assert session.state == "wechat.open"
    reply = session.handle("我打开微信了")
    if reply.intent == "confirm":  # "您是说“好了”吗?" is fine; starting the WeChat walk again is not
        assert "好了" in reply.say
        reply = session.handle("对")
    assert reply.state == "wechat.service"


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
    from assistant.understanding import parse_date

    assert parse_date(text, date(2026, 11, 23)) == expected


@pytest.mark.parametrize("text, kind", [
    ("110101195001011234", "number"), ("11010119500101123X", "number"), ("手机13812345678", "number"),
    ("幺三八 一二三四 五六七八", "number"), ("6222 0212 3456 7890", "number"), ("验证码是4321", "secret"),
    ("打12333", None), ("三月五号", None), ("2025年3月5日", None),
    # issue 11's guard (a): a code a few words after its name; commas between digit groups
    ("我的验证码呢,是483920", "secret"), ("验证码是 4 5 6 7", "secret"), ("幺三八,一二三四,五六七八", "number"),
    ("6222,0212,3456,7890", "number"), ("验证码一直不来", None), ("12333的密码我忘了", None),
    ("验证码要告诉你吗", None), ("上次是三月五号,下次什么时候", None),
    # issue 13: a date with separators is no ID; part of a number after its name is private
    ("2026-06-01", None), ("上次是2026.6.1认证的", None), ("我的身份证前六位是110105", "number"),
    ("手机号后四位是一二三四", "number"), ("打电话问12333", None), ("110105,19500101,1234", "number"),
    # session 37: the hotline a few words after 验证码 is no code (a scam story, for the scam warning); a code is
    ("有人打电话来要我的验证码,说他是12333的", None), ("密码,说是12333给的", None), ("验证码,他说是483920", "secret"),
])
def test_private_numbers(text, kind):
    from assistant.privacy import find_private, mask

    assert find_private(text) == kind
    if kind:
        assert "***" in mask(text) and not any(ch.isdigit() for ch in mask(text).replace("***", ""))


def test_expected_phrases_follow_the_state():
    session = Session(FLOWS)
    session.greet()
    greeting = session.expected_phrases()
    # "失败了" is heard everywhere since session 48 (stuck at a step is answered in place); "注册过" only where asked.
    assert "微信" in greeting and "注册过" not in greeting
    session.machine.set_state("app12333.account")
    assert "注册过" in session.expected_phrases()


def test_grammars_come_from_the_templates_too():
    """A state's grammar holds short sentences of its intents' templates ("没弄好呢" for not_yet), each one the
    recogniser's vocabulary can say; never the thousands of place names of {region}."""
    from assistant.recognition.vocab import build_grammar, segment

    session = Session(FLOWS)
    session.machine.set_state("wechat.open")
    phrases = session.expected_phrases()
    own = {p.text for i in session.allowed_intents() for p in FLOWS.intents[i].phrases}
    from_templates = [p for p in phrases if p not in own]
    assert len(from_templates) >= 20 and all(segment(p) is not None for p in from_templates)
    assert not any(name in "".join(from_templates) for name in ("天水", "绵阳", "恩施"))
    assert build_grammar(phrases)[-1] == "[unk]"


def test_an_id_said_in_groups_over_several_turns_is_refused_and_never_echoed():
    session = Session(FLOWS, today=date(2026, 11, 30))
    session.greet()
    first = session.handle("我身份证号是110105")
    assert first.intent == "private" and "110105" not in first.say
    for rest in ("19500101", "最后是1234"):
        reply = session.handle(rest)
        assert reply.intent == "private" and rest[-4:] not in reply.say, (rest, reply.say)
    session.handle("微信")
    session.handle("好了")
    assert session.handle("我等了123秒").intent != "private", "two turns later, digits are ordinary again"


@pytest.mark.parametrize("state, said", [("greeting", "这个月能认证吗"), ("wechat.open", "这个月还能认证不"),
                                         ("greeting", "那个月我能去认证不")])
def test_this_month_is_a_month_not_a_filler(state, said):
    """"这个月能认证吗" was "月能认证吗" to the model (这个 is a filler) and not understood (session 53's note). 这个月,
    那个月, 这个星期… are phrases.yaml `filler_words` now: a question of when. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    assert "q_next_date" in _read_as(session, reply), (said, reply.intent, reply.say)


@pytest.mark.parametrize("said, lacked", [("我不会用微信,我闺女会", "ch_wechat"), ("支付宝俺没装,俺家老大有", "ch_alipay"),
                                          ("我没有微信,能用微信认证吗", "ch_wechat")])
def test_a_channel_said_to_be_lacked_is_never_the_walk_offered(said, lacked):
    """Session 57, by hand: "我不会用微信,我闺女会" was asked "您是说“微信”吗?" (p 0.48 against 0.28 for the lack): a
    "对" would have walked the elder through the app they had just said they cannot use. A channel the turn lacks
    (understanding.yaml `lacked_channel`) leaves the readings. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at("greeting", said)
    assert lacked not in _read_as(session, reply), (said, reply.intent, reply.say)
    assert walk(session.state) != lacked.removeprefix("ch_"), (said, session.state, reply.say)


@pytest.mark.parametrize("state, said, meant", [("greeting", "我不会用微信,我闺女会", "ch_family"),
                                                ("greeting", "我要给我老伴认证", "ch_family"),
                                                ("done", "我还要给老伴弄一个", "ch_family"),
                                                ("wechat.card", "那个卡俺没领过", "q_ecard"),
                                                ("greeting", "啥叫静默认证", "q_silent")])
def test_what_an_elder_says_to_a_first_try_is_heard(state, said, meant):
    """Session 57, trying it as a new user: help from a daughter who can use the app, certifying a spouse (at the
    greeting and after one certification is done), "那个卡俺没领过" at the electronic-card step ("没领过" was "没听清") and "啥叫…"
    (what is…) were asked about as something else or not understood. Acted on or asked about as what was meant;
    sentences not in flows/ (their neighbours were added to state_examples.tsv)."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    assert meant in _read_as(session, reply), (said, reply.intent, reply.say)


@pytest.mark.parametrize("said", ["我找着了", pytest.param("找见了", marks=pytest.mark.xfail(
    strict=True, reason="asked as goodbye (0.64): 见 sounds as in 再见 (session 57; not trained on: a test sentence)")),
                                  "我不想再弄了"])
def test_found_it_or_giving_up_at_the_greeting_is_no_lack_and_no_goodbye_done_at_once(said):
    """Session 57: "找着了" at the greeting (the answer to "您是说“找不到”吗?" there) was asked "您是说“再见”吗?";
    "我不想弄了" was asked about as lacking an app. Neither is a lack of one, and neither wipes the kiosk at once;
    found is no goodbye, nor wanting to certify. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at("greeting", said)
    read = _read_as(session, reply)
    assert reply.intent != "goodbye" and "lacks_channel" not in read, (said, reply.intent)
    if "找" in said:
        assert not read & {"goodbye", "want_certify"}, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said", [("greeting", "我家老头子走了,他的养老金咋办"),
                                         ("greeting", "俺家老太婆上个月过世了,她那个养老金咋弄"),
                                         ("wechat.open", "我老伴没了,还用给他认证不"),
                                         ("greeting", "我爸去世了,他的社保卡要注销吗"),
                                         ("greeting", "我爹前年冬天走的,他那养老金咋整"),
                                         # Session 66's model asked it back (q_bereaved 0.51: the money near the
                                         # payment question); answered since session 67's blind death-and-money data.
                                         ("greeting", "俺老伴过世好几个月了,钱还往卡里打"),
                                         ("done", "我公公也走了,他的要咋办")])
def test_a_death_in_the_family_gets_a_kind_word_and_where_to_go(state, said):
    """Session 58, by hand: "我家老头子走了,他的养老金咋办" was "没听明白", and "他的社保卡要注销吗" after a death was
    told "这是骗子的套路!" (a scam pattern of a card to be cancelled). A death is answered (knowledge.yaml: bereaved:
    condolence, no more certification for the one who died, the local office or 12333), never warned of as a scam,
    and the user stays where they were. Session 59: a death told as "走的" (in winter, years ago), the pension still
    paid in, a parent-in-law at the end of a walk. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    assert reply.intent == "q_bereaved", (said, reply.intent, reply.say)
    assert "节哀" in reply.say and "12333" in reply.say and "骗子" not in reply.say, reply.say
    assert session.state == state


@pytest.mark.parametrize("state, said", [("greeting", "我妈前年就没了,她的认证还要弄吗"), ("greeting", "俺老头子死了三年了"),
                                         ("done", "我老伴也是领养老金的,他前年走了"), ("greeting", "那抚恤金上哪儿领去")])
def test_a_death_said_plainly_is_answered_or_asked_about(state, said):
    """A death said as a statement, years ago, or the name of what the family may claim: answered, or asked about
    ("您是说“家里老人去世了怎么办”吗?"), never "没听明白". "那抚恤金上哪儿领去" was chit-chat (0.42) until session 59's
    40 more sentences of a death (none of them this one). Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    assert "q_bereaved" in _read_as(session, reply), (said, reply.intent, reply.say)


@pytest.mark.parametrize("said", ["我走了", "它说我的社保卡异常要注销"])
def test_leaving_and_a_scam_story_are_not_read_as_a_death(said):
    """The other side: "我走了" alone is still goodbye (asked or done), and a card "to be cancelled" in a stranger's
    story is still a scam (the card_abnormal pattern yields only to a death read by the model)."""
    session, reply = _heard_at("greeting", said)
    read = _read_as(session, reply)
    assert "q_bereaved" not in read and read & {"goodbye", "q_scam"}, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said", [("alipay.prepare.info", "社保卡找不着了"),
                                         ("wechat.prepare.info", "我那身份证不知道放哪了,找不到"),
                                         ("app12333.prepare.info", "社保卡好像丢了")])
def test_something_lost_at_the_preparation_step_is_never_done(state, said):
    """Session 57, by hand: "社保卡找不着了" at the preparation step was asked "您是说“好了”吗?" — a "对" would have
    moved on without the card. Something lost (understanding.yaml `went_wrong`: 找不着, 丢了, 不见了) is never done,
    nor asked about as done. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    read = _read_as(session, reply)
    assert not read & {"next", "success", "yes"} and session.state == state, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said", [("alipay.prepare.info", "社保卡丢了,还能不能认证"),
                                         ("greeting", "社保卡丢了咋认证"),
                                         # A strict expected failure in session 59 (the went_wrong guard's "别着急");
                                         # session 60's lost-card sentences (none of them this one) mended it.
                                         ("app12333.prepare.info", "我那卡丢了,没卡能弄不")])
def test_asking_whether_a_lost_card_stops_certifying_is_told_what_is_needed(state, said):
    """Session 59, by hand: "社保卡丢了还能认证吗" got "别着急,慢慢来" or a choice of two unrelated answers. What the
    phone asks for is the name and the ID and social-security numbers (003: "记不住可以翻社保卡,或者问子女"), not
    the card in the hand: the documents answer says so, or it is asked about. Never done. Sentences not in flows/."""
    assert not training_sentences_among(FLOWS, [said])
    session, reply = _heard_at(state, said)
    read = _read_as(session, reply)
    assert "q_documents" in read and session.state == state, (said, reply.intent, reply.say)
    if reply.intent == "q_documents":
        assert "身份证号" in reply.say and "问问子女" in reply.say, reply.say
