"""The frozen test corpus is well-formed and kept apart from training; a short soak runs clean."""

import pytest

from assistant.flows import load_flows
from bench.common import CORPUS, PARTS, SPECIAL_LABELS, load_all, load_corpus
from bench.corpus import make_noisy
from bench.soak import simulate

pytestmark = pytest.mark.seconds(22)  # alone, idle 2 cores: the longest units start first (conftest.py)

FLOWS = load_flows()
CLEAN, NOISY = load_corpus("clean"), load_corpus("noisy")
COLUMNS = "id\tstate\tutterance\tintent\tslots\ttags"


@pytest.mark.parametrize("name", ["test.tsv", "test.noisy.tsv", "answers.tsv", "answers.noisy.tsv"])
def test_every_file_has_the_six_columns(name):
    lines = (CORPUS / "frozen" / name).read_text(encoding="utf-8").splitlines()
    assert lines[0] == COLUMNS
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        assert len(fields) == 6 and all(fields), f"{name}:{n}: {line!r}"


def test_the_corpus_is_big_enough_and_covers_what_the_issue_names():
    assert len(CLEAN) >= 600
    tags = [t for r in CLEAN for t in r.tags]
    for tag, least in {"negation": 60, "not_yet": 40, "done_question": 30, "oos": 50, "two_part": 40,
                       "scam": 40, "dialect": 30, "rambling": 20}.items():
        assert tags.count(tag) >= least, tag


def test_every_state_and_intent_is_known():
    """Names only: a blind writer may expect an intent where the dialog does not take it yet ("忘了密码" on a
    step with no password); the bench counts such a row as not understood, as a user would meet it."""
    for row in load_all():
        assert row.state in FLOWS.states, f"{row.line}: unknown state {row.state}"
        assert row.intent in FLOWS.intents or row.intent in SPECIAL_LABELS, f"{row.line}: {row.intent}"


def test_every_intent_is_tested():
    assert set(FLOWS.intents) <= {r.intent for r in load_all()}


@pytest.mark.parametrize("part", PARTS)
def test_noisy_copy_is_the_committed_output_of_the_seeded_generator(part):
    clean, noisy = load_corpus("clean", part), load_corpus("noisy", part)
    assert [(r.id, r.state, r.intent) for r in clean] == [(r.id, r.state, r.intent) for r in noisy]
    for c, n in list(zip(clean, noisy))[::17]:
        if c.intent != "private":
            row = {"id": c.id, "utterance": c.utterance}
            assert make_noisy.noisy(c.utterance, make_noisy.rng_for(row)) == n.utterance


def test_no_test_sentence_is_in_the_training_data():
    """A frozen sentence that leaks into flows/ would make the figure a lie. Compared after normalisation
    (fillers, punctuation, traditional characters), so a copy with a comma moved still counts as a leak. The rule
    (bench/decontaminate.py): no hand-written training sentence may equal a test sentence of three or more
    characters; short intents.yaml phrases (the recogniser's grammar) and short template combinations may."""
    from bench.decontaminate import leaks

    found = [(ex.origin, ex.text) for ex in leaks(FLOWS)]
    assert not found, f"{len(found)} frozen test sentences are in flows/ training data: {found[:5]}"


def test_a_short_soak_has_no_exception_and_no_malformed_reply():
    result = simulate(sessions=50, seed=3)
    assert result["turns"] > 200
    assert result["exceptions"] == 0, result["failures"]
    assert result["bad_replies"] == 0, result["failures"]


def test_a_frozen_sentence_among_the_held_out_calibration_sentences_is_a_leak(flows_copy):
    """The bands may be set on `bands: held_out` sentences (flows/understanding.yaml): a frozen sentence there would
    tune them on the test corpus, so decontamination covers that file too while it is named."""
    from assistant.flows import load_flows
    from bench.common import load_all
    from bench.decontaminate import leaks
    from conftest import name_held_out

    row = next(r for r in load_all() if len(r.utterance) > 6 and r.state == "greeting" and r.intent == "want_certify")
    with open(flows_copy / "calibration.tsv", "a", encoding="utf-8") as f:
        f.write(f"{row.state}\t{row.utterance}\t{row.intent}\n")
    assert not [ex for ex in leaks(load_flows(flows_copy)) if "calibration" in ex.origin], "off: not the bands' data"
    name_held_out(flows_copy, "calibration.tsv")
    found = [ex.text for ex in leaks(load_flows(flows_copy)) if "calibration" in ex.origin]
    assert found == [row.utterance]
