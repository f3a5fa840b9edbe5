"""What the flow files describe, as plain dataclasses the dialog reads."""

import re
from dataclasses import dataclass, field
from pathlib import Path

_SENTENCE = re.compile(r"[^。!?!?]+[。!?!?]*")


def sentences(text: str) -> list[str]:
    """Split spoken text into sentences: each one is a prompt that can be rendered ahead of time."""
    return [s.strip() for s in _SENTENCE.findall(text.replace("\n", "")) if s.strip()]


@dataclass(frozen=True)
class Phrase:
    """One way a user may say something, with where it was written."""

    text: str
    file: str
    line: int


@dataclass
class Source:
    """Where a fact comes from: a seed file and a quote from it, an official rule ("rule <name>", its text in
    flows/rules.yaml) and a quote from it, or 'product' for the assistant itself."""

    file: str
    quote: str
    line: int


@dataclass
class Intent:
    """A meaning the user can express, with the phrases that express it."""

    name: str
    label: str
    phrases: list[Phrase]
    typed: list[str] = field(default_factory=list)
    start_label: str | None = None
    """how it is named in a question back before a way is picked (the greeting, the other ways), where `label`
    would name a step retried (failed: "不会弄" there, "还是不行" in a walk, whose steps teach "还不行说“还是不行”")"""


@dataclass
class State:
    """A place in the dialog: what is said on arrival and where each answer leads."""

    name: str
    say: str
    options: list[str]
    on: dict[str, str]
    sources: list[Source]
    file: str
    line: int
    walk: str | None = None
    """Top-level walk this step belongs to (None for free-standing states)."""
    progress: tuple[int, int] | None = None
    """(step number, steps in the walk) for a step; None elsewhere."""
    returns: bool = False
    """Entering this walk from outside remembers where to come back to (troubleshooting)."""
    ask: str = ""
    """the short form said when coming back here after a question (defaults to say)"""
    certified: bool = False
    """arriving here means the certification was just done: the next deadline is counted from today"""
    awaiting_result: bool = False
    """the certification was handed in ("提交成功") and its result is awaited: "要等多久" asks about the result, not
    about how long certifying takes (knowledge.yaml `by: where`, the kind "waiting")"""

    @property
    def sentences(self) -> list[str]:
        return sentences(self.say)

    @property
    def ask_sentences(self) -> list[str]:
        return sentences(self.ask or self.say)


@dataclass
class Answer:
    """Knowledge spoken in reply to a question; extra templates for answers filled in live."""

    id: str
    say: str
    sources: list[Source]
    templates: dict[str, str] = field(default_factory=dict)
    by: str | None = None
    """a slot (e.g. scam, cover) whose value picks the template said first, before `then`"""
    offers: str | None = None
    """a walk's intent (a `goto`) the answer recommends ("用微信最省事"): outside a walk, a yes right after it
    ("好,就用这个") starts that walk"""
    instead: str | None = None
    """another answer said in its place when the walk it offers is one the user said they lack ("用微信最省事" to
    someone who has just said "我没有微信")"""

    @property
    def sentences(self) -> list[str]:
        return sentences(self.say)


@dataclass
class Region:
    """A province's or city's certification rule."""

    name: str
    aliases: list[str]
    cycle_days: int | None
    cycle: str | None
    app: str | None
    within: str | None
    note: str | None
    sources: list[Source]


@dataclass
class Flows:
    """Everything the assistant knows and says, loaded from flows/."""

    start: str
    intents: dict[str, Intent]
    states: dict[str, State]
    controls: list[str]
    answer_of: dict[str, str]
    """question intent -> answer id (spoken anywhere, then back to where the user was)"""
    goto: dict[str, str]
    """intent -> state, understood in every state"""
    answers: dict[str, Answer]
    say: dict[str, str]
    """the assistant's own conversation sentences (phrases.yaml)"""
    fillers: list[str]
    general_region: Region
    regions: dict[str, Region]
    provinces: list[str]
    """every province-level name, to tell a place without a rule from no place at all"""
    titles: dict[str, str] = field(default_factory=dict)
    """walk -> how the assistant names it when saying back a choice ("微信")"""
    root: Path | None = None
    """the folder the flows were read from (training data for the understanding model lives there too)"""
    confirm_in_words: tuple[str, ...] = ()
    """readings that, asked back ("您是说“再见”吗?"), only a yes in words or their own phrase confirms (dialog.yaml)"""
    greetings: tuple[str, ...] = ()
    """words a turn of nothing but greetings is made of ("你好", "喂"): greeted back (phrases.yaml)"""
    filler_words: tuple[str, ...] = ()
    """everyday words a filler stands inside ("金额"), kept whole when fillers are taken out (phrases.yaml)"""
    certified_words: tuple[str, ...] = ()
    """words that say a certification was done ("认证完", "上次"): a date said with one is the last (phrases.yaml)"""

    def label_in(self, intent: str, state: str) -> str:
        """How a reading is named in a question back in this state: outside a walk its `start_label` if it has one."""
        known = self.intents[intent]
        outside_a_walk = state in self.states and not self.states[state].walk
        return known.start_label if known.start_label and outside_a_walk else known.label

    def global_intents(self) -> list[str]:
        return [*self.controls, *self.answer_of, *self.goto]

    def allowed_intents(self, state: str) -> list[str]:
        """Intents understood in this state: its own answers first, then the global ones."""
        local = list(self.states[state].on)
        return local + [i for i in self.global_intents() if i not in local]

    def readable_intents(self, state: str) -> list[str]:
        """What a turn here may be read as: the intents understood here, and a yes everywhere. In a step "对/是的"
        means "好了"; where nothing was asked (the greeting, a choice, the result) a yes is heard ("好的。" and the
        question again) rather than guessed into something else. The dialog reads turns with these, and training
        calibrates on them, so both see the same readings."""
        allowed = self.allowed_intents(state)
        return allowed if "yes" in allowed else [*allowed, "yes"]

    def chosen(self, walk: str) -> str | None:
        """"好,咱们用微信认证。" as a walk is entered (phrases.yaml `chosen`), or None without a title or that sentence.
        A title that already says 认证 is not followed by another ("支付宝代人认证认证" was said)."""
        title = self.titles.get(walk)
        if not title or "chosen" not in self.say:
            return None
        text = self.say["chosen"].format(title=title)
        return text.replace(title + "认证", title) if title.endswith("认证") else text

    def fixed_sentences(self) -> list[str]:
        """Every sentence the assistant may say that has no live part: rendered ahead of time."""
        texts = [s for st in self.states.values() for s in st.sentences + st.ask_sentences]
        for answer in self.answers.values():
            texts += answer.sentences
            for template in answer.templates.values():
                texts += sentences(template)
        for text in self.say.values():
            texts += sentences(text)
        texts += [r.note for r in self.regions.values() if r.note]
        texts += [self.chosen(w) or "" for w in self.titles
                  if not any(st.returns for st in self.states.values() if st.walk == w)]
        # Joining words ("、", "或者") are sentences only to the splitter, never said on their own; a short
        # sentence that ends like one ("您好!", "可以。") is said, so it is rendered ahead too.
        seen = dict.fromkeys(t for t in texts if "{" not in t and (len(re.findall(r"[\u3400-\u9fff]", t)) > 2
                                                                    or re.search(r"[。!！?？]$", t)))
        return list(seen)

    def grammar_phrases(self) -> list[Phrase]:
        """Every phrase users may say, for the recogniser's grammar."""
        return [p for intent in self.intents.values() for p in intent.phrases]

    def same_effect(self, state_name: str) -> dict:
        """Intents that lead to the same place from this state, each mapped to one of them ("对" is "好了" in a
        step; on a troubleshooting step "好了" and "成功了" both go back)."""
        state = self.states[state_name]
        by_target: dict[str, str] = {}
        same = {}
        for intent, target in state.on.items():
            same[intent] = by_target.setdefault(target, intent)
        if "next" in state.on and "yes" not in state.on:
            same["yes"] = same["next"]
        return {i: rep for i, rep in same.items() if i != rep or any(j != i and r == rep for j, r in same.items())}

    def find_region(self, name: str) -> Region | None:
        for region in self.regions.values():
            if name == region.name or name in region.aliases:
                return region
        return None

    def rule_name(self, place) -> str:
        """For a Place (province, city, county): the most specific name with an entry in regions.yaml (新余,
        佛山, else the province: 天水 → 甘肃), or the place's own name when none has (the general rule then)."""
        for name in (place.county, place.city, place.province):
            region = self.find_region(name) if name else None
            if region:
                return region.name
        return place.city or place.province

    def words_holding_fillers(self) -> tuple[str, ...]:
        """Words a filler stands inside, which understanding keeps whole: phrases.yaml's `filler_words` and every
        place name that holds a filler ("哈尔滨", "齐齐哈尔", "额敏")."""
        from assistant.understanding.regions import all_place_names

        return (*self.filler_words, *(n for n in all_place_names() if any(f in n for f in self.fillers)))

    def place_in(self, text: str) -> str | None:
        """The place named in the text, as the name whose rule applies (see rule_name), if any."""
        from assistant.understanding.regions import find_place

        place = find_place(text)
        if place is not None:
            return self.rule_name(place)
        names = [(n, r.name) for r in self.regions.values() for n in (r.name, *r.aliases)]
        names += [(p, p) for p in self.provinces]
        found = [(len(n), canonical) for n, canonical in names if n in text]
        return max(found)[1] if found else None
