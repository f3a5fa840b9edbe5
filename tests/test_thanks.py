"""A thank-you in the middle of a walk (flows: intent `thanks`, control of dialog.yaml).

Before it, "谢谢" was asked "您是说“再见”吗?", and the elder's "好了" (meaning: fine, go on) ended the session and
wiped the kiosk; "你真好,比我儿子有耐心" got "这个我帮不上忙" and, after two more such turns, "好像不太顺利". Now a
thank-you gets a kind word and the step again, and nothing moves. The sentences here were written for the test:
none is a training sentence (checked below), so they test what the model learnt, not what it was shown."""

import pytest

from assistant.flows import load_flows
from tests.chatdriver import chat, training_sentences_among

WALK = ["微信", "好了", "好了", "好了", "好了"]
"""From the greeting to wechat.open, a step in the middle of the walk."""

# "你这人真好,说话慢慢的" was not understood until session 38 (thanks 0.27, slower 0.13: 说话慢慢的 is like 慢慢说);
# training writer C's thanks taught it.
THANKS = ["哎呀,太谢谢你了小助手", "真是辛苦你了啊", "谢谢你啊大妹子", "那可真是多谢了", "你这人真好,说话慢慢的"]
GOODBYES = ["谢谢你,今天就到这儿,再见", "好了好了,谢谢你,我走了啊"]


def test_the_test_sentences_are_not_training_sentences():
    said = [t.values[0] if hasattr(t, "values") else t for t in THANKS]
    assert not training_sentences_among(load_flows(), [*said, *GOODBYES, "好嘞,谢谢你啊", "微信打开了,谢谢你啊",
                                                       "你这个小助手说话真好听"])


@pytest.mark.parametrize("said", THANKS)
def test_a_thank_you_gets_a_kind_word_and_the_step_again(said):
    records = chat([*WALK, said, "再说一遍"])
    before, thanked, repeated = records[-3], records[-2], records[-1]
    assert before["state"] == "wechat.open"
    assert thanked["intent"] == "thanks", thanked
    assert thanked["state"] == "wechat.open", "a thank-you never moves the user"
    assert thanked["say"].startswith("不客气")
    assert before["say"].split("。")[-2] in thanked["say"], "the step's question is asked again"
    assert repeated["say"] == before["say"], "再说一遍 repeats the step, not the thank-you"


def test_a_thank_you_then_done_goes_on_and_never_ends_the_session():
    records = chat([*WALK, "谢谢", "好了"])
    assert records[-2]["intent"] == "thanks" and records[-2]["state"] == "wechat.open"
    assert records[-1]["state"] not in ("wechat.open", "goodbye")


@pytest.mark.parametrize("said", GOODBYES)
def test_thanks_with_leaving_words_is_still_goodbye(said):
    records = chat([*WALK, said], yes_to_confirm=True)
    assert records[-1]["state"] == "goodbye"


def test_done_said_with_thanks_is_done():
    records = chat([*WALK, "微信打开了,谢谢你啊"])
    assert records[-2]["state"] == "wechat.open"
    assert records[-1]["state"] != "wechat.open" and records[-1]["intent"] == "next"


def test_an_ok_with_thanks_never_ends_the_session():
    """"好嘞,谢谢你啊" may be an OK or a thank-you; it is never a goodbye."""
    records = chat([*WALK, "好嘞,谢谢你啊", "好了"], yes_to_confirm=True)
    assert all(r["state"] != "goodbye" for r in records)


def test_the_bench_counts_a_thank_you_to_chit_chat_as_not_acting():
    """An out-of-scope turn answered "不客气" and the step again acted on nothing: right, as "没听清" is."""
    from bench.accuracy import Judge

    verdict = Judge().hear("wechat.open", "你这个小助手说话真好听", "out_of_scope")
    assert verdict.reported == "thanks", verdict
    assert verdict.kind == "correct"


def test_the_bench_counts_a_step_answer_that_is_a_control_elsewhere_by_where_it_leads():
    """At "您以前注册过吗?" a plain "不对" (no, a control elsewhere) and 没注册过 both lead to registering: the same
    effect, so a sentence labelled one and read as the other is right (bench/accuracy.py, session 37)."""
    from bench.accuracy import Judge

    judge = Judge()
    assert judge.same_effect("app12333.account", "no", "not_registered")
    assert judge.same_effect("app12333.account", "yes", "registered")
    assert not judge.same_effect("app12333.account", "no", "registered")
    assert not judge.same_effect("wechat.open", "no", "next")  # no step answer there: a control
