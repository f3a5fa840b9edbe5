"""The committed model (flows/trained/): the one these flows and this code train, found without training."""

import os
import shutil
import subprocess
import sys

import pytest

from assistant import FLOWS_DIR, ROOT

SHIP = "`assistant train --ship`, then commit flows/trained/"


def test_the_shipped_model_is_the_one_of_these_flows_and_this_code():
    """A stale one is never loaded (its name is another digest), but then a fresh checkout, a kiosk and CI train for
    minutes: whoever changes what is understood ships the new model with it."""
    from assistant.flows import load_flows
    from assistant.understanding.model import IntentModel
    from assistant.understanding.store import digest_of, shipped_dir

    flows = load_flows()
    shipped = sorted(shipped_dir(flows.root).glob("intents-*.npz"))
    digest = digest_of(flows)
    assert [p.name for p in shipped] == [f"intents-{digest}.npz"], f"flows/trained/ is not this checkout's: {SHIP}"
    assert IntentModel.load(shipped[0]).digest == digest


def test_a_fresh_copy_of_the_flows_answers_at_once_from_the_shipped_model(tmp_path):
    """No trained model anywhere but the committed one: the assistant understands without training (none is said
    on stderr), and saves nothing beside the committed file."""
    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns(".model"))
    # No user cache either (platformdirs follows XDG_CACHE_HOME): the committed model is the only one there is.
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "ASSISTANT_NATURAL_PYTHON": "off"}
    done = subprocess.run([sys.executable, "-m", "assistant", "why", "我用微信", "--flows", str(target)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "正在学习" not in done.stderr and "training" not in done.stderr, done.stderr
    assert "decision: act ch_wechat" in done.stdout, done.stdout
    assert not any((tmp_path / d / "understanding").exists() for d in ("cache", "xdg/pension-assistant"))
    assert not (target / ".model").exists()
    assert len(list((target / "trained").glob("*.npz"))) == 1


def test_ship_copies_the_saved_model_and_keeps_only_it(tmp_path, monkeypatch):
    """`assistant train --ship` copies the model byte for byte (no new file for git when nothing changed) and
    removes an older one."""
    from assistant.flows import load_flows
    from assistant.understanding.store import find_saved, ship

    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns(".model", "trained"))
    flows = load_flows(target)
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    saved = find_saved(load_flows())
    if saved is None:
        pytest.skip("this checkout has no trained model to copy")
    (tmp_path / "cache" / "understanding").mkdir(parents=True)
    shutil.copyfile(saved, tmp_path / "cache" / "understanding" / saved.name)
    (target / "trained").mkdir()
    (target / "trained" / "intents-0123456789abcdef.npz").write_bytes(b"an older model")
    path = ship(flows)
    assert path == target / "trained" / saved.name
    assert path.read_bytes() == saved.read_bytes()
    assert sorted(p.name for p in (target / "trained").iterdir()) == [saved.name]
