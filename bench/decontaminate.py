"""Keep the frozen test corpus out of training: `python -m bench.decontaminate [--apply]`.

A hand-written training sentence (examples.yaml, state_examples*.tsv, an intents.yaml phrase of more than four
characters), or a calibration sentence of the file `bands: held_out` names (the bands are set on it), that reads
the same as a frozen test sentence of three or more characters (after normalisation) is a leak: with --apply it is
deleted from examples.yaml and the TSV files (test sentences never move into training; training sentences that
happen to match them go). intents.yaml phrases are listed, to be removed by hand.
Short phrases ("再说一遍", "在国外") are the recogniser's grammar and what anyone says; phrases the assistant
itself tells people to say (“掌上12333”) are its own vocabulary. Template expansions are
combinations of a pattern, so only a coincidence of LONG_TEMPLATE characters or more counts there.
tests/test_bench_corpus.py applies the same rule.
"""

import re
import sys
from pathlib import Path

from assistant.flows import load_flows
from assistant.understanding import Normalizer
from assistant.understanding.store import training_examples
from bench.common import load_all

SHORT_PHRASE = 4
LONG_TEMPLATE = 8


def prompted(flows, norm) -> set:
    """What the assistant itself tells people to say (“掌上12333”, “家里人帮忙”): the product's own words."""
    texts = [st.say for st in flows.states.values()] + list(flows.say.values())
    return {norm(q) for t in texts for q in re.findall(r"“([^”]+)”", t)}


def is_leak(ex, key: str, own_words=frozenset()) -> bool:
    if "intents.yaml" in ex.origin:
        return len(key) > SHORT_PHRASE and key not in own_words
    if "templates.yaml" in ex.origin:
        return len(key) >= LONG_TEMPLATE
    return True


def leaks(flows=None):
    flows = flows or load_flows()
    norm = Normalizer.of(flows).text
    test = {norm(r.utterance) for r in load_all() if len(norm(r.utterance)) > 2}
    own = prompted(flows, norm)
    return [ex for ex in [*training_examples(flows), *held_out_examples(flows)]
            if norm(ex.text) in test and is_leak(ex, norm(ex.text), own)]


def held_out_examples(flows) -> list:
    """The calibration sentences `bands: held_out` names: the act / confirm bands are set on them, so a frozen
    sentence among them would tune the bands on the test corpus."""
    from assistant.understanding.data import load_config, load_held_out

    root = Path(flows.root)
    return load_held_out(flows, root, load_config(root))


def apply(found, root: Path) -> int:
    removed = 0
    by_file: dict[str, set[int]] = {}
    for ex in found:
        file, _, line = ex.origin.rpartition(":")
        if file.endswith(("examples.yaml", ".tsv")) and line.isdigit():
            by_file.setdefault(str(root / file), set()).add(int(line))
    for file, lines in by_file.items():
        text = Path(file).read_text(encoding="utf-8").split("\n")
        for n in sorted(lines, reverse=True):
            if file.endswith(".tsv") or re.match(r"^\s*- ", text[n - 1]):
                del text[n - 1]
                removed += 1
        Path(file).write_text("\n".join(text), encoding="utf-8")
    return removed


def main() -> int:
    found = leaks()
    for ex in found:
        print(f"{ex.origin}: {ex.text} ({ex.intent})")
    if "--apply" in sys.argv:
        root = Path(load_flows().root)
        print(f"removed {apply(found, root)} lines; template expansions above must be narrowed by hand", file=sys.stderr)
    return 0 if not found else 1


if __name__ == "__main__":
    raise SystemExit(main())
