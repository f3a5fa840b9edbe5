"""The first thing an elder says after the greeting (session 45, found by trying it as a new user would).

The greeting ends "您想用什么认证?可以说“微信”…". Many answer the way one answers a person first: "好的", "行啊",
"那开始吧", "你教我吧". Before, "好" and "行啊" got "对不起,我没听清" (they would say it again, louder), "好了" got
"您是说“再见”吗?" (a reflex "对" would have ended the session), "开始吧" got "您是说“重新开始”吗?"; and a wish that
named its channel, "我要弄那个养老金认证,俺闺女说在微信上弄", was asked which channel all the same.

Now a yes where nothing was asked is heard ("好的。" and the question again), "开始吧" is the wish to certify
("好的,我一步一步教您。" and the question), and a wish naming one channel starts that channel's walk — unless it
says it lacks it, asks about it, names two, or the model's likeliest walk is another (a relative's phone). The
sentences were written for these tests: none is a training sentence (checked below)."""

import pytest

from assistant.flows import load_flows
from tests.chatdriver import chat, training_sentences_among

OKAYS = ["好的吧", "那行", "嗯那好吧", "中中,好", "好的呗", "可以的可以的"]
STARTS = ["那咱就开始吧", "你开始教吧", "行,那你教我", "那就开始教我吧"]
NAMED = [("俺要弄认证,我孙女说用支付宝就行", "alipay."),
         ("我想认证一下,就在微信上弄", "wechat.")]
NOT_A_CHOICE = ["我要认证,可我没有支付宝", "我要认证,微信能行吗", "我想认证,微信还是支付宝"]


def test_the_test_sentences_are_not_training_sentences():
    said = [*OKAYS, *STARTS, *(s for s, _ in NAMED), *NOT_A_CHOICE]
    assert not training_sentences_among(load_flows(), said)


@pytest.mark.parametrize("said", OKAYS)
def test_an_ok_at_the_greeting_is_heard_and_the_question_asked_again(said):
    flows = load_flows()
    records = chat([said])
    reply = records[-1]
    assert reply["state"] == "greeting", reply
    assert reply["intent"] in ("heard_yes", "want_certify"), reply
    assert reply["say"].startswith((flows.say["heard_yes"], flows.say["want_certify"])), reply
    assert "您想用什么认证" in reply["say"] and "没听清" not in reply["say"] and "再见" not in reply["say"], reply


@pytest.mark.parametrize("said", STARTS)
def test_lets_begin_at_the_greeting_is_the_wish_to_certify_not_starting_over(said):
    reply = chat([said])[-1]
    assert reply["intent"] in ("want_certify", "heard_yes") and reply["state"] == "greeting", reply
    assert "重新开始" not in reply["say"] and "没听清" not in reply["say"], reply


def test_a_yes_in_a_step_is_still_done_and_the_grammar_at_the_greeting_holds_no_yes():
    """"好的" in a step goes on as before; at the greeting the yes words stay out of the recogniser's grammar, where
    "好" or "要" would be read into a mumbled channel."""
    from tests.chatdriver import Conversation

    records = chat(["微信", "好的"])
    assert records[-2]["state"] != records[-1]["state"] and records[-1]["intent"] == "next", records[-1]
    conversation = Conversation()
    phrases = conversation.session.expected_phrases()
    assert "微信" in phrases and not {"好的", "好", "要", "行", "对"} & set(phrases)


@pytest.mark.parametrize("said, walk", NAMED)
def test_a_wish_to_certify_naming_its_channel_starts_that_walk(said, walk):
    reply = chat([said])[-1]
    assert reply["state"].startswith(walk), reply


@pytest.mark.parametrize("said", NOT_A_CHOICE)
def test_a_channel_lacked_asked_about_or_weighed_is_no_choice(said):
    reply = chat([said])[-1]
    assert not reply["state"].startswith(("wechat.", "alipay.")), reply


def test_a_wish_naming_a_relative_with_the_channel_is_not_the_users_own_walk():
    """"我想认证,我闺女用微信帮我": the model's likeliest walk is not the user's own WeChat (a relative's phone may be
    meant): it is asked, never started."""
    reply = chat(["我想认证,我闺女用微信帮我弄"])[-1]
    assert reply["state"] == "greeting", reply


@pytest.mark.parametrize("said", ["你好", "喂,您好啊", "哎,你好你好"])
def test_a_hello_is_greeted_back_not_not_heard(said):
    """"你好" said to the kiosk was "对不起,我没听清" (greetings are fillers to the model): the elder would say it again,
    louder. It is greeted back with the question of the place, in a walk's step too; a filler alone is still 没听清."""
    flows = load_flows()
    for before in ([], ["微信", "好了", "好了"]):
        records = chat([*before, said])
        where, reply = records[-2]["state"], records[-1]
        assert reply["intent"] == "hello" and reply["state"] == where, reply
        assert reply["say"].startswith(flows.say["hello"]) and "没听清" not in reply["say"], reply
    assert chat(["嗯"])[-1]["intent"] != "hello"
    assert chat(["你好,我用支付宝"])[-1]["state"].startswith("alipay.")
