"""Splitting phrases into the recogniser's vocabulary words, and building grammars from flow phrases."""

import pytest

from assistant.errors import FlowError
from assistant.flows import Phrase, load_flows
from assistant.recognition.vocab import UNK, build_grammar, segment, spoken_forms, vocabulary


def test_vendored_word_list_is_the_models():
    vocab = vocabulary()
    assert len(vocab.words) == 99_981
    assert {"微信", "支付宝", "下一步", "一遍", "您", "幺"} <= vocab.words
    assert not {"[unk]", "<eps>", "!SIL", "#0", "<s>", "</s>", "好了"} & vocab.words
    assert not any(word.isascii() for word in vocab.words)


@pytest.mark.parametrize("text, words", [
    ("微信", ["微信"]),
    ("好了", ["好", "了"]),  # not a vocabulary word: said as two
    ("再说一遍", ["再说", "一遍"]),  # fewest words, not 再/说/一/遍
    ("我用微信", ["我", "用", "微信"]),
    ("您好，请问养老金认证怎么做？", ["您好", "请问", "养老金", "认证", "怎么", "做"]),  # punctuation dropped
    ("", []),
])
def test_segment_into_fewest_and_longest_words(text, words):
    assert segment(text) == words


def test_segment_fails_on_latin():
    assert segment("打开APP") is None


def test_numbers_are_said_in_chinese():
    assert spoken_forms("掌上12333") == ["掌上一二三三三", "掌上幺二三三三"]
    assert spoken_forms("15号") == ["十五号"]
    assert build_grammar(["打12333"])[:-1] == ["打 一二三 三三", "打 幺 二三 三三"]


def test_grammar_from_phrases():
    phrases = [Phrase(t, "flows/intents.yaml", i) for i, t in enumerate(["微信", "支付宝", "好了", "下一步", "再说一遍", "好了"], 1)]
    assert build_grammar(phrases) == ["微信", "支付宝", "好 了", "下一步", "再说 一遍", UNK]


@pytest.mark.parametrize("text, culprit", [("打开APP", "A"), ("连上WiFi了", "W")])
def test_unsayable_phrase_points_at_file_and_line(text, culprit):
    with pytest.raises(FlowError) as err:
        build_grammar([Phrase("微信", "flows/intents.yaml", 3), Phrase(text, "flows/intents.yaml", 42)])
    message = str(err.value)
    assert message.startswith("flows/intents.yaml:42:")
    assert f"cannot be said with the recogniser's vocabulary: '{culprit}'" in message


def test_every_phrase_in_the_flows_can_be_said():
    phrases = load_flows().grammar_phrases()
    grammar = build_grammar(phrases)
    assert len(grammar) > len({p.text for p in phrases}) // 2 and grammar[-1] == UNK
    words = vocabulary().words
    assert all(word in words for entry in grammar[:-1] for word in entry.split())
