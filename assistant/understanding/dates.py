"""Dates as elders say them: "三月五号", "去年十二月三号", "2025年3月5日", "2025-03-05"."""

import re
from datetime import date

import cn2an

_FULL = re.compile(r"(?:(\d{4}|\d{2})\s*[年./-]\s*)?(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号号]?")
_RELATIVE_YEAR = {"前年": -2, "去年": -1, "今年": 0}


def parse_date(text: str, today: date) -> date | None:
    """The most recent past date the text names; None when it names none."""
    text = text.replace("幺", "一").replace("〇", "零")
    if "明年" in text or "后年" in text:
        return None  # a past certification is never next year; better to ask again than to guess
    try:
        arabic = cn2an.transform(text, "cn2an")
    except Exception:  # cn2an raises plain ValueError/KeyError on odd input; a date is then simply absent
        arabic = text
    match = _FULL.search(arabic)
    if not match:
        return None
    year_text, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    offset = next((v for k, v in _RELATIVE_YEAR.items() if k in text), None)
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    elif offset is not None:
        year = today.year + offset
    else:
        year = today.year
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not year_text and offset is None and found > today:
        # "三月五号" said in November means this year's March; said in February, last year's.
        try:
            found = date(year - 1, month, day)
        except ValueError:
            return None
    return found if found <= today else None


def spoken_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
