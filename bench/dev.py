"""The dev corpora (corpus/dev.tsv, and corpus/dev_answers.tsv for the fine-grained questions): written blind by
other writers, and the sets developers may look at and tune on — unlike the frozen test corpus.
`python -m bench.dev [--answers | --fresh | --scam] [--noisy N] [--rows]` prints the figures (and every row not
right); `--noisy N` hears each row also in N recognition-style noisy copies (seeded), reported apart."""

import csv
import sys

from bench.accuracy import Judge, dangers, summary
from bench.common import CORPUS, Row

DEV_FILES = {"dev": "dev.tsv", "dev_answers": "dev_answers.tsv"}
"""The two dev parts, by the part name the spoken dev set (bench/elder.py --corpus dev) gives their rows."""
FRESH_FILE = "dev_fresh.tsv"
"""A later blind writer's set (session 37): measured once before anything was tuned on it, then a dev set like
the others. Apart from DEV_FILES so the spoken dev set's rows (a seeded subset of those two files) stay the same."""
SCAM_FILE = "dev_scam.tsv"
"""175 scam stories (92 naming 12333 or a channel), 8 questions about scams and 82 sentences close to a scam that are
not, by a blind writer in session 40: whether a scam is ever routed into a walk, and a near miss warned of."""
_PREFIX = {"dev.tsv": "d", "dev_answers.tsv": "a", FRESH_FILE: "f", SCAM_FILE: "s"}


def load_dev(name: str = "dev.tsv") -> list[Row]:
    """A dev file's rows; ids are d<line> for dev.tsv and a<line> for dev_answers.tsv (unique over both)."""
    with open(CORPUS / name, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(f"{_PREFIX.get(name, 'd')}{n}", r["state"], r["utterance"], r["intent"], {}, (), "clean", n)
                for n, r in enumerate(rows, start=2)]


def noisy_rows(rows: list[Row], copies: int) -> list[Row]:
    """Each row in `copies` recognition-style noisy copies (homophones, dropped and inserted characters), seeded by
    the row: the same copies every run."""
    import random

    from assistant.understanding.noise import noisy

    return [Row(f"{row.id}n{k}", row.state, noisy(row.utterance, random.Random(f"dev-noisy:{k}:{row.id}")),
                row.intent, {}, (), "noisy", row.line) for row in rows for k in range(copies)]


def main() -> int:
    judge = Judge()
    name = ("dev_answers.tsv" if "--answers" in sys.argv else FRESH_FILE if "--fresh" in sys.argv
            else SCAM_FILE if "--scam" in sys.argv else "dev.tsv")
    copies = int(sys.argv[sys.argv.index("--noisy") + 1]) if "--noisy" in sys.argv else 0
    rows = load_dev(name)
    for label, part in (("clean", rows), ("noisy", noisy_rows(rows, copies))):
        if not part:
            continue
        results = [(row, judge.hear(row.state, row.utterance, row.intent, "dev")) for row in part]
        print(summary(results) if label == "clean" else {"noisy": len(part), **summary(results)})
        d = dangers(results, judge.flows)
        warned = sum(1 for row, v in results if row.intent != "q_scam" and v.reported == "q_scam")
        print(f"{label}: scams to a walk {d['scams_to_walk']}/{d['scams']}; other sentences warned of as a scam "
              f"{warned}/{sum(1 for row, _ in results if row.intent != 'q_scam')}")
        if "--rows" in sys.argv:
            for row, v in results:
                if v.kind != "correct":
                    print(f"{v.kind:6} {row.state:26} {row.utterance:30} want={row.intent:15} got={v.reported} "
                          f"{'/'.join(v.offered)} p={v.score}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
