"""Numbers a user must never have echoed, logged or stored: ID, phone and bank card numbers, secrets."""

import re

_DIGIT_CHARS = "0-9零〇一二三四五六七八九幺两xX"
# Seven or more digits in a row (spaces and dashes allowed between them) is an ID, phone or card
# number, never something the dialog needs: 12333 has five.
# Spaces, dashes and the commas a recogniser or a typist puts between digit groups ("幺三八,一二三四,五六七八").
_SEPARATORS = r"\s\-_,，、.·"
_LONG_NUMBER = re.compile(rf"[{_DIGIT_CHARS}](?:[{_SEPARATORS}]*[{_DIGIT_CHARS}]){{6,}}")
# A code or password said after its name, with a few words or marks between ("验证码呢,是483920").
_SECRET = re.compile(r"(密码|验证码|口令)([^0-9A-Za-z零〇一二三四五六七八九幺两]{0,4}?)"
                     rf"([0-9A-Za-z零〇一二三四五六七八九幺两](?:[{_SEPARATORS}]?[0-9A-Za-z零〇一二三四五六七八九幺两]){{2,}})")
MASK = "***"


def find_private(text: str) -> str | None:
    """'number' or 'secret' when the text holds something that must not be kept; else None."""
    if _SECRET.search(text):
        return "secret"
    for m in _LONG_NUMBER.finditer(text):
        digits = re.sub(rf"[{_SEPARATORS}]", "", m.group())
        if sum(c not in "xX" for c in digits) >= 7:
            return "number"
    return None


def mask(text: str) -> str:
    """The text with every such number and secret replaced by ***."""
    text = _SECRET.sub(lambda m: m.group(1) + m.group(2) + MASK, text)

    def hide(m):
        digits = re.sub(rf"[{_SEPARATORS}]", "", m.group())
        return MASK if sum(c not in "xX" for c in digits) >= 7 else m.group()

    return _LONG_NUMBER.sub(hide, text)
