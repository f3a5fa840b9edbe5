"""Streaming speech-to-text: feed 16 kHz mono int16 PCM, get partial text (for barge-in) and final turns.

A turn ends `end_silence` seconds after its last word, measured from vosk's word timings once vosk's own
endpointing has heard the speaker stop: short (0.8 s) when a short answer is expected, long (1.5 s) so a slow
elderly speaker may pause mid-sentence. A turn of only "[unk]" (nothing from the grammar) is ended by room
quiet instead, because vosk's endpoint for it comes 5 s after the speech began. Time is counted in audio fed,
never by the wall clock, so the same code runs live and faster than real time over files in tests.
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from assistant.audio.samples import RATE

#: Trailing silence that ends a turn: short when a short answer (grammar) is expected, long for free questions.
SHORT_ANSWER_SILENCE = 0.8
FREE_QUESTION_SILENCE = 1.5
CHUNK_SECONDS = 0.2
#: Extra wait, after vosk's endpoint, for a turn of only out-of-grammar speech when the room never goes quiet.
NOISY_ROOM_EXTRA = 2.0
UNK = "[unk]"


@dataclass(frozen=True)
class Partial:
    """Words heard so far in a turn that is still going on (raw vosk words, space-separated)."""

    text: str


@dataclass(frozen=True)
class Final:
    """A finished turn: its raw text ("[unk]" = something outside the grammar; "" = nothing heard)."""

    text: str


def kaldi_recognizer(model, grammar: list[str] | None = None):
    """A vosk recogniser on `model`: open, or biased to the grammar's phrases."""
    import vosk

    # ensure_ascii=False matters: vosk does not decode \\uXXXX escapes and would drop every Chinese word.
    return (vosk.KaldiRecognizer(model, RATE, json.dumps(grammar, ensure_ascii=False)) if grammar
            else vosk.KaldiRecognizer(model, RATE))


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
        self._rec.SetWords(True)  # word end times tell how long the speaker has been quiet
        if end_silence is None:
            end_silence = SHORT_ANSWER_SILENCE if grammar else FREE_QUESTION_SILENCE
        self.end_silence = end_silence
        self._samples = 0  # audio fed since start(): the recogniser's clock
        self._clear_turn()

    def _clear_turn(self) -> None:
        self._segments: list[str] = []  # texts between vosk endpoints inside the current turn
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
        return " ".join(t for t in [*self._segments, self._partial] if t)

    def accept(self, pcm: bytes) -> Partial | Final | None:
        """Feed a chunk; returns Partial when the words changed, Final when the turn ended, else None."""
        self._samples += len(pcm) // 2
        self._track_loudness(pcm)
        if self._rec.AcceptWaveform(pcm):
            # A vosk endpoint: the decoder itself heard silence after speech (0.5-1 s by the model's rules).
            result = json.loads(self._rec.Result())
            if result.get("text"):
                self._segments.append(result["text"])
                words = result.get("result") or []
                self._speech_end = words[-1]["end"] if words else self.elapsed
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
        return Final(self._take() if self._paused else self.finish())

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

    def _take(self) -> str:
        text = self._heard()
        self._clear_turn()
        return text

    def finish(self) -> str:
        """End the turn now (e.g. the microphone stopped) and return everything heard in it."""
        tail = json.loads(self._rec.FinalResult()).get("text")
        if tail:
            self._segments.append(tail)
        self._partial = ""
        return self._take()

    def accept_all(self, samples: np.ndarray, grammar: list[str] | None = None,
                   chunk_seconds: float = CHUNK_SECONDS) -> list[str]:
        """Start a turn and feed a whole recording in chunks; the texts of the turns that ended inside it
        (`finish()` gives what was still being heard at its end)."""
        self.start(grammar)
        pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        step = int(RATE * chunk_seconds) * 2
        turns = []
        for i in range(0, len(pcm), step):
            result = self.accept(pcm[i:i + step])
            if isinstance(result, Final) and result.text:
                turns.append(result.text)
        return turns

    def transcribe(self, samples: np.ndarray, grammar: list[str] | None = None,
                   chunk_seconds: float = CHUNK_SECONDS) -> str:
        """Recognise a whole recording through the same streaming path the live loop uses."""
        turns = self.accept_all(samples, grammar, chunk_seconds)
        last = self.finish()
        return " ".join(t for t in [*turns, last] if t)
