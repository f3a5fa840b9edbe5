"""Which voice engines exist and how to open one by name. Kept apart from engines.py (the base class every
engine derives from), so the engines import their base and only this module imports the engines."""

import importlib

from assistant.errors import VoiceError
from assistant.speech.engines import WorkerEngine

ENGINES = {
    "natural": "assistant.speech.natural_engine:NaturalEngine",
    "pyttsx3": "assistant.speech.pyttsx3_engine:Pyttsx3Engine",
}
"""name -> "module:class", imported only when opened (the natural voice's module looks for its venv)."""


def resolve_engine_name(requested: str) -> str:
    """"auto" -> "natural" when the natural voice is installed and usable, else "pyttsx3"."""
    if requested != "auto":
        return requested
    from assistant.speech.natural_engine import find_natural

    install = find_natural()
    return "natural" if install is not None and install.usable else "pyttsx3"


def open_engine(name: str, voice: str = "auto") -> WorkerEngine:
    """An engine object for "natural", "pyttsx3" or "auto" (nothing is started until first use)."""
    resolved = resolve_engine_name(name)
    if resolved not in ENGINES:
        raise VoiceError(f"不认识的语音引擎 {name!r} / unknown voice engine {name!r}")
    module, _, cls = ENGINES[resolved].partition(":")
    engine_class = getattr(importlib.import_module(module), cls)
    if resolved == "natural":
        # The profile's voice id names a system voice unless the profile asked for the natural engine.
        return engine_class(voice if name == "natural" else "auto")
    return engine_class(voice)
