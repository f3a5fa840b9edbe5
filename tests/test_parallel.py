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
