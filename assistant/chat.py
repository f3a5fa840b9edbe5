"""`assistant chat`: the dialog by text, interactive or as JSON lines (the contract other parts test against)."""

import json
import logging
import sys

from assistant import app
from assistant.arguments import add_session_arguments
from assistant.privacy import mask

log = logging.getLogger(__name__)


def register(sub):
    p = sub.add_parser("chat", help="文字对话 / talk to the assistant by text")
    p.add_argument("--json", action="store_true", help="one utterance per stdin line in, one JSON object per line out")
    p.add_argument("--audio", action="store_true", help="each stdin line is a WAV file heard as the user's turn")
    p.add_argument("--model", help="vosk model folder (for --audio)")
    add_session_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    session = app.build_session(args)
    hear = app.build_wav_hearing(args, session) if args.audio else _text_hearing
    if args.json or args.audio:
        return run_json(session, _stdin_lines(), hear, sys.stdout)
    return run_interactive(session)


def _text_hearing(line: str) -> str:
    return line


def _stdin_lines():
    # Bytes, so a line that is not valid UTF-8 becomes replacement characters instead of a crash.
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def turn_record(turn: int, heard, reply) -> dict:
    record = {"turn": turn, "heard": None if heard is None else mask(heard, strict=reply.intent == "private"),
              "say": reply.say, "state": reply.state}
    if turn:
        record["intent"] = reply.intent
    return record


def run_json(session, lines, hear, out) -> int:
    """The text contract: greeting as turn 0, then one JSON object per input line; exit 0 at end of input."""
    from assistant.errors import AudioInputError

    _emit(out, turn_record(0, None, session.greet()))
    for turn, line in enumerate(lines, start=1):
        try:
            heard = hear(line)
        except AudioInputError as exc:
            # One bad recording is one unanswered turn, never the end of the conversation.
            print(f"assistant: {exc}", file=sys.stderr)
            _emit(out, turn_record(turn, None, session.not_heard()))
            continue
        _emit(out, turn_record(turn, heard, session.handle(heard)))
    return 0


_LINE_BREAKERS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def _emit(out, record):
    line = json.dumps(record, ensure_ascii=False)
    # Readable Chinese, but nothing that some line readers take as a line break inside one record.
    for char, escaped in _LINE_BREAKERS.items():
        line = line.replace(char, escaped)
    out.write(line + "\n")
    out.flush()


def run_interactive(session) -> int:
    print("(打字和助手对话;说“再见”或按 Ctrl-D 结束。Type to talk; Ctrl-D ends.)")
    print("助手:", session.greet().say)
    while True:
        try:
            line = input("您: ")
        except EOFError:
            print()
            return 0
        reply = session.handle(line)
        print("助手:", reply.say)
        if "goodbye" in reply.controls:
            return 0
