"""`python -m bench [--quick] [--only PART,…]`: measure the assistant as a user meets it; write bench/RESULTS.md
and bench/results.json (with --quick or --only: bench/out/RESULTS.md and bench/out/results.json, never the tracked
files).

Parts that do not time anything (understanding, fuzz, and the soak in its own process) run side by side; the
timed parts (recognition, latency, cost) run after them, one at a time, so they do not disturb each other.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime

from bench.common import BENCH, OUT, ROOT, Figure, PartResult, md_table, pct, use_isolated_env

PARTS = ("accuracy", "soak", "fuzz", "elder", "asr", "latency", "cost", "voice", "faults")
SOAK_SESSIONS = {True: 150, False: 1000}
SOAK_GROWTH_MAX = 0.05


def machine() -> dict:
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    first = {}
    for line in read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    cpu = first.get("model name") or platform.processor()
    # "AMD EPYC" names two generations alike here; the family / model / stepping tell them apart. Spoken figures differ
    # a little between them (the natural voice renders and vosk decodes slightly differently per CPU: session 62's
    # code, 80.0 / 73.3 / 70.0 % on its machine, was 82.2 / 80.0 / 71.1 % on session 63's with one row of the subset
    # changed), so two runs compare only when these match.
    if "cpu family" in first:
        cpu += f" (family {first['cpu family']}, model {first.get('model', '?')}, stepping {first.get('stepping', '?')})"
    mem = next((int(line.split()[1]) // 1024 for line in read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), None)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    # The bench's own outputs do not make the measured code "uncommitted".
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", ".", ":!bench/RESULTS.md", ":!bench/results.json"],
                                capture_output=True, text=True, cwd=ROOT).stdout.strip())
    versions = {}
    for name in ("vosk", "rapidfuzz", "pypinyin", "hypothesis"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - a version we cannot read is just not shown
            versions[name] = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "commit": commit + (" + uncommitted changes" if dirty else ""),
            "versions": versions, "load_average_at_start": os.getloadavg()}


def soak_start(quick: bool):
    path = OUT / "soak.json"
    path.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "bench.soak", "--sessions", str(SOAK_SESSIONS[quick]),
                             "--json", str(path)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, path


def soak_result(proc, path) -> PartResult:
    _, err = proc.communicate(timeout=1200)
    if not path.is_file():
        raise RuntimeError(f"soak wrote no result (exit {proc.returncode}): {err.decode('utf-8', 'replace')[-300:]}")
    data = json.loads(path.read_text(encoding="utf-8"))
    result = PartResult(data=data)
    growth = data["rss_growth"]
    crashes = data["exceptions"] + data["bad_replies"]
    result.figures += [
        Figure("5 soak", f"{data['sessions']} seeded random conversations in one process ({data['turns']} turns)",
               f"{data['exceptions']} exceptions, {data['bad_replies']} malformed replies", "0",
               "met" if not crashes else "missed",
               f"{data['states_visited']}/{data['states_total']} states visited; {data['seconds']} s"),
        Figure("5 soak", f"memory growth, RSS after {data['warmup_sessions']} warm-up conversations → end",
               f"{pct(growth)} ({data['rss_after_warmup_mb']} → {data['rss_end_mb']} MB)" if growth is not None else "?",
               f"<= {pct(SOAK_GROWTH_MAX)}", "met" if growth is not None and growth <= SOAK_GROWTH_MAX else "missed",
               f"live Python objects {data['gc_objects_after_warmup']} → {data['gc_objects_end']}"),
    ]
    result.section = "\n".join([
        "## 5. Soak", "",
        f"`python -m bench.soak --sessions {data['sessions']} --seed {data['seed']}` in its own process: "
        "random walks (mostly \"好了\" as the dev corpus says it, questions, controls, trouble, the result step, "
        "bad input: silence, gibberish, English, emoji, ID numbers, 300-character pastes, control characters). "
        "Every reply is checked: known state, non-empty speakable parts, say = parts joined, 1–3 options, valid "
        "progress and controls, no number the user said repeated back. Most conversations reuse the Session via "
        "greet() (a kiosk's next user); every tenth builds a new Session with the shared Understander.", "",
        md_table(["reply intent", "count"], [[k, v] for k, v in list(data["intents"].items())[:20]]), "",
        ("First failures: " + json.dumps(data["failures"], ensure_ascii=False)) if data["failures"] else "No failures.",
        ""])
    return result


def run_part(name: str, quick: bool) -> PartResult:
    module = __import__(f"bench.{name}", fromlist=["run"])
    return getattr(module, "run_part", module.run)(quick=quick)


def failed_part(name: str, exc: BaseException) -> PartResult:
    from bench.common import NotMeasurable

    if isinstance(exc, NotMeasurable):
        return PartResult([Figure(name, "whole part", "not measured", "", "not measured", str(exc))])
    if isinstance(exc, ImportError):
        return PartResult([Figure(name, "whole part", "not measured", "", "not measured",
                                  f"stage not importable yet: {exc}")])
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return PartResult([Figure(name, "whole part", "error", "", "error", detail[:300])],
                      data={"traceback": traceback.format_exc()})


def full_run(info: dict) -> bool:
    """Every part was asked for (no --only, or --only naming them all)."""
    return set(info["parts"]) >= set(PARTS)


def results_dir(info: dict, quick: bool):
    """--quick measures subsets, --only some parts: their figures go to bench/out/ and never replace the tracked full
    results (a partial run once left the README's table with two parts and the others gone)."""
    return OUT if quick or not full_run(info) else BENCH


def write(results: dict[str, PartResult], info: dict, quick: bool) -> None:
    figures = [f for name in PARTS if name in results for f in results[name].figures]
    order = {"0": -1, "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6, "8": 7}
    figures.sort(key=lambda f: order.get(f.part[:1], 9))
    missed = [f for f in figures if f.status == "missed"]
    lines = [
        "# Benchmark results", "",
        f"`python -m bench{' --quick' if quick else ''}{'' if full_run(info) else ' --only ' + ','.join(info['parts'])}` "
        f"on {info['started']}, {info['wall_s']:.0f} s wall time. "
        f"Machine: {info['machine']['cpu']}, {info['machine']['cores']} cores, {info['machine']['memory_mb']} MB, "
        f"Python {info['machine']['python']}, {info['machine']['system']}; commit {info['machine']['commit']}. "
        f"Load average at start {', '.join(f'{x:.1f}' for x in info['machine']['load_average_at_start'])}, at end "
        f"{', '.join(f'{x:.1f}' for x in info['load_average_at_end'])} (a load above the core count means other "
        "work shared the CPU and timings are pessimistic).", "",
        "Figures are from this machine and this run; compare ratios within one run (grammar on/off, cached/uncached, "
        "clean/noisy text), not absolute times across machines. Every target missed is marked **missed** with the "
        "measured figure.", "",
        f"**{len(missed)} target(s) missed**" + (": " + "; ".join(f"{f.measure} ({f.value})" for f in missed)
                                                  if missed else "."), "",
        md_table(["part", "measure", "result", "target", "status", "notes"],
                 [[f.part, f.measure, f.value, f.target, f"**{f.status}**" if f.status == "missed" else f.status,
                   f.note] for f in figures]), "",
    ]
    for name in ("elder", "accuracy", "asr", "latency", "cost", "soak", "fuzz", "voice", "faults"):  # the numbered order
        if name in results and results[name].section:
            lines += [results[name].section, ""]
    where = results_dir(info, quick)
    (where / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    payload = {"run": info, "figures": [f.__dict__ for f in figures],
               "parts": {name: r.data for name, r in results.items()}}
    (where / "results.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subsets: under 2 minutes")
    parser.add_argument("--only", help=f"comma-separated parts to run ({','.join(PARTS)})")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",")] if args.only else list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    use_isolated_env()
    OUT.mkdir(parents=True, exist_ok=True)
    info = {"started": datetime.now().isoformat(timespec="seconds"), "quick": args.quick, "parts": parts,
            "machine": machine()}
    started = time.perf_counter()
    results: dict[str, PartResult] = {}

    def step(name, fn):
        t = time.perf_counter()
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        try:
            results[name] = fn()
        except Exception as exc:  # one broken part is a row in the table, never the end of the run
            results[name] = failed_part(name, exc)
        info.setdefault("part_seconds", {})[name] = round(time.perf_counter() - t, 1)

    soak = soak_start(args.quick) if "soak" in parts else None
    for name in ("accuracy", "fuzz"):
        if name in parts:
            step(name, lambda n=name: run_part(n, args.quick))
    if soak:
        step("soak", lambda: soak_result(*soak))
    for name in ("elder", "asr", "latency", "cost", "voice", "faults"):
        if name in parts:
            step(name, lambda n=name: run_part(n, args.quick))
    info["wall_s"] = time.perf_counter() - started
    info["load_average_at_end"] = os.getloadavg()
    write(results, info, args.quick)
    missed = sum(f.status == "missed" for r in results.values() for f in r.figures)
    print(f"bench: wrote {results_dir(info, args.quick) / 'RESULTS.md'} and results.json in {info['wall_s']:.0f} s; "
          f"{missed} target(s) missed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
