"""The suite runs side by side (pytest-xdist): each process has its own user folders, and tests are shared out by
the units tests/conftest.py reads from the marks in the test files."""

import os
from pathlib import Path

import platformdirs

from tests.conftest import longest_first, unit_of

MARKED = """
import pytest

@pytest.mark.slow
def test_waits():
    pass

@pytest.mark.slow
@pytest.mark.xdist_group("decoded")
@pytest.mark.parametrize("x", [1, 2])
def test_shares_a_decoding(x):
    pass

@pytest.mark.xdist_group(name="pair")
class TestTogether:
    def test_one(self):
        pass

class TestPlain:
    @pytest.mark.slow
    def test_slow_method(self):
        pass

    def test_quick(self):
        pass

def test_quick():
    pass
"""


def test_units_follow_the_marks_written_in_the_file(tmp_path):
    (tmp_path / "test_m.py").write_text(MARKED, encoding="utf-8")
    unit = lambda nodeid: unit_of(tmp_path, nodeid)  # noqa: E731
    assert unit("test_m.py::test_waits") == "test_m.py::test_waits", "a slow test is a unit of its own"
    decoding = {unit("test_m.py::test_shares_a_decoding[1]"), unit("test_m.py::test_shares_a_decoding[2]")}
    assert decoding == {"group:decoded"}, "a group before slow: the parametrized cases share one unit"
    assert unit("test_m.py::TestTogether::test_one") == "group:pair", "a group on the class"
    assert unit("test_m.py::TestPlain::test_slow_method") == "test_m.py::TestPlain::test_slow_method"
    assert unit("test_m.py::TestPlain::test_quick") == unit("test_m.py::test_quick") == "test_m.py", "the module"


def test_the_longest_units_go_first_each_unit_together(tmp_path):
    """The suite ends when its last worker does: a long unit started last would keep one worker busy alone."""
    (tmp_path / "test_m.py").write_text(MARKED, encoding="utf-8")
    (tmp_path / "test_big.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
    seconds = {"test_m.py::test_waits": 10.0, "test_m.py::test_shares_a_decoding[1]": 35.0,
               "test_m.py::test_shares_a_decoding[2]": 35.0, "test_m.py::TestTogether::test_one": 0.0,
               "test_m.py::TestPlain::test_slow_method": 50.0, "test_m.py::TestPlain::test_quick": 0.0,
               "test_m.py::test_quick": 0.0, "test_big.py::test_a": 20.0, "test_big.py::test_b": 20.0}
    assert longest_first(tmp_path, seconds) == [
        "test_m.py::TestPlain::test_slow_method",  # 50 s
        "test_m.py::test_shares_a_decoding[1]", "test_m.py::test_shares_a_decoding[2]",  # one unit of 35 s
        "test_big.py::test_a", "test_big.py::test_b",  # a module said to take 20 s
        "test_m.py::test_waits",  # 10 s
        "test_m.py::TestPlain::test_quick", "test_m.py::test_quick",  # the module's two unmarked tests: 0.2 s
        "test_m.py::TestTogether::test_one",  # 0.1 s
    ]


def test_each_test_process_has_its_own_user_folders():
    """Set for the whole run (tests/conftest.py): never the user's own folders, and one per xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    own = {"ASSISTANT_DATA_DIR": platformdirs.user_data_dir("pension-assistant"),
           "ASSISTANT_CONFIG_DIR": platformdirs.user_config_dir("pension-assistant"),
           "ASSISTANT_CACHE_DIR": platformdirs.user_cache_dir("pension-assistant")}
    for name, users in own.items():
        folder = Path(os.environ[name])
        assert folder != Path(users) and folder.is_dir(), name
        assert f"assistant-tests-{worker}-" in folder.parent.name, (name, folder)



class Worker:
    """Stands in for one xdist worker as the scheduler sees it: the tests it is sent and whether it was told to
    stop."""

    shutting_down = False

    def __init__(self):
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indices):
        self.sent.append(list(indices))

    def shutdown(self):
        self.shutting_down = True


def test_a_worker_takes_its_next_unit_only_when_down_to_its_last_test(tmp_path):
    """xdist topped a worker up while it had 2 tests or fewer waiting, so a worker near the end of one unit took
    the next longest units too, and three of the longest tests stacked on one worker. A worker runs a test once it
    knows the next, so one waiting is enough."""
    from types import SimpleNamespace

    from tests.conftest import pytest_xdist_make_scheduler

    (tmp_path / "test_m.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
    (tmp_path / "test_s.py").write_text(MARKED, encoding="utf-8")
    collection = ["test_m.py::test_a", "test_m.py::test_b", "test_m.py::test_c",
                  "test_s.py::test_waits", "test_s.py::TestPlain::test_slow_method"]
    config = SimpleNamespace(rootpath=tmp_path, getoption=lambda name: "loadgroup",
                             getvalue=lambda name: ["popen"] if name == "tx" else None)
    scheduler = pytest_xdist_make_scheduler(config, None)
    worker = Worker()
    scheduler.assigned_work[worker], scheduler.registered_collections[worker] = {}, collection
    for nodeid in collection:
        scheduler.workqueue.setdefault(scheduler._split_scope(nodeid), {})[nodeid] = False
    scheduler._assign_work_unit(worker)
    assert worker.sent == [[0, 1, 2]], "the module's three tests, one unit"
    scheduler.mark_test_complete(worker, 0)
    assert len(worker.sent) == 1, "two tests still waiting: no slow test taken yet"
    scheduler.mark_test_complete(worker, 1)
    assert worker.sent[1:] == [[3]], "down to its last test: the next unit"
    scheduler.mark_test_complete(worker, 2)
    assert worker.sent[2:] == [[4]] and not worker.shutting_down
    scheduler.mark_test_complete(worker, 3)
    assert worker.shutting_down, "nothing left to give"
