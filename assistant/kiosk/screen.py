"""The big-text companion screen: full screen, high contrast, the sentence being said in very large characters.

It only draws a ReplyView (`render`) and forwards the push-to-talk key; every decision is the controller's.
Every text is fitted to the window: wrapped, made smaller down to a readable minimum, and — for the big text —
shown in pages when even that is too long. Nothing is cut short and nothing runs off an edge.
"""

import time
import tkinter
import tkinter.font
from typing import Any

from assistant.kiosk.layout import fit
from assistant.privacy import mask

BACKGROUND = "#000000"
TEXT = "#FFFFFF"
OPTION = "#FFE14D"
"""yellow on black: the strongest contrast that still tells options apart from the step"""
PROGRESS = "#8FE3FF"
HEARD = "#DDDDDD"
PAGE = "#BBBBBB"
"""the page number of a text longer than the screen ("第1/2页"), grey: not a step number"""
STATUS_BACKGROUND = {"idle": "#1E3C96", "listening": "#0A7A24", "problem": "#A00F0F"}
MIN_STEP_PX = 64
"""The smallest the step text may ever be: 48 pt at the 96 dpi reference (48 × 96 / 72 px)."""
MAX_STEP_PX = 150
SMALL_MIN_PX = 28
"""the smallest the progress, heard and status lines may become to fit the width"""
OPTION_MIN_PX = 40
PAGE_SECONDS = 8.0
"""While the voice is quiet, a text longer than one page turns its pages this often (and starts over)."""
_REFERENCE_PX = 100
_WIDTH_MARGIN = 1.02
"""Widths are measured once at one size and scaled; hinting can make a size a little wider than linear."""
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                "Droid Sans Fallback", "AR PL UMing CN", "Noto Sans CJK TC")


def cjk_family(root) -> str | None:
    """The first installed font that has Chinese characters; None means boxes instead of characters."""
    installed = set(tkinter.font.families(root))
    return next((f for f in CJK_FAMILIES if f in installed), None)


class KioskScreen:
    """A full-screen canvas redrawn from the latest ReplyView; pages of a long text turn by themselves."""

    def __init__(self, root, *, key: str = "space", on_key=None, on_quit=None, fullscreen: bool = True,
                 clock=time.monotonic):
        self.root = root
        self.clock = clock
        self.family = cjk_family(root) or "TkDefaultFont"
        self._fonts: dict[int, tkinter.font.Font] = {}
        self._char_widths: dict[str, int] = {}
        self._linespace: int | None = None
        self.view: Any = None
        self.step_px = None
        """the size the big text was last drawn at (tests and the staff can check it never went below the minimum)"""
        self.step_box = None
        self.pages: tuple[tuple[str, ...], ...] = ()
        """the big text's pages as last laid out (one when it all fits)"""
        self.page = 0
        """which of them is on the screen"""
        self._content: tuple | None = None
        self._since = clock()
        self._turn = None
        root.title("养老金认证小助手")
        root.configure(bg=BACKGROUND, cursor="none")
        width, height = root.winfo_screenwidth(), root.winfo_screenheight()
        if fullscreen:
            root.geometry(f"{width}x{height}+0+0")
            root.attributes("-fullscreen", True)
        else:
            root.geometry(f"{width * 3 // 4}x{height * 3 // 4}+0+0")
        self.canvas = tkinter.Canvas(root, bg=BACKGROUND, highlightthickness=0, cursor="none")
        self.canvas.pack(fill="both", expand=True)
        self.canvas.bind("<Configure>", lambda event: self._draw())
        if on_key:
            # The key (a big USB button that types it works the same) and a touch on the screen both mean "talk".
            root.bind(f"<KeyPress-{key}>", lambda event: on_key())
            self.canvas.bind("<Button-1>", lambda event: on_key())
        if on_quit:
            root.bind("<Control-Alt-q>", lambda event: on_quit())  # staff only; an elder never presses this
        root.focus_force()

    def render(self, view) -> None:
        content = (view.sentences, view.speaking, view.paragraphs)
        if content != self._content:  # a new sentence (or the voice went quiet): its first page, from now
            self._content, self._since = content, self.clock()
        self.view = view
        self._draw()

    def texts(self, tag: str = "all") -> list[str]:
        """The texts drawn now (tags: big, heard, options, progress, page, status): what the screen shows."""
        return [self.canvas.itemcget(item, "text") for item in self.canvas.find_withtag(tag)
                if self.canvas.type(item) == "text"]  # type: ignore[comparison-overlap]  # typeshed: int | None, Tk: a name

    def font(self, px: int) -> tkinter.font.Font:
        if px not in self._fonts:
            self._fonts[px] = tkinter.font.Font(self.root, family=self.family, size=-px, weight="bold")
        return self._fonts[px]

    def text_width(self, text: str, px: int) -> float:
        """Width of the text at px: each character measured once (a Tk round trip each), then scaled.

        Measuring whole strings at every candidate size took seconds per step on an old laptop.
        """
        reference = self.font(_REFERENCE_PX)
        total = 0
        for char in text:
            if char not in self._char_widths:
                self._char_widths[char] = reference.measure(char)
            total += self._char_widths[char]
        return total * px / _REFERENCE_PX * _WIDTH_MARGIN

    def _measure_at(self, px):
        return lambda text: self.text_width(text, px)

    @staticmethod
    def _line_height(px: int) -> int:
        return int(px * 1.3)

    def _box_height(self, px: int) -> int:
        """The height a line of text really takes (ascent + descent; CJK fonts need more than 1.3 × px)."""
        if self._linespace is None:
            self._linespace = self.font(_REFERENCE_PX).metrics("linespace")
        return int(self._linespace * px / _REFERENCE_PX) + 2

    def _fit_small(self, text: str, largest: int, width: float, max_rows: int = 1):
        """A small line (progress, heard, status): smaller until it fits the width, wrapped when it must."""
        sizes = [*range(largest, SMALL_MIN_PX, -2), SMALL_MIN_PX]
        return fit([text], self._measure_at, self._line_height, width, 1e9, sizes, self._box_height, max_rows)

    # --- drawing -----------------------------------------------------------------------------------
    def _draw(self):
        c, view = self.canvas, self.view
        if self._turn is not None:
            self.root.after_cancel(self._turn)
            self._turn = None
        c.delete("all")
        width, height = c.winfo_width(), c.winfo_height()
        if view is None or width < 50 or height < 50:
            return
        margin = int(width * 0.04)
        small = max(40, int(height * 0.055))
        inner = width - 2 * margin

        # Room from the bottom up (status, options, what was heard); the big text gets what is left.
        status_fit = self._fit_small(view.status, small, inner, max_rows=2)
        status_h = int(small * 1.8) + self._line_height(status_fit.px) * (len(status_fit.lines) - 1)
        bottom = height - status_h - margin // 2
        options_h = self._options_height(view.options, inner, height)
        if options_h:
            bottom -= options_h
        heard_fit = None
        if view.heard:
            # What the user said is shown only masked: no ID, phone or card number, code or password.
            heard_fit = self._fit_small(f"您说:{mask(view.heard)}", small, inner, max_rows=3)
            heard_h = self._line_height(heard_fit.px) * (len(heard_fit.lines) - 1) + self._box_height(heard_fit.px)
            bottom -= heard_h + margin // 4
        top = margin // 2 + self._box_height(small) + margin // 4

        layout = self._layout_big(view.paragraphs, inner, bottom - top)
        self.pages = layout.pages
        elapsed = self.clock() - self._since
        self.page, next_turn = self._page_at(layout.pages, elapsed)

        # top line: the walk and step ("微信 · 第3步/共15步"), and "第1/2页" when the big text has pages
        right = width - margin
        if layout.paged:
            page_text = f"第{self.page + 1}/{len(layout.pages)}页"
            page_fit = self._fit_small(page_text, small, inner / 3)
            c.create_text(right, margin // 2, text=page_fit.lines[0], anchor="ne", fill=PAGE,
                          font=self.font(page_fit.px), tags=("page",))
            right -= int(self.text_width(page_fit.lines[0], page_fit.px)) + margin // 2
        if view.progress:
            progress_fit = self._fit_small(f"{view.title} · {view.progress}" if view.title else view.progress,
                                           small, right - margin)
            if progress_fit.paged:  # no room for the walk's name: the step number alone
                progress_fit = self._fit_small(view.progress, small, right - margin)
            c.create_text(margin, margin // 2, text=progress_fit.lines[0], anchor="nw", fill=PROGRESS,
                          font=self.font(progress_fit.px), tags=("progress",))

        # status line at the bottom, full width
        c.create_rectangle(0, height - status_h, width, height, fill=STATUS_BACKGROUND.get(view.mode, "#1E3C96"),
                           width=0, tags=("status_bar",))
        line_h = self._line_height(status_fit.px)
        first_y = height - status_h // 2 - line_h * (len(status_fit.lines) - 1) // 2
        for number, line in enumerate(status_fit.lines):
            c.create_text(width // 2, first_y + number * line_h, text=line, fill=TEXT,
                          font=self.font(status_fit.px), tags=("status",))

        y = height - status_h - margin // 2
        if options_h:
            self._draw_options(view.options, margin, y, inner, height)
            y -= options_h
        if heard_fit is not None:
            line_h = self._line_height(heard_fit.px)
            y -= margin // 4
            lines = heard_fit.lines
            for number, line in enumerate(lines):
                c.create_text(margin, y - (len(lines) - 1 - number) * line_h, text=line, anchor="sw", fill=HEARD,
                              font=self.font(heard_fit.px), tags=("heard",))

        self._draw_big(layout, self.page, margin, top, inner)
        if next_turn is not None:
            self._turn = self.root.after(max(50, int(next_turn * 1000)), self._draw)

    def _layout_big(self, paragraphs, width, height):
        largest = min(MAX_STEP_PX, max(MIN_STEP_PX, self.canvas.winfo_height() // 6))
        sizes = [*range(largest, MIN_STEP_PX, -4), MIN_STEP_PX]
        return fit(paragraphs, self._measure_at, self._line_height, width, height, sizes, self._box_height)

    def _page_at(self, pages, elapsed: float):
        """(page to show, seconds until the next page turn or None). A sentence being said turns its pages as
        the voice reaches them (by characters); a resting text turns them every PAGE_SECONDS, round and round."""
        count = len(pages)
        if count <= 1:
            return 0, None
        view = self.view
        if view.speaking is not None and view.seconds > 0:
            sizes = [sum(map(len, page)) for page in pages]
            total = sum(sizes) or 1
            starts = [view.seconds * sum(sizes[:k]) / total for k in range(count)]
            page = max(k for k in range(count) if starts[k] <= elapsed)
            return page, (starts[page + 1] - elapsed if page + 1 < count else None)
        if view.speaking is not None:
            # Not yet reported how long the sentence takes: its first page until the voice says more.
            return 0, PAGE_SECONDS
        page = int(elapsed // PAGE_SECONDS) % count
        return page, PAGE_SECONDS - elapsed % PAGE_SECONDS

    def _draw_big(self, layout, page, left, top, width):
        self.step_px = layout.px
        line_h = self._line_height(layout.px)
        lines = layout.pages[page]
        self.step_box = (left, top, left + width,
                         top + line_h * (len(lines) - 1) + self._box_height(layout.px) if lines else top)
        for number, line in enumerate(lines):
            self.canvas.create_text(left, top + number * line_h, text=line, anchor="nw", fill=TEXT,
                                    font=self.font(layout.px), tags=("big",))

    # --- the options: one row with "您可以说:" when it fits, else without it, else in rows -------------
    _LABEL = "您可以说:"

    def _option_rows(self, options, width, height):
        """(px, label or None, rows of (option, box width))."""
        start = max(MIN_STEP_PX - 8, int(height * 0.08))
        for label in (self._LABEL, None):
            for px in range(start, OPTION_MIN_PX - 1, -4):
                pad = px // 3
                boxes = [int(self.text_width(f"“{o}”", px)) + 2 * pad for o in options]
                used = (self.text_width(label, px) + pad if label else 0) + sum(boxes) + pad * (len(boxes) - 1)
                if used <= width:
                    return px, label, [list(zip(options, boxes, strict=True))]
        px = OPTION_MIN_PX
        pad = px // 3
        rows, row, used = [], [], 0
        for option in options:
            box = min(width, int(self.text_width(f"“{option}”", px)) + 2 * pad)
            if row and used + pad + box > width:
                rows.append(row)
                row, used = [], 0
            used += (pad if row else 0) + box
            row.append((option, box))
        return px, None, rows + [row]

    def _options_height(self, options, width, height) -> int:
        if not options:
            return 0
        px, _, rows = self._option_rows(options, width, height)
        return len(rows) * (int(px * 1.6) + px // 3)

    def _draw_options(self, options, margin, bottom, width, height) -> None:
        c = self.canvas
        px, label, rows = self._option_rows(options, width, height)
        font, pad, box_h = self.font(px), px // 3, int(px * 1.6)
        y1 = bottom - (len(rows) - 1) * (box_h + pad)
        for row in rows:
            y0 = y1 - box_h
            x = margin
            if label:
                c.create_text(x, y0 + box_h // 2, text=label, anchor="w", fill=OPTION, font=font, tags=("options",))
                x += int(self.text_width(label, px)) + pad
            for option, box in row:
                c.create_rectangle(x, y0, x + box, y1, outline=OPTION, width=4, tags=("option_box",))
                c.create_text(x + box // 2, y0 + box_h // 2, text=f"“{option}”", fill=OPTION, font=font,
                              tags=("options",))
                x += box + pad
            label = None
            y1 += box_h + pad
