"""What every measurement shares: paths, the corpus, the results-table line, isolated user dirs, memory."""

import csv
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CORPUS = BENCH / "corpus"
OUT = BENCH / "out"
"""Scratch space (gitignored): the installed model, voice caches, synthesised audio, fuzz files."""
SHARED = ROOT.parent / "shared"
REAL_AUDIO = SHARED / "audio" / "real-mandarin"
MODEL_ZIP = SHARED / "models" / "vosk-model-small-cn-0.22.zip"
TODAY = date(2026, 11, 30)
"""A fixed "today" (the frozen corpus resolves its dates against it), so every run gives the same figures."""

VARIANTS = ("clean", "noisy")
SPECIAL_LABELS = {
    "out_of_scope": "chit-chat or unrelated: the assistant must not act on it",
    "private": "an ID number or secret: the assistant must refuse it (Reply.intent 'private')",
}


class NotMeasurable(Exception):
    """A part of the bench cannot run here; the message says why (shown in the table)."""


@dataclass
class Figure:
    """One line of the results table."""

    part: str
    measure: str
    value: str
    target: str = ""
    status: str = "info"
    """met | missed | info | not measured | error"""
    note: str = ""


@dataclass
class PartResult:
    """What one measurement module hands back: table lines, a Markdown section, raw data for JSON."""

    figures: list[Figure] = field(default_factory=list)
    section: str = ""
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One labelled utterance of the frozen test corpus."""

    id: str
    state: str
    utterance: str
    intent: str
    slots: dict
    tags: tuple
    variant: str
    line: int


PARTS = ("test", "answers")
"""The frozen corpus in two parts, each written blind before the training sentences it measures: `test` (962
rows, before the model existed) and `answers` (538 rows on the fine-grained questions of issue 12, written before
any training sentence for them, and 32 on thank-yous and what they are confused with, a0539–a0570, appended in
session 33 by a writer who never saw the training sentences; 34 on not being able to read, getting the phone online
and their look-alikes, a0571–a0604, appended in session 43 the same way)."""


def corpus_path(variant: str = "clean", part: str = "test") -> Path:
    return CORPUS / "frozen" / (f"{part}.tsv" if variant == "clean" else f"{part}.{variant}.tsv")


def parse_slots(text: str) -> dict:
    if not text or text == "-":
        return {}
    return dict(part.split("=", 1) for part in text.split(";") if "=" in part)


def load_corpus(variant: str = "clean", part: str = "test") -> list[Row]:
    """The frozen test corpus (written blind to flows/, never tuned on), clean or with recognition noise."""
    with open(corpus_path(variant, part), encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(r["id"], r["state"], r["utterance"], r["intent"], parse_slots(r["slots"]),
                    tuple(t.strip() for t in r["tags"].split(",") if t.strip()), variant, n)
                for n, r in enumerate(reader, start=2)]


def status(value: float, bound: float, higher_is_better: bool) -> str:
    ok = value >= bound if higher_is_better else value <= bound
    return "met" if ok else "missed"


def percentile(values, p: float) -> float:
    """Linear-interpolated percentile, p in 0..100 (nan for no values)."""
    values = sorted(values)
    if not values:
        return float("nan")
    rank = (len(values) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def proc_memory(pid="self") -> dict:
    """VmRSS and VmHWM (peak resident) of a process in MB, read from /proc/<pid>/status."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def isolated_env() -> dict:
    """Environment that keeps every user folder inside bench/out (never the real user's dirs)."""
    return {
        "ASSISTANT_DATA_DIR": str(OUT / "data"),
        "ASSISTANT_CACHE_DIR": str(OUT / "cache"),
        "ASSISTANT_CONFIG_DIR": str(OUT / "config-none"),
        "ASSISTANT_TODAY": TODAY.isoformat(),
    }


def use_isolated_env() -> None:
    os.environ.update(isolated_env())


def model_dir() -> Path:
    """The Mandarin model, installed from shared/ by the recognition stage's own installer into bench/out."""
    try:
        from assistant.recognition import install
        from assistant.recognition.model import MODEL_NAME, structure_problem
    except ImportError as exc:
        raise NotMeasurable(f"recognition stage not importable ({exc})") from None
    dest = OUT / "models" / MODEL_NAME
    if structure_problem(dest) is None:
        return dest
    if not MODEL_ZIP.is_file():
        raise NotMeasurable(f"model zip absent: {MODEL_ZIP}")
    return install.install_from_zip(MODEL_ZIP, dest=dest)


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
    return "\n".join(lines)


def load_all(variant: str = "clean") -> list[Row]:
    """Both parts of the frozen corpus."""
    return [row for part in PARTS for row in load_corpus(variant, part)]
