"""The bench's tracked results (bench/RESULTS.md, results.json) come only from a full run: --quick and --only write
under bench/out/, so a partial run never replaces the table the README quotes."""

import pytest

import bench.__main__ as bench_main
from bench.common import Figure, PartResult


def _info(parts):
    machine = {"cpu": "cpu", "cores": 2, "memory_mb": 1, "python": "3", "system": "linux", "commit": "abc",
               "load_average_at_start": [0.0, 0.0, 0.0]}
    return {"started": "now", "parts": parts, "machine": machine, "wall_s": 1.0,
            "load_average_at_end": [0.0, 0.0, 0.0]}


@pytest.mark.parametrize("parts, quick, tracked", [
    (list(bench_main.PARTS), False, True),
    (list(bench_main.PARTS), True, False),
    (["accuracy", "elder"], False, False),
])
def test_only_a_full_run_writes_the_tracked_results(tmp_path, monkeypatch, parts, quick, tracked):
    tracked_dir, out_dir = tmp_path / "bench", tmp_path / "out"
    tracked_dir.mkdir()
    out_dir.mkdir()
    monkeypatch.setattr(bench_main, "BENCH", tracked_dir)
    monkeypatch.setattr(bench_main, "OUT", out_dir)
    results = {"accuracy": PartResult([Figure("1 understanding", "top-1", "80 %", ">= 97 %", "missed")])}
    bench_main.write(results, _info(parts), quick)
    where, other = (tracked_dir, out_dir) if tracked else (out_dir, tracked_dir)
    assert (where / "RESULTS.md").exists() and (where / "results.json").exists()
    assert not (other / "RESULTS.md").exists() and not (other / "results.json").exists()
    header = (where / "RESULTS.md").read_text(encoding="utf-8").splitlines()[2]
    assert ("--only accuracy,elder" in header) == (parts == ["accuracy", "elder"]), header
