"""Issue 12: every sentence the assistant says about certification rests on a seed quote (flows/audit.tsv)."""

from pathlib import Path

import pytest

from assistant import ROOT
from assistant.flows import load_flows
from assistant.flows.audit import AUDIT_FILE, read_table, spoken_facts

FLOWS = load_flows()
SEEDS = ROOT.parent / "shared" / "seeds"
TABLE = read_table(Path(FLOWS.root) / AUDIT_FILE)


def test_every_spoken_sentence_has_an_audit_row():
    missing = [f"{where}: {text}" for where, text, _ in spoken_facts(FLOWS) if text not in TABLE]
    assert not missing, "no row in flows/audit.tsv (python -m assistant.flows.audit --write, then read it):\n" + \
        "\n".join(missing)


def test_no_row_is_left_for_a_sentence_no_longer_said():
    said = {text for _, text, _ in spoken_facts(FLOWS)}
    assert not [t for t in TABLE if t not in said]


def test_every_row_names_a_seed_quote_or_says_why_not():
    if not SEEDS.is_dir():
        pytest.fail(f"the seed guides are not at {SEEDS} (../shared beside the checkout)")
    seeds = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    wrong = []
    assert TABLE and seeds, "an empty audit table or seed folder would check nothing"
    for text, (where, source) in TABLE.items():
        kind, _, quote = source.partition(": ")
        if kind in ("product", "rule"):
            ok = bool(quote.strip())
        else:
            ok = kind in seeds and quote.strip() != "" and quote in seeds[kind] and "…" not in quote
        if not ok:
            wrong.append(f"{where}: {text} -> {source}")
    assert not wrong, "\n".join(wrong)


def test_a_fact_is_never_passed_off_as_the_products_own_words():
    # The step instructions and the knowledge answers are facts: most of them must come from the guides.
    quoted = sum(1 for _, source in TABLE.values() if source.endswith(".txt") is False and ".txt: " in source)
    assert quoted >= 0.6 * len(TABLE)
