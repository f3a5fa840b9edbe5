"""One user turn from audio to text: recognition biased to what the current state expects, with open
recognition as the fallback when the user says something the grammar does not hold (a free question)."""

import re

import numpy as np

from assistant.flows import Flows
from assistant.understanding import UNKNOWN

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
        """Unless the grammar heard exactly one expected phrase, the user may have said something else:
        [unk] words, nothing, or grammar words strung together out of a free sentence."""
        return clean(biased) not in self.session.expected_phrases()

    def better(self, biased: str, free: str) -> str:
        """Of the grammar's reading (raw, with [unk]) and the open one, the one to believe.

        A grammar forces every sound into its phrases, so with words outside it ([unk]) its phrases may be
        invented ("说得太快" out of a sentence about computers). The open reading wins, unless it is not
        understood at all while the grammar's reading is mostly its own words.
        """
        tokens = biased.split()
        unknown = sum(t == _UNK for t in tokens) / max(len(tokens), 1)
        biased, free = clean(biased), clean(free)
        if not free:
            return biased if unknown <= 0.5 else ""
        if not biased or free == biased:
            return free
        session = self.session
        allowed = session.allowed_intents()
        if session.understander.understand(free, session.state, allowed, session.today).action != UNKNOWN:
            return free
        # Believable only as (nearly) one whole expected phrase, not phrases strung along a long sentence.
        longest = max((len(p) for p in session.expected_phrases()), default=0)
        plausible = (unknown <= 0.34 and len(biased) <= longest
                     and session.understander.understand(biased, session.state, allowed, session.today).sure)
        return biased if plausible else free

    def hear(self, samples: np.ndarray) -> str:
        """Recognise one turn (16 kHz mono int16)."""
        if samples.size == 0 or not np.any(samples):
            return ""
        biased = self.recognizer.transcribe(samples, self.grammar())
        if not self.needs_open_pass(biased):
            return clean(biased)
        return self.better(biased, self.recognizer.transcribe(samples, None))
