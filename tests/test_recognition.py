"""The recogniser on real Mandarin recordings, streamed in 0.2 s chunks exactly as the live loop feeds it.

CER ceilings sit a little above what was measured on the same deterministic subset (see
the README); the full 265-file set belongs to the benchmark, not to CI.
"""

import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from assistant import ROOT
from assistant.audio.wavio import read_wav
from assistant.flows import Phrase
from assistant.recognition.normalize import normalize_asr
from assistant.recognition.recognizer import RATE, Final, Partial, Recognizer
from assistant.recognition.vocab import UNK, build_grammar

pytestmark = pytest.mark.seconds(20)  # alone, idle 2 cores: the longest units start first (conftest.py)

REAL = ROOT.parent / "shared" / "audio" / "real-mandarin"
needs_audio = pytest.mark.skipif(not (REAL / "transcripts.tsv").is_file(),
                                 reason=f"real recordings not found at {REAL} (shared/ is not beside the checkout)")
CHUNK = int(0.2 * RATE) * 2  # bytes of 0.2 s, what a microphone callback delivers
MDCS_EVERY = 20  # CI subset: every 20th studio sentence (13 of 250), all Common Voice (10) and AISHELL (5) clips
# Measured on that subset: mdcs 9.6 %, cv 26.1-28.3 %, aishell 0 % (every 10th mdcs: 10.9-11.8 %; all 250: 11.8 %,
# bench/). 13 studio sentences keep the figure meaningful for a ceiling (about 300 characters) at half the decoding.
CER_CEILING = {"mdcs": 0.13, "cv": 0.32, "aishell": 0.05}
FIVE = ["微信", "支付宝", "好了", "下一步", "再说一遍"]


@pytest.fixture(scope="module")
def recognizer(vosk_model):
    return Recognizer(vosk_model)


def transcripts():
    rows = [line.rstrip("\n").split("\t") for line in (REAL / "transcripts.tsv").read_text("utf-8").splitlines()]
    return [(name, text) for name, text in rows if name]


def stream(recognizer, samples, grammar=None, end_silence=None):
    """Feed samples chunk by chunk; every non-None result with the audio time it came at, then finish()."""
    recognizer.start(grammar, end_silence)
    pcm, events = samples.astype("<i2").tobytes(), []
    for i in range(0, len(pcm), CHUNK):
        result = recognizer.accept(pcm[i:i + CHUNK])
        if result is not None:
            events.append((recognizer.elapsed, result))
    return events, recognizer.finish()


def assert_heard(finals: list[str], said: list[str]) -> None:
    """One final per turn said, each nearly word for word: these tests are about where turns end. Since session 25
    the language model knows our users' sentences, and "广州市" (a city) is heard as "广州是" in general speech:
    one homophone per sentence is allowed, nothing more."""
    assert len(finals) == len(said), finals
    for text, sentence in zip(finals, said, strict=True):
        assert Levenshtein.distance(normalize_asr(text), sentence) <= sentence.count("广州市"), (text, sentence)


def cer(reference: str, heard: str) -> tuple[int, int]:
    ref = normalize_asr(reference)
    return Levenshtein.distance(ref, normalize_asr(heard)), len(ref)


# --- recognition quality ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def errors_by_set(recognizer):
    if not (REAL / "transcripts.tsv").is_file():
        pytest.skip(f"real recordings not found at {REAL}")
    chosen, mdcs_seen = [], 0
    for name, text in transcripts():
        corpus = name.split("_")[0]
        if corpus == "mdcs":
            mdcs_seen += 1
            if (mdcs_seen - 1) % MDCS_EVERY:
                continue
        chosen.append((corpus, name, text))
    # Two recognisers on one loaded model, one per core: vosk decodes outside the GIL, so the wall time halves on
    # two cores; each file is decoded exactly as in the serial loop (a fresh turn, the same streaming path).
    local = threading.local()

    def decode(row):
        if not hasattr(local, "recognizer"):
            local.recognizer = Recognizer(recognizer.model)
        corpus, name, text = row
        return corpus, cer(text, local.recognizer.transcribe(read_wav(REAL / name)))

    totals: dict[str, list[int]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(decode, chosen))
    for corpus, (errors, length) in results:
        total = totals.setdefault(corpus, [0, 0, 0])
        total[0] += errors
        total[1] += length
        total[2] += 1
    return totals


@needs_audio
@pytest.mark.slow(seconds=45)
@pytest.mark.xdist_group("recognition-cer")  # one decoding of the test set for the three
@pytest.mark.parametrize("corpus", sorted(CER_CEILING))
def test_character_error_rate_on_real_speech(errors_by_set, corpus):
    errors, length, files = errors_by_set[corpus]
    rate = errors / length
    print(f"{corpus}: CER {rate:.1%} over {files} files, {length} characters")
    assert rate <= CER_CEILING[corpus], f"{corpus}: CER {rate:.1%} > ceiling {CER_CEILING[corpus]:.0%}"


@needs_audio
def test_partial_results_arrive_while_a_long_sentence_is_spoken(recognizer):
    name, text = max(transcripts(), key=lambda row: len(row[1]))
    samples = read_wav(REAL / name)
    events, tail = stream(recognizer, samples)
    partials = [(t, r.text) for t, r in events if isinstance(r, Partial)]
    duration = len(samples) / RATE
    assert len(partials) >= 5
    assert partials[0][0] < duration / 3, "the first words must show early enough to barge in"
    assert len(partials[-1][1]) > len(partials[0][1])
    heard = " ".join([r.text for _, r in events if isinstance(r, Final)] + [tail])
    errors, length = cer(text, heard)
    assert errors / length < 0.3


# --- turns and pauses ------------------------------------------------------------------------------------

def two_sentences(pause: float) -> np.ndarray:
    first = read_wav(REAL / "aishell_BAC009S0724W0121.wav")  # 广州市房地产中介协会分析
    second = read_wav(REAL / "aishell_BAC009S0724W0122.wav")  # 广州市房地产中介协会还表示
    # Each recording has ~0.5 s of room silence at both ends; the pause adds digital silence between.
    return np.concatenate([first, np.zeros(int(pause * RATE), np.int16), second, np.zeros(3 * RATE, np.int16)])


@needs_audio
def test_a_short_answer_ends_soon_after_the_speaker_stops(recognizer):
    samples = two_sentences(1.0)
    events, tail = stream(recognizer, samples, end_silence=0.8)
    finals = [(t, r.text) for t, r in events if isinstance(r, Final)]
    assert_heard([text for _, text in finals], ["广州市房地产中介协会分析", "广州市房地产中介协会还表示"])
    assert tail == ""
    # Timed in audio: the first turn ends soon after its last word (3.5 s), before the second starts (about 5.5 s).
    # vosk's endpoint asks its language model whether the sentence is likely over: with the one mixed with our
    # users' sentences this news sentence ends at 5.0 s, with the model's own at 4.6 s (session 25).
    assert 4.2 < finals[0][0] <= 5.2


@needs_audio
def test_a_slow_speaker_may_pause_within_one_turn(recognizer):
    samples = two_sentences(1.0)  # ~2 s between the sentences
    events, tail = stream(recognizer, samples, end_silence=2.5)
    finals = [r.text for _, r in events if isinstance(r, Final)]
    assert_heard(finals, ["广州市房地产中介协会分析广州市房地产中介协会还表示"])
    assert tail == ""


@needs_audio
def test_speech_outside_the_grammar_ends_when_the_room_goes_quiet(recognizer):
    samples = read_wav(REAL / "aishell_BAC009S0724W0121.wav")  # speech ends at 3.5 s; vosk alone: 5.2 s
    events, tail = stream(recognizer, np.concatenate([samples, np.zeros(4 * RATE, np.int16)]), build_grammar(FIVE))
    finals = [(t, r.text) for t, r in events if isinstance(r, Final)]
    assert len(finals) == 1 and tail == ""
    assert set(finals[0][1].split()) == {UNK}
    assert 4.2 < finals[0][0] < 5.0


@needs_audio
def test_silence_is_no_turn(recognizer):
    events, tail = stream(recognizer, np.zeros(3 * RATE, np.int16))
    assert events == [] and tail == ""
    assert recognizer.elapsed == pytest.approx(3.0)


# --- grammars --------------------------------------------------------------------------------------------

@needs_audio
def test_a_segmented_grammar_is_heard_and_an_unsegmented_one_degrades_to_unk(recognizer):
    samples = read_wav(REAL / "aishell_BAC009S0724W0121.wav")
    phrases = [Phrase(text, "flows/intents.yaml", line) for line, text in enumerate([*FIVE, "广州市房地产中介协会分析"], 1)]
    grammar = build_grammar(phrases)
    assert grammar == ["微信", "支付宝", "好 了", "下一步", "再说 一遍", "广州市 房地产 中介 协会 分析", UNK]
    assert recognizer.transcribe(samples, grammar) == "广州市 房地产 中介 协会 分析"
    # What vosk does with phrases nobody split: drops them silently, hears only [unk].
    naive = [*FIVE, "广州市房地产中介协会分析", UNK]
    assert set(recognizer.transcribe(samples, naive).split()) == {UNK}


@needs_audio
def test_a_grammar_word_inside_real_speech(recognizer):
    samples = read_wav(REAL / "mdcs_general_400035.wav")  # 因为微信和QQ不是我们的产品，我们这边无法售后。
    grammar = build_grammar(FIVE)
    words = recognizer.transcribe(samples, grammar).split()
    assert "微信" in words
    assert set(words) <= {word for entry in grammar for word in entry.split()}


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed (apt-get install espeak-ng)")
@pytest.mark.parametrize("text", FIVE)
def test_synthetic_speech_flows_through_a_grammar_turn(recognizer, tmp_path, text):
    """Plumbing only: espeak-ng Mandarin is not recognisable by this model (see shared/models/README.md)."""
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(tmp_path / "say.wav"), text], check=True)
    samples = read_wav(tmp_path / "say.wav")  # 22.05 kHz -> 16 kHz
    grammar = build_grammar(FIVE)
    events, tail = stream(recognizer, np.concatenate([samples, np.zeros(2 * RATE, np.int16)]), grammar)
    finals = [r.text for _, r in events if isinstance(r, Final)]
    # The turn ends by itself in the 2 s of silence (not by finish()), as one grammar phrase or nothing ([unk]).
    assert len(finals) == 1 and tail == ""
    assert normalize_asr(finals[0]) in {normalize_asr(entry) for entry in grammar}


@needs_audio
def test_the_same_audio_is_read_the_same_way_every_time(recognizer):
    """Kaldi dithers each frame with noise seeded from libc's rand(), which ran on from turn to turn: the same file
    got other scores every time and other words now and then (4-8 of 120 spoken dev files between two runs, session
    47). Restarting rand() for each recogniser (recognizer._reseed_dither) makes a reading its audio's alone: the
    same words and the same scores, in between a reading of something else."""
    rng = np.random.default_rng(7)
    speech = read_wav(REAL / "cv_common_voice_zh-CN_18531674.wav")
    noisy = np.clip(speech + rng.normal(0, 600, speech.size), -32768, 32767).astype(np.int16)  # a noisy room
    other = read_wav(REAL / "mdcs_general_400035.wav")

    def heard():
        return [(r.text, r.confidence) for r in recognizer.readings(noisy)]

    first = heard()
    recognizer.readings(other)
    assert first and heard() == first == heard()
