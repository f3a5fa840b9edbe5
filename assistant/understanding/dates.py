"""Dates as elders say them: "三月五号", "去年十二月三号", "2025年3月5日", "2025-03-05".

parse_date finds exact dates only. understand_date also takes the vaguer ways people remember their last
certification ("去年年底", "半年前", "腊月初三") and says how vague they are, so the caller can ask back.
Everything here looks backwards: a last certification is never in the future.
"""

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.numbers import PLAIN_NUMERALS, to_digits

_FULL = re.compile(r"(?:(\d{4}|\d{2})\s*[年./-]\s*)?(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号号]?")
_RELATIVE_YEAR = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0}  # first match wins: 大前年 before 前年


def parse_date(text: str, today: date) -> date | None:
    """The most recent past date the text names; None when it names none."""
    text = _plain(text)
    if "明年" in text or "后年" in text:
        return None  # a past certification is never next year; better to ask again than to guess
    return _full_date(_arabic(text), text, today)[1]


def spoken_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _plain(text: str) -> str:
    return text.translate(PLAIN_NUMERALS)


def _arabic(text: str) -> str:
    return to_digits(text)  # odd input comes back as it is: a date is then simply absent


def _full_date(arabic: str, text: str, today: date) -> tuple[re.Match | None, date | None]:
    """The month-and-day date in the text: the match (None when there is none) and the date when it is past."""
    match = _FULL.search(arabic)
    if not match:
        return None, None
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
        return match, None
    if not year_text and offset is None and found > today:
        # "三月五号" said in November means this year's March; said in February, last year's.
        try:
            found = date(year - 1, month, day)
        except ValueError:
            return match, None
    return match, found if found <= today else None


# --- understand_date ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SaidDate:
    day: date | None  # the resolved past date when exact enough
    vague: bool  # a period was said (五月份, 去年年底, 半年前): the caller asks back
    earliest: date | None  # the range it covers, never past today; for an exact day, that day
    latest: date | None


class _NotPast(Exception):
    """A date was said but lies ahead (今年十二月, said in November): no last certification, stop looking."""


_FUTURE = ("明年", "后年", "明天", "明儿", "后天", "下个月", "下月", "下周", "下礼拜", "下星期", "下个星期", "下个礼拜")
_YEAR = r"(?:(\d{4})年|(大前年|前年|去年|今年))?的?"
_YEAR_WORDS = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0}


def understand_date(text: str, today: date, done_words: Iterable[str] = ()) -> SaidDate | None:
    """What the text says about a past date; None when it says none, or only a future one. `done_words` say a
    certification was done (flows/phrases.yaml certified_words): without one, a bare 今年 is no date."""
    text = _plain(re.sub(r"\s+", "", text))
    if any(word in text for word in _FUTURE):
        return None
    arabic = _arabic(text)
    try:
        for reader in _READERS:
            said = reader(arabic, today)
            if said:
                return said
        return _whole_year(arabic, today, tuple(done_words))
    except _NotPast:
        return None
    return None


def _exactly(day: date, today: date) -> SaidDate:
    if day > today:
        raise _NotPast
    return SaidDate(day, False, day, day)


def _between(earliest: date, latest: date, today: date) -> SaidDate:
    if earliest > today:
        raise _NotPast
    return SaidDate(None, True, earliest, min(latest, today))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months_back(day: date, months: float) -> date:
    """day moved back by whole (and half) months, clamped to the month's end: 3月31日 - 1 month = 2月28日."""
    whole, half = int(months), months % 1
    month_index = day.year * 12 + day.month - 1 - whole
    year, month = divmod(month_index, 12)
    moved = date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
    return moved - timedelta(days=15) if half else moved


def _years(match: re.Match, this_year: int) -> list[int]:
    """The years a "(2025年|去年)…" prefix (groups 1 and 2) allows: the one said, else this year or the last."""
    digits, word = match.group(1), match.group(2)
    if digits:
        return [int(digits)]
    if word:
        return [this_year + _YEAR_WORDS[word]]
    return [this_year, this_year - 1]  # most recent past first


def _latest_past(ranges: list[tuple[date, date]], today: date, exact: bool = False) -> SaidDate:
    """The first (most recent) candidate that lies in the past. Where the year was not said, a period must be
    half over to count: "上半年" said in February is last year's, "十一月" said on the 30th is this one."""
    for earliest, latest in ranges:
        begun = earliest if exact or len(ranges) == 1 else earliest + (latest - earliest) / 2
        if begun <= today:
            return _exactly(earliest, today) if exact else _between(earliest, latest, today)
    raise _NotPast


# Lunar dates. 腊月 is the 12th month, 冬月 the 11th, 正月 the 1st; days are 初一…初十, 十一…三十.
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}
_LUNAR = re.compile(_YEAR + r"(农历|阴历|旧历|老历)?的?(闰)?(正|冬|腊|\d{1,2})月(?:份|里)?(初\d{1,2}|\d{1,2})?")


def _lunar(text: str, today: date) -> SaidDate | None:
    # Lunar only when something says so: 农历, a month named 正/冬/腊, or a day 初一…初十.
    match = next((m for m in _LUNAR.finditer(text)
                  if m.group(3) or m.group(5) in _LUNAR_MONTHS or (m.group(6) or "").startswith("初")), None)
    if not match:
        return None
    from borax.calendars.lunardate import LCalendars, LunarDate  # only lunar talk pays for the import

    month = _LUNAR_MONTHS.get(match.group(5)) or int(match.group(5))
    day = int(match.group(6).removeprefix("初")) if match.group(6) else None
    leap = 1 if match.group(4) else 0
    ranges = []
    for year in _years(match, LunarDate.from_solar(today).year):  # "去年腊月": the lunar year before this one
        try:
            last = LCalendars.ndays(year, month, leap)
            ranges.append((LunarDate(year, month, day or 1, leap).to_solar_date(),
                           LunarDate(year, month, day or last, leap).to_solar_date()))
        except ValueError:  # 腊月三十 in a 29-day 腊月, or a 闰 month that year does not have
            continue
    return _latest_past(ranges, today, exact=day is not None)


# Days people date things by, spelled as they read after cn2an (大年初一 → 大年初1). Lunar ones as (month, day),
# day 0 being the month's last; solar ones as a date in year 1; solar terms by name.
_FESTIVALS = {"大年初1": (1, 1), "春节": (1, 1), "元宵": (1, 15), "端午": (5, 5), "7夕": (7, 7), "中秋": (8, 15),
              "重阳": (9, 9), "腊8": (12, 8), "小年": (12, 23), "除夕": (12, 0), "大年30": (12, 0),
              "元旦": date(1, 1, 1), "劳动节": date(1, 5, 1), "51节": date(1, 5, 1), "国庆": date(1, 10, 1),
              "立春": "立春", "春分": "春分", "清明": "清明", "夏至": "夏至", "立秋": "立秋", "秋分": "秋分",
              "立冬": "立冬", "冬至": "冬至"}
# "春节前认证的" is a fortnight, not the day itself.
_AROUND = {"前后": (-7, 7), "左右": (-7, 7), "那会": (-7, 7), "前": (-15, -1), "之前": (-15, -1), "以前": (-15, -1),
           "后": (1, 15), "之后": (1, 15), "以后": (1, 15)}


def _festival(text: str, today: date) -> SaidDate | None:
    name = next((n for n in _FESTIVALS if n in text), None)
    if not name:
        return None
    from borax.calendars.lunardate import LCalendars, LunarDate, TermUtils

    match = re.search(_YEAR + name + r"节?(?:那天|的时候)?(" + "|".join(_AROUND) + ")?", text)
    if match is None:  # the caller found the name; a spelling this pattern does not take is no date
        return None
    spec = _FESTIVALS[name]
    if isinstance(spec, tuple):
        month, day = spec
        # "去年中秋" said in January is last calendar year's; only 腊月's days count by the lunar year.
        years = _years(match, LunarDate.from_solar(today).year if month == 12 else today.year)
        days = [LunarDate(y, month, day or LCalendars.ndays(y, month, 0)).to_solar_date() for y in years]
    elif isinstance(spec, date):
        days = [spec.replace(year=y) for y in _years(match, today.year)]
    else:
        days = [TermUtils.nth_term_day(y, term_name=spec) for y in _years(match, today.year)]
    if not match.group(3):
        return _latest_past([(d, d) for d in days], today, exact=True)
    low, high = _AROUND[match.group(3)]
    return _latest_past([(d + timedelta(days=low), d + timedelta(days=high)) for d in days], today)


def _full(text: str, today: date) -> SaidDate | None:
    match, day = _full_date(text, text, today)
    if not match:
        return None
    if "月" not in match.group(0) and not match.group(1) and not match.group(0).endswith(("日", "号")):
        return None  # "涨了3.5" is money, not March 5th: a bare "3.5" or "3/5" needs 号 or a year
    if day is None:
        raise _NotPast  # 今年十二月三号 said in November, or 二月三十号: no past date; don't read "今年" instead
    return _exactly(day, today)


_DAYS_AGO = {"大前天": 3, "前天": 2, "前儿": 2, "昨天": 1, "昨儿": 1, "昨日": 1, "今天": 0, "今儿": 0, "今日": 0}


def _day_words(text: str, today: date) -> SaidDate | None:
    if re.search(r"去年的?(今天|这个时候|这时候|这会儿|这阵子)", text):
        a_year_ago = _months_back(today, 12)
        if "今天" in text:
            return _exactly(a_year_ago, today)
        return _between(a_year_ago - timedelta(days=15), a_year_ago + timedelta(days=15), today)
    if re.search(r"前(几|两|2|些)天", text):
        return _between(today - timedelta(days=10), today - timedelta(days=2), today)
    word = next((w for w in _DAYS_AGO if w in text), None)
    return _exactly(today - timedelta(days=_DAYS_AGO[word]), today) if word else None


_MONTH_PART = {"初": (1, 10), "上旬": (1, 10), "中旬": (11, 20), "中": (11, 20), "下旬": (21, 31), "底": (21, 31),
               "末": (21, 31)}
_PART_WORDS = r"上旬|中旬|下旬|初(?!\d)|中(?!\d)|底|末"


def _relative_month(text: str, today: date) -> SaidDate | None:
    match = re.search(r"(上上|上|这|本)个?月的?(\d{1,2}[号日]|" + _PART_WORDS + ")?", text)
    if not match:
        return None
    first = _months_back(today.replace(day=1), {"上上": 2, "上": 1}.get(match.group(1), 0))
    said = match.group(2)
    if said and said[-1] in "号日":
        try:
            return _exactly(first.replace(day=int(said[:-1])), today)
        except ValueError:  # 上个月三十一号 in a 30-day month
            raise _NotPast from None
    low, high = _MONTH_PART.get(said or "", (1, 31))
    end = _month_end(first.year, first.month)
    return _between(first.replace(day=low), min(end, first.replace(day=min(high, end.day))), today)


_WEEKDAYS = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "日": 6, "天": 6, "7": 6}


def _week(text: str, today: date) -> SaidDate | None:
    match = re.search(r"(上上|上|这|本)个?(?:周|礼拜|星期)([1-7日天]|末)?", text)
    if not match:
        return None
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks={"上上": 2, "上": 1}.get(match.group(1), 0))
    if match.group(2) == "末":
        return _between(monday + timedelta(days=5), monday + timedelta(days=6), today)
    if match.group(2):
        return _exactly(monday + timedelta(days=_WEEKDAYS[match.group(2)]), today)
    return _between(monday, monday + timedelta(days=6), today)


def _ago(text: str, today: date) -> SaidDate | None:
    match = re.search(r"(\d+|半)个?(多|来)?(天|日|周|星期|礼拜|月|年)(半)?(多)?(?:以前|之前|前)", text)
    if not match:
        return None
    amount = 0.5 if match.group(1) == "半" else int(match.group(1))
    amount += 0.5 if match.group(4) else 0
    more = bool(match.group(2) or match.group(5))  # "一个多月前", "十来天前": somewhat longer ago than said
    unit = match.group(3)
    if unit in ("天", "日"):
        if not more and amount == int(amount):
            return _exactly(today - timedelta(days=int(amount)), today)
        center, spread = today - timedelta(days=round(amount)), timedelta(days=max(1, round(amount) // 3))
    elif unit in ("周", "星期", "礼拜"):
        center, spread = today - timedelta(days=round(amount * 7)), timedelta(days=3)
    else:
        center, spread = _months_back(today, amount * (12 if unit == "年" else 1)), timedelta(days=15)
    earliest = center - spread - (spread * 2 if more else timedelta(0))
    return _between(earliest, center + spread, today)


def _month(text: str, today: date) -> SaidDate | None:
    match = re.search(_YEAR + r"(?<![\d个.])(\d{1,2})月份?(" + _PART_WORDS + r")?(?!\d)", text)
    if not match or not 1 <= int(match.group(3)) <= 12:
        return None
    month = int(match.group(3))
    low, high = _MONTH_PART.get(match.group(4) or "", (1, 31))
    ranges = []
    for year in _years(match, today.year):
        end = _month_end(year, month)
        ranges.append((date(year, month, low), min(end, date(year, month, min(high, end.day)))))
    return _latest_past(ranges, today)


_YEAR_PARTS = {"年初": (1, 2), "年头": (1, 2), "年中": (6, 7), "年底": (12, 12), "年末": (12, 12), "年尾": (12, 12),
               "上半年": (1, 6), "下半年": (7, 12)}  # first and last month


def _year_part(text: str, today: date) -> SaidDate | None:
    text = re.sub(r"(\d{4}|大前|前|去|今)年(初|头|中|底|末|尾)", r"\1年年\2", text)  # "去年底" is "去年年底"
    match = re.search(_YEAR + "(" + "|".join(_YEAR_PARTS) + ")", text)
    if not match:
        return None
    first, last = _YEAR_PARTS[match.group(3)]
    return _latest_past([(date(y, first, 1), _month_end(y, last)) for y in _years(match, today.year)], today)


def _whole_year(text: str, today: date, done_words: tuple[str, ...] = ()) -> SaidDate | None:
    """A year named alone; this year only with a word of having done it (`done_words`, flows/phrases.yaml
    certified_words: "今年认证过了", "今年我儿子帮我弄的")."""
    match = re.search(r"(?:(\d{4})年|(大前年|前年|去年|今年))(?!\d)", text)
    if not match:
        return None
    if match.group(2) == "今年" and not any(word in text for word in done_words):
        # "今年认证截止到啥时候", "今年还要认证吗": this year's certification, still to do — no last date. Read as one,
        # the deadline was counted from 1 January and said back as "您上次是2026年1月1日认证的".
        return None
    year = _years(match, today.year)[0]
    return _between(date(year, 1, 1), date(year, 12, 31), today)


# Most specific first: a lunar month must be read before "8月15" is taken as a solar date, and an exact
# date before the month or year it contains.
_READERS = (_festival, _lunar, _full, _day_words, _relative_month, _week, _ago, _month, _year_part)
"""Then _whole_year, which also needs the words that say it was done."""
