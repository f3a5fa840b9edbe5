"""The benchmark's labelled corpus is well-formed, and a short soak runs clean (correctness only, no timing)."""

import random

import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from bench.common import CORPUS, HALVES, SPECIAL_LABELS, load_corpus
from bench.corpus import make_noisy
from bench.soak import simulate

FLOWS = load_flows()
ROWS = {(half, variant): load_corpus(half, variant) for half in HALVES for variant in ("clean", "noisy")}
CLEAN = [row for half in HALVES for row in ROWS[(half, "clean")]]


@pytest.mark.parametrize("name", [f"{h}{v}.tsv" for h in HALVES for v in ("", ".noisy")])
def test_every_file_has_the_three_columns(name):
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "state\tutterance\tintent"
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        assert len(fields) == 3 and fields[0] and fields[2], f"{name}:{n}: {line!r}"


def test_both_halves_present_and_together_at_least_400_rows():
    assert all(len(ROWS[(half, "clean")]) >= 200 for half in HALVES)
    assert len(CLEAN) >= 400


def test_halves_share_no_utterance():
    dev = {(r.state, r.utterance) for r in ROWS[("dev", "clean")]}
    assert not [r for r in ROWS[("heldout", "clean")] if (r.state, r.utterance) in dev]


def test_every_state_and_intent_is_known_and_understood_where_it_is_used():
    session = Session(FLOWS)
    for row in CLEAN:
        assert row.state in FLOWS.states, f"{row.half}:{row.line}: unknown state {row.state}"
        assert row.intent in FLOWS.intents or row.intent in SPECIAL_LABELS, f"{row.half}:{row.line}: {row.intent}"
        if row.intent in FLOWS.intents:
            session.reset()
            session.machine.set_state(row.state)
            assert row.intent in session.allowed_intents(), f"{row.half}:{row.line}: {row.intent} not in {row.state}"


@pytest.mark.parametrize("half", HALVES)
def test_each_half_covers_every_intent_and_every_state(half):
    rows = ROWS[(half, "clean")]
    assert set(FLOWS.intents) <= {r.intent for r in rows}
    assert set(FLOWS.states) <= {r.state for r in rows}


@pytest.mark.parametrize("half", HALVES)
def test_noisy_copy_is_the_committed_output_of_the_seeded_generator(half):
    clean, noisy = ROWS[(half, "clean")], ROWS[(half, "noisy")]
    assert [(r.state, r.intent) for r in clean] == [(r.state, r.intent) for r in noisy]
    for c, n in list(zip(clean, noisy))[::17]:
        rng = random.Random(f"{make_noisy.SEED}:{half}:{c.state}:{c.utterance}")
        assert make_noisy.noisy(c.utterance, rng) == n.utterance


def test_a_short_soak_has_no_exception_and_no_malformed_reply():
    result = simulate(sessions=50, seed=3)
    assert result["turns"] > 200
    assert result["exceptions"] == 0, result["failures"]
    assert result["bad_replies"] == 0, result["failures"]
