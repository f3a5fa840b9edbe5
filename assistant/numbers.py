"""Numbers in Chinese, from one place: how digits are said, which characters are numerals, and numerals back
to digits (cn2an does the arithmetic reading; the digit-by-digit reading of hotlines and years is ours)."""

import logging
import warnings

log = logging.getLogger(__name__)

DIGIT_NAMES = "零一二三四五六七八九"
"""the Chinese name of each digit 0-9"""
NUMERALS = "零〇一二三四五六七八九幺两"
"""characters people say digits with: 幺 is 1 in phone numbers, 两 is 2, 〇 is a written 0"""
_SAY_DIGITS = str.maketrans("0123456789", DIGIT_NAMES)
PLAIN_NUMERALS = str.maketrans({"幺": "一", "〇": "零"})
"""幺 and 〇 as the numerals cn2an and the rest of the assistant read"""


def digit_by_digit(digits: str) -> str:
    """"12333" -> "一二三三三": hotlines, codes and years are said one digit at a time."""
    return digits.translate(_SAY_DIGITS)


def as_number(digits: str) -> str:
    """"15" -> "十五": a short number is said as a number."""
    import cn2an  # ~0.2 s to import; only when a number is really said or read

    return cn2an.an2cn(digits)


def to_digits(text: str) -> str:
    """Chinese numerals in running text as digits ("三月五号" -> "3月5号", "一二三三三" -> "12333"); text cn2an
    cannot read comes back as it is."""
    import cn2an

    try:
        with warnings.catch_warnings():  # cn2an warns (but copes) on words like 万一, and on every run it leaves
            warnings.simplefilter("ignore")
            return cn2an.transform(text, "cn2an")
    except Exception as exc:  # noqa: BLE001 - cn2an raises plain ValueError/KeyError on odd input
        log.debug("cn2an could not convert numerals (%s); reading the text as it is", type(exc).__name__)
        return text
