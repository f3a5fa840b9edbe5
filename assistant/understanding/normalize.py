"""Bring what was heard or typed into one comparable form: characters and fuzzy pinyin."""

import os
import re
import sys
import unicodedata
from functools import lru_cache

from opencc import OpenCC

from assistant.numbers import DIGIT_NAMES


def _pypinyin_without_phrases():
    """pypinyin, loaded without its phrase table when nothing loaded it before. The understanding reads each
    character on its own (`readings`), so the table (44 MB, an eighth of the live process) would never be used;
    pypinyin only skips it when this variable is set at its first import, and it is unset again at once so that
    child processes (the natural voice reads whole phrases: 银行 is yín háng) keep theirs."""
    if "pypinyin" not in sys.modules:
        before = os.environ.get("PYPINYIN_NO_PHRASES")
        os.environ["PYPINYIN_NO_PHRASES"] = "1"
        try:
            import pypinyin  # noqa: F401 - loaded here, without the phrases
        finally:
            if before is None:
                del os.environ["PYPINYIN_NO_PHRASES"]
            else:
                os.environ["PYPINYIN_NO_PHRASES"] = before
    from pypinyin import lazy_pinyin

    return lazy_pinyin


_lazy_pinyin = _pypinyin_without_phrases()


@lru_cache(maxsize=8192)
def _reading(char: str) -> str:
    return _lazy_pinyin(char, errors=lambda chars: list(chars))[0]  # errors= may give a list back (documented)


def readings(text: str) -> list[str]:
    """Toneless pinyin, one per character, each character read on its own (its first reading: 行 is xing in 银行
    too). The same whether or not another module loaded pypinyin with its phrases: model features use it, and
    training, the bench and the live process must read alike. Non-Chinese characters stay as they are."""
    return [_reading(c) for c in text]

T2S = OpenCC("t2s")
"""Traditional to simplified; one converter per process (noise.py uses it too: building one for each noisy copy
was 40 % of the time spent building the training rows)."""
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Digits are spoken as characters; both forms must land on the same phrase ("12333" / "幺二三三三").
# 啦 is 了 fused with 啊 ("好啦", "成功啦"): the same answer as "好了".
_DIGITS = str.maketrans({**dict(zip("0123456789", DIGIT_NAMES, strict=True)),
                         "幺": "一", "〇": "零", "您": "你", "啦": "了"})
_REPEAT = re.compile(r"(.{1,2}?)\1+")
# Accents and the recogniser blur these sounds: zh/z, ch/c, sh/s, n/l, -ng/-n, f/h before u.
FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l"))
FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("iong", "ong"))
_CJK = re.compile(r"[\u3400-\u9fff]")


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def chinese_count(text: str) -> int:
    """How many Chinese characters the text has (how long a spoken turn was, whatever its spaces and marks)."""
    return len(_CJK.findall(text))


class Normalizer:
    """Removes fillers, punctuation, traditional forms and repetitions the same way on both sides."""

    def __init__(self, fillers: list[str], kept: tuple[str, ...] | list[str] = ()):
        self._fillers = re.compile("|".join(re.escape(f) for f in sorted(fillers, key=len, reverse=True)))
        self.kept = tuple(sorted({w for w in kept if fillers and self._fillers.search(w)}, key=lambda w: (-len(w), w)))
        # Two literals joined, not one long line: the training digest hashes the syntax tree, docstrings included.
        ("words a filler stands inside (\"哈尔滨\", \"金额\"): kept whole, where they are, rather than read as "
         "\"尔滨\", \"金\".")
        self._kept = re.compile("(" + "|".join(map(re.escape, self.kept)) + ")") if self.kept else None

    @classmethod
    def of(cls, flows) -> "Normalizer":
        ("The normaliser of these flows: their fillers, kept inside the words that hold one "
         "(Flows.filler_words).")
        return cls(flows.fillers, flows.words_holding_fillers())

    def text(self, raw: str) -> str:
        text = unicodedata.normalize("NFKC", raw)
        text = T2S.convert(text).lower().translate(_DIGITS)
        text = _PUNCT.sub("", text)
        stripped = self._without_fillers(text)
        # A filler alone ("嗯") is still an answer; keep it rather than hear silence.
        text = stripped or text
        return _REPEAT.sub(r"\1", text)

    def _without_fillers(self, text: str) -> str:
        if self._kept is None:
            return self._fillers.sub("", text)
        # split() with a group keeps the kept words at the odd places: fillers go from the even ones only.
        parts = self._kept.split(text)
        return "".join(part if i % 2 else self._fillers.sub("", part) for i, part in enumerate(parts))

    def syllables(self, text: str) -> list[str]:
        """Fuzzy pinyin of already-normalised text, one toneless, accent-folded syllable per character
        (anything that is not Chinese stays as it is). Stable across processes: model features use it."""
        return [_fuzzy(s) for s in readings(text)]

    def key(self, text: str) -> str:
        """Fuzzy pinyin of already-normalised text, one symbol per syllable so matches align with characters."""
        return "".join(_syllable_symbol(s) for s in readings(text))


@lru_cache(maxsize=4096)
def _fuzzy(syllable: str) -> str:
    if not syllable.isascii() or len(syllable) == 1 and not syllable.isalpha():
        return syllable
    fuzzy = syllable
    for a, b in FUZZY_INITIALS:
        if fuzzy.startswith(a):
            fuzzy = b + fuzzy[len(a):]
            break
    for a, b in FUZZY_FINALS:
        if fuzzy.endswith(a):
            fuzzy = fuzzy[: -len(a)] + b
            break
    return fuzzy


def _syllable_symbol(syllable: str) -> str:
    fuzzy = _fuzzy(syllable)
    return fuzzy if fuzzy == syllable and (not syllable.isascii() or len(syllable) == 1) else _symbol_for(fuzzy)


_SYMBOLS: dict[str, str] = {}


def _symbol_for(fuzzy: str) -> str:
    # Private-use code points: a syllable becomes one "character", so edit distance counts syllables.
    if fuzzy not in _SYMBOLS:
        _SYMBOLS[fuzzy] = chr(0xF0000 + len(_SYMBOLS))
    return _SYMBOLS[fuzzy]
