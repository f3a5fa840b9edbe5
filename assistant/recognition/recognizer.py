"""Streaming speech-to-text: feed 16 kHz mono int16 PCM, get partial text (for barge-in) and final turns.

A turn ends `end_silence` seconds after its last word, measured from vosk's word timings once vosk's own
endpointing has heard the speaker stop: short (0.8 s) when a short answer is expected, long (1.5 s) so a slow
elderly speaker may pause mid-sentence. A turn of only "[unk]" (nothing from the grammar) is ended by room
quiet instead, because vosk's endpoint for it comes 5 s after the speech began. Time is counted in audio fed,
never by the wall clock, so the same code runs live and faster than real time over files in tests.

Each turn ends with vosk's n-best readings (`Final.readings`, `Recognizer.readings`), scored and timed, so the
understanding can choose the one that makes sense in the state (assistant/live/hearing.py).
"""

import ctypes
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.audio.samples import RATE

#: Trailing silence that ends a turn: short when a short answer (grammar) is expected, long for free questions.
SHORT_ANSWER_SILENCE = 0.8
FREE_QUESTION_SILENCE = 1.5
CHUNK_SECONDS = 0.2
#: Extra wait, after vosk's endpoint, for a turn of only out-of-grammar speech when the room never goes quiet.
NOISY_ROOM_EXTRA = 2.0
UNK = "[unk]"
#: Readings asked of vosk per utterance (SetMaxAlternatives): the understanding picks among them (hearing.py).
MAX_ALTERNATIVES = 5


@dataclass(frozen=True)
class Reading:
    """One of the recogniser's readings of a turn: raw vosk words, vosk's score for them (a log-likelihood: only
    differences between readings of one recogniser mean anything), and the seconds covered by [unk] and by all
    words (for a grammar, the part of the speech its phrases did not explain)."""

    text: str
    confidence: float = 0.0
    unk_seconds: float = 0.0
    word_seconds: float = 0.0

    @property
    def covered(self) -> float:
        """Share of the spoken time read as real words rather than [unk] (1.0 when nothing timed)."""
        if self.word_seconds <= 0:
            return 0.0 if self.text and all(w == UNK for w in self.text.split()) else 1.0
        return max(0.0, 1.0 - self.unk_seconds / self.word_seconds)


def readings_of(result: dict) -> list[Reading]:
    """A vosk result (Result()/FinalResult() JSON, with or without alternatives) as readings, best first;
    [] when nothing was heard."""
    alternatives = result.get("alternatives")
    if alternatives is None:
        alternatives = [{"text": result.get("text", ""), "confidence": 0.0, "result": result.get("result") or []}]
    readings = []
    for alt in alternatives:
        text = (alt.get("text") or "").strip()
        if not text:
            continue
        words = alt.get("result") or []
        spans = [(w.get("word"), float(w.get("end", 0)) - float(w.get("start", 0))) for w in words]
        readings.append(Reading(text, float(alt.get("confidence", 0.0)),
                                sum(d for w, d in spans if w == UNK), sum(d for _, d in spans)))
    return readings


def last_word_end(result: dict) -> float | None:
    """When the best reading's last word ended (seconds of audio), if vosk timed it."""
    alternatives = result.get("alternatives")
    words = (alternatives[0].get("result") if alternatives else result.get("result")) or []
    return float(words[-1]["end"]) if words else None


def words_so_far(segments: list[list[Reading]], partial: str = "") -> str:
    """A turn's words so far: the best reading of each piece vosk ended inside it, then the partial words of the piece
    still being heard (raw, space-separated)."""
    return " ".join(t for t in [*(s[0].text for s in segments if s), partial] if t)


def joined(segments: list[list[Reading]], keep: int = MAX_ALTERNATIVES) -> list[Reading]:
    """Readings of a turn heard in several pieces (vosk endpoints inside it): each combination of the pieces'
    readings, scores added (log-likelihoods of independent pieces), the `keep` best."""
    combined = [Reading("")]
    for pieces in segments:
        if not pieces:
            continue
        combined = sorted((Reading(f"{a.text} {b.text}".strip(), a.confidence + b.confidence,
                                   a.unk_seconds + b.unk_seconds, a.word_seconds + b.word_seconds)
                           for a in combined for b in pieces), key=lambda r: -r.confidence)[:keep]
    return [r for r in combined if r.text]


@dataclass(frozen=True)
class Partial:
    """Words heard so far in a turn that is still going on (raw vosk words, space-separated)."""

    text: str


@dataclass(frozen=True)
class Final:
    """A finished turn: its raw text ("[unk]" = something outside the grammar; "" = nothing heard), and all the
    recogniser's readings of it, best first (readings[0].text == text)."""

    text: str
    readings: tuple = field(default=(), compare=False)


DITHER_SEED = 1414
"""Where libc's rand() starts for each recogniser (see _reseed_dither)."""


@lru_cache(maxsize=1)
def _libc_srand():
    """libc's srand, or None where it cannot be reached (the readings are then as random as vosk makes them)."""
    try:
        return ctypes.CDLL(None).srand
    except (OSError, AttributeError):
        return None


def _reseed_dither() -> None:
    """Kaldi dithers every frame (adds noise of about one sample unit before the features; the model's mfcc.conf
    keeps Kaldi's default, as it was trained) with a generator seeded from libc's rand(), which runs on from turn
    to turn. So the same audio was read differently from one hearing to the next: 4-8 of 120 spoken dev files
    between two runs (session 47), and the bench's spoken figures moved by a turn by themselves. Restarting rand()
    for each recogniser makes a reading depend on its audio alone, while the dither itself stays as trained. (Two
    recognisers fed at once, as the live loop's two readings are, still draw from the one rand() in turn.)"""
    srand = _libc_srand()
    if srand is not None:
        srand(DITHER_SEED)


def kaldi_recognizer(model, grammar: list[str] | None = None, alternatives: int = MAX_ALTERNATIVES):
    """A vosk recogniser on `model`: open, or biased to the grammar's phrases; n-best readings with word times."""
    import vosk

    _reseed_dither()

    # ensure_ascii=False matters: vosk does not decode \\uXXXX escapes and would drop every Chinese word.
    rec = (vosk.KaldiRecognizer(model, RATE, json.dumps(grammar, ensure_ascii=False)) if grammar
           else vosk.KaldiRecognizer(model, RATE))
    rec.SetMaxAlternatives(alternatives)
    rec.SetWords(True)  # word times: how long the speaker has been quiet, and how much of a reading is [unk]
    return rec


class Recognizer:
    """One vosk recogniser, restarted for each turn with that turn's grammar and silence allowance."""

    def __init__(self, model=None):
        from assistant.recognition.model import load_model

        if model is None or isinstance(model, (str, os.PathLike)):
            model = load_model(model).model
        self.model = model
        self.start()

    def start(self, grammar: list[str] | None = None, end_silence: float | None = None) -> None:
        """Begin a new turn; grammar=None is open recognition. end_silence=0 ends turns at vosk's endpoints."""
        self._rec = kaldi_recognizer(self.model, grammar)
        if end_silence is None:
            end_silence = SHORT_ANSWER_SILENCE if grammar else FREE_QUESTION_SILENCE
        self.end_silence = end_silence
        self._samples = 0  # audio fed since start(): the recogniser's clock
        self._clear_turn()

    def _clear_turn(self) -> None:
        self._segments: list[list[Reading]] = []  # readings of the pieces between vosk endpoints in this turn
        self._partial = ""
        self._paused = False  # vosk found an endpoint and no word has come since
        self._speech_end = 0.0  # audio time the last word ended
        self._loudest = 0.0  # RMS of the loudest chunk in this turn
        self._last_loud_at = 0.0  # audio time at the end of the last chunk within 20 dB of it

    @property
    def elapsed(self) -> float:
        """Seconds of audio fed since start(): a caller's no-answer timeout needs no clock either."""
        return self._samples / RATE

    def _heard(self) -> str:
        return words_so_far(self._segments, self._partial)

    def accept(self, pcm: bytes) -> Partial | Final | None:
        """Feed a chunk; returns Partial when the words changed, Final when the turn ended, else None."""
        self._samples += len(pcm) // 2
        self._track_loudness(pcm)
        if self._rec.AcceptWaveform(pcm):
            # A vosk endpoint: the decoder itself heard silence after speech (0.5-1 s by the model's rules).
            result = json.loads(self._rec.Result())
            readings = readings_of(result)
            if readings:
                self._segments.append(readings)
                end = last_word_end(result)
                self._speech_end = end if end is not None else self.elapsed
            self._partial, self._paused = "", True
        else:
            partial = json.loads(self._rec.PartialResult())["partial"]
            if partial != self._partial:
                self._partial = partial
                if partial:  # the speaker goes on after a pause: same turn
                    self._paused = False
                    return Partial(self._heard())
        if not self._turn_over():
            return None
        # Ended by us mid-utterance (not at a vosk endpoint): flush the decoder so the same sound is not heard twice.
        return self._take() if self._paused else self.finish_turn()

    def _track_loudness(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
        self._loudest = max(self._loudest, rms)
        if rms >= self._loudest / 10:
            self._last_loud_at = self.elapsed

    def _turn_over(self) -> bool:
        words = self._heard().split()
        if not words:
            return False
        if all(word == UNK for word in words):
            # Only words outside the grammar: vosk's endpoint would wait 5 s from the start of speech, and its
            # [unk] timings cut long utterances mid-word. Room quiet decides; a noisy room falls back to vosk.
            return (self.elapsed - self._last_loud_at >= self.end_silence
                    or self._paused and self.elapsed - self._speech_end >= self.end_silence + NOISY_ROOM_EXTRA)
        # Real words end a turn only after vosk's endpoint: a stable partial can hide a word being spoken.
        return self._paused and self.elapsed - self._speech_end >= self.end_silence

    def _take(self) -> Final:
        final = Final(self._heard(), tuple(joined(self._segments)))
        self._clear_turn()
        return final

    def finish_turn(self) -> Final:
        """End the turn now (e.g. the microphone stopped): everything heard in it, with all its readings."""
        tail = readings_of(json.loads(self._rec.FinalResult()))
        if tail:
            self._segments.append(tail)
        self._partial = ""
        return self._take()

    def finish(self) -> str:
        """End the turn now and return its best reading's text."""
        return self.finish_turn().text

    def accept_all(self, samples: np.ndarray, grammar: list[str] | None = None,
                   chunk_seconds: float = CHUNK_SECONDS) -> list[str]:
        """Start a turn and feed a whole recording in chunks; the texts of the turns that ended inside it
        (`finish()` gives what was still being heard at its end)."""
        return [final.text for final in self._finals(samples, grammar, chunk_seconds) if final.text]

    def _finals(self, samples: np.ndarray, grammar: list[str] | None, chunk_seconds: float):
        """Start a turn and feed a whole recording in chunks, as a microphone would; each turn ending inside it."""
        self.start(grammar)
        pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        step = int(RATE * chunk_seconds) * 2
        for i in range(0, len(pcm), step):
            result = self.accept(pcm[i:i + step])
            if isinstance(result, Final):
                yield result

    def transcribe(self, samples: np.ndarray, grammar: list[str] | None = None,
                   chunk_seconds: float = CHUNK_SECONDS) -> str:
        """Recognise a whole recording through the same streaming path the live loop uses."""
        turns = self.accept_all(samples, grammar, chunk_seconds)
        last = self.finish()
        return " ".join(t for t in [*turns, last] if t)

    def readings(self, samples: np.ndarray, grammar: list[str] | None = None,
                 chunk_seconds: float = CHUNK_SECONDS) -> list[Reading]:
        """The n-best readings of a whole recording (turns ending inside it joined like pieces of one turn)."""
        pieces = [list(final.readings) for final in self._finals(samples, grammar, chunk_seconds) if final.readings]
        pieces.append(list(self.finish_turn().readings))
        return joined(pieces)
