"""What the model sees of one turn: character and fuzzy-pinyin n-grams, the cues of flows/understanding.yaml,
the kind of state the user is in, and those cues crossed with the state kind.

Pinyin n-grams make homophones the recogniser writes (支付包, 微心) look like the words meant; the state kind
lets the same "好了" mean "next" in a step and nothing at the greeting; crossing the cues with the state lets
a negation count more where "done" is the likely answer.
"""

import re
from collections import Counter
from dataclasses import dataclass

from assistant.understanding.normalize import Normalizer

NGRAMS = (1, 2, 3)
FEATURES_VERSION = "6"
"""Bump when features or how a model is trained change, so cached models are retrained (6: stable folds)."""
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class StateKind:
    """The few things about a state that change what words mean there."""

    tags: tuple[str, ...]
    words: frozenset = frozenset()
    """two-character words of the step's own instruction (a user reporting it done often repeats them)"""

    @classmethod
    def of(cls, flows, state: str | None) -> "StateKind":
        if state is None or state not in flows.states:
            return cls(("any",))
        st = flows.states[state]
        tags = ["step" if "next" in st.on else "choosing"]
        tags += [f"on:{intent}" for intent in st.on if intent != "next"]
        if st.walk:
            tags.append("trouble" if st.walk.startswith("trouble") else "walk")
        if state == flows.start:
            tags.append("start")
        words = _instruction_words(flows)[state] if "next" in st.on else frozenset()
        return cls(tuple(tags), words)


def _pairs(text: str) -> set:
    chars = "".join(_CJK.findall(text))
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


_INSTRUCTIONS: dict = {}


def _instruction_words(flows) -> dict:
    """Per step: its instruction's character pairs, less those most steps say ("好了", "说好"): only the pairs
    that tell this step from the others count as an echo of it."""
    key = id(flows)
    if key not in _INSTRUCTIONS:
        steps = {n: _pairs(s.say) for n, s in flows.states.items() if "next" in s.on}
        common = Counter(p for pairs in steps.values() for p in pairs)
        # A pair in more than a fifth of all steps names no step in particular.
        usual = {p for p, c in common.items() if c * 5 > len(steps)}
        _INSTRUCTIONS[key] = {n: frozenset(pairs - usual) for n, pairs in steps.items()}
    return _INSTRUCTIONS[key]


EXTRA_KINDS = ("skips", "words")
"""Optional feature kinds (understanding.yaml `training: features:`): character pairs with one or two characters
between them ("没…好", "还…不": a negation apart from what it negates), and words from jieba's segmenter with
their pairs (its dictionary ships in its wheel)."""


class Featurizer:
    def __init__(self, norm: Normalizer, cues: dict[str, str], extra=(), exceptions: dict[str, str] | None = None):
        self.norm = norm
        self.cues = {name: re.compile(pattern) for name, pattern in cues.items()}
        self.exceptions = {name: re.compile(pattern) for name, pattern in (exceptions or {}).items()}
        """cue -> words that contain it but do not say it ("不戴眼镜" negates the obstacle, not the step)"""
        unknown = set(extra) - set(EXTRA_KINDS)
        if unknown:
            raise ValueError(f"unknown feature kinds {sorted(unknown)}; known: {EXTRA_KINDS}")
        self.extra = frozenset(extra)
        self._cut = _segmenter() if "words" in self.extra else None

    def text(self, raw: str) -> str:
        return self.norm.text(raw)

    def cues_in(self, text: str) -> list[str]:
        """Names of the cues found in already-normalised text."""
        return [name for name, rx in self.cues.items()
                if rx.search(self.exceptions[name].sub(" ", text) if name in self.exceptions else text)]

    def echoes(self, text: str, kind: StateKind) -> bool:
        return bool(kind.words and _pairs(text) & kind.words)

    def features(self, raw: str, kind: StateKind, slots=()) -> list[str]:
        text = self.norm.text(raw)
        return self.features_of_normalised(text, kind, slots)

    def features_of_normalised(self, text: str, kind: StateKind, slots=()) -> list[str]:
        feats = []
        chars = f"^{text}$"
        sounds = ["^", *self.norm.syllables(text), "$"]
        for n in NGRAMS:
            feats += ["c" + chars[i:i + n] for i in range(len(chars) - n + 1)]
            feats += ["p" + " ".join(sounds[i:i + n]) for i in range(len(sounds) - n + 1)]
        if "skips" in self.extra:
            cjk = "".join(_CJK.findall(text))
            feats += [f"k{cjk[i]}…{cjk[i + g]}" for g in (2, 3) for i in range(len(cjk) - g)]
        if self._cut is not None:
            words = [w for w in self._cut(text) if w.strip()]
            feats += ["w" + w for w in words if len(w) > 1]
            feats += [f"v{a} {b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]
        length = len(text)
        feats.append("len:" + ("0" if length == 0 else "1" if length == 1 else "2" if length == 2 else
                               "3-4" if length <= 4 else "5-8" if length <= 8 else "9-16" if length <= 16 else "17+"))
        cues = self.cues_in(text)
        # What was named matters more than which name: "我是{any county}的,用支付宝" reads like a trained one.
        cues += [f"slot:{name}" for name in sorted(slots)]
        if self.echoes(text, kind):
            cues.append("echo")
        feats += [f"q:{c}" for c in cues]
        for tag in kind.tags:
            feats.append(f"s:{tag}")
            feats += [f"s:{tag}&q:{c}" for c in cues]
        return feats


def _segmenter():
    """jieba's cut without its HMM for unknown words: the same words every run, and quick. Loaded only when
    word features are asked for (it takes about a second)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    return lambda text: tokenizer.lcut(text, HMM=False)
