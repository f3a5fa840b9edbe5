"""Which intent did the user mean? Fuzzy matching on characters and on fuzzy pinyin."""

from dataclasses import dataclass

from rapidfuzz import fuzz

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

    def match(self, utterance: str, allowed: list[str], preferred=()) -> Match | None:
        """Best intent among `allowed`; `preferred` (the state's own answers) win close calls."""
        text = self.norm.text(utterance)
        if not text:
            return None
        if not has_chinese(text):
            return self._match_typed(text, allowed)
        key = self.norm.key(text)
        scored = []
        for intent in allowed:
            best = max((self._score(e, text, key) for e in self.entries.get(intent, ())), default=None)
            if best:
                bonus = 2.0 if intent in preferred else 0.0
                scored.append((best[0] + bonus, best[1], intent, best[2], best[3]))
        if not scored:
            return None
        scored.sort(reverse=True)
        score, length, intent, phrase, span = scored[0]
        runner = next((s for s in scored[1:] if s[2] != intent), None)
        # Two intents said in two different places of the sentence ("微信还是支付宝"): ask which.
        # Overlapping hits ("刷脸失败了") are one thing said, and the better reading stands.
        ambiguous = (runner is not None and score >= ACCEPT and score - runner[0] < TIE
                     and not _overlap(span, runner[4]))
        return Match(intent, min(score, 100.0), phrase, runner[2] if ambiguous else None)

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
                score, start = hit.score, hit.dest_start
                # rapidfuzz also tries windows cut off at the text's edges; half a phrase is not the phrase.
                window = hit.dest_end - hit.dest_start
                if window < len(needle) - 1:
                    score *= window / len(needle)
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
                span = (hit.dest_start, hit.dest_end)
            else:
                score, span = fuzz.ratio(needle, hay) - 5, (0, len(hay))
            scores.append((score, span))
        (char_score, char_span), (key_score, key_span) = scores
        if char_score >= key_score - 1.5:
            return char_score, len(entry.text), entry.text, char_span
        return key_score - 1.5, len(entry.text), entry.text, key_span


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]
