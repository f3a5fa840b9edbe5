"""Fitting the big text: the largest font that shows the whole text, never below the readable minimum, in pages
when even the minimum cannot show it all at once — never cut short.

Kept apart from the Tk screen so it is plain arithmetic, testable without a display.
"""

import re
from dataclasses import dataclass

# A line must not start with closing punctuation (Chinese typesetting rule); such a character stays behind.
_NO_LINE_START = set(",。!?、;:”’)》」』】,.!?;:)…")
# …and an opening mark never ends a line: it goes down with the word it opens.
_NO_LINE_END = set("“‘(《「『【(")
ELLIPSIS = "……"
"""What the screen must never add to a sentence: a text too long for the screen is paged, not cut."""


@dataclass(frozen=True)
class Fit:
    """The chosen size and the lines to draw, page by page (one page when everything fits)."""

    px: int
    pages: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> tuple[str, ...]:
        """Every line of every page: together they are the whole text, nothing left out."""
        return tuple(line for page in self.pages for line in page)

    @property
    def paged(self) -> bool:
        """True when even the smallest size needs more than one page (the screen turns them)."""
        return len(self.pages) > 1


# Numbers and Latin words stay whole ("12333" must not become "12" / "333"); every other character stands alone.
_TOKEN = re.compile(r"[0-9A-Za-z]+|.", re.S)


def wrap(text: str, width_of, width: float) -> list[str]:
    """Greedy line breaking (Chinese has no spaces to break at; any character may start a line but closing marks).

    No line is wider than `width`: a closing mark that does not fit takes the character before it down to the
    next line, rather than hang over the edge.
    """
    lines: list[str] = []
    line: list[str] = []  # the tokens of the line being filled
    for token in _TOKEN.findall(text):
        if line and width_of("".join(line) + token) > width:
            head, carried = line, list[str]()
            if token[0] in _NO_LINE_START:
                while head and (not carried or carried[0][0] in _NO_LINE_START):
                    head, carried = head[:-1], [head[-1], *carried]
            while head and head[-1][-1] in _NO_LINE_END:
                head, carried = head[:-1], [head[-1], *carried]
            if head:
                lines.append("".join(head))
                line = carried
            elif len(line[0]) > 1:  # a number fills the line: its last digit goes down with the marks
                lines.append(line[0][:-1])
                line = [line[0][-1], *line[1:]]
            else:  # nothing left to break before (a line of only marks): break here anyway
                lines.append("".join(line))
                line = []
        if width_of(token) > width:  # a token wider than the whole line: break it anyway
            for char in token:
                if line and width_of("".join(line) + char) > width:
                    lines.append("".join(line))
                    line = []
                line.append(char)
        else:
            line.append(token)
    if line:
        lines.append("".join(line))
    return lines


def fit(paragraphs, width_of_at, line_height_at, width: float, height: float, sizes, box_height_at=None,
        max_rows: int | None = None) -> Fit:
    """Largest size in `sizes` at which all paragraphs fit; else the smallest, in pages. Never cut short.

    width_of_at(px) -> (text -> pixels); line_height_at(px) -> pixels from one line to the next;
    box_height_at(px) -> pixels the last line needs (its ascent and descent; default: the line height);
    max_rows: at most this many lines on a page, whatever the height.
    """
    paragraphs = [p for p in paragraphs if p]
    sizes = sorted(sizes, reverse=True)
    box_height_at = box_height_at or line_height_at
    for px in sizes:
        measure, rows = width_of_at(px), rows_in(height, line_height_at(px), box_height_at(px), max_rows)
        # One sentence per paragraph reads easiest; run them together only when that is what makes it fit.
        for chunks in (paragraphs, ["".join(paragraphs)]):
            lines = [line for p in chunks for line in wrap(p, measure, width)]
            if len(lines) <= rows:
                return Fit(px, (tuple(lines),))
    px = sizes[-1]
    measure, rows = width_of_at(px), rows_in(height, line_height_at(px), box_height_at(px), max_rows)
    return Fit(px, paginate([wrap(p, measure, width) for p in paragraphs], rows))


def rows_in(height: float, line_height: float, box_height: float, max_rows: int | None = None) -> int:
    """How many lines fit in `height`: the last one needs its whole box, the others their line height."""
    rows = max(1, 1 + int((height - box_height) // line_height))
    return min(rows, max_rows) if max_rows else rows


def paginate(paragraph_lines: list[list[str]], rows: int) -> tuple[tuple[str, ...], ...]:
    """Lines into pages of `rows`: a sentence starts a new page rather than being split, unless it is longer
    than a page by itself."""
    pages: list[tuple[str, ...]] = []
    page: list[str] = []
    for lines in paragraph_lines:
        if page and len(page) + len(lines) > rows:
            pages.append(tuple(page))
            page = []
        while len(lines) > rows:
            pages.append(tuple(lines[:rows]))
            lines = lines[rows:]
        page += lines
    if page or not pages:
        pages.append(tuple(page))
    return tuple(pages)
