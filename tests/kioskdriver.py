"""Run the real `assistant` CLI for the kiosk, setup, stats and reminder tests."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def assistant(*args, stdin: str = "", env=None, home=None, timeout=60) -> subprocess.CompletedProcess:
    """`assistant ARGS` with text stdin; tests always pass their own config/data dirs through `env`."""
    environment = {**os.environ, **(env or {})}
    environment.setdefault("ASSISTANT_CONFIG_DIR", str(ROOT / "tests" / "no-such-config"))
    if home:
        environment["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "assistant", *map(str, args)], input=stdin.encode("utf-8"),
                          capture_output=True, cwd=ROOT, env=environment, timeout=timeout)


def out(proc) -> str:
    return proc.stdout.decode("utf-8", "replace")


def err(proc) -> str:
    return proc.stderr.decode("utf-8", "replace")


def run_main(monkeypatch, *args, stdin: str = "") -> int:
    """The same CLI in this process (no interpreter start-up): for checks that need no separate process."""
    import io

    import assistant.cli as cli

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8"))
    return cli.main([str(a) for a in args])

UNSURE = ["好像行了", "差不多了吧", "弄得差不多了", "行了吧", "好像差不多了"]
"""Half-sure done-reports. Which of them the model asks about ("您是说“好了”吗?") depends on its training; the
test needs only one that it asks about."""


def ask_back(heard, last_reply):
    """Say half-sure done-reports until one is asked about; return that view."""
    for said in UNSURE:
        view = heard(said)
        if last_reply().intent == "confirm" and "“好了”" in last_reply().say:
            return view
    raise AssertionError(f"none of {UNSURE} was asked about")
