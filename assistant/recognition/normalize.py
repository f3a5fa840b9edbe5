"""One comparable form for recognised (and reference) text: what CER and result matching compare.

Both sides must go through the same function: cn2an turns every Chinese numeral into digits, including
the 一 in 一起 ("1起"), which is harmless only because the other side gets the same treatment.
"""

import re

from assistant.numbers import to_digits

_UNK = re.compile(r"\[unk\]", re.IGNORECASE)
_STRIP = re.compile(r"(?!(?<=\d)\.(?=\d))[\s\W_]+")  # keeps the point in 3.5
# The model often writes 你 for 您; 幺 is how people read the digit 1 in phone numbers.
_ALIKE = str.maketrans({"您": "你", "幺": "一"})


def normalize_asr(text: str) -> str:
    """No spaces, punctuation or "[unk]"; 您 as 你; Chinese numerals as digits (一二三三三 -> 12333)."""
    text = _STRIP.sub("", _UNK.sub("", text or "")).translate(_ALIKE)
    if not text:
        return ""
    text = to_digits(text)
    return _STRIP.sub("", text).lower()  # "百分之五" became "5%"
