"""Anonymous counts for the staff: how many conversations, completions, questions by topic, misunderstandings.

Only fixed names from flows/ are ever stored (intent names such as "q_scam"), never anything a user said.
The file is small JSON, rewritten atomically; a damaged one is set aside and counting starts again.
"""

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assistant import clock
from assistant.paths import data_dir

FILE_NAME = "kiosk-counts.json"
MISUNDERSTOOD = ("unknown", "foreign", "confirm")
"""Reply intents that mean the assistant did not (surely) understand."""
_VERSION = 1


@dataclass
class Counts:
    """What the staff may see: numbers only."""

    since: str = field(default_factory=lambda: clock.today().isoformat())
    sessions: int = 0
    completions: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    misunderstandings: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": _VERSION, "since": self.since, "sessions": self.sessions, "completions": self.completions,
                "topics": dict(sorted(self.topics.items())),
                "misunderstandings": dict(sorted(self.misunderstandings.items()))}

    @classmethod
    def from_json(cls, data) -> "Counts":
        """Strict: anything unexpected is a damaged file (ValueError), never silently half-read."""
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError("not a counts file of this version")
        counts = cls(since=data["since"], sessions=data["sessions"], completions=data["completions"],
                     topics=data["topics"], misunderstandings=data["misunderstandings"])
        date.fromisoformat(counts.since)
        for number in (counts.sessions, counts.completions, *counts.topics.values(),
                       *counts.misunderstandings.values()):
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise ValueError("a count is not a whole number")
        for key in (*counts.topics, *counts.misunderstandings):
            if not _is_name(key):
                raise ValueError("a counted name is not an intent name")
        return counts


def _is_name(key) -> bool:
    # Intent names are ASCII identifiers; anything else could be text a user said and must not be kept.
    return (isinstance(key, str) and key.isascii() and key[:1].isalpha() and key.replace("_", "a").isalnum()
            and len(key) <= 40)


class StatsStore:
    """The counts file: read, add, write back atomically (so `assistant stats` never sees half a file)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else data_dir() / FILE_NAME
        self.warning: str | None = None
        """a kind note when the file was damaged and counting started again (shown once)"""

    def load(self) -> Counts:
        if not self.path.exists():
            return Counts()
        try:
            return Counts.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
            return self._restart()

    def _restart(self) -> Counts:
        broken = self.path.with_name(self.path.name + ".broken")
        try:
            os.replace(self.path, broken)
            kept = f"旧文件留在 {broken} (the old file was kept there)"
        except OSError:
            kept = "旧文件没法保留 (the old file could not be kept)"
        self.warning = (f"统计文件坏了,已经从零重新开始计数;{kept}。"
                        f" / The counts file {self.path} was damaged; counting starts again.")
        return Counts()

    def save(self, counts: Counts) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".counts-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(counts.to_json(), f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, *, sessions=0, completions=0, topic: str | None = None, misunderstood: str | None = None) -> Counts:
        """Read, count, write: another process (`assistant stats --reset`) may have changed the file meanwhile."""
        if topic is not None and not _is_name(topic) or misunderstood is not None and not _is_name(misunderstood):
            raise ValueError("only intent names are counted")
        counts = self.load()
        counts.sessions += sessions
        counts.completions += completions
        if topic:
            counts.topics[topic] = counts.topics.get(topic, 0) + 1
        if misunderstood:
            counts.misunderstandings[misunderstood] = counts.misunderstandings.get(misunderstood, 0) + 1
        self.save(counts)
        return counts

    def reset(self) -> None:
        self.save(Counts())


def is_topic(intent: str | None, flows) -> bool:
    """Questions by topic: the q_* intents and every intent answered with knowledge (卧床, 没有智能手机 …)."""
    return intent is not None and (intent.startswith("q_") or intent in flows.answer_of)


def report(counts: Counts, flows=None) -> str:
    """The counts as the staff read them (Chinese first, English after)."""
    def label(intent):
        known = flows.intents.get(intent) if flows else None
        return f"{known.label} ({intent})" if known else intent

    missed = sum(counts.misunderstandings.values())
    lines = [f"养老金认证助手 · 使用统计 (kiosk usage counts) — 从 {counts.since} 起 (since)",
             f"  对话次数 (conversations):        {counts.sessions}",
             f"  办完认证 (completed, reached done): {counts.completions}",
             f"  没听懂 (misunderstandings):      {missed}"]
    for name in MISUNDERSTOOD:
        if counts.misunderstandings.get(name):
            lines.append(f"    - {name}: {counts.misunderstandings[name]}")
    lines.append("  问题 (questions by topic):" + ("" if counts.topics else " 0"))
    for intent, n in sorted(counts.topics.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    - {label(intent)}: {n}")
    lines.append("  (只有次数,没有任何人说过的话 / counts only, nothing anyone said)")
    return "\n".join(lines)
