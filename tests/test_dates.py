"""understand_date: exact and vague past dates as retirees say them; parse_date's own cases are in
test_understanding.py and must keep passing unchanged."""

from datetime import date

import pytest

from assistant.flows import load_flows
from assistant.understanding.dates import SaidDate, parse_date, spoken_date, understand_date

NOV = date(2026, 11, 30)  # a Monday; lunar 2026-10-22
FEB = date(2027, 2, 10)  # just after the lunar new year (2027-02-06): checks every year rollover
DONE = load_flows().certified_words  # the words that say it was done, as the understanding passes them


def exact(y, m, d):
    return SaidDate(date(y, m, d), False, date(y, m, d), date(y, m, d))


def vague(first, last):
    return SaidDate(None, True, date(*first), date(*last))


@pytest.mark.parametrize("text, today, expected", [
    ("三月五号", NOV, exact(2026, 3, 5)),
    ("三月五号", FEB, exact(2026, 3, 5)),  # not yet this year's March: last year's
    ("去年十二月三号", NOV, exact(2025, 12, 3)),
    ("去年十二月三号", FEB, exact(2026, 12, 3)),
    ("2025年3月5日", NOV, exact(2025, 3, 5)),
    ("二零二五年三月五日认证的", NOV, exact(2025, 3, 5)),
    ("2025-03-05", NOV, exact(2025, 3, 5)),
    ("上次是十二月一号", NOV, exact(2025, 12, 1)),
    ("二十五号", NOV, None),  # a day alone is no date: "三号窗口", "五号楼"
    ("上个月五号", NOV, exact(2026, 10, 5)),
    ("上个月五号", FEB, exact(2027, 1, 5)),
    ("前天", NOV, exact(2026, 11, 28)),
    ("昨天", FEB, exact(2027, 2, 9)),
    ("大前天", NOV, exact(2026, 11, 27)),
    ("十天前", NOV, exact(2026, 11, 20)),
    ("上周三", NOV, exact(2026, 11, 25)),
    ("上礼拜天", NOV, exact(2026, 11, 29)),
    ("去年的今天", NOV, exact(2025, 11, 30)),
    ("大前年十二月三号", NOV, exact(2023, 12, 3)),
])
def test_exact_dates(text, today, expected):
    assert understand_date(text, today) == expected


@pytest.mark.parametrize("text, today, expected", [
    ("五月份", NOV, vague((2026, 5, 1), (2026, 5, 31))),
    ("五月份", FEB, vague((2026, 5, 1), (2026, 5, 31))),
    ("今年五月", NOV, vague((2026, 5, 1), (2026, 5, 31))),
    ("去年五月", NOV, vague((2025, 5, 1), (2025, 5, 31))),
    ("十二月", NOV, vague((2025, 12, 1), (2025, 12, 31))),  # this December is still ahead
    ("十一月", NOV, vague((2026, 11, 1), (2026, 11, 30))),  # never past today
    ("三月底", NOV, vague((2026, 3, 21), (2026, 3, 31))),
    ("上个月", NOV, vague((2026, 10, 1), (2026, 10, 31))),
    ("上个月", FEB, vague((2027, 1, 1), (2027, 1, 31))),
    ("上礼拜", NOV, vague((2026, 11, 23), (2026, 11, 29))),
    ("上周", FEB, vague((2027, 2, 1), (2027, 2, 7))),
    ("去年年底", NOV, vague((2025, 12, 1), (2025, 12, 31))),
    ("去年底", FEB, vague((2026, 12, 1), (2026, 12, 31))),
    ("年底", NOV, vague((2025, 12, 1), (2025, 12, 31))),
    ("年初", NOV, vague((2026, 1, 1), (2026, 2, 28))),
    ("年初", FEB, vague((2027, 1, 1), (2027, 2, 10))),
    ("上半年", NOV, vague((2026, 1, 1), (2026, 6, 30))),
    ("上半年", FEB, vague((2026, 1, 1), (2026, 6, 30))),  # six weeks in, "上半年" means last year's
    ("下半年", NOV, vague((2026, 7, 1), (2026, 11, 30))),
    ("下半年", FEB, vague((2026, 7, 1), (2026, 12, 31))),
    ("去年下半年", NOV, vague((2025, 7, 1), (2025, 12, 31))),
    ("半年前", NOV, vague((2026, 5, 15), (2026, 6, 14))),  # about that long ago, give or take half a month
    ("三个月前", NOV, vague((2026, 8, 15), (2026, 9, 14))),
    ("三个月前", FEB, vague((2026, 10, 26), (2026, 11, 25))),
    ("一年前", NOV, vague((2025, 11, 15), (2025, 12, 15))),
    ("一个多月前", NOV, vague((2026, 9, 15), (2026, 11, 14))),
    ("两个星期前", NOV, vague((2026, 11, 13), (2026, 11, 19))),
    ("前几天", NOV, vague((2026, 11, 20), (2026, 11, 28))),
    ("去年", NOV, vague((2025, 1, 1), (2025, 12, 31))),
    ("今年认证过了", NOV, vague((2026, 1, 1), (2026, 11, 30))),
    ("今年我儿子帮我弄的", NOV, vague((2026, 1, 1), (2026, 11, 30))),
    ("去年国庆前后", NOV, vague((2025, 9, 24), (2025, 10, 8))),
    ("春节前认证的", NOV, vague((2026, 2, 2), (2026, 2, 16))),
])
def test_vague_dates_give_the_range_they_cover(text, today, expected):
    assert understand_date(text, today, DONE) == expected


def test_a_bare_this_year_is_a_date_only_with_a_word_of_having_done_it_from_flows():
    """Session 55: one list (flows/phrases.yaml certified_words) for the dialog and for dates; dates.py had its own
    pattern. Without the words nothing says it was done; with a volunteer's own word it is."""
    assert understand_date("今年认证过了", NOV) is None
    assert understand_date("今年已经弄好了", NOV, DONE) == vague((2026, 1, 1), (2026, 11, 30))
    assert understand_date("今年整完了", NOV, DONE) is None
    assert understand_date("今年整完了", NOV, ("整完",)) == vague((2026, 1, 1), (2026, 11, 30))
    assert understand_date("去年", NOV) == vague((2025, 1, 1), (2025, 12, 31))  # other years need no word


@pytest.mark.parametrize("text, today, expected", [
    ("腊月初三", NOV, exact(2026, 1, 21)),  # lunar 2025-12-03
    ("腊月初三", FEB, exact(2027, 1, 10)),  # lunar 2026-12-03, weeks ago
    ("正月十五", NOV, exact(2026, 3, 3)),
    ("正月十五", FEB, exact(2026, 3, 3)),  # this year's is on 2027-02-20, still ahead
    ("农历八月十五", NOV, exact(2026, 9, 25)),
    ("去年腊月二十三", NOV, exact(2026, 2, 10)),  # the 腊月 of the lunar year before this one
    ("去年腊月二十三", FEB, exact(2027, 1, 30)),
    ("冬月初八", NOV, exact(2025, 12, 27)),  # this year's 冬月 is still ahead
    ("十月初一", NOV, exact(2026, 11, 9)),  # 初一 makes it lunar
    ("中秋节", NOV, exact(2026, 9, 25)),
    ("大年三十", NOV, exact(2026, 2, 16)),
    ("去年冬至那天", NOV, exact(2025, 12, 21)),
    ("腊月", NOV, vague((2026, 1, 19), (2026, 2, 16))),
])
def test_lunar_dates_become_solar_ones(text, today, expected):
    assert understand_date(text, today) == expected


@pytest.mark.parametrize("text", [
    "明年三月五号", "明年", "下个月", "下个月五号", "明天", "后天", "下礼拜", "今年十二月三号", "今年年底",
    "二月三十号", "上上个月三十一号",  # September has 30 days
    # This year's certification asked about is still to do: no last date (it was read as 1 January).
    "今年认证截止到啥时候", "今年还要认证吗", "今年的认证还没做呢",
])
def test_future_or_impossible_dates_are_no_last_certification(text):
    assert understand_date(text, NOV, DONE) is None


@pytest.mark.parametrize("text", [
    "没有日期", "好了", "我想用微信认证", "看一下", "一个月多少钱", "每个月五号发钱", "三号窗口", "我住五号楼",
    "养老金涨了3.5", "打12333", "110101195001011234", "",
])
def test_no_date_said(text):
    assert understand_date(text, NOV) is None


def test_parse_date_and_spoken_date_are_unchanged():
    assert parse_date("上次是三月五号", date(2026, 11, 23)) == date(2026, 3, 5)
    assert parse_date("五月份", NOV) is None  # parse_date stays exact-only
    assert parse_date("腊月初三", NOV) is None
    assert spoken_date(date(2025, 3, 5)) == "2025年3月5日"
