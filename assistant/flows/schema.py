"""The shape of every flow file, as pydantic models: what each key holds, which keys exist, which {placeholders}
each sentence may use. A broken file is one FlowError at the YAML line of the first problem, at load time, never
a traceback or a KeyError in the middle of a conversation.

Only the shape and the text of each value are checked here; what refers to what (a step's target, an intent
named in dialog.yaml) is checked by build.py, which knows all the files.
"""

import re
import string
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from assistant.errors import FlowError
from assistant.flows.yamlsrc import LDict, LList

CONTROLS = ("repeat", "slower", "faster", "louder", "softer", "back", "start_over", "help", "human", "goodbye",
            "thanks", "not_yet", "check_done", "want_certify", "lacks_channel", "tell_region", "no")
"""What `global: controls:` may list: each has its behaviour in assistant/dialog/session.py (Session._control)."""
ASKS_AGAIN = ("thanks",)
"""Controls whose reply is a kind word and the step's question again, nothing moved (Session._control): the
dialog acts on them even when the understanding is not sure ("您是说“谢谢”吗?" would be silly; a wrong one costs a
repeated step), and the end-of-turn judge waits after them as after a sentence ("谢谢……那下一步呢")."""
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
              "ask_channel": ("options",), "region_noted": ("region",), "you_can_say": ("options",),
              "confirm": ("label",),
              "confirm_question": ("label",), "choose": ("first", "second"),
              "choose_which": ("first", "second"), "help_state": ("options",),
              "region_label": ("region",)}
"""phrases.yaml sentences filled in live, and their {placeholders}; every other sentence is said as written."""
NEEDED_SAY = ("not_understood", "not_understood_long", "you_can_say", "offer_person", "silence", "confirm", "choose",
              "confirm_again", "confirm_question", "region_label",
              "back_to_step", "slower", "faster", "louder", "softer", "slowest", "fastest", "loudest", "softest",
              "first_step", "back", "undone", "declined", "went_wrong", "disagree", "heard_yes", "hello", "start_over",
              "help_state", "help_always", "ask_channel", "no_channel_left",
              "numbers", "secret", "too_long", "foreign", "no_date", "not_heard", "or", "and", "comma",
              "out_of_scope", "other_pension_matters", "choose_which")
"""phrases.yaml sentences the dialog says by name."""
MAX_OPTIONS = 3

_SPOKEN = re.compile(r"^[\u3400-\u9fff0-9]+$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _fail(message: str, *at) -> PydanticCustomError:
    """A problem in our words; `at` is where below the value being checked (a key, a sentence name)."""
    return PydanticCustomError("flow", "{message}", {"message": message, "at": at})


# --- values -----------------------------------------------------------------------------------------------------
def _text(value: str) -> str:
    if not value.strip():
        raise _fail("is empty")
    return value


def fields(text: str) -> list[str]:
    """The {placeholders} a sentence names; a lone brace is an error (str.format would raise mid-conversation)."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise _fail("has a lone '{' or '}' (a {placeholder} must be closed)") from None


def _plain_sentence(value: str) -> str:
    """A sentence said as written (states, steps, regions): checked for braces like any other."""
    names = fields(value)
    if names:
        raise _fail(f"uses {{{names[0]}}} (this sentence is said as written: no {{…}} in it)")
    return value


def _phrase(value: str) -> str:
    if not _SPOKEN.match(value.strip()):
        raise _fail(f"phrase '{value.strip()}' may hold only Chinese characters and digits (it is also the "
                    "recogniser's grammar); put typed forms under 'typed'")
    return value


def _source(value: str) -> str:
    if ":" not in value:
        raise _fail("a source is '<seed file>: <quote>', 'rule <name>: <quote>' or 'product: <what>'")
    file, quote = (part.strip() for part in value.split(":", 1))
    if not quote:
        raise _fail("a source needs a quote after the file name")
    if file != "product" and not file.endswith(".txt") and not (file.startswith("rule ") and file[5:].strip()):
        raise _fail(f"source '{file}' is not a seed file name (…txt), 'rule <name>' (flows/rules.yaml) or 'product'")
    return value


def _one_or_more(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and not value:
        raise _fail("is empty")
    return value


def _few(options: list) -> list:
    if len(options) > MAX_OPTIONS:
        raise _fail(f"at most {MAX_OPTIONS} options (elders cannot keep more in mind)")
    return options


def _control(value: str) -> str:
    if value not in CONTROLS:
        raise _fail(f"'{value}' is not a control the assistant can carry out (controls: {', '.join(CONTROLS)}); "
                    "a question goes under 'answers', a place to go under 'goto'")
    return value


def _name(value: str) -> str:
    if not _ID.match(value):
        raise _fail(f"'{value}' must be lower_case (letters, digits, _)")
    return value


def _cycle_days(days: int) -> int:
    if not 30 <= days <= 400:
        raise _fail(f"cycle_days {days} is not a plausible cycle")
    return days


Text = Annotated[str, AfterValidator(_text)]
Sentence = Annotated[str, AfterValidator(_text), AfterValidator(_plain_sentence)]
Spoken = Annotated[str, AfterValidator(_phrase)]
Name = Annotated[str, AfterValidator(_name)]
Sources = Annotated[list[Annotated[str, AfterValidator(_source)]], BeforeValidator(_one_or_more)]
Options = Annotated[list[Text], AfterValidator(_few)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- intents.yaml -------------------------------------------------------------------------------------------------
class IntentShape(_Shape):
    label: Text
    start_label: Text | None = None
    phrases: Annotated[list[Spoken], Field(min_length=1)]
    typed: list[Text] = []


class IntentsFile(_Shape):
    intents: dict[Name, IntentShape]


# --- dialog.yaml --------------------------------------------------------------------------------------------------
class StateShape(_Shape):
    say: Sentence
    ask: Sentence | None = None
    options: Options = []
    source: Sources
    on: dict[str, Text] = {}
    certified: StrictBool = False
    awaiting_result: StrictBool = False


class StepShape(_Shape):
    id: Text
    say: Sentence
    ask: Sentence | None = None
    options: Options = []
    source: Sources
    on: dict[str, Text] = {}
    next: Text | None = None
    alt: StrictBool = False
    awaiting_result: StrictBool = False


class UseShape(_Shape):
    """`use: <walk>` splices another walk in; `with:` changes what some of its steps say (see build.py)."""

    use: Text
    with_: dict[str, dict[str, Any]] | None = Field(None, alias="with")


def _step_kind(value) -> str:
    """A step is a splice (`use:`) or a step of its own; told apart before either shape is checked. (The tags
    are never keys of a step: they appear in pydantic's error locations, which are mapped to lines.)"""
    return "~splice" if isinstance(value, dict) and "use" in value else "~step"


Step = Annotated[Annotated[UseShape, Tag("~splice")] | Annotated[StepShape, Tag("~step")],
                 Discriminator(_step_kind)]


class WalkShape(_Shape):
    title: Text | None = None
    on: dict[str, Text] = {}
    """What every step of the walk does on these intents, the steps spliced in by `use:` too, unless a step's own
    `on` says otherwise (a relative's walk: the other app named is the other relative's walk, at the face too)."""
    steps: Annotated[list[Step], Field(min_length=1)]


class GlobalShape(_Shape):
    controls: list[Annotated[str, AfterValidator(_control)]]
    answers: dict[str, Text]
    goto: dict[str, Text]
    confirm_in_words: list[Text] = []


class DialogFile(_Shape):
    start: Text
    global_: GlobalShape = Field(alias="global")
    states: dict[str, StateShape]
    walks: dict[str, WalkShape]


# --- knowledge.yaml -----------------------------------------------------------------------------------------------
class AnswerShape(BaseModel):
    """say and source, and for answers filled in live their named sentences (TEMPLATES), checked by _answers."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, Text]
    say: Text
    source: Sources
    by: Text | None = None
    offers: Text | None = None
    instead: Text | None = None


def _answers(answers):
    """Each sentence of an answer names only the {placeholders} the dialog fills in for it."""
    if not isinstance(answers, dict):
        return answers
    for aid, body in answers.items():
        if not isinstance(body, dict):
            continue
        needed = TEMPLATES.get(str(aid))
        texts = {key: value for key, value in body.items() if key not in ("source", "by", "offers", "instead")}
        for key, text in texts.items():
            if not isinstance(text, str):
                raise _fail(f"'{key}' of '{aid}' must be text", aid, key)
            if needed and str(key) not in needed:
                raise _fail(f"'{key}' is not a sentence of '{aid}' (it has: {', '.join(needed)})", aid, key)
            _allowed(text, needed.get(str(key), ()) if needed else (), f"'{key}' of '{aid}'", aid, key)
        for key in needed or {}:
            if key not in texts:
                raise _fail(f"answer '{aid}' needs the sentence '{key}'", aid)
        if "by" in body and "then" not in texts:
            raise _fail(f"answer '{aid}' is said by {body['by']}: it needs 'then', the sentence said after the one "
                        "for that kind", aid, "by")
    return answers


def _allowed(text: str, allowed, what: str, *at) -> None:
    try:
        names = fields(text)
    except PydanticCustomError:
        raise _fail(f"{what} has a lone '{{' or '}}' (a {{placeholder}} must be closed)", *at) from None
    for name in names:
        if name not in allowed:
            hint = f" (it may use {', '.join('{' + a + '}' for a in allowed)})" if allowed else \
                " (this sentence is said as written: no {…} in it)"
            raise _fail(f"{what} uses {{{name}}}{hint}", *at)


class KnowledgeFile(_Shape):
    answers: Annotated[dict[str, AnswerShape], BeforeValidator(_answers)]


# --- phrases.yaml -------------------------------------------------------------------------------------------------
def _say(say):
    if not isinstance(say, dict):
        return say
    for key, text in say.items():
        if isinstance(text, str):
            _allowed(text, SAY_FIELDS.get(str(key), ()), f"'{key}'", key)
    return say


class _Sentences(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, Text]


_NEEDED_FIELDS: dict[str, Any] = {key: (Text, ...) for key in NEEDED_SAY}
PhrasesSay: type[_Sentences] = create_model("PhrasesSay", __base__=_Sentences, **_NEEDED_FIELDS)
"""The sentences the dialog says by name must be there; any other is said where a flow names it."""


class PhrasesFile(_Shape):
    say: Annotated[PhrasesSay, BeforeValidator(_say)]  # type: ignore[valid-type]  # a model built from NEEDED_SAY
    fillers: list[Text]
    filler_words: list[Text] = []
    greetings: list[Text] = []
    certified_words: list[Text] = []


# --- regions.yaml -------------------------------------------------------------------------------------------------
class RegionShape(_Shape):
    cycle_days: Annotated[StrictInt, AfterValidator(_cycle_days)] | None = None
    cycle: Text | None = None
    aliases: list[Text] = []
    app: Text | None = None
    within: Text | None = None
    note: Sentence | None = None
    source: Sources


def _both_or_neither(region: RegionShape) -> RegionShape:
    if (region.cycle_days is None) != (region.cycle is None):
        raise _fail("give both cycle_days and cycle, or neither")
    return region


def _with_cycle(region: RegionShape) -> RegionShape:
    if region.cycle_days is None:
        raise _fail("the general rule needs cycle_days and cycle")
    return region


class RegionsFile(_Shape):
    general: Annotated[RegionShape, AfterValidator(_with_cycle)]
    provinces: list[Text]
    regions: dict[str, Annotated[RegionShape, AfterValidator(_both_or_neither)]]


# --- from pydantic's errors to file:line ----------------------------------------------------------------------------
_SECTIONS = {"intents": "intent", "states": "state", "walks": "walk", "answers": "answer", "regions": "region"}
_KINDS = {"dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
          "list_type": "a list", "string_type": "text", "int_type": "a whole number", "bool_type": "true or false"}


def check(data: LDict, shape: type[BaseModel]) -> None:
    """Raise FlowError at the YAML line of the first thing in `data` that does not fit `shape`."""
    try:
        shape.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] == "extra_forbidden")  # a missing key first
        error = _flow_error(data, errors[0])
        if errors[0]["type"] == "missing":  # "sauce:" beside a missing "source:" is most likely its typo
            typos = [e["loc"][-1] for e in errors if e["type"] == "extra_forbidden"
                     and e["loc"][:-1] == errors[0]["loc"][:-1]]
            if typos:
                error = FlowError(error.file, error.line, f"{error.message} ('{typos[0]}' is not a key here: a typo?)")
        raise error from None


def _flow_error(data: LDict, error: Mapping[str, Any]) -> FlowError:
    loc = list(error["loc"]) + list((error.get("ctx") or {}).get("at", ()))
    path, node, file, line = [], data, data.file, data.line
    for at, part in enumerate(loc):
        key = "global" if part == "global_" else "with" if part == "with_" else part
        if isinstance(node, LDict) and key in node:
            line, node = node.line_of(key), node[key]
            path.append(key)
        elif isinstance(node, LList) and isinstance(key, int) and key < len(node):
            node = node[key]
            line = getattr(node, "line", line)
            path.append(key)
        elif error["type"] == "missing" and at == len(loc) - 1:
            path.append(key)
        # else: a name pydantic gives a part of a type (a union member, "[key]"): not a place in the file
    return FlowError(file, line, _message(error, path, node))


def _message(error: Mapping[str, Any], path: list, node) -> str:
    kind, key = error["type"], path[-1] if path else None
    parent = path[-2] if len(path) > 1 else None
    if kind == "flow":
        message = error["ctx"]["message"]
        if message == "is empty" or message.startswith(("uses {", "has a lone")):
            return f"{_named(path)} {message}"
        return message
    if kind == "missing":
        if parent == "say":
            return f"sentence '{key}' is missing under 'say'"
        return f"'{key}' is missing"
    if kind == "extra_forbidden":
        return f"'{key}' is not a key {_named(path[:-1]) if path[:-1] else 'at the top'} may have (a typo?)"
    if kind == "too_short":
        return f"{_named(path)} is empty"
    want = _KINDS.get(kind)
    if want:
        hint = f" (put {node} in quotes)" if kind == "string_type" and isinstance(node, (int, float)) else ""
        if kind == "dict_type" and parent == "walks":
            return f"walk '{key}' must be a mapping with 'steps:'"
        return f"{_named(path)} must be {want}{hint}"
    return f"{_named(path)}: {error['msg']}"


def _named(path: list) -> str:
    """How a place in a file is named in a message: "walk 'prepare'", "'on'", "item 3 of 'phrases'"."""
    if not path:
        return "the file"
    key, parent = path[-1], path[-2] if len(path) > 1 else None
    if isinstance(key, int):
        if parent == "steps":
            return f"step {key + 1} of walk '{path[-3]}'" if len(path) > 2 else f"step {key + 1}"
        return f"item {key + 1} of '{parent}'"
    if parent in _SECTIONS and len(path) == 2:
        return f"{_SECTIONS[parent]} '{key}'"
    return f"'{key}'"
