"""One user turn from audio to text: recognition biased to what the current state expects, with open
recognition as the fallback when the user says something the grammar does not hold (a free question)."""

import re

import numpy as np

from assistant.flows import Flows

_UNK = "[unk]"
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """What the recogniser returned, as the user's words: no spaces, no [unk]."""
    return _SPACES.sub("", (text or "").replace(_UNK, ""))


def check_grammar(flows: Flows) -> None:
    """Every phrase in flows/ must be sayable with the model's vocabulary: a FlowError file:line if not."""
    from assistant.recognition.vocab import build_grammar

    build_grammar(flows.grammar_phrases())


class Hearing:
    """Turns a recording into the words the dialog gets, using the session's expectations."""

    def __init__(self, recognizer, session):
        self.recognizer = recognizer
        self.session = session
        self._grammars: dict[tuple, list[str]] = {}

    def grammar(self, expected_phrases=None) -> list[str]:
        """The grammar for these phrases, by default the session's current state's (cached: states repeat)."""
        from assistant.recognition.vocab import build_grammar

        phrases = tuple(self.session.expected_phrases() if expected_phrases is None else expected_phrases)
        if phrases not in self._grammars:
            self._grammars[phrases] = build_grammar(phrases)
        return self._grammars[phrases]

    def needs_open_pass(self, biased: str) -> bool:
        """Grammar output with [unk] (or nothing) means words outside the grammar were said."""
        return _UNK in biased or not clean(biased)

    def better(self, biased: str, free: str) -> str:
        """Of the two readings, the one the dialog understands more surely."""
        biased, free = clean(biased), clean(free)
        if not free or free == biased:
            return biased
        if not biased:
            return free
        allowed = self.session.allowed_intents()
        scores = [getattr(self.session.matcher.match(t, allowed), "score", 0.0) for t in (biased, free)]
        return free if scores[1] > scores[0] else biased

    def hear(self, samples: np.ndarray) -> str:
        """Recognise one turn (16 kHz mono int16)."""
        if samples.size == 0 or not np.any(samples):
            return ""
        biased = self.recognizer.transcribe(samples, self.grammar())
        if not self.needs_open_pass(biased):
            return clean(biased)
        return self.better(biased, self.recognizer.transcribe(samples, None))
