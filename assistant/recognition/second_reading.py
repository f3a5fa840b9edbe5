"""A second recogniser that hears the same turn in a thread of its own, so its reading is ready when the turn ends.

The live loop hears a turn with the state's grammar; when that reading is not one whole expected phrase, it
also needs the open reading (assistant/live/hearing.py). Decoding the turn again after it had ended kept an elderly
user waiting about a second after every free question. Fed chunk by chunk while the user speaks, the second
reading has only the last chunk left to finish. vosk's C calls release the GIL, so on two cores both readings
decode at the same time.

While it decodes, its words so far (`words`) are there for the end-of-turn judge: a free question is "[unk]" to the
state's grammar, so only the open reading can tell that it is whole (assistant/audio/endpoint.py).
"""

import json
import logging
import queue
import threading
import time

from assistant.diagnostics import where

log = logging.getLogger(__name__)

RESULT_SECONDS = 3.0
"""How long result() waits for the reading to finish what was fed (plus CHUNK_SECONDS per chunk still queued):
a reading that never answers costs the turn its open reading, never the turn itself."""
CHUNK_SECONDS = 0.1

_END = object()
_CANCEL = object()


class Decoding:
    """One recogniser hearing a turn chunk by chunk: its words so far after every chunk, its readings at the end.
    The second reading runs it in a thread; bench/endpointing.py runs it in step with the main recogniser."""

    def __init__(self, model, grammar: list[str] | None = None):
        from assistant.recognition.recognizer import kaldi_recognizer

        self._rec = kaldi_recognizer(model, grammar)
        self._segments: list = []
        """the readings of each piece vosk ended inside the turn (its own endpoints)"""
        self.words = ""
        """raw words heard so far (vosk's partial after the pieces before it; may hold [unk])"""

    def accept(self, pcm: bytes) -> None:
        from assistant.recognition.recognizer import readings_of, words_so_far

        rec = self._rec
        if rec.AcceptWaveform(pcm):
            self._segments.append(readings_of(json.loads(rec.Result())))
            partial = ""
        else:
            partial = json.loads(rec.PartialResult()).get("partial", "")
        self.words = words_so_far(self._segments, partial)

    def finish(self) -> list:
        from assistant.recognition.recognizer import joined, readings_of

        self._segments.append(readings_of(json.loads(self._rec.FinalResult())))
        return joined(self._segments)


class SecondReading:
    """One turn's second reading (open when grammar is None), decoded in a daemon thread as audio is fed; its
    n-best readings, like the main recogniser's, so the understanding can choose among all of them."""

    def __init__(self, model, grammar: list[str] | None = None):
        self._audio: queue.SimpleQueue = queue.SimpleQueue()
        self._readings: list = []
        self._cancelled = threading.Event()
        self._failed = False
        self._feeding = threading.Lock()
        """feed() and a failing decoder take turns: a chunk is either queued before the failure drains the queue
        or not queued at all (checking the thread alone left chunks that arrived between the drain and its end)"""
        self.open = grammar is None
        self._decoding: Decoding | None = None
        self._thread = threading.Thread(target=self._decode, args=(model, grammar), daemon=True,
                                        name="second-reading")
        self._thread.start()

    def feed(self, pcm: bytes) -> None:
        with self._feeding:
            if self._thread.is_alive() and not self._failed:  # a dead reading would hold the rest of the turn
                self._audio.put(pcm)

    @property
    def words(self) -> str:
        """Its words so far (raw, may hold [unk]; "" before it has decoded any): as far as it has decoded, which on
        two cores is the chunk before the last."""
        decoding = self._decoding
        return decoding.words if decoding is not None and not self._failed else ""

    def backlog(self) -> int:
        """Chunks fed but not decoded yet (0 when the reading keeps up with the microphone, or has ended)."""
        return self._audio.qsize() if self._thread.is_alive() else 0

    def result(self, timeout: float | None = None) -> list:
        """The turn's readings (recognizer.Reading, best first: raw space-separated words, maybe [unk]), once the
        fed audio is decoded. [] if the reading failed or did not finish within `timeout` seconds (default:
        RESULT_SECONDS plus a little for each chunk still queued): the caller then has the other reading alone."""
        if timeout is None:
            timeout = RESULT_SECONDS + CHUNK_SECONDS * self.backlog()
        self._audio.put(_END)
        started = time.monotonic()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("第二遍识别 %.1f 秒没有结果,这一轮只用第一遍 (the second reading did not finish in time; "
                        "the turn goes on with the grammar's reading)", time.monotonic() - started)
            self.cancel()
            return []
        return self._readings

    def cancel(self) -> None:
        """The turn no longer needs this reading: the thread stops without decoding what is still queued."""
        self._cancelled.set()
        self._audio.put(_CANCEL)  # wakes the thread if it waits for audio

    def _decode(self, model, grammar) -> None:
        try:
            decoding = self._decoding = Decoding(model, grammar)
            while True:
                item = self._audio.get()
                if item is _CANCEL or self._cancelled.is_set():
                    return
                if item is _END:
                    self._readings = decoding.finish()
                    return
                decoding.accept(item)
        except Exception as exc:  # noqa: BLE001 - a lost second reading leaves the grammar's; the turn is answered
            log.warning("第二遍识别出错,这一轮只用第一遍 (the second reading failed: %s)", where(exc))
            self._readings = []
            with self._feeding:
                self._failed = True
                self._drop_queued()

    def _drop_queued(self) -> None:
        """A reading that failed lets go of the audio it will never decode (feed() adds nothing once it failed)."""
        while True:
            try:
                self._audio.get_nowait()
            except queue.Empty:
                return
