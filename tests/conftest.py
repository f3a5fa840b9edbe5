import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from assistant import ROOT

SHARED = ROOT.parent / "shared"
"""The seeds, the vosk model zip and the real recordings, beside the checkout (../shared)."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_missing_shared: list[str] = []
USER_FOLDERS = ("ASSISTANT_DATA_DIR", "ASSISTANT_CONFIG_DIR", "ASSISTANT_CACHE_DIR")


def pytest_configure(config):
    """Each test process (each xdist worker, and a plain run) gets its own empty data, config and cache folders,
    so tests running side by side never share a settings file, a prompt cache or kiosk counts, and a developer's
    own settings never reach a test. Tests that need a folder of their own still set it (monkeypatch, env=)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    config._assistant_user_root = Path(tempfile.mkdtemp(prefix=f"assistant-tests-{worker}-"))
    config._assistant_saved_env = {name: os.environ.get(name) for name in USER_FOLDERS}
    for name in USER_FOLDERS:
        folder = config._assistant_user_root / name.split("_")[1].lower()
        folder.mkdir()
        os.environ[name] = str(folder)
    if not hasattr(config, "workerinput"):  # the controller (or a plain run), before any worker starts
        _understanding_model_ready()


def pytest_collection_modifyitems(config, items):
    """Under xdist (`script/test`), the longest units of work go first, so that none of them starts last and
    keeps one worker busy after the others are done (the suite ends when its last worker does). A unit's length
    is what its marks say: `@pytest.mark.slow(seconds=N)` on a test, `pytestmark = pytest.mark.seconds(N)` on a
    module (roughly N seconds alone on an idle 2-core machine); a slow test without seconds counts as 10 s, a
    module without them as 0.1 s a test. Every worker sorts the same list the same way (xdist checks that they
    agree). A plain run keeps the files' order."""
    if not hasattr(config, "workerinput"):
        return
    order = longest_first(config.rootpath, {item.nodeid: _seconds_of(item) for item in items})
    position = {nodeid: index for index, nodeid in enumerate(order)}
    items.sort(key=lambda item: position[item.nodeid])


def longest_first(root: Path, seconds: dict[str, float]) -> list[str]:
    """Test ids (in collection order, each with the seconds its marks say, 0 when they say none) sorted so that
    the units of work come longest first, each unit's tests together and in their own order."""
    weights: dict[str, float] = {}
    tests_in: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, (nodeid, said) in enumerate(seconds.items()):
        unit = unit_of(root, nodeid)
        weights[unit] = max(weights.get(unit, 0.0), said)
        tests_in[unit] = tests_in.get(unit, 0) + 1
        first.setdefault(unit, index)
    for unit, said in weights.items():
        if said == 0.0:  # nothing said: the unit's tests count 0.1 s each
            weights[unit] = 0.1 * tests_in[unit]
    return sorted(seconds, key=lambda nodeid: (-weights[unit_of(root, nodeid)], first[unit_of(root, nodeid)]))


def _seconds_of(item) -> float:
    """How long the unit of this test takes, from its marks (0: not said)."""
    slow = item.get_closest_marker("slow")
    if slow is not None:
        return float(slow.kwargs.get("seconds", 10))
    marked = item.get_closest_marker("seconds")
    return float(marked.args[0]) if marked is not None else 0.0


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: no error where it is not installed
def pytest_xdist_make_scheduler(config, log):
    """How tests are shared out between workers with `--dist loadgroup`: a module's tests stay together on one
    worker, so its module-scoped fixtures (a PulseAudio room, the natural voice, a decoded test set) are built once;
    a test marked `slow` is a unit of its own, so the slow ones wait side by side on different workers; tests marked
    `xdist_group(NAME)` are one unit. (xdist's own loadgroup reads the group from a renamed node id, which pytest 9.2
    no longer allows; the marks are read here from the test files themselves, see `_marks_of`.)"""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(root, nodeid)

        def _reschedule(self, node) -> None:
            """Give a worker its next unit only when it is down to its last test. (xdist tops a worker up while
            it has 2 tests or fewer waiting, so a worker that was given one slow test at once took two more
            units: three of the longest tests stacked on one worker while another ran short ones, and the suite
            waited for it. A worker runs a test only once it knows the next one, so it always needs one
            waiting; one is enough.)"""
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) <= 1:
                self._assign_work_unit(node)

    return UnitScheduling(config, log)


def unit_of(root: Path, nodeid: str) -> str:
    """The unit of work a test belongs to: its xdist_group, itself when marked slow, else its file."""
    path, *names = nodeid.split("::")
    slow, group = False, None
    for name in names:  # a class, then its method; or the test function
        marks = _marks_of(root / path).get(name.split("[")[0], {})
        slow, group = slow or marks.get("slow", False), group or marks.get("xdist_group")
    if group:
        return f"group:{group}"
    return nodeid if slow else path


def _file_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


_MARKS: dict[Path, dict[str, dict]] = {}


def _marks_of(path: Path) -> dict[str, dict]:
    """`@pytest.mark.slow` and `@pytest.mark.xdist_group("name")` as written on the tests and classes of a file
    (the controller collects nothing, so it reads them from the source)."""
    if path not in _MARKS:
        import ast

        found: dict[str, dict] = {}
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                if not (isinstance(target, ast.Attribute) and ast.unparse(target.value) == "pytest.mark"):
                    continue
                if target.attr == "slow":
                    found.setdefault(node.name, {})["slow"] = True
                elif target.attr == "xdist_group" and call is not None:
                    args = [*call.args, *(k.value for k in call.keywords if k.arg == "name")]
                    if args and isinstance(args[0], ast.Constant):
                        found.setdefault(node.name, {})["xdist_group"] = str(args[0].value)
        _MARKS[path] = found
    return _MARKS[path]


def pytest_unconfigure(config):
    root = getattr(config, "_assistant_user_root", None)
    if root is None:
        return
    for name, value in config._assistant_saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(root, ignore_errors=True)


def _understanding_model_ready() -> None:
    """Trains the understanding model once, here, when flows/ changed since it was last trained: otherwise every
    worker (and every `assistant` child process) would find it missing and train the same ~3-minute model at
    once. Saved beside the flows (flows/.model/), where every process of the run looks first after its own cache.
    A fresh checkout has the committed model of its flows (flows/trained/) and trains nothing."""
    from assistant.flows import load_flows
    from assistant.understanding.store import find_saved

    flows = load_flows()
    if find_saved(flows) is not None:  # trained here, or the committed one (flows/trained/)
        return
    from assistant.understanding import Understander

    Understander(flows, cache_dir=Path(flows.root) / ".model")


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


def run_folder(tmp_path_factory) -> Path:
    """A temporary folder shared by all workers of this run (xdist gives each worker its own basetemp inside
    it); in a plain run, this run's own basetemp."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def vosk_model_dir(tmp_path_factory):
    """The real Mandarin vosk model, installed from shared/models by our own install code once per run: the first
    worker to get here installs it (verifying the zip's checksum) while the others wait on the lock, then read it."""
    from assistant.recognition.install import install_from_zip
    from assistant.recognition.model import MODEL_NAME, ZIP_NAME

    zip_path = SHARED / "models" / ZIP_NAME
    if not zip_path.is_file():
        pytest.skip(f"vosk model zip not found at {zip_path} (shared/ is not beside the checkout)")
    dest = run_folder(tmp_path_factory) / "vosk" / MODEL_NAME
    with FileLock(str(dest.parent) + ".lock"):
        if not (dest.parent / "installed").exists():
            install_from_zip(zip_path, dest)
            (dest.parent / "installed").touch()
    return dest


@pytest.fixture(scope="session")
def vosk_model(vosk_model_dir):
    """The loaded vosk model, shared by every test module of a process (a Recognizer per module is cheap; loading
    the model is not)."""
    from assistant.recognition.model import load_model

    return load_model(vosk_model_dir).model


@pytest.fixture
def flows_copy(tmp_path):
    """A copy of the project's flows/ to edit (without its trained models: a test that loads the understanding of
    an edited copy trains it)."""
    from assistant import FLOWS_DIR

    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns(".model", "trained"))
    return target


def allowed_in(flows, state: str) -> list[str]:
    """The intents the dialog allows in `state`, for tests that ask the understander directly."""
    from assistant.dialog import Session

    session = Session(flows)
    session._position.state = state  # only to read what is allowed there, as the dialog would
    return session.allowed_intents()


def name_held_out(flows_dir: Path, name: str) -> None:
    """Switch on `bands: held_out: NAME` in a copy's understanding.yaml (the bands set on that file)."""
    config = flows_dir / "understanding.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  folds: 3\n" in text
    config.write_text(text.replace("  folds: 3\n", f"  folds: 3\n  held_out: {name}\n", 1), encoding="utf-8")


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


@pytest.fixture(autouse=True)
def no_reading_outlives_its_test():
    """No second reading outlives the test that started it: one still building its recogniser when its test ends
    (cancelled, it stops once built) is waited for, so no test's decoding overlaps the next test's; one that never
    ends (a listener's turn left open, waiting for audio, holding a recogniser) fails its own test."""
    # Every test, and only its own threads: a listener left open in one module (test_voice_loop's, session 32) once
    # failed a robustness test that ran after it on the same worker.
    before = {t for t in threading.enumerate() if t.name == "second-reading"}
    yield

    def mine():
        return [t for t in threading.enumerate() if t.name == "second-reading" and t not in before]

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and mine():
        time.sleep(0.05)
    assert not mine(), f"{len(mine())} second reading(s) never ended"
