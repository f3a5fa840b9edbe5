"""The question cue (flows/understanding.yaml `cues.question`) hears the yes-no questions elders say without a
question word: "V不V" ("还戴不戴"), "…不" at the end ("收费不"), "V没V" for a step's verbs ("成没成") and the
southern "…伐" / "…啵". A turn with the cue is never acted on as done (the not-done guard), so a cue that fires on
a plain statement costs a step ("不用不用", "一动不动", "光头没头发"), and one that misses a question moves the user on
with their question lost. The sentences are written here for this test, not taken from the dev or test corpora."""

import pytest


@pytest.mark.parametrize("said", [
    "那个帽子摘不摘",
    "老伴的也能弄不",
    "我这个手机行不",
    "转账收不收手续费",
    "你知道不知道",
    "刚才那个成没成",
    "这样就好了伐",
    "灯开着要得啵",
    "这个算数不",
])
def test_a_yes_no_question_without_a_question_word_has_the_cue(understander, said):
    assert "question" in understander.featurizer.cues_in(understander.norm.text(said)), said


@pytest.mark.parametrize("said", [
    "不用不用",  # a repeated "no", not "用不用"
    "还没还没,等一下",  # a repeated "not yet", not "还没还"
    "脸放好了一动不动",  # keeping still
    "我是光头没头发",  # 头没头 is no "V没V"
    "注册过,不过好久没用了",  # 过不过: 注册过 + 不过
    "我不",  # a plain refusal at the end
    "高兴得不得了,刷过去了",
    "你说巧不巧,一下就过了",
    "好了",
    "城市它自己跳到哈尔滨了,没毛病",  # 了没 of "了,没毛病" (session 49: asked "您是说“好了”吗?")
    "换了个亮堂地方,没问题了",
    "您猜怎么着,一下就过了",
])
def test_a_statement_has_no_question_cue(understander, said):
    assert "question" not in understander.featurizer.cues_in(understander.norm.text(said)), said
