"""Make the recognition-noise copy of the frozen test corpus: `python -m bench.corpus.make_noisy` (deterministic).

Each row of frozen/test.tsv (and answers.tsv) is written again into frozen/test.noisy.tsv (answers.noisy.tsv) with the utterance as a recogniser
might have written it (assistant/understanding/noise.py: homophones, accent confusions, dropped and inserted
characters, about one character in seven). The generator is seeded per row from SEED and the row's id and
text — a different seed from the one the model's training copies use. Re-run only when test.tsv changes.
"""

import csv
import random
import sys
from pathlib import Path

from assistant.understanding.noise import noisy

SEED = 20261123
HERE = Path(__file__).resolve().parent / "frozen"
COLUMNS = ["id", "state", "utterance", "intent", "slots", "tags"]


def rng_for(row: dict) -> random.Random:
    return random.Random(f"{SEED}:frozen:{row['id']}:{row['utterance']}")


def make(part: str = "test") -> Path:
    source, target = HERE / f"{part}.tsv", HERE / f"{part}.noisy.tsv"
    with open(source, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    with open(target, "w", encoding="utf-8", newline="") as out:
        out.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            # Private rows keep their digits: the noise must not turn a number the guard must catch into words.
            text = row["utterance"] if row["intent"] == "private" else noisy(row["utterance"], rng_for(row))
            out.write("\t".join([row["id"], row["state"], text, row["intent"], row["slots"], row["tags"]]) + "\n")
    return target


def main() -> int:
    for part in ("test", "answers"):
        print(f"wrote {make(part)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
