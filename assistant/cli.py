"""Argument parsing and wiring only: each command lives in the module named after it."""

import argparse
import importlib
import sys

from assistant.diagnostics import configure_logging
from assistant.errors import AssistantError

DEBUG_HELP = "更多排查信息(用户说的号码仍然隐藏)/ debug output (numbers a user says stay masked)"

# Each module exposes register(subparsers); it sets `func` on its parser. Imports stay light
# (no vosk, no TensorFlow) so `assistant --help` is instant on an old laptop.
COMMAND_MODULES = [
    "assistant.chat",
    "assistant.recognition.commands",
    "assistant.speech.commands",
    "assistant.voice_commands",
    "assistant.kiosk.commands",
    "assistant.family.commands",
    "assistant.understanding.commands",
]


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser and the names of its commands."""
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="养老金资格认证语音助手 (offline pension certification voice assistant)",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():  # `assistant run --debug` as well as `assistant --debug run`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser, set(sub.choices)


def main(argv=None) -> int:
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        # No command: an elder double-clicking the launcher expects it to just start talking.
        args = parser.parse_args(["run", *(argv or [])] if "run" in commands else ["chat"])
    configure_logging(debug=args.debug)
    try:
        return args.func(args) or 0
    except AssistantError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n再见。", file=sys.stderr)
        return 130

