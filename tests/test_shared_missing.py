"""Without ../shared, tests that need it say so in the summary; with CI=true they fail instead of passing quietly."""

import os
import shutil
import subprocess
import sys

from assistant import ROOT

NEEDS_SHARED = '''
import pytest


def test_needs_the_recordings():
    pytest.skip("real recordings not found at /nowhere/shared/audio (shared/ is not beside the checkout)")


@pytest.mark.skipif(True, reason="xdotool is not installed")
def test_needs_a_tool():
    pass


def test_plain():
    assert True
'''


def run_pytest(folder, ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                          capture_output=True, cwd=ROOT, env=env, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def test_a_missing_shared_is_a_visible_skip_and_a_failure_in_ci(tmp_path):
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_needs_shared.py").write_text(NEEDS_SHARED, encoding="utf-8")

    code, out = run_pytest(tmp_path, ci=False)
    assert code == 0, out
    assert "../shared missing" in out and "1 tests did not run" in out, out
    assert "test_needs_the_recordings" in out and "real recordings not found" in out
    assert "2 skipped" in out and "1 passed" in out

    code, out = run_pytest(tmp_path, ci=True)
    assert code == 1, out
    assert "1 failed" in out and "CI=true and ../shared is missing" in out, out
    assert "1 skipped" in out, "a skip that is not about ../shared stays a skip"
