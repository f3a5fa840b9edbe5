"""`assistant chat`: the dialog by text, interactive or as JSON lines (the contract other parts test against)."""

import json
import logging
import sys
from datetime import date

from assistant import clock
from assistant.privacy import mask

log = logging.getLogger(__name__)


def register(sub):
    p = sub.add_parser("chat", help="文字对话 / talk to the assistant by text")
    p.add_argument("--json", action="store_true", help="one utterance per stdin line in, one JSON object per line out")
    p.add_argument("--audio", action="store_true", help="each stdin line is a WAV file heard as the user's turn")
    p.add_argument("--model", help="vosk model folder (for --audio)")
    add_session_arguments(p)
    p.set_defaults(func=run)


def add_session_arguments(p):
    """Options every conversation command shares."""
    p.add_argument("--flows", help="folder with the flow files (default: the packaged flows/)")
    p.add_argument("--today", help="pretend today is this date, YYYY-MM-DD (for trying out reminders)")
    p.add_argument("--config", help="settings file made by `assistant setup` (default: the user's config folder)")


def today_from(args) -> date:
    """Today for this command (`assistant.clock`: --today, $ASSISTANT_TODAY, the system clock)."""
    return clock.today(args)


def conversation_settings(args, today: date, personal: bool = True):
    """The saved settings for a conversation. A problem in the file is a warning, said once in plain Chinese,
    and that setting is left out; the assistant carries on with the general rule. A kiosk (`personal=False`)
    also leaves out one person's settings (last date, usual channel)."""
    from assistant.settings import describe_problems, for_kiosk, read_settings

    settings, problems = read_settings(getattr(args, "config", None), today)
    for line in describe_problems(problems):
        log.warning(line)
    if not personal:
        settings, ignored = for_kiosk(settings)
        if ignored:
            log.warning("自助机为很多人服务,不用设置里某一个人的 %s (a kiosk ignores personal settings: %s)",
                        "、".join(ignored), ", ".join(ignored))
    return settings


def new_session(args):
    """A Session built from the command's options: flows, saved settings, today's date."""
    from assistant.dialog import Session
    from assistant.flows import load_flows

    flows = load_flows(getattr(args, "flows", None))
    today = today_from(args)
    return Session(flows, config=conversation_settings(args, today), today=today, remind=_calendar_file(flows, today))


def _calendar_file(flows, today):
    """At home, after success the assistant offers the calendar file `assistant reminder` makes."""
    from assistant.family.reminder import write_after_success

    return lambda deadline: write_after_success(flows, deadline, today)


def run(args) -> int:
    session = new_session(args)
    hear = _text_hearing
    if args.audio:
        from assistant.audio.files import wav_hearing

        hear = wav_hearing(session, getattr(args, "model", None))
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
    record = {"turn": turn, "heard": None if heard is None else mask(heard, strict=reply.intent == "private"), "say": reply.say, "state": reply.state}
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
