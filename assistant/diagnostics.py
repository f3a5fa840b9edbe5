"""Logging, configured once for every command, and the few helpers that keep failures readable and private.

Warnings go to stderr as one plain line ("assistant: ..."); `--debug` adds debug lines. Nothing logged here
may carry what a user said: failures are described by their type and code location (`where(exc)`), never by
their message, which could quote an utterance.
"""

import contextlib
import logging
import signal
import sys
import threading
import traceback

PACKAGE = "assistant"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests and the kiosk's autostart swap it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


_handler: logging.Handler | None = None


def configure_logging(debug: bool = False) -> None:
    """Warnings (and with `debug`, debug lines) of the assistant's own loggers to stderr. Calling it again
    replaces the earlier set-up instead of doubling every line."""
    global _handler
    logger = logging.getLogger(PACKAGE)
    if _handler is not None:
        logger.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("assistant %(levelname)s %(name)s: %(message)s" if debug
                                            else "assistant: %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def debugging() -> bool:
    return logging.getLogger(PACKAGE).isEnabledFor(logging.DEBUG)


def where(exc: BaseException) -> str:
    """'TypeName at file:line' — what a log may say about a failure (its message might quote the user)."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return type(exc).__name__
    frame = frames[-1]
    return f"{type(exc).__name__} at {frame.filename}:{frame.lineno}"


def trail(exc: BaseException) -> str:
    """Every frame of the failure (file:line in function), for debug logs; still no message."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return " <- ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in reversed(frames)) or type(exc).__name__


@contextlib.contextmanager
def exit_cleanly_on_signals():
    """SIGTERM (systemd stop, `kill`) and SIGHUP (terminal closed) end the command like Ctrl-C does, through
    every `finally`: devices closed, temporary audio removed. Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    saved = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            saved[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
