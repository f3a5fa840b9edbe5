"""Sentence templates as data (after hassil): `(a|b)` one of, `[x]` optional, `{list}` an item of a named list.

A template expands into every sentence it describes, each with the slot values its `{list}` items carry, so a
volunteer writes "[我](没有|没装){channel}" once instead of forty sentences. Kept small on purpose: the
templates only feed training data and recognition grammars, never live matching.
"""

from dataclasses import dataclass, field
from itertools import product

from assistant.errors import FlowError


@dataclass(frozen=True)
class ListItem:
    """One way of naming a list entry: the words said and the slot value they stand for."""

    words: str
    value: str


@dataclass(frozen=True)
class Expansion:
    text: str
    slots: dict = field(default_factory=dict)


class _Parser:
    """Recursive descent over the template text; every error names the file:line of the template."""

    def __init__(self, text: str, file: str, line: int, lists: dict[str, list[ListItem]]):
        self.text, self.file, self.line, self.lists = text, file, line, lists
        self.pos = 0

    def fail(self, message: str):
        raise FlowError(self.file, self.line, f"template '{self.text}': {message}")

    def parse(self):
        alternatives = self.sequence_alternatives(end="")
        if self.pos != len(self.text):
            self.fail(f"unexpected '{self.text[self.pos]}'")
        return alternatives

    def sequence_alternatives(self, end: str):
        """Alternatives separated by | up to `end` (each a list of parts)."""
        options = [self.sequence(end)]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self.sequence(end))
        return ("alt", options)

    def sequence(self, end: str):
        parts = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in "|" or (end and ch == end):
                break
            if ch in ")]}" :
                self.fail(f"'{ch}' without its opening bracket")
            self.pos += 1
            if ch == "(":
                parts.append(self.group(")"))
            elif ch == "[":
                inner = self.group("]")
                parts.append(("alt", [[inner], []]))
            elif ch == "{":
                close = self.text.find("}", self.pos)
                if close < 0:
                    self.fail("'{' without '}'")
                name = self.text[self.pos:close]
                self.pos = close + 1
                if name not in self.lists:
                    self.fail(f"unknown list '{{{name}}}' (known: {', '.join(sorted(self.lists))})")
                parts.append(("list", name))
            else:
                parts.append(("text", ch))
        return parts

    def group(self, close: str):
        node = self.sequence_alternatives(end=close)
        if self.pos >= len(self.text) or self.text[self.pos] != close:
            self.fail(f"'{'(' if close == ')' else '['}' without '{close}'")
        self.pos += 1
        return node


def _expand(node, lists) -> list[tuple[str, tuple]]:
    kind = node[0]
    if kind == "text":
        return [(node[1], ())]
    if kind == "list":
        return [(item.words, ((node[1], item.value),)) for item in lists[node[1]]]
    out = []
    for option in node[1]:
        out += _expand_sequence(option, lists)
    return out


def _expand_sequence(parts, lists) -> list[tuple[str, tuple]]:
    results = [("", ())]
    for part in parts:
        results = [(a + b, sa + sb) for (a, sa), (b, sb) in product(results, _expand(part, lists))]
    return results


def expand(template: str, lists: dict[str, list[ListItem]], *, file: str = "?", line: int = 0,
           limit: int = 5000) -> list[Expansion]:
    """Every sentence the template describes, in a stable order; more than `limit` is a FlowError."""
    tree = _Parser(template, file, line, lists).parse()
    # Count before expanding, so a runaway template fails fast instead of filling memory.
    if _count(tree, lists) > limit:
        raise FlowError(file, line, f"template '{template}' expands to more than {limit} sentences; split it")
    seen: dict[str, Expansion] = {}
    for text, slots in _expand(tree, lists):
        text = "".join(text.split())
        if text and text not in seen:
            seen[text] = Expansion(text, dict(slots))
    return list(seen.values())


def _count(node, lists) -> int:
    kind = node[0]
    if kind == "text":
        return 1
    if kind == "list":
        return len(lists[node[1]])
    total = 0
    for option in node[1]:
        n = 1
        for part in option:
            n *= _count(part, lists)
        total += n
    return total
