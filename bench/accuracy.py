"""Understanding accuracy on the frozen test corpus: each row through Session.handle in its state, judged by what
the Reply reports. The corpus (corpus/frozen/test.tsv) was written by someone who had not seen flows/; nothing
was tuned on it, and its sentences never enter training (tests/test_frozen_corpus.py).

Outcomes per row:
- correct: the reply acted on the expected intent (for `out_of_scope` rows: did not act; `private`: refused),
           or on an intent with exactly the same effect in that state (same destination; counted and shown);
- ask:     the reply asked "您是说……吗?" / "……还是……?" (confirm/choose): not correct, but safe;
- missed:  "对不起,我没听清" (or a refusal) where an intent was expected: not correct, safe;
- wrong:   the reply acted on another intent without asking: a wrong answer given with confidence.
Two dangers are counted apart: a negation / not-yet / done-question acted on as done, and a scam routed to a walk.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from bench.common import PARTS, TODAY, VARIANTS, Figure, PartResult, load_corpus, md_table, pct, status

TARGETS = {"clean": 0.97, "noisy": 0.93}
WRONG_CONFIDENT_MAX = 0.005
_ASK = ("confirm", "choose")
_NOT_ACTING = ("unknown", "foreign", "out_of_scope", "declined", "thanks", "went_wrong", "heard_yes")
"""Replies that act on nothing: for a turn that must not be acted on, each is right. "thanks" is "不客气" and the
step's question again (session 33): chit-chat such as "你真好" answered so has moved and answered nothing; so has
"went_wrong" ("别着急,慢慢来……", session 35), said to trouble at a step ("我那助听器没电了"), and "heard_yes" ("好的。"
and the question again, session 36), said to a yes where nothing was asked."""
_DONE = ("next", "success", "yes", "registered")
_NEGATIVE_TAGS = ("negation", "not_yet", "done_question")
REFINES = {"success": {"submitted"}, "q_result": {"submitted"}, "check_done": {"submitted"},
           "tell_region": {"q_region_app"},
           "face_problem": {"q_glasses", "q_face_cover", "q_face_moves", "q_light", "q_try_other"}}
"""Part 1 of the frozen corpus was labelled before issue 12 split some meanings finer: there, "写着提交成功" was
labelled `success` and "眼镜反光刷不过去" `face_problem`. On part 1 only, the finer intent that now answers such a
sentence counts as right, and how many rows were counted that way is reported beside the figure."""
KEYS = [(part, variant) for part in PARTS for variant in VARIANTS]


def label(part: str, variant: str) -> str:
    return variant if part == "test" else f"{part} {variant}"


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
    """the model's probability for its best reading in that state (diagnostics only)"""
    same_effect: bool = False
    """correct because the reported intent does exactly what the expected one does in this state"""
    refined: bool = False
    """correct because the reported intent is the finer one that part 1's older label now splits into"""
    slots: dict | None = None
    """the slots the understanding read (for the slot figures)"""
    moved: bool = False
    """the turn left the row's step (another step, a walk, troubleshooting): a wrong one costs the user their place,
    where a wrong answer or "哪里不对?" leaves them on it"""


class Judge:
    """One Session reused for every utterance: reset, put into the row's state, then hear the utterance."""

    def __init__(self, flows=None, understander=None):
        from assistant.dialog import Session
        from assistant.flows import load_flows
        from assistant.understanding import Understander

        self.flows = flows or load_flows()
        self.understander = understander or Understander(self.flows)
        self.session = Session(self.flows, today=TODAY, understander=self.understander)

    def put_in(self, state: str):
        from assistant.dialog import VoiceSettings

        self.session.reset()
        self.session.voice = VoiceSettings()
        self.session.machine.set_state(state)

    def taken_back(self, state: str, text: str, reported: str) -> bool:
        """A turn acted on as done in `state`: does the correction a user would say next ("没成功" after a
        success, else "不对") take the move back (the dialog's undo, flows/understanding.yaml `corrections`)?"""
        self.put_in(state)
        self.session.handle(text)
        reply = self.session.handle("没成功" if reported == "success" else "不对")
        return reply.say.startswith(self.flows.say["undone"])

    def expected_report(self, state: str, intent: str) -> str:
        """What Reply.intent says when `intent` is acted on in `state`."""
        from assistant.flows import RETURN

        on = self.flows.states[state].on
        if intent == "yes" and "yes" not in on and "next" in on:
            intent = "next"  # in a step, "对" means "好了"
        if on.get(intent) == RETURN:
            return "next"  # coming back from a troubleshooting walk reports "next"
        return intent

    def hear(self, state: str, text: str, expected: str, part: str = "test") -> Verdict:
        self.put_in(state)
        u = self.understander.understand(text, state, self.session.allowed_intents(), TODAY)
        reply = self.session.handle(text)
        pending = self.session.pending
        offered = tuple(p for p in (pending or ())[1:-1] if isinstance(p, str)) if pending else ()
        want = expected if expected in ("out_of_scope", "private") else self.expected_report(state, expected)
        got = reply.intent or "-"
        same = refined = False
        if part == "test" and got in REFINES.get(want, ()):
            kind, refined = "correct", True
        elif want == "out_of_scope":
            kind = "correct" if got in _NOT_ACTING else "ask" if got in _ASK else \
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
        return Verdict(kind, got, want, offered, round(u.probability, 3), same, refined=refined, slots=u.slots,
                       moved=self.session.state != state)

    def same_effect(self, state: str, a: str, b: str) -> bool:
        """Two intents that move to the same place from this state (neither a control nor a question)."""
        return self._destination(state, a) is not None and self._destination(state, a) == self._destination(state, b)

    def _destination(self, state: str, intent: str):
        on = self.flows.states[state].on
        if intent == "yes" and "yes" not in on and "next" in on:
            intent = "next"
        if intent in on:
            # The step's own answer, even one that is a control elsewhere: "没,一回也没" read as 不对 goes to
            # registering as 没注册过 does, where the step asks "注册过吗?" (session 37).
            return on[intent]
        if intent in self.flows.controls or intent in self.flows.answer_of:
            return None
        return self.flows.goto.get(intent)


def evaluate(rows, judge: Judge, part: str = "test") -> list[tuple]:
    return [(row, judge.hear(row.state, row.utterance, row.intent, part)) for row in rows]


def dangers(results, flows, judge: "Judge | None" = None) -> dict:
    """The two mistakes that must never happen: a not-done acted on as done, a scam sent into a walk; with a
    judge, also how many of the not-dones acted on as done the user's next "不对"/"没成功" takes back."""
    negations = [(r, v) for r, v in results if any(t in r.tags for t in _NEGATIVE_TAGS) and r.intent not in _DONE]
    acted = [(r, v) for r, v in negations if v.kind == "wrong" and v.reported in _DONE]
    scams = [(r, v) for r, v in results if r.intent == "q_scam"]
    walked = [(r, v) for r, v in scams if v.reported in flows.goto]
    taken_back = sum(judge.taken_back(r.state, r.utterance, v.reported) for r, v in acted) if judge else None
    return {"negations": len(negations), "acted_negations": len(acted), "taken_back": taken_back,
            "scams": len(scams),
            "scams_to_walk": len(walked), "acted_rows": [[r.id, r.state, r.utterance, v.reported] for r, v in acted],
            "walked_rows": [[r.id, r.state, r.utterance, v.reported] for r, v in walked]}


def slot_figures(results) -> dict:
    """Of the rows whose expected slots the understanding should read, how many it read right."""
    from assistant.understanding.regions import find_place

    counts = defaultdict(lambda: [0, 0])
    for row, v in results:
        got = v.slots or {}
        for key, want in row.slots.items():
            if key == "region":
                expected = find_place(want)
                have = got.get("region")
                ok = expected is not None and have is not None and have.province == expected.province
            elif key == "date":
                have = got.get("date")
                ok = have is not None and (have.vague if want == "vague" else str(have.day) == want)
            elif key == "channel":
                ok = _channel_value(got.get("channel")) == {"12333": "app12333"}.get(want, want)
            elif key == "scam":
                ok = got.get("scam") == want or row.intent == "q_scam" and v.reported == "q_scam" and want == "general"
            else:
                continue  # relative, phone: read by the dialog only where it matters
            counts[key][0] += ok
            counts[key][1] += 1
    return {k: tuple(c) for k, c in sorted(counts.items())}


def _channel_value(intent):
    names = {"ch_wechat": "wechat", "ch_alipay": "alipay", "ch_12333": "app12333", "ch_laolai": "laolai",
             "ch_ganfutong": "ganfutong", "ch_yueshitong": "yueshitong", "ch_abroad": "abroad", "ch_family": "family"}
    return names.get(intent, intent)


def summary(results) -> dict:
    kinds = Counter(v.kind for _, v in results)
    n = len(results)
    asked_right = sum(1 for r, v in results if v.kind == "ask" and
                      (v.expected in v.offered or r.intent in v.offered))
    return {"n": n, "accuracy": kinds["correct"] / n if n else 0.0, "correct": kinds["correct"],
            "ask": kinds["ask"], "ask_offered_expected": asked_right, "missed": kinds["missed"],
            "wrong_confident": kinds["wrong"], "wrong_confident_rate": kinds["wrong"] / n if n else 0.0,
            "correct_by_same_effect": sum(1 for _, v in results if v.same_effect),
            "correct_by_refinement": sum(1 for _, v in results if v.refined)}


def confusion(results) -> dict:
    """expected intent -> {reported: count}."""
    table = defaultdict(Counter)
    for row, v in results:
        table[row.intent][v.reported if v.kind != "correct" else "✓"] += 1
    return {k: dict(c) for k, c in sorted(table.items())}


def run(quick: bool = False) -> PartResult:
    judge = Judge()
    result = PartResult()
    all_results = {label(p, v): evaluate(load_corpus(v, p), judge, p) for p, v in KEYS}
    sums = {k: summary(v) for k, v in all_results.items()}
    danger = {k: dangers(v, judge.flows, judge) for k, v in all_results.items()}
    slots = {k: slot_figures(v) for k, v in all_results.items()}
    names = {"test": "frozen part 1", "answers": "frozen part 2 (fine-grained questions)"}

    for part, variant in KEYS:
        s = sums[label(part, variant)]
        refined = f", {s['correct_by_refinement']} by a finer intent" if s["correct_by_refinement"] else ""
        result.figures.append(Figure(
            "1 understanding", f"top-1 accuracy, {variant} text, {names[part]} (n={s['n']})", pct(s["accuracy"]),
            f">= {pct(TARGETS[variant])}", status(s["accuracy"], TARGETS[variant], True),
            f"asked {s['ask']}, not understood {s['missed']}, wrong {s['wrong_confident']}{refined}"))
    for part, variant in KEYS:
        s = sums[label(part, variant)]
        result.figures.append(Figure(
            "1 understanding", f"wrong with high confidence, {variant} text, {names[part]}",
            f"{s['wrong_confident_rate'] * 100:.2f} % ({s['wrong_confident']}/{s['n']})",
            f"<= {WRONG_CONFIDENT_MAX * 100:.1f} %", status(s["wrong_confident_rate"], WRONG_CONFIDENT_MAX, False)))
    for part, variant in KEYS:
        d = danger[label(part, variant)]
        result.figures.append(Figure(
            "1 understanding", f"negations / not-yet / done-questions acted on as done, {variant} text, {names[part]}",
            f"{d['acted_negations']} of {d['negations']}", "0", status(d["acted_negations"], 0, False),
            f"{d['taken_back']} of them taken back by the user's next \"不对\" / \"没成功\"" if d["acted_negations"]
            else ""))
        result.figures.append(Figure(
            "1 understanding", f"scam stories routed into a walk, {variant} text, {names[part]}",
            f"{d['scams_to_walk']} of {d['scams']}", "0", status(d["scams_to_walk"], 0, False)))
    for part, variant in KEYS:
        s = sums[label(part, variant)]
        result.figures.append(Figure(
            "1 understanding", f"asked to confirm/choose (safe, not counted correct), {variant} text, {names[part]}",
            f"{pct(s['ask'] / s['n'])} ({s['ask']}; the right intent offered in {s['ask_offered_expected']})"))
    for key, (ok, n) in slots["clean"].items():
        result.figures.append(Figure("1 understanding", f"slot '{key}' read right, clean text, part 1", f"{ok}/{n}"))
    for key, (ok, n) in slots[label("answers", "clean")].items():
        result.figures.append(Figure("1 understanding", f"slot '{key}' read right, clean text, part 2", f"{ok}/{n}"))

    result.section = _section(all_results, sums, danger, slots)
    result.data = {
        "summary": sums, "dangers": danger, "slots": slots,
        "confusion": {v: confusion(r) for v, r in all_results.items()},
        "rows": {v: [[row.id, row.state, row.utterance, row.intent, v_.kind, v_.reported, list(v_.offered), v_.score]
                     for row, v_ in r if v_.kind != "correct"] for v, r in all_results.items()},
    }
    return result


def _section(all_results, sums, danger, slots) -> str:
    out = ["## 1. Understanding accuracy (frozen test corpus)", "",
           "Every row of `bench/corpus/frozen/test.tsv` (part 1) and `answers.tsv` (part 2, `answers …` below) goes "
           "through `Session.handle` in its state (set with "
           "`session.machine.set_state`); the intent is the one the `Reply` reports. The corpus was written blind to "
           "`flows/` and nothing was tuned on it. `noisy` is the same corpus with simulated recognition errors "
           "(`bench/corpus/make_noisy.py`).", ""]
    rows = []
    for variant, s in sums.items():
        d = danger[variant]
        rows.append([variant, s["n"], pct(s["accuracy"]), s["ask"], s["ask_offered_expected"], s["missed"],
                     f"{s['wrong_confident']} ({pct(s['wrong_confident_rate'])})",
                     f"{d['acted_negations']}/{d['negations']}", f"{d['scams_to_walk']}/{d['scams']}"])
    out += [md_table(["text", "n", "top-1", "asked (confirm/choose)", "…offering the right one", "not understood",
                      "wrong & confident", "negations acted as done", "scams into a walk"], rows), ""]
    out += ["Slots read right (clean): " + ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in slots["clean"].items()), ""]

    out += ["### Per intent (correct / n; what came back instead)", ""]
    per = defaultdict(dict)
    columns = list(all_results)
    for variant in columns:
        for row, v in all_results[variant]:
            per[row.intent].setdefault(variant, []).append(v)
    rows = []
    for intent in sorted(per):
        cells = [intent]
        for variant in columns:
            vs = per[intent].get(variant, [])
            ok = sum(1 for v in vs if v.kind == "correct")
            other = Counter(f"{v.reported}" for v in vs if v.kind != "correct")
            cells += [f"{ok}/{len(vs)}", ", ".join(f"{k}×{c}" for k, c in other.most_common(4))]
        rows.append(cells)
    out += [md_table(["intent", *(h for c in columns for h in (c, f"{c}: instead"))], rows), ""]

    for variant in columns:
        wrong = [(row, v) for row, v in all_results[variant] if v.kind == "wrong"]
        out += [f"### Wrong and confident, {variant} ({len(wrong)})", ""]
        if wrong:
            out += [md_table(["id", "state", "utterance", "expected", "got", "p"],
                             [[row.id, row.state, row.utterance, row.intent, v.reported, v.score]
                              for row, v in wrong]), ""]
    return "\n".join(out)


def main() -> int:
    """`python -m bench.accuracy [clean|noisy]`: the summary and the counts per intent (not the sentences)."""
    import sys

    wanted = sys.argv[1:] or [label(p, v) for p, v in KEYS]
    judge = Judge()
    for part, variant in KEYS:
        if label(part, variant) not in wanted and variant not in wanted:
            continue
        results = evaluate(load_corpus(variant, part), judge, part)
        print(f"== {label(part, variant)}: {summary(results)}")
        d = dangers(results, judge.flows)
        print(f"   acted negations {d['acted_negations']}/{d['negations']}, scams to a walk "
              f"{d['scams_to_walk']}/{d['scams']}; slots {slot_figures(results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
