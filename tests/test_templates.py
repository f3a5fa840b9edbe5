"""Templates as data: (a|b), [optional], {list}; every mistake is a file:line error."""

import pytest

from assistant.errors import FlowError
from assistant.understanding.templates import ListItem, expand

LISTS = {"channel": [ListItem("微信", "ch_wechat"), ListItem("支付宝", "ch_alipay")],
         "relative": [ListItem("女儿", "女儿"), ListItem("儿子", "儿子")]}


def texts(template):
    return sorted(e.text for e in expand(template, LISTS, file="t.yaml", line=3))


def test_alternatives_optional_parts_and_lists():
    assert texts("[我](没有|没装){channel}") == sorted(
        ["没有微信", "没装微信", "没有支付宝", "没装支付宝", "我没有微信", "我没装微信", "我没有支付宝", "我没装支付宝"])


def test_lists_fill_their_slot():
    found = {e.text: e.slots for e in expand("我{relative}用{channel}", LISTS)}
    assert found["我女儿用支付宝"] == {"relative": "女儿", "channel": "ch_alipay"}


def test_nested_groups_and_duplicates_collapse():
    assert texts("还没((弄|做)好|完)[呢]") == sorted(["还没弄好", "还没做好", "还没完", "还没弄好呢", "还没做好呢", "还没完呢"])
    assert texts("(好|好)了") == ["好了"]


@pytest.mark.parametrize("template, message", [
    ("还没(弄好", "without ')'"),
    ("还没弄好)", "without its opening bracket"),
    ("[我没有", "without ']'"),
    ("我没有{app}", "unknown list '{app}'"),
    ("我没有{channel", "without '}'"),
])
def test_mistakes_point_at_the_template(template, message):
    with pytest.raises(FlowError) as err:
        expand(template, LISTS, file="flows/templates.yaml", line=12)
    assert str(err.value).startswith("flows/templates.yaml:12:") and message in str(err.value)


def test_a_runaway_template_is_refused_before_it_fills_memory():
    with pytest.raises(FlowError, match="more than 100 sentences"):
        expand("(a|b|c|d|e)(a|b|c|d|e)(a|b|c|d|e)", LISTS, file="t.yaml", line=1, limit=100)
