"""YAML that remembers where each value came from, so a broken flow file is reported as file:line."""

import re
from pathlib import Path

import yaml

from assistant.errors import FlowError


class Located:
    """Mixin: the file and 1-based line a value was read from."""

    file: str = "?"
    line: int = 0


class LStr(str, Located):
    """A string that knows its file:line."""


class LList(list, Located):
    """A list that knows its file:line."""


class LDict(dict, Located):
    """A mapping that knows its own file:line and the line of each key."""

    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


def _locate(value, node, file):
    if isinstance(value, str) and not isinstance(value, LStr):
        value = LStr(value)
    if isinstance(value, Located):
        value.file, value.line = file, node.start_mark.line + 1
    return value


#: libyaml's parser where PyYAML was built with it (the wheels are): about 10 times faster than the pure-Python
#: one, which made loading the flows the slowest part of starting up. Marks (file:line) are the same.
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _make_loader(file):
    class Loader(_BASE):
        pass

    # YAML 1.1 reads yes/no/on/off as booleans; in flow files they are intent names and words.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))

    def construct_mapping(loader, node):
        loader.flatten_mapping(node)
        result = LDict()
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, bool)):
                raise FlowError(file, key_node.start_mark.line + 1, "a key must be a plain word")
            if key in result:
                raise FlowError(file, key_node.start_mark.line + 1, f"'{key}' is given twice")
            result[key] = _locate(loader.construct_object(value_node, deep=True), value_node, file)
            result.key_lines[key] = key_node.start_mark.line + 1
        return _locate(result, node, file)

    def construct_sequence(loader, node):
        items = [_locate(loader.construct_object(n, deep=True), n, file) for n in node.value]
        return _locate(LList(items), node, file)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_yaml(path: Path) -> LDict:
    """Read one flow file; any problem becomes a FlowError pointing at the line."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowError(file, 0, "file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(file, 0, f"cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
    try:
        data = yaml.load(text, Loader=_make_loader(file))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FlowError(file, mark.line + 1 if mark else 0, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise FlowError(file, 0, f"not valid YAML: {exc}") from None
    if not isinstance(data, LDict):
        raise FlowError(file, 1, "the file must be a mapping of names to values")
    return data
