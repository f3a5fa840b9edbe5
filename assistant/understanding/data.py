"""The training sentences, read from flows/ and checked with file:line errors.

Sources (all editable by a volunteer):
- intents.yaml: each intent's short phrases (also the recogniser's grammar);
- examples.yaml: whole sentences per intent, and under `in_state` sentences that only mean that in some states;
- templates.yaml: patterns that expand into many sentences, with lists ({channel}, {relative}, {region});
- state_examples*.tsv: state-tagged sentences (state, utterance, intent), one file per writer or source.
The label `out_of_scope` marks chit-chat and unrelated requests the assistant must not act on.
"""

import csv
import fnmatch
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import FlowError
from assistant.flows.yamlsrc import LDict, load_yaml
from assistant.understanding.templates import ListItem, expand

OUT_OF_SCOPE = "out_of_scope"
TRAINING_FILES = ("intents.yaml", "examples.yaml", "templates.yaml", "understanding.yaml")
"""The sentences and settings the model learns from, with every TSV_GLOB file (and the held-out calibration file
that `bands: held_out` in understanding.yaml may name, never trained on): a change to any of them retrains it."""
TSV_GLOB = "state_examples*.tsv"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    states: tuple[str, ...] | None
    """the states it may be heard in; None = wherever the intent is understood"""
    origin: str
    """file:line within the flows folder ("examples.yaml:107"), so tools can point at it"""
    group: str
    """examples from one template share a group: cross-validation keeps them on one side"""
    weight: float = 1.0


def _origin(file, line) -> str:
    """"examples.yaml:107": where a sentence was written, relative to the flows folder. Training seeds each
    sentence's noisy copies with it, so the same flows train the same model in any checkout."""
    return f"{Path(str(file)).name}:{line}"


def flows_digest(root: Path, extra: str = "") -> str:
    """A hash of every file the model is trained from and of `extra` (the feature version, what each state
    allows): editing what the assistant *says* keeps the model, editing what it *understands* retrains it."""
    h = hashlib.sha256(extra.encode())
    # A held-out calibration file counts only while `bands: held_out` names it: editing one that is switched off
    # must not retrain to the same model.
    held_out = load_config(root)["bands"].get("held_out")
    for path in [*(root / n for n in TRAINING_FILES), *sorted(root.glob(TSV_GLOB)),
                 *([root / str(held_out)] if held_out else [])]:
        h.update(path.name.encode())
        h.update(path.read_bytes() if path.exists() else b"-")
    return h.hexdigest()[:16]


def load_config(root: Path) -> LDict:
    data = load_yaml(root / "understanding.yaml")
    for key in ("cues", "guards", "bands", "training"):
        if not isinstance(data.get(key), dict):
            raise FlowError(data.file, data.line, f"'{key}' is missing or not a mapping")
    check_band_floor(data)
    exceptions = data.get("cue_exceptions") or LDict()
    if not isinstance(exceptions, dict):
        raise FlowError(data.file, data.line_of("cue_exceptions"), "'cue_exceptions' must map cue names to patterns")
    for section in (data["cues"], exceptions):
        for name, pattern in section.items():
            line = section.line_of(name) if isinstance(section, LDict) else data.line
            if section is exceptions and name not in data["cues"]:
                known = ", ".join(data["cues"])
                raise FlowError(data.file, line, f"'{name}' in cue_exceptions is not a cue (cues: {known})")
            try:
                re.compile(str(pattern))
            except re.error as e:
                raise FlowError(data.file, line, f"the pattern of '{name}' is not a regular expression: {e}") from None
    return data


def check_band_floor(data: LDict) -> None:
    """`bands: floor` maps act / answer / confirm to a probability: the lowest each band may be calibrated to."""
    bands = data["bands"]
    floor = bands.get("floor")
    if floor is None:
        return
    line = bands.line_of("floor") if isinstance(bands, LDict) else data.line
    if not isinstance(floor, dict):
        raise FlowError(data.file, line, "'floor' must map act / answer / confirm to a number between 0 and 1")
    for name, value in floor.items():
        at = floor.line_of(name) if isinstance(floor, LDict) else line
        if name not in ("act", "answer", "confirm"):
            raise FlowError(data.file, at, f"'{name}' in floor is not a band (act, answer, confirm)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise FlowError(data.file, at, f"the floor of '{name}' must be a number from 0 to below 1, not {value!r}")


class _Reader:
    def __init__(self, flows, region_names: list[str]):
        self.flows = flows
        self.known = set(flows.intents) | {OUT_OF_SCOPE}
        self.region_names = region_names

    def check_intent(self, name, file, line):
        if name not in self.known:
            raise FlowError(file, line, f"unknown intent '{name}' (intents are defined in intents.yaml)")

    def states_for(self, patterns, file, line) -> tuple[str, ...]:
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list) or not patterns:
            raise FlowError(file, line, "'states' must be a list of state names or patterns such as \"*.face.result\"")
        found = []
        for p in patterns:
            matched = [s for s in self.flows.states if fnmatch.fnmatchcase(s, str(p))]
            if not matched:
                raise FlowError(file, getattr(p, "line", line), f"'{p}' matches no state")
            found += matched
        return tuple(dict.fromkeys(found))

    def sentences(self, mapping, states, file) -> list[Example]:
        out = []
        if not isinstance(mapping, dict):
            raise FlowError(file, getattr(mapping, "line", 0), "'examples' must map intent names to lists of sentences")
        for intent, items in mapping.items():
            line = mapping.line_of(intent) if isinstance(mapping, LDict) else 0
            self.check_intent(intent, file, line)
            if items is None:  # an intent left with no sentences (all removed) is simply empty
                continue
            if not isinstance(items, list):
                raise FlowError(file, line, f"the examples of '{intent}' must be a list")
            for item in items:
                if not isinstance(item, str) or not item.strip():
                    raise FlowError(file, getattr(item, "line", line), f"every example of '{intent}' must be text")
                where = _origin(file, getattr(item, "line", line))
                out.append(Example(str(item).strip(), str(intent), states, where, where))
        return out

    def examples_file(self, path: Path) -> list[Example]:
        if not path.exists():
            return []
        data = load_yaml(path)
        out = self.sentences(data.get("examples", LDict()), None, data.file)
        blocks = data.get("in_state", [])
        if not isinstance(blocks, list):
            raise FlowError(data.file, data.line_of("in_state"), "'in_state' must be a list")
        for block in blocks:
            if not isinstance(block, LDict) or "states" not in block or "examples" not in block:
                raise FlowError(data.file, getattr(block, "line", 0),
                                "each 'in_state' item needs 'states' and 'examples'")
            states = self.states_for(block["states"], data.file, block.line_of("states"))
            out += self.sentences(block["examples"], states, data.file)
        return out

    def lists(self, data: LDict) -> dict[str, list[ListItem]]:
        if "region" in (data.get("lists") or {}):
            raise FlowError(data.file, data["lists"].line_of("region"),
                            "{region} comes from the administrative-division data; do not define it")
        return {"region": [ListItem(n, n) for n in self.region_names], **word_lists(data, "lists")}

    def templates_file(self, path: Path, per_template: int, seed: int) -> list[Example]:
        if not path.exists():
            return []
        data = load_yaml(path)
        lists = self.lists(data)
        out = []
        for key, by_list, template, line in _each_template(data):
            if by_list is not None:
                if by_list not in lists:
                    raise FlowError(data.file, line, f"'{key}': no list '{by_list}'")
                for item in lists[by_list]:
                    self.check_intent(item.value, data.file, line)
            else:
                self.check_intent(key, data.file, line)
            where = _origin(data.file, line)
            expansions = expand(str(template), lists, file=data.file, line=line, limit=100_000)
            # A few sentences per template, spread evenly and the same every time: templates teach the
            # pattern, they must not outweigh the hand-written examples.
            random.Random(f"{seed}:{template}").shuffle(expansions)
            for e in expansions[:per_template]:
                out.append(Example(e.text, e.slots[by_list] if by_list else str(key), None, where, where))
        return out

    def tsv_file(self, path: Path) -> list[Example]:
        if not path.exists():
            return []
        out = []
        with open(path, encoding="utf-8", newline="") as f:
            rows = csv.reader(f, delimiter="\t")
            header = next(rows, None)
            if header != ["state", "utterance", "intent"]:
                raise FlowError(str(path), 1, "the first line must be: state<TAB>utterance<TAB>intent")
            for n, row in enumerate(rows, start=2):
                if len(row) != 3:
                    raise FlowError(str(path), n, "each line needs three columns: state, utterance, intent")
                state, text, intent = row
                if state not in self.flows.states:
                    raise FlowError(str(path), n, f"unknown state '{state}'")
                self.check_intent(intent, str(path), n)
                where = _origin(path, n)
                out.append(Example(text, intent, (state,), where, where))
        return out


def _check_contradictions(examples: list[Example], normalise, root: Path) -> None:
    """The same words under two meanings teach the model nothing but doubt: one place says which. Checked for
    sentences understood everywhere; a state-tagged sentence may mean something else in its own state."""
    seen: dict[str, Example] = {}
    for ex in examples:
        if ex.states is not None or "templates.yaml" in ex.origin:
            continue
        key = normalise(ex.text)
        other = seen.setdefault(key, ex)
        if other.intent != ex.intent and ":" in ex.origin:
            file, _, line = ex.origin.rpartition(":")
            raise FlowError(str(root / file), int(line) if line.isdigit() else 0,
                            f"'{ex.text}' of '{ex.intent}' reads the same as '{other.text}' of '{other.intent}' "
                            f"({other.origin}) once fillers are removed")


def word_lists(data: LDict, key: str) -> dict[str, list[ListItem]]:
    """The word lists under `key` of a flow file ({name: {value: [words]}} or {name: [words]}), checked: for
    templates' {lists} and for slots read by their words."""
    out = {}
    for name, body in (data.get(key) or LDict()).items():
        line = data[key].line_of(name)
        if isinstance(body, LDict):  # value: [words] — the key is the slot value (for {channel}: an intent)
            items = []
            for value, words in body.items():
                if not isinstance(words, list):
                    raise FlowError(data.file, body.line_of(value), f"list '{name}': '{value}' needs a list of words")
                items += [ListItem(str(w), str(value)) for w in words]
        elif isinstance(body, list):
            items = [ListItem(str(w), str(w)) for w in body]
        else:
            raise FlowError(data.file, line, f"list '{name}' must be a list of words or a mapping value: [words]")
        out[str(name)] = items
    return out


def _each_template(data: LDict):
    """(key, the list a "{list}" key names or None, template, line) for every template of templates.yaml."""
    for key, templates in (data.get("templates") or {}).items():
        line = data["templates"].line_of(key)
        if not isinstance(templates, list):
            raise FlowError(data.file, line, f"the templates of '{key}' must be a list")
        by_list = key[1:-1] if key.startswith("{") and key.endswith("}") else None
        for template in templates:
            yield key, by_list, template, getattr(template, "line", line)


def template_sentences(flows, root: Path):
    """(intent, sentence) for every template without {region}, fully expanded: for recognition grammars."""
    path = root / "templates.yaml"
    if not path.exists():
        return []
    data = load_yaml(path)
    lists = _Reader(flows, []).lists(data)
    out = []
    for key, by_list, template, line in _each_template(data):
        if "{region}" not in str(template):
            out += [(e.slots[by_list] if by_list else str(key), e.text)
                    for e in expand(str(template), lists, file=data.file, line=line, limit=100_000)]
    return out


def load_held_out(flows, root: Path, config: LDict) -> list[Example]:
    """The calibration sentences named by `bands: held_out` (checked like state_examples.tsv); [] when none."""
    name = config["bands"].get("held_out")
    return _Reader(flows, []).tsv_file(root / str(name)) if name else []


def load_examples(flows, root: Path, config: LDict, region_names: list[str], normalise=None) -> list[Example]:
    """Every training sentence, checked; a mistake is a FlowError at its file:line."""
    reader = _Reader(flows, region_names)
    training = config["training"]
    examples = []
    phrase_weight = float(training.get("phrase_weight", 1.0))
    for intent in flows.intents.values():
        for p in intent.phrases:
            where = _origin(p.file, p.line)
            examples.append(Example(p.text, intent.name, None, where, where, phrase_weight))
        examples += [Example(t, intent.name, None, "typed", f"typed:{t}") for t in intent.typed]
    examples += reader.examples_file(root / "examples.yaml")
    examples += reader.templates_file(root / "templates.yaml", int(training["per_template"]), int(training["seed"]))
    for path in sorted(root.glob(TSV_GLOB)):
        examples += reader.tsv_file(path)
    if normalise is not None:
        _check_contradictions(examples, normalise, root)
    return examples
