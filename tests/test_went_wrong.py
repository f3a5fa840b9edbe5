"""Something went wrong at a step ("屏幕黑了", "俺这手机卡了", "没电了", "点错了"): never taken for "好了", and not even
asked about as "好了" — before this guard the WeChat step asked "您是说“好了”吗?" to each of those. The cue is
`went_wrong` in flows/understanding.yaml and the guard `never_done_cues` beside it; the reply is phrases.yaml's
`went_wrong` (take your time; say "找人帮忙" if it will not work). None of these sentences is in the training data."""

import pytest

from assistant.flows import load_flows
from tests.chatdriver import Conversation
from tests.test_understanding_data import _understanding_error

FLOWS = load_flows()
GONE_WRONG = ["哎哟,屏幕咋全黑了", "这破手机又卡住了", "糟了,我按错了", "手机自己关机了,咋回事",
              "点了好几下都没反应", "这字也太小了,俺瞅不清"]


def _biased_to_done(understander):
    """The real features and guards with a model that always says "next": the guard alone must hold."""
    from assistant.understanding import Understander
    from assistant.understanding.model import Bands, IntentModel

    model = understander.model
    biased = IntentModel(model.classes, model.hashes, model.weights * 0, model.bias * 0, Bands(0.1, 0.05, 0.9))
    biased.bias[biased.class_index["next"]] = 20.0
    return Understander(FLOWS, model=biased)


def test_trouble_is_never_done_nor_asked_about_as_done_even_when_the_model_says_so(understander):
    guarded = _biased_to_done(understander)
    allowed = ["next", "yes", "not_yet", "spinning", "repeat", "human"]
    for said in GONE_WRONG:
        u = guarded.understand(said, "wechat.open", allowed)
        assert (u.action, u.guard) == ("unknown", "went wrong"), (said, u.action, u.intent, u.guard)
    # Trouble that is over, or denied, is no trouble: the step is done (the model's "next" is acted on).
    for said in ["刚才有点卡,这会儿好了", "没按错,就是这个"]:
        u = guarded.understand(said, "wechat.open", allowed)
        assert u.guard != "went wrong", (said, u.guard)
    assert guarded.understand("刚才有点卡,这会儿好了", "wechat.open", allowed).intent == "next"


def test_a_recognised_reading_without_the_trouble_is_never_chosen_over_the_words_said(understander):
    """Of the recogniser's readings, one read as done that has lost the literal reading's trouble ("屏幕好了" beside
    "屏幕黑了") is never chosen: the same rule as for a lost negation."""
    guarded = _biased_to_done(understander)
    allowed = ["next", "yes", "not_yet", "spinning", "repeat", "human"]
    choice = guarded.best_reading([("屏幕黑了", 0.5, True), ("屏幕好了", 0.5, False)], "wechat.open", allowed)
    assert choice is None or choice.understanding.intent not in guarded.done_intents, choice


def test_at_a_step_trouble_gets_patience_and_a_way_to_help_and_then_好了_goes_on():
    went_wrong = 0
    for said in GONE_WRONG:
        with Conversation() as chat:
            chat.say("用微信")
            step = chat.records[-1]["state"]
            reply = chat.say(said)
            # It stays at the step, or a sure reading took it to that trouble's tips ("卡住了": the spinning wheel).
            assert reply["state"] == step or reply["state"].startswith("trouble_"), (said, reply)
            assert "“好了”吗" not in reply["say"] and reply["intent"] not in ("next", "yes"), (said, reply)
            if reply["intent"] == "went_wrong":
                went_wrong += 1
                assert "找人帮忙" in reply["say"] and "慢慢来" in reply["say"], reply
            assert chat.say("好了")["state"] != reply["state"]
    assert went_wrong, "the guard's own reply was never heard"


def test_a_guard_naming_an_unknown_cue_is_one_line_with_its_place(flows_copy):
    error, line = _understanding_error(flows_copy, "  never_done_cues: [went_wrong]", "  never_done_cues: [gone_wrong]")
    assert "gone_wrong" in str(error) and "never_done_cues" in str(error) and error.line == line
    assert error.file.endswith("understanding.yaml")


@pytest.mark.parametrize("said", ["我有实体社保卡了", "银行卡了", "头发别发卡了", "一动不动了"])
def test_a_card_a_hair_clip_or_holding_still_is_no_trouble(understander, said):
    assert "went_wrong" not in understander.featurizer.cues_in(understander.norm.text(said))
