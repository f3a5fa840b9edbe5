"""Negations under recognition noise, on the dev sets (which we may tune on): how often a turn that says "not
done" (a negation, a question or a not-yet cue, and an expected intent that is not done/yes) is acted on as done
once a recogniser has damaged it, and — the price of any guard — how often a real "done" is still acted on.

`python -m bench.negations [--copies N] [--rows]`: each dev row, clean and in N seeded noisy copies
(assistant/understanding/noise.py with a seed of its own, not the frozen corpus's nor training's).
"""

import random
import sys

from assistant.understanding.noise import noisy
from bench.accuracy import _DONE, Judge
from bench.dev import DEV_FILES, load_dev

SEED = "20261130:negations"
_NOT_DONE = ("negation", "question", "not_yet")


def copies(rows, n: int):
    for row in rows:
        yield row, row.utterance, 0
        for k in range(1, n + 1):
            yield row, noisy(row.utterance, random.Random(f"{SEED}:{row.id}:{k}")), k


def measure(n: int = 10, show: bool = False) -> dict:
    judge = Judge()
    featurizer, norm = judge.understander.featurizer, judge.understander.norm
    rows = [r for name in DEV_FILES.values() for r in load_dev(name)]
    negative = [r for r in rows if r.intent not in _DONE
                and set(featurizer.cues_in(norm.text(r.utterance))) & set(_NOT_DONE)]
    done = [r for r in rows if r.intent in _DONE]
    figures = {}
    for label, group in (("not_done", negative), ("done", done)):
        total = acted_done = right = taken_back = 0
        for row, text, k in copies(group, n):
            v = judge.hear(row.state, text, row.intent, "dev")
            total += 1
            right += v.kind == "correct"
            if label == "not_done" and v.kind == "wrong" and v.reported in _DONE:
                acted_done += 1
                taken_back += judge.taken_back(row.state, text, v.reported)
                if show:
                    print(f"acted-as-done  copy {k:2}  {row.state:24} {row.utterance} -> {text}  "
                          f"got={v.reported} p={v.score}")
        figures[label] = {"rows": len(group), "turns": total, "right": right, "acted_done": acted_done,
                           "taken_back": taken_back}
    return figures


def main() -> int:
    n = int(sys.argv[sys.argv.index("--copies") + 1]) if "--copies" in sys.argv else 10
    f = measure(n, "--rows" in sys.argv)
    nd, d = f["not_done"], f["done"]
    print(f"not-done turns acted on as done: {nd['acted_done']} of {nd['turns']} ({nd['rows']} dev rows × {n + 1}); "
          f"taken back by the next 不对/没成功: {nd['taken_back']}")
    print(f"not-done turns right: {nd['right'] / nd['turns']:.1%}")
    print(f"done turns right: {d['right'] / d['turns']:.1%} of {d['turns']} ({d['rows']} dev rows × {n + 1})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
