"""Understanding accuracy: each corpus row through Session.handle in its state, judged by what the Reply reports.

Outcomes per row:
- correct: the reply acted on the expected intent (or, for `unknown` rows, did not act; `private`, refused),
           or on an intent with exactly the same effect in that state (same destination; counted and shown);
- ask:     the reply asked "您是说……吗?" / "……还是……?" (confirm/choose): not correct, but safe;
- missed:  "对不起,我没听清" (or a refusal) where an intent was expected: not correct, safe;
- wrong:   the reply acted on another intent. The session acts only at Match.score >= ACCEPT, so every
           `wrong` is a wrong answer given with high confidence.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from bench.common import HALVES, TODAY, VARIANTS, Figure, PartResult, load_corpus, md_table, pct, status

TARGETS = {"clean": 0.97, "noisy": 0.93}
WRONG_CONFIDENT_MAX = 0.01
_ASK = ("confirm", "choose")
_NOT_UNDERSTOOD = ("unknown", "foreign")


@dataclass(frozen=True)
class Verdict:
    """How one utterance was understood."""

    kind: str
    """correct | ask | missed | wrong"""
    reported: str
    """Reply.intent ('-' for None)"""
    expected: str
    """the intent the Reply should report in that state (a "yes" in a step reports "next")"""
    offered: tuple = ()
    """for ask: the intent(s) the user was asked about"""
    score: float | None = None
    """the matcher's best score in that state (diagnostics only)"""
    same_effect: bool = False
    """correct because the reported intent does exactly what the expected one does in this state"""


class Judge:
    """One Session reused for every utterance: reset, put into the row's state, then hear the utterance."""

    def __init__(self, flows=None, matcher=None):
        from assistant.dialog import Session
        from assistant.flows import load_flows
        from assistant.understanding import IntentMatcher

        self.flows = flows or load_flows()
        self.matcher = matcher or IntentMatcher(self.flows)
        self.session = Session(self.flows, today=TODAY, matcher=self.matcher)

    def put_in(self, state: str):
        from assistant.dialog import VoiceSettings

        self.session.reset()
        self.session.voice = VoiceSettings()
        self.session.machine.set_state(state)

    def expected_report(self, state: str, intent: str) -> str:
        """What Reply.intent says when `intent` is acted on in `state`."""
        from assistant.flows import RETURN

        on = self.flows.states[state].on
        if intent == "yes" and "yes" not in on and "next" in on:
            intent = "next"  # in a step, "对" means "好了"
        if on.get(intent) == RETURN:
            return "next"  # coming back from a troubleshooting walk reports "next"
        return intent

    def hear(self, state: str, text: str, expected: str) -> Verdict:
        self.put_in(state)
        allowed = self.session.allowed_intents()
        match = self.matcher.match(text, allowed, preferred=self.flows.states[state].on)
        self.put_in(state)
        reply = self.session.handle(text)
        pending = self.session.pending
        offered = tuple(p for p in (pending or ())[1:-1] if isinstance(p, str)) if pending else ()
        want = expected if expected in ("unknown", "private") else self.expected_report(state, expected)
        got = reply.intent or "-"
        same = False
        if want == "unknown":
            kind = "correct" if got in _NOT_UNDERSTOOD else "ask" if got in _ASK else \
                "wrong" if got in self.flows.intents else "missed"
        elif got == want:
            kind = "correct"
        elif got in _ASK:
            kind = "ask"
        elif got in self.flows.intents and self.same_effect(state, want, got):
            kind = "correct"  # e.g. "刷脸不成功" read as "failed" on the result step: both go to trouble_face
            same = True
        elif got in self.flows.intents or (want == "private" and got != "private"):
            kind = "wrong"
        else:
            kind = "missed"
        return Verdict(kind, got, want, offered, round(match.score, 1) if match else None, same)

    def same_effect(self, state: str, a: str, b: str) -> bool:
        """Two intents that move to the same place from this state (neither a control nor a question)."""
        return self._destination(state, a) is not None and self._destination(state, a) == self._destination(state, b)

    def _destination(self, state: str, intent: str):
        if intent in self.flows.controls or intent in self.flows.answer_of:
            return None
        on = self.flows.states[state].on
        if intent == "yes" and "yes" not in on and "next" in on:
            intent = "next"
        return on.get(intent, self.flows.goto.get(intent))


def evaluate(rows, judge: Judge) -> list[tuple]:
    return [(row, judge.hear(row.state, row.utterance, row.intent)) for row in rows]


def summary(results) -> dict:
    kinds = Counter(v.kind for _, v in results)
    n = len(results)
    asked_right = sum(1 for r, v in results if v.kind == "ask" and
                      (v.expected in v.offered or r.intent in v.offered))
    return {"n": n, "accuracy": kinds["correct"] / n if n else 0.0, "correct": kinds["correct"],
            "ask": kinds["ask"], "ask_offered_expected": asked_right, "missed": kinds["missed"],
            "wrong_confident": kinds["wrong"], "wrong_confident_rate": kinds["wrong"] / n if n else 0.0,
            "correct_by_same_effect": sum(1 for _, v in results if v.same_effect)}


def confusion(results) -> dict:
    """expected intent -> {reported: count}."""
    table = defaultdict(Counter)
    for row, v in results:
        table[row.intent][v.reported if v.kind != "correct" else "✓"] += 1
    return {k: dict(c) for k, c in sorted(table.items())}


def run(quick: bool = False) -> PartResult:
    judge = Judge()
    result = PartResult()
    all_results = {}
    for half in HALVES:
        for variant in VARIANTS:
            all_results[(half, variant)] = evaluate(load_corpus(half, variant), judge)
    sums = {k: summary(v) for k, v in all_results.items()}

    for half in HALVES:
        for variant in VARIANTS:
            s = sums[(half, variant)]
            label = "README figure" if half == "heldout" else "tuned on"
            result.figures.append(Figure(
                "1 understanding", f"top-1 accuracy, {variant}, {half} ({label}; n={s['n']})", pct(s["accuracy"]),
                f">= {pct(TARGETS[variant])}", status(s["accuracy"], TARGETS[variant], True),
                f"asked {s['ask']}, not understood {s['missed']}, wrong {s['wrong_confident']}"))
    for half in HALVES:
        for variant in VARIANTS:
            s = sums[(half, variant)]
            result.figures.append(Figure(
                "1 understanding", f"wrong with high confidence, {variant}, {half}",
                f"{s['wrong_confident_rate'] * 100:.2f} % ({s['wrong_confident']}/{s['n']})", f"<= {pct(WRONG_CONFIDENT_MAX)}",
                status(s["wrong_confident_rate"], WRONG_CONFIDENT_MAX, False)))
    for half in HALVES:
        for variant in VARIANTS:
            s = sums[(half, variant)]
            result.figures.append(Figure(
                "1 understanding", f"asked to confirm/choose (safe, not counted correct), {variant}, {half}",
                f"{pct(s['ask'] / s['n'])} ({s['ask']}; the right intent offered in {s['ask_offered_expected']})"))

    result.section = _section(all_results, sums)
    result.data = {
        "summary": {f"{h}/{v}": s for (h, v), s in sums.items()},
        "confusion": {f"{h}/{v}": confusion(r) for (h, v), r in all_results.items()},
        "rows": {f"{h}/{v}": [[row.line, row.state, row.utterance, row.intent, v_.kind, v_.reported,
                               list(v_.offered), v_.score] for row, v_ in r if v_.kind != "correct"]
                 for (h, v), r in all_results.items()},
    }
    return result


def _section(all_results, sums) -> str:
    out = ["## 1. Understanding accuracy", "",
           "Every corpus row goes through `Session.handle` in its state (set with `session.machine.set_state`); "
           "the intent is the one the `Reply` reports. `heldout` was written before any tuning and is the "
           "figure to quote; `dev` is the half understanding was tuned on.", ""]
    rows = []
    for (half, variant), s in sums.items():
        rows.append([half, variant, s["n"], pct(s["accuracy"]), s["ask"], s["ask_offered_expected"], s["missed"],
                     f"{s['wrong_confident']} ({pct(s['wrong_confident_rate'])})"])
    out += [md_table(["half", "text", "n", "top-1", "asked (confirm/choose)", "…offering the right one",
                      "not understood", "wrong & confident"], rows), ""]

    out += ["### Per intent, heldout (correct / n; what came back instead)", ""]
    per = defaultdict(dict)
    for variant in VARIANTS:
        for row, v in all_results[("heldout", variant)]:
            per[row.intent].setdefault(variant, []).append(v)
    rows = []
    for intent in sorted(per):
        cells = [intent]
        for variant in VARIANTS:
            vs = per[intent].get(variant, [])
            ok = sum(1 for v in vs if v.kind == "correct")
            other = Counter(f"{v.reported}" for v in vs if v.kind != "correct")
            cells += [f"{ok}/{len(vs)}", ", ".join(f"{k}×{c}" for k, c in other.most_common(4))]
        rows.append(cells)
    out += [md_table(["intent", "clean", "clean: instead", "noisy", "noisy: instead"], rows), ""]

    for half in HALVES:
        wrong = [(row, v) for variant in VARIANTS for row, v in all_results[(half, variant)] if v.kind == "wrong"]
        out += [f"### Wrong and confident, {half} ({len(wrong)})", ""]
        if wrong:
            out += [md_table(["text", "state", "utterance", "expected", "got", "score"],
                             [[row.variant, row.state, row.utterance, row.intent, v.reported, v.score]
                              for row, v in wrong]), ""]
    failed = [(row, v) for row, v in all_results[("heldout", "clean")] if v.kind != "correct"]
    out += [f"### Every heldout clean row not answered correctly ({len(failed)})", ""]
    if failed:
        out += [md_table(["state", "utterance", "expected", "outcome", "got / offered", "score"],
                         [[row.state, row.utterance, row.intent, v.kind,
                           v.reported + (f" ({'/'.join(v.offered)})" if v.offered else ""), v.score]
                          for row, v in failed]), ""]
    return "\n".join(out)


def main() -> int:
    """`python -m bench.accuracy [dev|heldout] [clean|noisy]`: print the rows not answered correctly."""
    import sys

    half = sys.argv[1] if len(sys.argv) > 1 else "dev"
    variants = sys.argv[2:] or list(VARIANTS)
    judge = Judge()
    for variant in variants:
        results = evaluate(load_corpus(half, variant), judge)
        print(f"== {half}/{variant}: {summary(results)}")
        for row, v in results:
            if v.kind != "correct":
                print(f"{v.kind:7} {row.line:4} {row.state:28} {row.utterance:24} want={row.intent:16} "
                      f"got={v.reported} {'/'.join(v.offered)} score={v.score}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
