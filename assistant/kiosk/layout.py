"""Fitting the big text: the largest font that shows the whole step, never below the readable minimum.

Kept apart from the Tk screen so it is plain arithmetic, testable without a display.
"""

import re
from dataclasses import dataclass

# A line must not start with closing punctuation (Chinese typesetting rule); such a character stays behind.
_NO_LINE_START = set(",。!?、;:”’)》」』】,.!?;:)…")
# …and an opening mark never ends a line: it goes down with the word it opens.
_NO_LINE_END = set("“‘(《「『【(")
ELLIPSIS = "……"


@dataclass(frozen=True)
class Fit:
    """The chosen size and the lines to draw."""

    px: int
    lines: tuple[str, ...]
    cut: bool
    """True when even the minimum size could not show everything (the voice still says all of it)"""


# Numbers and Latin words stay whole ("12333" must not become "12" / "333"); every other character stands alone.
_TOKEN = re.compile(r"[0-9A-Za-z]+|.", re.S)


def wrap(text: str, width_of, width: float) -> list[str]:
    """Greedy line breaking (Chinese has no spaces to break at; any character may start a line but closing marks)."""
    lines, line = [], ""
    for token in _TOKEN.findall(text):
        if line and width_of(line + token) > width and token[0] not in _NO_LINE_START:
            carried = ""
            while line and line[-1] in _NO_LINE_END:
                line, carried = line[:-1], line[-1] + carried
            if line:
                lines.append(line)
            line = carried
        if width_of(token) > width:  # a token wider than the whole line: break it anyway
            for char in token:
                if line and width_of(line + char) > width:
                    lines.append(line)
                    line = ""
                line += char
        else:
            line += token
    if line:
        lines.append(line)
    return lines


def fit(paragraphs, width_of_at, line_height_at, width: float, height: float, sizes) -> Fit:
    """Largest size in `sizes` (descending) at which all paragraphs fit; else the smallest, cut with ……

    width_of_at(px) -> (text -> pixels); line_height_at(px) -> pixels per line.
    """
    paragraphs = [p for p in paragraphs if p]
    sizes = sorted(sizes, reverse=True)
    for px in sizes:
        measure, rows = width_of_at(px), max(1, int(height // line_height_at(px)))
        # One sentence per paragraph reads easiest; run them together only when that is what makes it fit.
        for chunks in (paragraphs, ["".join(paragraphs)]):
            lines = [line for p in chunks for line in wrap(p, measure, width)]
            if len(lines) <= rows:
                return Fit(px, tuple(lines), False)
    px = sizes[-1]
    measure, rows = width_of_at(px), max(1, int(height // line_height_at(px)))
    lines = wrap("".join(paragraphs), measure, width)[:rows]
    last = lines[-1] if lines else ""
    while last and measure(last + ELLIPSIS) > width:
        last = last[:-1]
    return Fit(px, tuple(lines[:-1]) + (last + ELLIPSIS,), True)
