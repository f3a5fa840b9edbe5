"""The fault table (issue 13): every fault the robustness tests inject, and whether the assistant survived it.

The faults are injected by `tests/test_robustness.py` on real parts where they can be (PulseAudio null sinks that
vanish or stall, real child processes stopped with SIGTERM, broken settings files, a clock set back a year); each
test passes only when the loop answers the next turn (or the kiosk recovers), with no traceback and nothing the
user said on disk. This part runs that file and reports it as a table. "Turns lost" is measured where a fault
hits a running conversation: how many of the user's turns in that test got no answer (the test records it as
the junit property `turns_lost`); "—" where the fault is not about turns (a settings file, a source scan, a
command that must start).
"""

import subprocess
import sys
import xml.etree.ElementTree as ET

from bench.common import OUT, ROOT, Figure, PartResult, md_table

TEST_FILE = "tests/test_robustness.py"


def _fault_name(case: ET.Element) -> str:
    name = case.get("name", "")
    return name.removeprefix("test_").replace("_", " ")


def _turns_lost(case: ET.Element) -> int | None:
    for prop in case.iter("property"):
        if prop.get("name") == "turns_lost":
            return int(prop.get("value"))
    return None


def run(quick: bool = False) -> PartResult:
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / "faults.xml"
    report.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST_FILE,
                           f"--junitxml={report}"], cwd=ROOT, capture_output=True, timeout=1200)
    if not report.is_file():
        raise RuntimeError(f"the robustness tests did not run (exit {proc.returncode}): "
                           f"{proc.stdout.decode('utf-8', 'replace')[-300:]}")
    cases = list(ET.parse(report).getroot().iter("testcase"))
    rows, survived, skipped, measured = [], 0, 0, []
    for case in cases:
        if case.find("skipped") is not None:
            outcome = "not run (" + (case.find("skipped").get("message") or "skipped")[:60] + ")"
            skipped += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            outcome = "**not survived**"
        else:
            outcome = "survived"
            survived += 1
        lost = _turns_lost(case)
        measured.append(lost)
        rows.append([_fault_name(case), outcome, "—" if lost is None else str(lost),
                     f"{float(case.get('time', 0)):.1f} s"])
    injected = len(cases) - skipped
    counted = [lost for lost in measured if lost is not None]
    result = PartResult(data={"injected": injected, "survived": survived, "skipped": skipped,
                              "turns_lost": sum(counted), "turns_measured": len(counted),
                              "cases": [r[:3] for r in rows]})
    result.figures.append(Figure(
        "8 faults", f"faults injected by {TEST_FILE} (real PulseAudio sinks, child processes, files, clock)",
        f"{survived} of {injected} survived", f"{injected} of {injected}",
        "met" if survived == injected and injected else "missed",
        f"{skipped} not run here" if skipped else "each allows at most the turn the fault happened in"))
    result.figures.append(Figure(
        "8 faults", "user turns left without an answer, over the faults that hit a running conversation",
        f"{sum(counted)} over {len(counted)} faults", "at most the turn the fault happened in",
        "met" if all(lost <= 1 for lost in counted) else "missed", "per fault in the table below"))
    result.section = "\n".join([
        "## 8. Faults injected (issue 13)", "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        md_table(["fault", "outcome", "turns lost", "time"], rows), ""])
    return result
