"""Which intent did the user mean? Fuzzy matching on characters and on fuzzy pinyin."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from assistant.errors import FlowError
from assistant.flows import Flows
from assistant.understanding.normalize import Normalizer, has_chinese

ACCEPT = 82.0
"""At or above: act on it."""
CONFIRM = 64.0
"""Between CONFIRM and ACCEPT: ask "您是说……吗?" before acting."""
TIE = 6.0
"""Two different intents closer than this are ambiguous: ask which one."""
_NEGATION = "不没别未"
DONE = 88.0
"""A step reported done in the words of its own instruction ("口罩摘下了"): acted on, but a real phrase wins."""
DONE_SHAPE = 72.0
"""A done-report in other words ("头发撩上去了"): in the confirm band, so the user is asked "您是说“好了”吗?"."""
ECHO = 20.0
"""In a step, less for another intent whose phrase the step's own instruction says ("选“代人认证”")."""
# Done-reports: a perfective 了 (啦 is normalised to 了) or "…着呢"; never a question or a negation.
_DONE_MARK = re.compile(r"[了咗]|着呢$")
_QUESTION = re.compile(r"吗|啥|什么|怎么|咋|哪|谁|几|多少|是不是|能不能|行不行|可不可以|要不要")
_NOT_NEGATION = re.compile(r"没问题|没错|不错|别的|别人")
# Pronouns, adverbs, verb complements (拨开, 对准, 摘掉), 有 and 说 (every step ends "好了说“好了”") say nothing about *what* was
# done; 弄/做/照… mean "did as told".
_FUNCTION = frozenset("我你他她它咱俺们自己都也就又已经再还这那个一下的地得着过来去上下到里开掉准有呢吧啊了咗好完说讲太很真挺最更")
_DO_AS_TOLD = frozenset("弄搞整做办照跟")
_NOT_DONE = _NEGATION + "错丢坏"
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class _Entry:
    intent: str
    text: str
    key: str
    typed: bool = False


@dataclass(frozen=True)
class Match:
    """The best reading of an utterance."""

    intent: str
    score: float
    phrase: str
    runner_up: str | None = None
    """a different intent that scored almost the same (then the user is asked which)"""

    @property
    def sure(self) -> bool:
        return self.score >= ACCEPT and self.runner_up is None


class IntentMatcher:
    """Scores an utterance against every phrase of the intents a state allows."""

    def __init__(self, flows: Flows):
        self.norm = Normalizer(flows.fillers)
        self.entries: dict[str, list[_Entry]] = {}
        seen: dict[str, tuple[str, object]] = {}
        for intent in flows.intents.values():
            forms = [(p.text, p) for p in intent.phrases] + [(t, None) for t in intent.typed]
            for text, where in forms:
                norm = self.norm.text(text)
                if not norm:
                    continue
                other = seen.get(norm)
                if other and other[0] != intent.name and where is not None:
                    raise FlowError(where.file, where.line, f"phrase '{text}' of '{intent.name}' reads the same as "
                                    f"'{other[1]}' of '{other[0]}' once fillers are removed")
                seen[norm] = (intent.name, text)
                entry = _Entry(intent.name, norm, self.norm.key(norm), typed=where is None)
                self.entries.setdefault(intent.name, []).append(entry)
        # What each step says, keyed by its answers (`preferred` is the state's `on`): a user who says the step
        # is done often repeats the instruction's own words ("参保地选好了").
        steps: dict[frozenset, str] = {}
        for state in flows.states.values():
            if "next" in state.on:
                key = frozenset(state.on.items())
                steps[key] = steps.get(key, "") + self.norm.text(state.say + state.ask)
        self.step_words = {k: (text, self.norm.key(text)) for k, text in steps.items()}
        self.moves = set(flows.goto)

    def match(self, utterance: str, allowed: list[str], preferred=()) -> Match | None:
        """Best intent among `allowed`; `preferred` (the state's own answers) win close calls."""
        text = self.norm.text(utterance)
        if not text:
            return None
        if not has_chinese(text):
            return self._match_typed(text, allowed)
        key = self.norm.key(text)
        step = self._step_words(preferred) if "next" in allowed else None
        done = self._done_score(text, step) if step else 0.0
        scored = []
        for intent in allowed:
            best = max((self._score(e, text, key) for e in self.entries.get(intent, ())), default=None)
            if intent == "next" and done and (not best or best[0] < done):
                best = (done, len(text), text, (0, len(text)))
            if best:
                bonus = 2.0 if intent in preferred else 0.0
                # In a step, a phrase that moves elsewhere but that the instruction itself says ("选“代人认证”") is
                # most likely the user echoing the step: confirm rather than leave. (Questions are answered anyway.)
                echoed = step and intent in self.moves and intent not in preferred and best[2] in step[0]
                scored.append((best[0] + bonus - (ECHO if echoed else 0.0), best[1], intent, best[2], best[3]))
        if not scored:
            return None
        scored.sort(reverse=True)
        score, length, intent, phrase, span = scored[0]
        runner = next((s for s in scored[1:] if s[2] != intent), None)
        # Two intents said in two different places of the sentence ("微信还是支付宝"): ask which.
        # Overlapping hits ("刷脸失败了") are one thing said, and the better reading stands.
        # The very same words read equally well as two intents ("说什么" in "我X说什么"): ask which, too.
        ambiguous = (runner is not None and score >= ACCEPT and score - runner[0] < TIE
                     and (not _overlap(span, runner[4]) or score - runner[0] < 1.0 and span == runner[4]))
        return Match(intent, min(score, 100.0), phrase, runner[2] if ambiguous else None)

    def _step_words(self, preferred) -> tuple[str, str] | None:
        """(normalised instruction, its fuzzy pinyin) of the step whose answers are `preferred` (a state's `on`)."""
        if not isinstance(preferred, Mapping):
            return None
        try:
            return self.step_words.get(frozenset(preferred.items()))
        except TypeError:  # unhashable values: not a state's `on`
            return None

    def _done_score(self, text: str, step: tuple[str, str]) -> float:
        """DONE when the text reports the step done in the step's own words ("参保地选好了", "口罩摘下了");
        DONE_SHAPE (ask first) when it has the shape of a done-report but other words ("头发撩上去了").

        All of: a perfective 了, no question, no negation or mistake (不/没/错/丢/坏); at least half of the
        content characters and the last one (the verb: "…摘下了") said by the instruction; and a two-character
        word of it ("口罩"; as syllables too, so "口招" heard for "口罩" counts). Tried on 50 made-up remarks
        ("手机响了", "我按错了", "外面下雨了") in every step: it fired for about 2 in 100 pairs, mostly
        "手机掉地上了" and "我把手机放下了" in steps about the phone.
        """
        words, sounds = step
        if not _DONE_MARK.search(text) or _QUESTION.search(text):
            return 0.0
        plain = _NOT_NEGATION.sub("", text)
        if any(ch in _NOT_DONE for ch in plain):
            return 0.0
        chars = "".join(ch for ch in plain if _CJK_CHAR.match(ch))
        content = "".join(ch for ch in chars if ch not in _FUNCTION)
        if not content or len(content) > 12:
            return 0.0
        pairs = {p for p in (*_pairs(content), *_pairs(chars)) if not (p[0] in _FUNCTION and p[1] in _FUNCTION)}
        shared = [p for p in pairs if p in words or self.norm.key(p) in sounds]
        heard = set("".join(shared))

        def said(ch):
            return ch in words or ch in heard or ch in _DO_AS_TOLD

        if sum(map(said, content)) * 2 < len(content) or not said(content[-1]):
            return DONE_SHAPE
        if len(content) >= 2 and not shared and not all(ch in _DO_AS_TOLD for ch in content):
            return DONE_SHAPE
        return DONE

    def _match_typed(self, text: str, allowed: list[str]) -> Match | None:
        """Latin or digits only: accept just an exact typed form ("ok", "bye"); fuzzy English is no answer."""
        for intent in allowed:
            for entry in self.entries.get(intent, ()):
                if entry.text == text:
                    return Match(intent, 100.0, entry.text)
        return None

    @staticmethod
    def _score(entry: _Entry, text: str, key: str):
        """(score, phrase length, phrase, span in text): longer phrases win ties, so "不行" beats "行"."""
        scores = []
        for needle, hay in ((entry.text, text), (entry.key, key)):
            if len(needle) <= len(hay):
                hit = fuzz.partial_ratio_alignment(needle, hay)
                score, start, end = hit.score, hit.dest_start, hit.dest_end
                # rapidfuzz also tries windows cut off at the text's edges; half a phrase is not the phrase.
                window = hit.dest_end - hit.dest_start
                if window < len(needle) - 1:
                    score *= window / len(needle)
                if len(needle) >= 3 and score < 100:
                    slipped = _with_insertions(needle, hay, hit.dest_start)
                    if slipped[0] > score:
                        score, start, end = slipped
                # One- and two-character phrases must be found exactly, or they match anything; a single
                # character ("是", "好") only counts as (nearly) the whole answer, not inside a sentence.
                if len(needle) <= 2 and score < 100 or len(needle) == 1 and len(hay) > 2:
                    score = 0.0
                elif len(needle) == 3 and score < 100:
                    score -= 15
                # A negation right before the phrase turns "好了" into "不好了".
                if start > 0 and text[start - 1:start] in _NEGATION and needle[:1] not in _NEGATION:
                    score -= 40
                # A short phrase inside a long sentence is weaker evidence than the whole sentence.
                coverage = len(needle) / len(hay)
                score -= 10 * (1 - coverage) if len(needle) <= 2 else 4 * (1 - coverage)
                span = (start, end)
            else:
                score, span = fuzz.ratio(needle, hay) - 5, (0, len(hay))
            scores.append((score, span))
        (char_score, char_span), (key_score, key_span) = scores
        if char_score >= key_score - 1.5:
            return char_score, len(entry.text), entry.text, char_span
        return key_score - 1.5, len(entry.text), entry.text, key_span


def _pairs(text: str):
    return (text[i:i + 2] for i in range(len(text) - 1))


def _with_insertions(needle: str, hay: str, near: int) -> tuple[float, int, int]:
    """The phrase with a word or two slipped in ("手机我不会弄" for "手机不会弄"): (score, start, end).

    partial_ratio compares equal-length windows, so one inserted 的/我/个 costs as much as a wrong character;
    an insertion costs half a missing character here.
    """
    n = len(needle)
    best = (0.0, near, near + n)
    for start in range(max(0, near - 2), min(len(hay), near + 3)):
        for extra in (1, 2):
            end = start + n + extra
            if end > len(hay):
                break
            common = LCSseq.similarity(needle, hay[start:end])
            score = 100.0 * (1 - ((n - common) + 0.5 * (end - start - common)) / n)
            if score > best[0]:
                best = (score, start, end)
    return best


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]
