"""The family setup as a small question/answer engine: `ask()` gives the question, `answer(text)` the reply.

The keyboard command drives it from stdin today; the voice loop can drive the same engine later (mode="voice"
leaves out the keyboard hints). Answers are understood with the dialog's own understanding: places with
flows.place_in, dates with parse_date, channels with the Understander's ch_* intents.
"""

import re
from dataclasses import dataclass, replace
from datetime import date

from assistant import clock
from assistant.dialog.schedule import days_text, due_text, next_deadline, rule_for
from assistant.settings import CHANNELS, Settings
from assistant.understanding import ACT, Understander, has_chinese, parse_date, spoken_date

QUESTIONS = ("region", "channel", "last_certified", "voice")
SLOW_PROFILE, NORMAL_PROFILE = "elder-slow", "standard"
_KEEP = {"", "跳过", "不变", "不改", "一样", "还是那样", "skip", "keep", "same"}
_CLEAR = {"不知道", "不清楚", "不记得", "忘了", "记不清", "没有", "清除", "删掉", "clear", "none"}
_PLACE_PREFIX = re.compile(r"^(?:我们?|老人|我妈|我爸|父母)?(?:家)?(?:是|在|住在|住|户口在|社保在)?")
_PLACE_SUFFIX = ("省", "市", "县", "区", "州", "盟", "旗", "自治区")
# parse_date knows 今年/去年/前年 only; "明年三月五号" would silently become this year's March 5.
_FUTURE_WORDS = ("明年", "后年", "下个月", "明天", "后天", "下周", "下星期")
_SLOW_WORDS = ("慢", "老人", "清楚")
_NORMAL_WORDS = ("正常", "标准", "普通", "快", "平常", "一般")
_CHANNEL_WORDS = {"wechat": "wechat", "alipay": "alipay", "12333": "app12333", "app12333": "app12333",
                  **{c: c for c in CHANNELS}}


@dataclass
class SetupTurn:
    """The engine's reply to one answer."""

    say: str
    """what to print or speak: the confirmation and the next question, or why the answer did not work"""
    ok: bool
    """False: the same question again (the reason is in `say`)"""
    done: bool = False


def setting_text(key: str, value, flows=None) -> str:
    """A setting as a family member reads it."""
    if value is None:
        return "没有设置 (not set)"
    if key == "channel" and flows:
        intent = next((i for i in flows.goto if i.startswith("ch_") and channel_of(flows, i) == value), None)
        return f"{flows.intents[intent].label} ({value})" if intent else value
    if key == "last_certified":
        return f"{spoken_date(value)} ({value.isoformat()})"
    if key == "voice":
        return {SLOW_PROFILE: "慢一点 (elder-slow)", NORMAL_PROFILE: "正常 (standard)"}.get(value, value)
    return str(value)


class SetupEngine:
    """Region, usual channel, last certification date, voice speed — one question at a time."""

    LABELS = {"region": "地区 (region)", "channel": "认证方式 (channel)", "last_certified": "上次认证 (last)",
              "voice": "语速 (voice)"}

    def __init__(self, flows, *, understander: Understander | None = None, today: date | None = None,
                 current: Settings | None = None, mode: str = "keyboard", voices=None):
        self.flows = flows
        self.understander = understander or Understander(flows)
        self.today = today or clock.today()
        self.settings = replace(current) if current else Settings()
        self.keyboard = mode == "keyboard"
        self.voices = list(voices) if voices is not None else available_voices()
        self.index = 0

    @property
    def done(self) -> bool:
        return self.index >= len(QUESTIONS)

    @property
    def question(self) -> str | None:
        return None if self.done else QUESTIONS[self.index]

    def _asked(self) -> str:
        """The question being asked (only called while not done)."""
        assert not self.done
        return QUESTIONS[self.index]

    # --- questions ---------------------------------------------------------------------------------
    def ask(self) -> str:
        """The current question (with the current value, which an empty answer keeps)."""
        if self.done:
            return self.summary()
        key = self._asked()
        number = f"({self.index + 1}/{len(QUESTIONS)}) "
        text = {
            "region": "老人在哪个省或城市领养老金?比如“甘肃”“佛山”。",
            "channel": "平时用什么认证?可以说“微信”、“支付宝”、“掌上12333”,或者“家里人帮忙”。",
            "last_certified": "上次认证是哪天?比如“今年三月五号”。",
            "voice": "说话要慢一点,还是正常?",
        }[key]
        hint = {
            "region": " (Region: province or city, e.g. 甘肃)",
            "channel": " (Channel: wechat, alipay, app12333, laolai, ganfutong, yueshitong, abroad, family)",
            "last_certified": " (Date of the last certification, e.g. 2026-03-05)",
            "voice": " (Voice speed: 慢 = elder-slow, 正常 = standard)",
        }[key] if self.keyboard else ""
        current = getattr(self.settings, key)
        if current is not None:
            keep = "直接按回车就不改 (Enter keeps it)" if self.keyboard else "说“不变”就不改"
            now = f"现在是:{setting_text(key, current, self.flows)};{keep}。"
        else:
            now = "不知道可以说“跳过” (skip)。" if self.keyboard else "不知道可以说“跳过”。"
        return number + text + hint + " " + now

    def answer(self, text: str) -> SetupTurn:
        """Understand one answer; on success move to the next question."""
        if self.done:
            return SetupTurn(self.summary(), True, True)
        key = self._asked()
        plain = (text or "").strip()
        words = self.understander.norm.text(plain) if plain else ""
        if plain.lower() in _KEEP or words in _KEEP:
            note = "好的,不改。" if getattr(self.settings, key) is not None else "好的,先跳过。"
        elif plain.lower() in _CLEAR or words in _CLEAR:
            setattr(self.settings, key, None)
            note = "好的,这一项先不填。"
        else:
            understood = getattr(self, f"_{key}")(plain, words)
            if isinstance(understood, str):  # why it was not understood; ask the same question again
                return SetupTurn(understood + " " + self.ask(), False)
            value, note = understood
            setattr(self.settings, key, value)
        self.index += 1
        if self.done:
            return SetupTurn(note + " " + self.summary(), True, True)
        return SetupTurn(note + " " + self.ask(), True)

    def summary(self) -> str:
        lines = ["都设好了 (all set):"]
        lines += [f"  {self.LABELS[k]}: {setting_text(k, getattr(self.settings, k), self.flows)}" for k in QUESTIONS]
        return "\n".join(lines)

    # --- understanding each answer: (value, note) or the reason it was not understood --------------------
    def _region(self, plain: str, words: str):
        place = self.flows.place_in(words)
        if place is None:
            bare = _PLACE_PREFIX.sub("", words, count=1)
            if has_chinese(bare) and 2 <= len(bare) <= 8 and bare.endswith(_PLACE_SUFFIX) and bare.isalpha():
                place = bare  # a city we have no entry for ("绵阳市"): kept, and the general rule stands in
        if place is None:
            return ("没听出是哪个地方。请说省或城市的名字,比如“甘肃”或“绵阳市”。"
                    + (" (Not a place we know; e.g. 甘肃, 绵阳市)" if self.keyboard else ""))
        return place, region_note(self.flows, place)

    def _channel(self, plain: str, words: str):
        if plain.lower() in _CHANNEL_WORDS:
            value = _CHANNEL_WORDS[plain.lower()]
            return value, f"好的,记下了:{setting_text('channel', value, self.flows)}。"
        intents = [i for i in self.flows.goto if i.startswith("ch_")]
        u = self.understander.understand(plain, None, intents)
        if u.second and u.intent in intents:
            first, second = (self.flows.intents[i].label for i in (u.intent, u.second))
            return f"您是说“{first}”,还是“{second}”?请只说一个。"
        if u.action != ACT or u.intent is None or u.intent not in intents:
            return "没听明白是哪种方式。" + ("" if not self.keyboard else " (Not understood.)")
        channel = channel_of(self.flows, u.intent)
        if channel not in CHANNELS:  # "本地的软件": which one depends on the place
            app = self._region_app()
            local = next((i for i in intents if app and self.flows.intents[i].label == app), None)
            if local and channel_of(self.flows, local) in CHANNELS:
                channel = channel_of(self.flows, local)
            else:
                return "本地的软件是哪一个?“老来网”、“赣服通”,还是“粤事通”?"
        return channel, f"好的,记下了:{setting_text('channel', channel, self.flows)}。"

    def _region_app(self) -> str | None:
        region = self.flows.find_region(self.settings.region) if self.settings.region else None
        return region.app if region else None

    def _last_certified(self, plain: str, words: str):
        last = None if any(w in plain for w in _FUTURE_WORDS) else parse_date(plain, self.today)
        if last is None:
            return ("没听出是哪天。请说上次认证的日子,比如“三月五号”;不能是今天以后的日子。"
                    + (" (Not a past date; e.g. 2026-03-05)" if self.keyboard else ""))
        return last, f"好的,上次是{spoken_date(last)}。" + deadline_sentence(self.flows, last, self.settings.region,
                                                                              self.today)

    def _voice(self, plain: str, words: str):
        if plain in self.voices:
            return plain, f"好的,用“{plain}”的声音。"
        if any(w in words for w in _SLOW_WORDS) and SLOW_PROFILE in self.voices:
            return SLOW_PROFILE, "好的,我会说得慢一点。"
        if any(w in words for w in _NORMAL_WORDS) and NORMAL_PROFILE in self.voices:
            return NORMAL_PROFILE, "好的,用正常的速度说。"
        names = "、".join(self.voices)
        return "请说“慢一点”或者“正常”。" + (f" (Or a voice profile name: {names})" if self.keyboard else "")


def channel_of(flows, intent: str) -> str:
    """The walk a ch_* intent starts ("wechat"), the name Settings.channel stores."""
    target = flows.goto[intent]
    return flows.states[target].walk or target


def rule_sentence(flows, place: str) -> str:
    """The rule the assistant goes by for a place; says so when the general rule has to stand in."""
    rule = rule_for(flows, place)
    if rule.name == "general":
        return flows.answers["next_date"].templates["unknown_region"].format(region=place)
    return f"按{rule.name}{rule.cycle}。"


def region_note(flows, place: str) -> str:
    """The confirmation after the region answer: the place, its rule, and its local app if it has one."""
    region = flows.find_region(place)
    app = f"那里还可以用“{region.app}”认证。" if region and region.app else ""
    return f"好的,记下了:{place}。{rule_sentence(flows, place)}{app}"


def deadline_sentence(flows, last: date, place: str | None, today: date) -> str:
    """"按……,下次最晚在……之前认证。还有N天" (or how many days it is overdue), by the place's rule: the same
    sentences as the conversation's (dialog/schedule.py)."""
    deadline = next_deadline(flows, last, place)
    return due_text(flows, deadline) + days_text(flows, deadline, today)


def available_voices() -> list[str]:
    """Voice profile names a family can choose (the speech stage's list: shipped and the user's own)."""
    from assistant.speech.profiles import available_profiles

    return list(available_profiles())
