"""Drive conversations the way `assistant chat --json` does.

Dialog logic is tested in-process (`chat`, `Conversation`): the same Session the program builds (flows, saved
settings, today, the calendar offer), the same record and JSON line (`assistant.chat.turn_record` and `_emit`), but
no Python start-up and no model load per conversation. The program itself (`chat_program`, `ChatProcess`) is kept
for the few tests of the stdin/stdout contract (tests/test_chat_contract.py)."""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TODAY = "2026-11-23"
REMINDERS = str(Path(tempfile.gettempdir()) / "assistant-test-reminders")
"""where a conversation's calendar file goes in tests (never the home folder)"""
NO_CONFIG = ROOT / "tests" / "no-such-config"

_loaded: dict = {}


def _flows_and_understander():
    """The packaged flows and their trained model, loaded once per test run (as `chat` loads them once per run)."""
    if not _loaded:
        from assistant.flows import load_flows
        from assistant.understanding import Understander

        flows = load_flows()
        _loaded.update(flows=flows, understander=Understander(flows))
    return _loaded["flows"], _loaded["understander"]


def _environment(today, config_dir, env):
    """What the program would see: its today, its config folder, where a calendar file goes."""
    return {"ASSISTANT_TODAY": today, "ASSISTANT_REMINDER_DIR": REMINDERS, **(env or {}),
            "ASSISTANT_CONFIG_DIR": str(config_dir or NO_CONFIG)}


class Conversation:
    """One conversation in-process, answered turn by turn, with the records `chat --json` would print."""

    def __init__(self, today=TODAY, config_dir=None, env=None):
        from assistant.app import conversation_settings
        from assistant.dialog import Session
        from assistant.family.reminder import write_after_success

        self.env = _environment(today, config_dir, env)
        flows, understander = _flows_and_understander()
        with mock.patch.dict(os.environ, self.env):
            day = date.fromisoformat(today)
            settings = conversation_settings(argparse.Namespace(config=None), day)
            self.session = Session(flows, config=settings, today=day, understander=understander,
                                   remind=lambda deadline: write_after_success(flows, deadline, day))
            self.records = [self._record(0, None, self.session.greet())]

    def _record(self, turn, heard, reply):
        from assistant.chat import _emit, turn_record

        out = io.StringIO()
        _emit(out, turn_record(turn, heard, reply))
        line, = out.getvalue().splitlines()  # one record is one line, whatever the user said
        return json.loads(line)

    def say(self, text):
        with mock.patch.dict(os.environ, self.env):
            self.records.append(self._record(len(self.records), text, self.session.handle(text)))
        return self.records[-1]

    def say_surely(self, text):
        """Say it; if asked "您是说……吗?", answer "对" and return what the assistant did then."""
        reply = self.say(text)
        return self.say("对") if reply.get("intent") == "confirm" else reply

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def chat(lines, today=TODAY, env=None, config_dir=None, yes_to_confirm=False):
    """One conversation in-process; returns the records (greeting first), one per line said.

    yes_to_confirm: answer "对" whenever the assistant asks "您是说……吗?", as a user would, and keep only the reply
    that followed (so records still line up with lines); what it then did is what the test checks."""
    conversation = Conversation(today=today, config_dir=config_dir, env=env)
    say = conversation.say_surely if yes_to_confirm else conversation.say
    return [conversation.records[0]] + [say(line) for line in lines]


# --- the real program, for its contract ----------------------------------------------------------------------
def chat_program(lines, *extra_args, today=TODAY, env=None, config_dir=None, stdin=None):
    """Run `assistant chat --json` once; returns (records, stderr text). stdin: raw bytes instead of lines."""
    environment = {**os.environ, **_environment(today, config_dir, env)}
    data = stdin if stdin is not None else "".join(line + "\n" for line in lines).encode("utf-8")
    proc = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json", *extra_args], input=data,
                          capture_output=True, cwd=ROOT, env=environment, timeout=120)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr
    records = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    if stdin is None:
        assert len(records) == len(lines) + 1, "every input line must be answered"
    return records, stderr


class ChatProcess:
    """One running `chat --json` program, answered turn by turn (to react to where it is)."""

    def __init__(self, *extra_args, today=TODAY, config_dir=None, env=None):
        environment = {**os.environ, **_environment(today, config_dir, env)}
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--json", *extra_args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=ROOT, env=environment)
        self.records = [self._read()]

    def _read(self):
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read().decode("utf-8", "replace")
        return json.loads(line)

    def say(self, text):
        self.proc.stdin.write(text.encode("utf-8") + b"\n")
        self.proc.stdin.flush()
        self.records.append(self._read())
        return self.records[-1]

    def say_surely(self, text):
        """Say it; if asked "您是说……吗?", answer "对" and return what the assistant did then."""
        reply = self.say(text)
        return self.say("对") if reply.get("intent") == "confirm" else reply

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0
        self.proc.stdout.close()
        self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def training_sentences_among(flows, sentences) -> set[str]:
    """The sentences (normalised as the model reads them) that are training sentences of flows/: a test sentence
    must be new to the model, or the test shows only that it remembers."""
    from assistant.understanding.normalize import Normalizer
    from assistant.understanding.store import training_examples

    norm = Normalizer.of(flows).text
    return {norm(example.text) for example in training_examples(flows)} & {norm(s) for s in sentences}


def session_at(flows, state: str, understander=None, config=None, today: date = date(2026, 11, 30)):
    """A fresh Session standing at a state (as if the user had walked there), for a turn said there."""
    from assistant.dialog import Session

    session = Session(flows, config=config, today=today, understander=understander)
    session.greet()
    session.machine.set_state(state)
    return session


def ask(session, text: str):
    """Say it; a yes/no question back ("您是说……吗?") is answered "对", as the user meant it."""
    reply = session.handle(text)
    if reply.intent == "confirm":
        reply = session.handle("对")
    return reply


def audit_rows_of(where: str) -> int:
    """How many sentences of flows/audit.tsv are sourced for this place ("knowledge:payment")."""
    import csv

    with open(ROOT / "flows" / "audit.tsv", encoding="utf-8", newline="") as f:
        return sum(row["where"] == where for row in csv.DictReader(f, delimiter="\t"))


def said_in(cases) -> list[str]:
    """The sentence (second value) of each parametrize case, a plain tuple or a pytest.param."""
    return [(case.values if hasattr(case, "values") else case)[1] for case in cases]
