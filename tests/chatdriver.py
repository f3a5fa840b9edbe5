"""Drive the real `assistant chat --json` program, as the voice loop and other checks do."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TODAY = "2026-11-23"
REMINDERS = str(Path(tempfile.gettempdir()) / "assistant-test-reminders")
"""where a conversation's calendar file goes in tests (never the home folder)"""


def chat(lines, *extra_args, today=TODAY, env=None, config_dir=None, yes_to_confirm=False):
    """Run one conversation; returns the parsed JSON records (greeting first).

    yes_to_confirm: answer "对" whenever the assistant asks "您是说……吗?", as a user would, and keep only the reply
    that followed (so records still line up with lines); what it then did is what the test checks."""
    if yes_to_confirm:
        with ChatProcess(*extra_args, today=today, config_dir=config_dir, env=env) as conversation:
            return [conversation.records[0]] + [conversation.say_surely(line) for line in lines]
    environment = {**os.environ, "ASSISTANT_TODAY": today, **(env or {})}
    environment["ASSISTANT_CONFIG_DIR"] = str(config_dir or ROOT / "tests" / "no-such-config")
    environment.setdefault("ASSISTANT_REMINDER_DIR", REMINDERS)
    proc = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json", *extra_args],
                          input="".join(line + "\n" for line in lines).encode("utf-8"),
                          capture_output=True, cwd=ROOT, env=environment, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    records = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(records) == len(lines) + 1, "every input line must be answered"
    return records


class ChatProcess:
    """One running `chat --json` conversation, answered turn by turn (to react to where it is)."""

    def __init__(self, *extra_args, today=TODAY, config_dir=None, env=None):
        environment = {**os.environ, "ASSISTANT_TODAY": today, **(env or {}),
                       "ASSISTANT_CONFIG_DIR": str(config_dir or ROOT / "tests" / "no-such-config"),
                       "ASSISTANT_REMINDER_DIR": REMINDERS}
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
