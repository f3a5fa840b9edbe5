"""Fixed sentences rendered ahead of time: one FLAC per sentence, so prompts play instantly in the best voice.

Key = sha256 of (text, engine identity = engine + driver + voice, profile rate, cache format). Volume and
pauses are applied at playback, so changing them never invalidates the cache; changing the voice, the
engine or the profile's rate does. Only the assistant's own fixed sentences are stored here — never a
live sentence (it may hold a date or number about the user) and never anything the user said.
"""

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.speech.effects import trim_silence
from assistant.speech.engines import speakable

CACHE_FORMAT = 1
INDEX_NAME = "index.json"
EXTRA_BYTES = 100 * 1024 * 1024
"""Bound on the sentences kept beside those `voice render` stored (other rates): about four rates of every fixed
sentence with the natural voice (~24 MB a rate), two with espeak-ng (~36 MB)."""


def cache_dir() -> Path:
    """user_cache_dir("pension-assistant")/voice; $ASSISTANT_CACHE_DIR replaces the user cache dir."""
    from assistant import paths

    return paths.cache_dir() / "voice"


def cache_key(text: str, engine_identity: str, rate: float) -> str:
    """sha256 over everything that changes the stored audio of one sentence."""
    fields = {"format": CACHE_FORMAT, "text": text.strip(), "engine": engine_identity, "rate": round(float(rate), 4)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class RenderReport:
    """What `voice render` did."""

    engine: str
    rendered: int = 0
    skipped: int = 0
    """Already in the cache."""
    unspeakable: int = 0
    """Only punctuation: nothing to render (a flows splitting slip, not a voice problem)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    audio_seconds: float = 0.0
    """Length of the speech rendered in this run."""
    cache_bytes: int = 0


class VoiceCache:
    """A folder of pre-rendered sentences with a small JSON index (the index is informational)."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory else cache_dir()

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.flac"

    def has(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def prune(self, extra_bytes: int = 0, keep=None) -> int:
        """Keep the folder bounded: sentences `voice render` stored (named in the index) stay; of the others
        (other rates after 慢一点/快一点, rendered when said or ahead), the least recently used go until they take
        at most `extra_bytes`. Returns how many files were removed; a removed sentence is rendered again if said."""
        if not self.directory.is_dir():
            return 0
        kept = set(self.read_index()) | set(keep or ())
        others = []
        for path in self.directory.glob("*.flac"):
            if path.stem in kept or path.name.startswith("."):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            others.append((stat.st_mtime, stat.st_size, path))
        others.sort()
        total = sum(size for _, size, _ in others)
        removed = 0
        for _, size, path in others:
            if total <= extra_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        """(float32 samples, sample rate) of a cached sentence, or None; a damaged file counts as missing."""
        path = self.path_for(key)
        if not path.is_file():
            return None
        import soundfile

        try:
            samples, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
        except (RuntimeError, soundfile.LibsndfileError):
            path.unlink(missing_ok=True)  # half-written or damaged: render it again next time
            return None
        try:
            os.utime(path)  # used now: prune() removes the least recently used first
        except OSError:
            pass  # a read-only cache still plays
        return samples, int(rate)

    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> Path:
        """Store one sentence atomically (a crash mid-write never leaves a half file under the real name)."""
        import soundfile

        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(key)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp.flac")
        soundfile.write(str(tmp), np.clip(samples, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
        os.replace(tmp, path)
        return path

    def read_index(self) -> dict:
        try:
            return json.loads((self.directory / INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write_index(self, entries: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{INDEX_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(entries, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.directory / INDEX_NAME)

    def size_bytes(self) -> int:
        if not self.directory.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())

    def missing(self, sentences, engine_identity: str, rate: float) -> list[str]:
        """The sentences not yet rendered for this engine and rate."""
        return [s for s in sentences if speakable(s) and not self.has(cache_key(s, engine_identity, rate))]


def render_all(sentences, profile, engine, cache: VoiceCache, progress: bool = False, on_ready=None) -> RenderReport:
    """Render every sentence not yet in the cache with `engine` at the profile's rate; skip the rest.

    on_ready(text, path), if given, is called as soon as each sentence is in the cache (rendered now or before),
    so a caller can use the first sentences while the others are still rendering.
    """
    started = time.perf_counter()
    identity = engine.identity
    report = RenderReport(engine=identity)
    index = cache.read_index()
    todo = list(dict.fromkeys(s.strip() for s in sentences if s and s.strip()))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="句", desc="录制提示语 / rendering", leave=False)
    try:
        for text in todo:
            key = cache_key(text, identity, profile.rate)
            if not speakable(text):
                report.unspeakable += 1
            elif cache.has(key):
                report.skipped += 1
                if on_ready:
                    on_ready(text, cache.path_for(key))
            else:
                try:
                    samples, rate = engine.synthesize(text, profile.rate)
                except Exception as exc:  # one bad sentence must not stop the other 200
                    report.failed.append((text, str(exc)))
                else:
                    samples = trim_silence(samples, rate)
                    cache.put(key, samples, rate)
                    report.rendered += 1
                    report.audio_seconds += len(samples) / rate
                    index[key] = {"text": text, "engine": identity, "rate": profile.rate,
                                  "profile": profile.name, "seconds": round(len(samples) / rate, 2)}
                    if on_ready:
                        on_ready(text, cache.path_for(key))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if report.rendered:
            cache.write_index(index)
    report.seconds = time.perf_counter() - started
    report.cache_bytes = cache.size_bytes()
    return report
