"""One user turn from audio to text: recognition biased to what the current state expects, with open
recognition beside it for when the user says something the grammar does not hold (a free question).

Both recognisers give their n-best readings; the understanding model picks the one that makes sense in this
state (recognition weight × intent probability, `Understander.best_reading`). The recognition weight of a
reading is its share of the belief over all readings of both (a softmax of vosk's scores) — for the grammar's
readings times the share of the speech its words explain rather than [unk], because a grammar forces every
sound into its phrases and invents answers out of a sentence about something else.
"""

import math
import re

import numpy as np

from assistant.audio.denoise import denoise
from assistant.flows import Flows
from assistant.privacy import find_private

_UNK = "[unk]"
_SPACES = re.compile(r"\s+")

#: vosk's scores are log-likelihoods of the audio and the words (acoustic + the recogniser's language model or
#: grammar), on one scale for both recognisers: a phrase in the grammar scores higher there, a free sentence
#: higher in open recognition. Divided by this before the softmax (tuned on bench/corpus/dev.tsv spoken by the
#: natural voice, plain and older-sounding; never on the frozen corpus: 1, 3 tried, 3 acted wrongly once).
SCORE_SCALE = 1.0
#: A reading given less than this share of the belief is no evidence of what was said, however well it reads
#: (a grammar strings its phrases along a free sentence: "是在掌上写的…" beside open "是在长沙学的…", 66 behind).
MIN_BELIEF = 0.05


def clean(text: str) -> str:
    """What the recogniser returned, as the user's words: no spaces, no [unk]."""
    return _SPACES.sub("", (text or "").replace(_UNK, ""))


def check_grammar(flows: Flows) -> None:
    """Every phrase in flows/ must be sayable with the model's vocabulary: a FlowError file:line if not."""
    from assistant.recognition.vocab import build_grammar

    build_grammar(flows.grammar_phrases())


def beliefs(readings) -> list[float]:
    """Each reading's share of the belief: a softmax over vosk's scores."""
    if not readings:
        return []
    top = max(r.confidence for r in readings)
    weights = [math.exp((r.confidence - top) / SCORE_SCALE) for r in readings]
    total = sum(weights)
    return [w / total for w in weights]


def candidates(grammar_readings, open_readings) -> list[tuple[str, float, bool]]:
    """(clean text, recognition weight, literal) for every reading of both recognisers, weighed together; a
    grammar's reading also by the share of the speech its words explain rather than [unk]; a reading under
    MIN_BELIEF weighs 0 (and is left out unless it is a recogniser's first). The same words from several
    readings count once, with their weights added (two readings agreeing is more belief, not less)."""
    shares = beliefs([*grammar_readings, *open_readings])
    found: dict[str, list] = {}
    for n, (reading, belief) in enumerate(zip([*grammar_readings, *open_readings], shares, strict=True)):
        text = clean(reading.text)
        literal = n in (0, len(grammar_readings))  # each recogniser's first reading
        if not text or (belief < MIN_BELIEF and not literal):
            continue
        # A literal reading stays even with no weight: its negation still guards the choice (best_reading).
        weight = 0.0 if belief < MIN_BELIEF else belief * (reading.covered if n < len(grammar_readings) else 1.0)
        entry = found.setdefault(text, [text, 0.0, False])
        entry[1] += weight
        entry[2] = entry[2] or literal
    return [tuple(e) for e in found.values()]


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

    def meaning(self, words: str):
        """What the dialog would make of the words heard so far if the turn ended now (the end-of-turn judge
        asks, assistant/audio/endpoint.py): the understanding in this state, secrets masked first. A dot product
        per change of the words; nothing is kept or logged."""
        from assistant.privacy import mask

        session = self.session
        return session.understander.understand(mask(words), session.state, session.allowed_intents(),
                                               session.today, session.same_effect())

    def needs_open_pass(self, biased: str) -> bool:
        """Unless the grammar heard exactly one expected phrase and nothing beside it, the user may have said
        something else: nothing, grammar words strung together out of a free sentence, or a phrase among [unk]
        words — "哎呀俩按钮,本人,代人,咋选" was "[unk] 微信 [unk]" to the grammar, and without the open reading
        beside it "微信" was the only reading there was."""
        return _UNK in biased.split() or clean(biased) not in self.session.expected_phrases()

    def choose(self, grammar_readings, open_readings) -> str:
        """Of all readings of the turn (recognizer.Reading lists, best first), the words the dialog gets."""
        grammar_top = clean(grammar_readings[0].text) if grammar_readings else ""
        open_top = clean(open_readings[0].text) if open_readings else ""
        # Privacy before scores: a number or secret in a first reading goes to the dialog, which refuses it
        # kindly; an alternative without it must not slip past that refusal.
        for literal in (open_top, grammar_top):
            if literal and find_private(literal, after_number=self.session.recent_number > 0):
                return literal
        found = candidates(grammar_readings, open_readings)
        session = self.session
        best = session.understander.best_reading(found, session.state, session.allowed_intents(), session.today,
                                                session.same_effect())
        if best is not None:
            return found[best.index][0]
        # Nothing understood: the open reading says best what was said (the dialog answers it kindly); the
        # grammar's only when it is mostly its own words.
        if open_top:
            return open_top
        return grammar_top if grammar_readings and grammar_readings[0].covered >= 0.5 else ""

    def hear(self, samples: np.ndarray) -> str:
        """Recognise one turn (16 kHz mono int16), its noise taken out first as the live loop's microphone is."""
        if samples.size == 0 or not np.any(samples):
            return ""
        samples = denoise(samples)
        biased = self.recognizer.readings(samples, self.grammar())
        if biased and not self.needs_open_pass(biased[0].text):
            return self.choose(biased, [])
        return self.choose(biased, self.recognizer.readings(samples, None))
