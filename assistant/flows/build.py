"""Read flows/*.yaml, check every reference, and build the Flows the dialog runs on."""

from pathlib import Path

from assistant.errors import FlowError
from assistant.flows.model import Answer, Flows, Intent, Phrase, Region, Source, State
from assistant.flows.schema import (
    DialogFile,
    IntentsFile,
    KnowledgeFile,
    PhrasesFile,
    RegionsFile,
    StepShape,
    check,
)
from assistant.flows.yamlsrc import LDict, load_yaml

RETURN = "@return"


def _spoken(mapping: LDict, key) -> str | None:
    """Spoken Chinese text: YAML folds long lines with spaces, which Chinese does not have."""
    value = mapping.get(key)
    return None if value is None else "".join(value.split())


def _sources(mapping: LDict) -> list[Source]:
    raw = mapping["source"]
    items = [raw] if isinstance(raw, str) else raw
    result = []
    for item in items:
        file, quote = (part.strip() for part in item.split(":", 1))
        result.append(Source(file, quote, getattr(item, "line", 0)))
    return result


def _load_intents(path: Path) -> dict[str, Intent]:
    data = load_yaml(path)
    check(data, IntentsFile)
    intents = {}
    for name, body in data["intents"].items():
        phrases = [Phrase(p.strip(), p.file, p.line) for p in body["phrases"]]
        start_label = body.get("start_label")
        intents[name] = Intent(name, str(body["label"]), phrases, [str(t) for t in body.get("typed", [])],
                               str(start_label) if start_label else None)
    return intents


class _WalkExpander:
    """Turns walks into numbered step states, splicing `use:` walks in place."""

    def __init__(self, walks: LDict):
        self.walks = walks

    def steps(self, walk: str, prefix: str, trail=(), overrides: LDict | None = None):
        if walk in trail:
            raise FlowError(self.walks.file, self.walks.line_of(walk), f"walk '{walk}' uses itself")
        body = self.walks[walk]
        out = []
        for step in body["steps"]:
            if "use" in step:
                used = step["use"]
                if used not in self.walks:
                    raise FlowError(step.file, step.line, f"walk '{walk}' uses unknown walk '{used}'")
                out += self.steps(used, f"{prefix}.{used}", (*trail, walk), step.get("with"))
            else:
                sid = step["id"]
                out.append((f"{prefix}.{sid}", prefix, _overridden(step, overrides, sid)))
        if overrides:
            ids = {str(s.get("id")) for s in body["steps"] if isinstance(s, LDict)}
            for sid in overrides:
                if str(sid) not in ids:
                    raise FlowError(overrides.file, overrides.line_of(sid), f"walk '{walk}' has no step '{sid}'")
        return out


def _overridden(step: LDict, overrides: LDict | None, sid: str) -> LDict:
    """`use: face` with `with: {move: {say: …, source: …}}`: the same step, said the way this channel says it
    (WeChat asks "眨眼、抬头", 掌上12333 "眨眼、摇头"). Keys given replace the shared step's; the rest stay."""
    if not overrides or sid not in overrides:
        return step
    change = overrides[sid]
    if "id" in change or "use" in change:
        raise FlowError(change.file, change.line, "'with' may change what a step says and does, not its id")
    merged = LDict({**step, **change})
    merged.key_lines = {**step.key_lines, **change.key_lines}
    merged.file, merged.line = change.file, change.line
    # The merged step is checked as a step: `with:` may not give a step a key it cannot have.
    check(merged, StepShape)
    return merged


def _load_dialog(path: Path, intents):
    data = load_yaml(path)
    check(data, DialogFile)
    states: dict[str, State] = {}
    raw_on: dict[str, tuple[LDict, dict, str, LDict]] = {}  # state -> (body, on mapping, step prefix, its walk)

    for name, body in data["states"].items():
        states[name] = State(name, _spoken(body, "say") or "", list(body.get("options", [])), {}, _sources(body),
                             body.file, body.line, ask=_spoken(body, "ask") or "",
                             certified=body.get("certified", False),
                             awaiting_result=body.get("awaiting_result", False))
        raw_on[name] = (body, body.get("on", {}), "", body)

    walks = data["walks"]
    expander = _WalkExpander(walks)
    used = {str(step["use"]) for w in walks.values() for step in w.get("steps", [])
            if isinstance(step, dict) and "use" in step}
    for walk in walks:
        if walk in states:
            raise FlowError(walks.file, walks.line_of(walk), f"'{walk}' is both a state and a walk")
        if walk in used and not _targets_walk(data, walk):
            continue  # only ever spliced into other walks
        steps = expander.steps(walk, walk)
        walk_on = walks[walk].get("on") or {}
        returns = any(RETURN in (s.get("on") or {}).values() for _, _, s in steps)
        number, total = 0, sum(1 for _, _, s in steps if not s.get("alt"))
        for i, (name, prefix, step) in enumerate(steps):
            if name in states:
                raise FlowError(step.file, step.line, f"step '{name}' is defined twice")
            number += 0 if step.get("alt") else 1
            on = {**walk_on, **step.get("on", {})}
            if "next" in step:
                on.setdefault("next", f"{prefix}.{step['next']}")
            elif "next" not in on:
                following = next((n for n, _, s in steps[i + 1:] if not s.get("alt")), None)
                if following is None:
                    raise FlowError(step.file, step.line, f"the last step of walk '{walk}' must say where 'next' goes")
                on["next"] = following
            states[name] = State(name, _spoken(step, "say") or "", list(step.get("options", [])), {}, _sources(step),
                                 step.file, step.line, walk, (max(number, 1), total), returns,
                                 _spoken(step, "ask") or "", awaiting_result=step.get("awaiting_result", False))
            raw_on[name] = (step, on, prefix, walks[walk])

    def resolve(target, prefix, where):
        if target == RETURN:
            return RETURN
        for candidate in (f"{prefix}.{target}" if prefix else None, target, f"{target}.{_first_step(target)}"):
            if candidate and candidate in states:
                return candidate
        raise FlowError(*where, f"goes to unknown step or state '{target}'")

    def _first_step(walk):
        return next((n.split(".", 1)[1] for n, st in states.items()
                     if st.walk == walk and n.startswith(walk + ".")), "")

    for name, (body, on, prefix, walk_body) in raw_on.items():
        for intent, target in on.items():
            # The line that says it: the step's own `on`, else its walk's.
            said = next((b for b in (body, walk_body) if intent in (b.get("on") or {})), body)
            where = (said.file, said["on"].line_of(intent) if intent in (said.get("on") or {}) else said.line)
            if intent not in intents:
                raise FlowError(*where, f"'{name}' reacts to unknown intent '{intent}'")
            states[name].on[intent] = resolve(str(target), prefix, where)

    glob = data["global"]
    controls = [str(c) for c in glob["controls"]]
    answer_of = {str(k): str(v) for k, v in glob["answers"].items()}
    goto = {}
    for intent, target in glob["goto"].items():
        goto[str(intent)] = resolve(str(target), "", (glob.file, glob["goto"].line_of(intent)))
    understood_anywhere = [*controls, *answer_of, *goto]
    for intent in understood_anywhere:
        if intent not in intents:
            raise FlowError(glob.file, glob.line, f"global intent '{intent}' is not in intents.yaml")
    in_words = glob.get("confirm_in_words", [])
    for intent in in_words:
        if intent not in understood_anywhere:
            raise FlowError(glob.file, getattr(intent, "line", glob.line),
                            f"confirm_in_words: '{intent}' is not a global intent (controls, answers, goto)")
    start = str(data["start"])
    if start not in states:
        raise FlowError(data.file, data.line_of("start"), f"start state '{start}' does not exist")
    titles = {str(w): str(b["title"]) for w, b in walks.items() if isinstance(b, LDict) and "title" in b}
    return start, states, controls, answer_of, goto, titles, tuple(str(i) for i in in_words)


def _targets_walk(data, walk) -> bool:
    """Is a walk entered directly (not only spliced)? Then it also exists as its own steps."""
    goto = data.get("global", {}).get("goto", {})
    targets = set(goto.values())
    for section in ("states", "walks"):
        for body in data.get(section, {}).values():
            items = [body] + [s for s in body.get("steps", []) if isinstance(s, dict)] if isinstance(body, dict) else []
            for item in items:
                targets |= set((item.get("on") or {}).values())
    return walk in targets


def _load_answers(path: Path, answer_ids, goto):
    data = load_yaml(path)
    check(data, KnowledgeFile)
    answers = {}
    for aid, body in data["answers"].items():
        templates = {k: _spoken(body, k) or "" for k in body if k not in ("say", "source", "by", "offers", "instead")}
        by, offers, instead = body.get("by"), body.get("offers"), body.get("instead")
        if offers is not None and str(offers) not in goto:
            raise FlowError(data.file, body.line_of("offers"), f"answer '{aid}' offers '{offers}', which is no walk "
                            f"of dialog.yaml's goto ({', '.join(goto)})")
        if instead is not None and offers is None:
            raise FlowError(data.file, body.line_of("instead"), f"answer '{aid}' says '{instead}' instead of what it "
                            "offers, but offers no walk")
        answers[aid] = Answer(str(aid), _spoken(body, "say") or "", _sources(body), templates,
                              str(by) if by is not None else None, str(offers) if offers is not None else None,
                              str(instead) if instead is not None else None)
    bodies = {str(aid): body for aid, body in data["answers"].items()}
    for aid in bodies:
        # "instead" names another answer, and following them never comes back round (simplest → alipay → simplest
        # would be said for ever once both are lacked). Reported at the `instead` that goes wrong.
        seen, at = [aid], aid
        while (then := answers[at].instead) is not None:
            if then not in answers or then in seen:
                why = "which knowledge.yaml lacks" if then not in answers else "which leads back to it"
                raise FlowError(data.file, bodies[at].line_of("instead"),
                                f"answer '{at}' is said instead as '{then}', {why}")
            seen.append(then)
            at = then
    for intent, aid in answer_ids.items():
        if aid not in answers:
            raise FlowError(data.file, 0, f"intent '{intent}' is answered by '{aid}', which knowledge.yaml lacks")
    return answers


def _load_phrases(path: Path):
    data = load_yaml(path)
    check(data, PhrasesFile)
    texts = {str(k): _spoken(data["say"], k) for k in data["say"]}
    return (texts, [str(f) for f in data["fillers"]], tuple(str(g) for g in data.get("greetings") or ()),
            tuple(str(w) for w in data.get("filler_words") or ()),
            tuple(str(w) for w in data.get("certified_words") or ()))


def _region(name, body) -> Region:
    cycle = body.get("cycle")
    return Region(str(name), [str(a) for a in body.get("aliases", [])], body.get("cycle_days"),
                  str(cycle) if cycle else None, _opt(body, "app"), _opt(body, "within"), _opt(body, "note"),
                  _sources(body))


def _opt(body, key):
    value = body.get(key)
    return str(value) if value is not None else None


def _load_regions(path: Path):
    data = load_yaml(path)
    check(data, RegionsFile)
    general = _region("general", data["general"])
    regions = {str(n): _region(n, b) for n, b in data["regions"].items()}
    for r in regions.values():
        if r.within and r.within in regions and regions[r.within].within == r.name:
            raise FlowError(data.file, 0, f"regions '{r.name}' and '{r.within}' are within each other")
    return general, regions, [str(p) for p in data["provinces"]]


def load_flows(directory=None) -> Flows:
    """Load and check every flow file; a broken file raises FlowError('file:line: what is wrong')."""
    from assistant import FLOWS_DIR

    root = Path(directory) if directory else FLOWS_DIR
    intents = _load_intents(root / "intents.yaml")
    start, states, controls, answer_of, goto, titles, confirm_in_words = _load_dialog(root / "dialog.yaml", intents)
    answers = _load_answers(root / "knowledge.yaml", answer_of, goto)
    say, fillers, greetings, filler_words, certified_words = _load_phrases(root / "phrases.yaml")
    general, regions, provinces = _load_regions(root / "regions.yaml")
    return Flows(start, intents, states, controls, answer_of, goto, answers, say, fillers, general, regions, provinces,
                 titles, root, confirm_in_words, greetings, filler_words, certified_words)
