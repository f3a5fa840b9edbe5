"""A second recogniser that hears the same turn in a thread of its own, so its reading is ready when the turn ends.

The live loop hears a turn with the state's grammar; when that reading is not one whole expected phrase, it
also needs the open reading (assistant/hearing.py). Decoding the turn again after it had ended kept an elderly
user waiting about a second after every free question. Fed chunk by chunk while the user speaks, the second
reading has only the last chunk left to finish. vosk's C calls release the GIL, so on two cores both readings
decode at the same time.
"""

import json
import queue
import threading

_END = object()
_CANCEL = object()


class SecondReading:
    """One turn's second reading (open when grammar is None), decoded in a daemon thread as audio is fed."""

    def __init__(self, model, grammar: list[str] | None = None):
        self._audio: queue.SimpleQueue = queue.SimpleQueue()
        self._text = ""
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._decode, args=(model, grammar), daemon=True,
                                        name="second-reading")
        self._thread.start()

    def feed(self, pcm: bytes) -> None:
        self._audio.put(pcm)

    def backlog(self) -> int:
        """Chunks fed but not decoded yet (0 when the reading keeps up with the microphone)."""
        return self._audio.qsize()

    def result(self) -> str:
        """Everything heard in the turn, raw (space-separated words, maybe [unk]), once the fed audio is decoded.
        "" if the reading failed: the caller then has the grammar's reading alone."""
        self._audio.put(_END)
        self._thread.join()
        return self._text

    def cancel(self) -> None:
        """The turn no longer needs this reading: the thread stops without decoding what is still queued."""
        self._cancelled.set()
        self._audio.put(_CANCEL)  # wakes the thread if it waits for audio

    def _decode(self, model, grammar) -> None:
        from assistant.recognition.recognizer import kaldi_recognizer

        try:
            rec = kaldi_recognizer(model, grammar)
            segments = []
            while True:
                item = self._audio.get()
                if item is _CANCEL or self._cancelled.is_set():
                    return
                if item is _END:
                    segments.append(json.loads(rec.FinalResult()).get("text", ""))
                    self._text = " ".join(s for s in segments if s)
                    return
                if rec.AcceptWaveform(item):
                    segments.append(json.loads(rec.Result()).get("text", ""))
        except Exception:  # noqa: BLE001 - a lost second reading leaves the grammar's; the turn is still answered
            self._text = ""
