import os

import pytest

from assistant import ROOT

SHARED = ROOT.parent / "shared"
"""The seeds, the vosk model zip and the real recordings, beside the checkout (../shared)."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_missing_shared: list[str] = []


def _about_shared(report) -> bool:
    """A skip because something from ../shared is missing (every such reason names shared/)."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return False
    return "shared" in str(report.longrepr[2]).lower()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Without ../shared the recognition, audit and recording tests cannot run: a skip with its reason on a
    developer's machine, but a failure in CI (CI=true), where a missing ../shared means nothing real was tested."""
    outcome = yield
    report = outcome.get_result()
    if _about_shared(report):
        reason = str(report.longrepr[2])
        _missing_shared.append(f"{item.nodeid}: {reason}")
        if IN_CI:
            report.outcome = "failed"
            report.longrepr = f"CI=true and ../shared is missing ({SHARED}): {reason}"


def pytest_terminal_summary(terminalreporter):
    if _missing_shared:
        terminalreporter.section("../shared missing", sep="=", yellow=not IN_CI, red=IN_CI, bold=True)
        terminalreporter.write_line(f"{len(_missing_shared)} tests did not run: {SHARED} is not beside the checkout "
                                    "(the seeds, the vosk model zip, the real recordings). " +
                                    ("In CI that is a failure." if IN_CI else "Set CI=true to make it a failure."))
        for line in _missing_shared[:10]:
            terminalreporter.write_line(f"  {line}")
        if len(_missing_shared) > 10:
            terminalreporter.write_line(f"  … and {len(_missing_shared) - 10} more")


@pytest.fixture(scope="session")
def vosk_model_dir(tmp_path_factory):
    """The real Mandarin vosk model, installed from shared/models by our own install code (once per run)."""
    from assistant.recognition.install import install_from_zip
    from assistant.recognition.model import MODEL_NAME, ZIP_NAME

    zip_path = SHARED / "models" / ZIP_NAME
    if not zip_path.is_file():
        pytest.skip(f"vosk model zip not found at {zip_path} (shared/ is not beside the checkout)")
    return install_from_zip(zip_path, tmp_path_factory.mktemp("vosk") / MODEL_NAME)


@pytest.fixture(scope="module")
def flows():
    """The project's flows/, loaded once per test module."""
    from assistant.flows import load_flows

    return load_flows()


@pytest.fixture(scope="module")
def understander(flows):
    """The understanding model for flows/ (trained once into the user cache, then loaded)."""
    from assistant.understanding import Understander

    return Understander(flows)
