"""The big-text companion screen: full screen, high contrast, the current step in very large characters.

It only draws a ReplyView (`render`) and forwards the push-to-talk key; every decision is the controller's.
"""

import tkinter
import tkinter.font

from assistant.kiosk.layout import fit

BACKGROUND = "#000000"
TEXT = "#FFFFFF"
OPTION = "#FFE14D"
"""yellow on black: the strongest contrast that still tells options apart from the step"""
PROGRESS = "#8FE3FF"
HEARD = "#DDDDDD"
STATUS_BACKGROUND = {"idle": "#1E3C96", "listening": "#0A7A24", "problem": "#A00F0F"}
MIN_STEP_PX = 64
"""The smallest the step text may ever be: 48 pt at the 96 dpi reference (48 × 96 / 72 px)."""
MAX_STEP_PX = 150
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
    """A full-screen canvas redrawn from the latest ReplyView."""

    def __init__(self, root, *, key: str = "space", on_key=None, on_quit=None, fullscreen: bool = True):
        self.root = root
        self.family = cjk_family(root) or "TkDefaultFont"
        self._fonts: dict[int, tkinter.font.Font] = {}
        self._char_widths: dict[str, int] = {}
        self.view = None
        self.step_px = None
        """the size the step was last drawn at (tests and the staff can check it never went below the minimum)"""
        self.step_box = None
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
        self.view = view
        self._draw()

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

    # --- drawing -----------------------------------------------------------------------------------
    def _draw(self):
        c, view = self.canvas, self.view
        c.delete("all")
        width, height = c.winfo_width(), c.winfo_height()
        if view is None or width < 50 or height < 50:
            return
        margin = int(width * 0.04)
        small = max(40, int(height * 0.055))
        top = margin // 2

        if view.progress:
            c.create_text(margin, top, text=view.progress, anchor="nw", fill=PROGRESS, font=self.font(small))
        top += int(small * 1.5)

        status_h = int(small * 1.8)
        c.create_rectangle(0, height - status_h, width, height, fill=STATUS_BACKGROUND.get(view.mode, "#1E3C96"),
                           width=0)
        c.create_text(width // 2, height - status_h // 2, text=view.status, fill=TEXT, font=self.font(small))
        bottom = height - status_h - margin // 2

        if view.options:
            bottom = self._draw_options(view.options, margin, bottom, width, height)
        if view.heard:
            c.create_text(margin, bottom, text=f"您说:{view.heard}", anchor="sw", fill=HEARD, font=self.font(small))
            bottom -= int(small * 1.4)

        self._draw_step(view.paragraphs, margin, top, width - 2 * margin, bottom - top)

    def _draw_options(self, options, margin, bottom, width, height) -> int:
        c = self.canvas
        label = "您可以说:"
        for px in range(max(MIN_STEP_PX - 8, int(height * 0.08)), 39, -4):
            pad = px // 3
            boxes = [int(self.text_width(f"“{o}”", px)) + 2 * pad for o in options]
            if self.text_width(label, px) + sum(boxes) + pad * (len(boxes) + 1) <= width - 2 * margin:
                break
        font = self.font(px)
        box_h = int(px * 1.6)
        y0 = bottom - box_h
        x = margin
        c.create_text(x, y0 + box_h // 2, text=label, anchor="w", fill=OPTION, font=font)
        x += int(self.text_width(label, px)) + pad
        for option, box in zip(options, boxes):
            c.create_rectangle(x, y0, x + box, bottom, outline=OPTION, width=4)
            c.create_text(x + box // 2, y0 + box_h // 2, text=f"“{option}”", fill=OPTION, font=font)
            x += box + pad
        return y0 - pad

    def _draw_step(self, paragraphs, left, top, width, height):
        largest = min(MAX_STEP_PX, max(MIN_STEP_PX, self.canvas.winfo_height() // 6))
        sizes = [*range(largest, MIN_STEP_PX, -4), MIN_STEP_PX]
        result = fit(paragraphs, lambda px: lambda text: self.text_width(text, px), self._line_height, width, height,
                     sizes)
        self.step_px = result.px
        line_h = self._line_height(result.px)
        self.step_box = (left, top, left + width, top + line_h * len(result.lines))
        for number, line in enumerate(result.lines):
            self.canvas.create_text(left, top + number * line_h, text=line, anchor="nw", fill=TEXT,
                                    font=self.font(result.px))

    @staticmethod
    def _line_height(px: int) -> int:
        return int(px * 1.3)
