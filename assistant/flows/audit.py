"""The fact audit: every sentence the assistant says about certification, next to the seed quote it rests on.

`flows/audit.tsv` is the committed table (where, sentence, source). It is written by a person, not trusted
to a program: `python -m assistant.flows.audit --write` only proposes rows for sentences that have none (the
source of their state or answer that shares the most with the sentence) and drops rows of sentences that are
gone; whoever changes a sentence reads its row. The tests fail when a spoken sentence has no row, or a row's
quote is not in the seed it names.
"""

import argparse
import csv
import re
import sys
from pathlib import Path

from assistant.flows.model import Flows, Source, sentences

AUDIT_FILE = "audit.tsv"
HEADER = ["where", "sentence", "source"]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def spoken_facts(flows: Flows) -> list[tuple[str, str, list[Source]]]:
    """(where, sentence, sources of its state or answer) for every sentence said about certification; live
    values are kept as {placeholders}."""
    out = []
    for name, state in flows.states.items():
        for text in dict.fromkeys([*state.sentences, *(sentences(state.ask) if state.ask else [])]):
            out.append((f"dialog:{name}", text, state.sources))
    for aid, answer in flows.answers.items():
        texts = [*answer.sentences, *(s for t in answer.templates.values() for s in sentences(t))]
        for text in dict.fromkeys(texts):
            out.append((f"knowledge:{aid}", text, answer.sources))
    for region in flows.regions.values():
        if region.note:
            for text in sentences(region.note):
                out.append((f"regions:{region.name}", text, region.sources))
    # One row per sentence: a shared step (the face walk) is said in many walks with the same words.
    seen, unique = set(), []
    for where, text, sources in out:
        if text not in seen:
            seen.add(text)
            unique.append((where, text, sources))
    return unique


def read_table(path: Path) -> dict[str, tuple[str, str]]:
    """sentence -> (where, source)"""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    return {r[1]: (r[0], r[2]) for r in rows[1:] if len(r) == 3}


def _overlap(a: str, b: str) -> int:
    grams = {a[i:i + 2] for i in range(len(a) - 1)}
    return sum(1 for i in range(len(b) - 1) if b[i:i + 2] in grams)


def propose(sentence: str, sources: list[Source]) -> str:
    best = max(sources, key=lambda s: _overlap(_PLACEHOLDER.sub("", sentence), s.quote))
    return f"{best.file}: {best.quote}"


def write(flows: Flows, path: Path) -> tuple[int, int]:
    table = read_table(path)
    rows, new = [], 0
    for where, text, sources in spoken_facts(flows):
        if text in table:
            rows.append([where, text, table[text][1]])
        else:
            rows.append([where, text, propose(text, sources)])
            new += 1
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows), new


def main(argv=None) -> int:
    from assistant.flows import load_flows

    parser = argparse.ArgumentParser(prog="python -m assistant.flows.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="add proposed rows for new sentences, drop stale ones")
    args = parser.parse_args(argv)
    flows = load_flows()
    path = Path(flows.root or ".") / AUDIT_FILE
    if args.write:
        total, new = write(flows, path)
        print(f"{path}: {total} sentences, {new} new rows proposed — read them")
        return 0
    table = read_table(path)
    missing = [(w, t) for w, t, _ in spoken_facts(flows) if t not in table]
    for where, text in missing:
        print(f"{where}: no audit row: {text}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
