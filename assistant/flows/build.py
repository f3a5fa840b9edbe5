"""Read flows/*.yaml, check every reference, and build the Flows the dialog runs on."""

import re
from pathlib import Path
from typing import overload

from assistant.errors import FlowError
from assistant.flows.model import Answer, Flows, Intent, Phrase, Region, Source, State
from assistant.flows.yamlsrc import LDict, load_yaml

RETURN = "@return"
CONTROLS = ("repeat", "slower", "faster", "louder", "softer", "back", "start_over", "help", "human", "goodbye",
            "not_yet", "check_done", "want_certify", "lacks_channel", "tell_region")
"""What `global: controls:` may list: each has its behaviour in assistant/dialog/session.py (Session._control)."""
TEMPLATES = {
    "next_date": {"ask": (), "vague": ("earliest",), "vague_ask": (), "say": ("rule", "last", "deadline"),
                  "remaining": ("days",), "overdue": ("days",), "general_rule": (), "region_rule": ("region", "cycle"),
                  "unknown_region": ("region",), "greeting_soon": ("deadline", "days"), "greeting_overdue": ("days",),
                  "caveat": (), "after_success": ("rule", "deadline"), "after_success_ask": (),
                  "remind_offer": (), "remind_made": ("where",), "remind_failed": (), "remind_declined": ()},
    "region_app": {"say": (), "app": ("region", "app"), "in_province": ("region", "city", "app"),
                   "none": ("region",), "channels": ()},
}
"""Answers filled in live: the sentences the dialog needs and the {placeholders} each may use."""
SAY_FIELDS = {"chosen": ("title",), "lacks_channel": ("label",), "other_channels": ("options",),
              "region_noted": ("region",), "you_can_say": ("options",), "confirm": ("label",),
              "choose": ("first", "second"), "help_state": ("options",)}
"""phrases.yaml sentences filled in live, and their {placeholders}; every other sentence is said as written."""
_SPOKEN = re.compile(r"^[\u3400-\u9fff0-9]+$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _where(value, parent=None, key=None) -> tuple[str, int]:
    if parent is not None and key is not None and isinstance(parent, LDict):
        return parent.file, parent.line_of(key)
    return getattr(value, "file", "?"), getattr(value, "line", 0)


def _need(mapping: LDict, key, kind, *, optional=False, default=None):
    """Fetch mapping[key] and check its type, or fail at the right line."""
    if key not in mapping:
        if optional:
            return default
        raise FlowError(mapping.file, mapping.line, f"'{key}' is missing")
    value = mapping[key]
    if not isinstance(value, kind):
        names = {str: "text", list: "a list", dict: "a mapping", int: "a whole number"}
        want = names.get(kind, getattr(kind, "__name__", str(kind)))
        raise FlowError(*_where(value, mapping, key), f"'{key}' must be {want}")
    return value


def _text(mapping, key, **kw):
    value = _need(mapping, key, str, **kw)
    if value is not None and not value.strip():
        raise FlowError(*_where(value, mapping, key), f"'{key}' is empty")
    return value


@overload
def _spoken(mapping, key) -> str: ...
@overload
def _spoken(mapping, key, *, optional: bool) -> str | None: ...
def _spoken(mapping, key, *, optional: bool = False) -> str | None:
    """Spoken Chinese text: YAML folds long lines with spaces, which Chinese does not have."""
    value = _text(mapping, key, optional=optional)
    return None if value is None else "".join(value.split())


def _texts(mapping, key, optional=False) -> list:
    values = _need(mapping, key, list, optional=optional, default=[])
    for v in values:
        if not isinstance(v, str) or not v.strip():
            hint = f" (put {v} in quotes)" if isinstance(v, (int, float)) else ""
            raise FlowError(*_where(values), f"every item of '{key}' must be text{hint}")
    return values


def _sources(mapping: LDict) -> list[Source]:
    raw = _need(mapping, "source", (str, list))
    items = [raw] if isinstance(raw, str) else raw
    if not items:
        raise FlowError(*_where(raw, mapping, "source"), "'source' is empty")
    result = []
    for item in items:
        if not isinstance(item, str) or ":" not in item:
            raise FlowError(*_where(item if isinstance(item, str) else raw, mapping, "source"),
                            "a source is '<seed file>: <quote>' or 'product: <what>'")
        file, quote = (part.strip() for part in item.split(":", 1))
        if not quote:
            raise FlowError(*_where(item), "a source needs a quote after the file name")
        if file != "product" and not file.endswith(".txt"):
            raise FlowError(*_where(item), f"source '{file}' is not a seed file name (…txt) or 'product'")
        result.append(Source(file, quote, getattr(item, "line", 0)))
    return result


def _load_intents(path: Path) -> dict[str, Intent]:
    data = load_yaml(path)
    intents = {}
    for name, body in _need(data, "intents", dict).items():
        if not _ID.match(str(name)):
            raise FlowError(data.file, data["intents"].line_of(name), f"intent name '{name}' must be lower_case")
        if not isinstance(body, LDict):
            raise FlowError(data.file, data["intents"].line_of(name), f"intent '{name}' must be a mapping")
        phrases = []
        for p in _texts(body, "phrases"):
            p = _stripped(p)
            if not _SPOKEN.match(p):
                raise FlowError(p.file, p.line, f"phrase '{p}' of '{name}' may hold only Chinese characters and "
                                "digits (it is also the recogniser's grammar); put typed forms under 'typed'")
            phrases.append(Phrase(str(p), p.file, p.line))
        if not phrases:
            raise FlowError(body.file, body.line, f"intent '{name}' has no phrases")
        typed = [str(t) for t in _texts(body, "typed", optional=True)]
        intents[name] = Intent(name, str(_text(body, "label")), phrases, typed)
    return intents


def _stripped(value):
    stripped = type(value)(value.strip())
    stripped.file, stripped.line = value.file, value.line
    return stripped


def _check_options(body, where):
    options = _texts(body, "options", optional=True)
    if len(options) > 3:
        raise FlowError(*_where(options), f"{where}: at most 3 options (elders cannot keep more in mind)")
    return [str(o) for o in options]


class _WalkExpander:
    """Turns walks into numbered step states, splicing `use:` walks in place."""

    def __init__(self, walks: LDict):
        self.walks = walks

    def steps(self, walk: str, prefix: str, trail=(), overrides: LDict | None = None):
        if walk in trail:
            raise FlowError(self.walks.file, self.walks.line_of(walk), f"walk '{walk}' uses itself")
        body = self.walks[walk]
        out = []
        for step in _need(body, "steps", list):
            if not isinstance(step, LDict):
                raise FlowError(*_where(step), f"a step of walk '{walk}' must be a mapping")
            if "use" in step:
                used = _text(step, "use")
                if used not in self.walks:
                    raise FlowError(step.file, step.line, f"walk '{walk}' uses unknown walk '{used}'")
                out += self.steps(used, f"{prefix}.{used}", (*trail, walk), _need(step, "with", dict, optional=True))
            else:
                sid = _text(step, "id")
                out.append((f"{prefix}.{sid}", prefix, _overridden(step, overrides, sid)))
        if not out:
            raise FlowError(body.file, body.line, f"walk '{walk}' has no steps")
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
    if not isinstance(change, LDict):
        raise FlowError(*_where(change, overrides, sid), f"'with: {sid}' must be a mapping of the step's keys")
    if "id" in change or "use" in change:
        raise FlowError(change.file, change.line, "'with' may change what a step says and does, not its id")
    merged = LDict({**step, **change})
    merged.key_lines = {**step.key_lines, **change.key_lines}
    merged.file, merged.line = change.file, change.line
    return merged


def _load_dialog(path: Path, intents):
    data = load_yaml(path)
    states: dict[str, State] = {}
    raw_on: dict[str, tuple[LDict, dict, str]] = {}  # state -> (body, on mapping, step prefix)

    for name, body in _need(data, "states", dict).items():
        if not isinstance(body, LDict):
            raise FlowError(data.file, data["states"].line_of(name), f"state '{name}' must be a mapping")
        certified = _need(body, "certified", bool, optional=True, default=False)
        states[name] = State(name, _spoken(body, "say"), _check_options(body, name), {}, _sources(body),
                             body.file, body.line, ask=_spoken(body, "ask", optional=True) or "", certified=certified)
        raw_on[name] = (body, _need(body, "on", dict, optional=True, default={}), "")

    walks = _need(data, "walks", dict)
    _check_walk_shapes(walks)
    expander = _WalkExpander(walks)
    used = {str(step["use"]) for w in walks.values() for step in w.get("steps", [])
            if isinstance(step, dict) and "use" in step}
    for walk in walks:
        if walk in states:
            raise FlowError(walks.file, walks.line_of(walk), f"'{walk}' is both a state and a walk")
        if walk in used and not _targets_walk(data, walk):
            continue  # only ever spliced into other walks
        steps = expander.steps(walk, walk)
        returns = any(RETURN in (s.get("on") or {}).values() for _, _, s in steps)
        number, total = 0, sum(1 for _, _, s in steps if not s.get("alt"))
        for i, (name, prefix, step) in enumerate(steps):
            if name in states:
                raise FlowError(step.file, step.line, f"step '{name}' is defined twice")
            number += 0 if step.get("alt") else 1
            on = dict(_need(step, "on", dict, optional=True, default={}))
            if "next" in step:
                on.setdefault("next", f"{prefix}.{_text(step, 'next')}")
            elif "next" not in on:
                following = next((n for n, _, s in steps[i + 1:] if not s.get("alt")), None)
                if following is None:
                    raise FlowError(step.file, step.line, f"the last step of walk '{walk}' must say where 'next' goes")
                on["next"] = following
            states[name] = State(name, _spoken(step, "say"), _check_options(step, name), {}, _sources(step),
                                 step.file, step.line, walk, (max(number, 1), total), returns,
                                 _spoken(step, "ask", optional=True) or "")
            raw_on[name] = (step, on, prefix)

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

    for name, (body, on, prefix) in raw_on.items():
        for intent, target in on.items():
            where = (body.file, body["on"].line_of(intent) if "on" in body and intent in body["on"] else body.line)
            if intent not in intents:
                raise FlowError(*where, f"'{name}' reacts to unknown intent '{intent}'")
            states[name].on[intent] = resolve(str(target), prefix, where)

    glob = _need(data, "global", dict)
    controls = [str(c) for c in _texts(glob, "controls")]
    for control in controls:
        if control not in CONTROLS:
            raise FlowError(glob.file, glob.line_of("controls"), f"'{control}' is not a control the assistant can "
                            f"carry out (controls: {', '.join(CONTROLS)}); a question goes under 'answers', a "
                            "place to go under 'goto'")
    answer_of = {str(k): str(v) for k, v in _need(glob, "answers", dict).items()}
    goto = {}
    for intent, target in _need(glob, "goto", dict).items():
        goto[str(intent)] = resolve(str(target), "", (glob.file, glob["goto"].line_of(intent)))
    for intent in [*controls, *answer_of, *goto]:
        if intent not in intents:
            raise FlowError(glob.file, glob.line, f"global intent '{intent}' is not in intents.yaml")
    start = str(_text(data, "start"))
    if start not in states:
        raise FlowError(data.file, data.line_of("start"), f"start state '{start}' does not exist")
    titles = {str(w): str(b["title"]) for w, b in walks.items() if isinstance(b, LDict) and "title" in b}
    return start, states, controls, answer_of, goto, titles


def _check_walk_shapes(walks: LDict) -> None:
    """A walk is a mapping with a list of steps, each step a mapping whose `on` is a mapping: checked first, so
    a walk written as a string or `on:` written as a list is one file:line message, not a traceback later."""
    for walk, body in walks.items():
        if not isinstance(body, LDict):
            raise FlowError(walks.file, walks.line_of(walk), f"walk '{walk}' must be a mapping with 'steps:'")
        for step in _need(body, "steps", list):
            if not isinstance(step, LDict):
                raise FlowError(*_where(step), f"a step of walk '{walk}' must be a mapping")
            _need(step, "on", dict, optional=True)
            for key in ("id", "use"):
                if key in step and not isinstance(step[key], str):
                    raise FlowError(*_where(step[key], step, key), f"'{key}' must be a name")


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


def _load_answers(path: Path, answer_ids):
    data = load_yaml(path)
    answers = {}
    for aid, body in _need(data, "answers", dict).items():
        if not isinstance(body, LDict):
            raise FlowError(data.file, data["answers"].line_of(aid), f"answer '{aid}' must be a mapping")
        templates = {k: _spoken(body, k) for k in body if k not in ("say", "source", "by")}
        by = _text(body, "by", optional=True)
        if by is not None and "then" not in templates:
            raise FlowError(*_where(by, body, "by"), f"answer '{aid}' is said by {by}: it needs 'then', the sentence "
                            "said after the one for that kind")
        _check_placeholders(body, aid, {"say": _spoken(body, "say"), **templates})
        answers[aid] = Answer(str(aid), _spoken(body, "say"), _sources(body), templates,
                              str(by) if by is not None else None)
    for intent, aid in answer_ids.items():
        if aid not in answers:
            raise FlowError(data.file, 0, f"intent '{intent}' is answered by '{aid}', which knowledge.yaml lacks")
    return answers


def _check_placeholders(body: LDict, aid, texts: dict) -> None:
    """A sentence filled in live names only the values the dialog has for it; any other brace is an error here,
    not a ValueError or KeyError in the middle of a conversation."""
    needed = TEMPLATES.get(str(aid))
    for key, text in texts.items():
        if needed and str(key) not in needed:
            raise FlowError(body.file, body.line_of(key), f"'{key}' is not a sentence of '{aid}' (it has: "
                            f"{', '.join(needed)})")
        _check_fields(text, needed.get(str(key), ()) if needed else (), body, key, f"'{key}' of '{aid}'")
    for key in (needed or {}):
        if key not in texts:
            raise FlowError(body.file, body.line, f"answer '{aid}' needs the sentence '{key}'")


def _check_fields(text: str, allowed, body: LDict, key, what: str) -> None:
    for name in _fields(text, body, key):
        if name not in allowed:
            hint = f" (it may use {', '.join('{' + a + '}' for a in allowed)})" if allowed else \
                " (this sentence is said as written: no {…} in it)"
            raise FlowError(body.file, body.line_of(key), f"{what} uses {{{name}}}{hint}")


def _fields(text: str, body: LDict, key) -> list[str]:
    import string

    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise FlowError(body.file, body.line_of(key), f"'{key}' has a lone '{{' or '}}' (a {{placeholder}} must "
                        "be closed)") from None


def _load_phrases(path: Path):
    data = load_yaml(path)
    say = _need(data, "say", dict)
    for key, value in say.items():
        if not isinstance(value, str):
            raise FlowError(say.file, say.line_of(key), f"'{key}' must be text")
    texts = {str(k): _spoken(say, k) for k in say}
    for key, text in texts.items():
        _check_fields(text, SAY_FIELDS.get(key, ()), say, key, f"'{key}'")
    return texts, [str(f) for f in _texts(data, "fillers")]


_NEEDED_SAY = ("not_understood", "you_can_say", "offer_person", "silence", "confirm", "choose", "confirm_again",
               "back_to_step", "slower", "faster", "louder", "softer", "slowest", "fastest", "loudest", "softest",
               "first_step", "back", "start_over", "help_state", "help_always", "numbers", "secret", "too_long",
               "foreign", "no_date", "not_heard", "or", "comma")


def _region(name, body) -> Region:
    if not isinstance(body, LDict):
        raise FlowError(getattr(body, "file", "?"), getattr(body, "line", 0), f"region '{name}' must be a mapping")
    days = _need(body, "cycle_days", int, optional=True)
    if days is not None and not 30 <= days <= 400:
        raise FlowError(body.file, body.line_of("cycle_days"), f"cycle_days {days} is not a plausible cycle")
    cycle = _text(body, "cycle", optional=True)
    if (days is None) != (cycle is None):
        raise FlowError(body.file, body.line, f"region '{name}': give both cycle_days and cycle, or neither")
    return Region(str(name), [str(a) for a in _texts(body, "aliases", optional=True)], days,
                  str(cycle) if cycle else None, _opt(body, "app"), _opt(body, "within"), _opt(body, "note"),
                  _sources(body))


def _opt(body, key):
    value = _text(body, key, optional=True)
    return str(value) if value is not None else None


def _load_regions(path: Path):
    data = load_yaml(path)
    general = _region("general", _need(data, "general", dict))
    if general.cycle_days is None:
        raise FlowError(data.file, data.line_of("general"), "the general rule needs cycle_days and cycle")
    regions = {str(n): _region(n, b) for n, b in _need(data, "regions", dict).items()}
    for r in regions.values():
        if r.within and r.within in regions and regions[r.within].within == r.name:
            raise FlowError(data.file, 0, f"regions '{r.name}' and '{r.within}' are within each other")
    return general, regions, [str(p) for p in _texts(data, "provinces")]


def load_flows(directory=None) -> Flows:
    """Load and check every flow file; a broken file raises FlowError('file:line: what is wrong')."""
    from assistant import FLOWS_DIR

    root = Path(directory) if directory else FLOWS_DIR
    intents = _load_intents(root / "intents.yaml")
    start, states, controls, answer_of, goto, titles = _load_dialog(root / "dialog.yaml", intents)
    answers = _load_answers(root / "knowledge.yaml", answer_of)
    say, fillers = _load_phrases(root / "phrases.yaml")
    for key in _NEEDED_SAY:
        if key not in say:
            raise FlowError(str(root / "phrases.yaml"), 0, f"sentence '{key}' is missing under 'say'")
    general, regions, provinces = _load_regions(root / "regions.yaml")
    return Flows(start, intents, states, controls, answer_of, goto, answers, say, fillers, general, regions, provinces,
                 titles, root)
