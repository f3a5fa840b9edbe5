"""Numbers a user must never have echoed, logged or stored: ID, phone and bank card numbers, secrets."""

import re

from assistant.numbers import NUMERALS

_DIGIT_CHARS = f"0-9{NUMERALS}xX"
# Seven or more digits in a row (spaces and dashes allowed between them) is an ID, phone or card
# number, never something the dialog needs: 12333 has five.
# Spaces, dashes and the commas a recogniser or a typist puts between digit groups ("幺三八,一二三四,五六七八").
_SEPARATORS = r"\s\-_,，、.·"
_LONG_NUMBER = re.compile(rf"[{_DIGIT_CHARS}](?:[{_SEPARATORS}]*[{_DIGIT_CHARS}]){{6,}}")
# A code or password said after its name, with a few words or marks between ("验证码呢,是483920").
_SECRET = re.compile(rf"(密码|验证码|口令)([^0-9A-Za-z{NUMERALS}]{{0,4}}?)"
                     rf"([0-9A-Za-z{NUMERALS}](?:[{_SEPARATORS}]?[0-9A-Za-z{NUMERALS}]){{2,}})")
# A date written with separators ("2026-06-01", "2026.6.1") is a date, not an ID number: the dialog needs it.
_DATE = re.compile(r"(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])")
# Part of a number after its name ("身份证前六位是110105", "手机号后四位1234"): even three digits are too many.
_NAMED_NUMBER = re.compile(r"(身份证|证件号|卡号|银行卡|手机号|电话号|社保号|账号)(.{0,8}?)"
                           rf"([{_DIGIT_CHARS}](?:[{_SEPARATORS}]?[{_DIGIT_CHARS}]){{2,}})")
# A group of digits on its own, right after a number was refused: the rest of it, said in the next turns.
_DIGIT_GROUP = re.compile(rf"[0-9](?:[{_SEPARATORS}]?[0-9]){{2,}}|[{NUMERALS}](?:[{_SEPARATORS}]?[{NUMERALS}]){{3,}}")
_OURS = ("12333", "一二三三三", "幺二三三三")
"""numbers the assistant itself says (the 12333 hotline): never private"""
MASK = "***"


def _long(m) -> bool:
    digits = re.sub(rf"[{_SEPARATORS}]", "", m.group())
    return sum(c not in "xX" for c in digits) >= 7 and not _DATE.fullmatch(m.group().strip())


def _group(digits: str) -> bool:
    """A group of digits that is private: not the 12333 hotline, not a date. Also what follows 验证码/密码: a
    scam story ("要我这个验证码,说他是12333的") names the hotline there, and must reach the scam warning."""
    return re.sub(rf"[{_SEPARATORS}]", "", digits) not in _OURS and not _DATE.fullmatch(digits.strip())


def find_private(text: str, after_number: bool = False) -> str | None:
    """'number' or 'secret' when the text holds something that must not be kept; else None.
    after_number: a number was refused a moment ago, so a bare group of digits now is taken as more of it
    (an ID said in groups over several turns)."""
    if any(_group(m.group(3)) for m in _SECRET.finditer(text)):
        return "secret"
    if any(_long(m) for m in _LONG_NUMBER.finditer(text)):
        return "number"
    if any(_group(m.group(3)) for m in _NAMED_NUMBER.finditer(text)):
        return "number"
    if after_number and any(_group(m.group()) for m in _DIGIT_GROUP.finditer(text)):
        return "number"
    return None


def mask(text: str, strict: bool = False) -> str:
    """The text with every such number and secret replaced by ***; strict (a turn refused as private): every
    group of three or more digits too."""
    text = _SECRET.sub(lambda m: m.group(1) + m.group(2) + (MASK if _group(m.group(3)) else m.group(3)), text)
    text = _LONG_NUMBER.sub(lambda m: MASK if _long(m) else m.group(), text)
    text = _NAMED_NUMBER.sub(lambda m: m.group(1) + m.group(2) + (MASK if _group(m.group(3)) else m.group(3)),
                                 text)
    if strict:
        text = _DIGIT_GROUP.sub(lambda m: MASK if _group(m.group()) else m.group(), text)
    return text
