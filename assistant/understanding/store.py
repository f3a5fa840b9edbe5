"""Where the trained model lives: an .npz (about 23 MB) named by a hash of flows/ and of the training code.

The model of the committed flows is committed too (flows/trained/, `assistant train --ship`): training takes 6 to
13 minutes on a 2-core machine, which a relative setting up an old laptop, a kiosk and CI would otherwise wait for.
A changed flow file changes the hash, so the next start retrains by itself (said on stderr) into flows/.model/ or
the user cache; `assistant train` does it explicitly. A damaged or foreign file is retrained, never trusted.
"""

import ast
import hashlib
import logging
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from assistant import paths
from assistant.understanding.data import flows_digest, load_examples
from assistant.understanding.features import FEATURES_VERSION
from assistant.understanding.model import IntentModel, Trainer

log = logging.getLogger(__name__)


def model_dir() -> Path:
    """user_cache_dir("pension-assistant")/understanding; $ASSISTANT_CACHE_DIR replaces the user cache dir."""
    return paths.cache_dir() / "understanding"


def model_dirs(flows) -> list[Path]:
    """Where a model for these flows may be, in the order they are tried: $ASSISTANT_CACHE_DIR (when set), beside
    the flows themselves (`flows/.model/`, so another HOME or a kiosk account finds what `script/setup` trained),
    then the user cache. The first writable one is where a new model is saved."""
    return model_dirs_for(Path(flows.root))


def model_dirs_for(flows_root: Path) -> list[Path]:
    """model_dirs for the flows folder at flows_root (the recogniser's mixed language model is kept there too)."""
    places = []
    if os.environ.get("ASSISTANT_CACHE_DIR"):
        places.append(model_dir())
    places.append(Path(flows_root) / ".model")
    places.append(paths.user_cache_dir() / "understanding")
    return list(dict.fromkeys(places))


SHIPPED = "trained"
"""The folder of flows/ that holds the model of these flows as committed (`assistant train --ship`): a fresh
checkout, a kiosk and CI load it instead of training for minutes. It is read only when its digest is this
checkout's (flows and training code), so a stale one is never used; nothing saves into it by itself."""


def shipped_dir(flows_root) -> Path:
    return Path(flows_root) / SHIPPED


def region_names(flows) -> list[str]:
    """Place names for the {region} list of templates: every province, and an even spread of about a hundred
    of the division table's cities and counties (all of them would only make training slower)."""
    from assistant.understanding.regions import all_place_names

    names = all_place_names()
    return sorted(set(flows.provinces) | set(names[::60]))


_PACKAGE = Path(__file__).resolve().parent
TRAINING_CODE = sorted({*_PACKAGE.glob("*.py"), _PACKAGE.parent / "numbers.py",
                        _PACKAGE.parent / "recognition" / "data" / "words.txt.gz"}
                       - {_PACKAGE / "commands.py", _PACKAGE / "heard.py"})
"""The code and data a training run reads besides flows/: its features, normalising, slots (dates, places,
numbers), noisy copies, training and calibration. Part of the digest, so a model trained by other code is never
loaded as this code's. Session 42: dates.py changed which sentences carry a date slot (a feature) after a model was
trained; the checkout kept that model, under an unchanged digest, and passed its tests, while CI trained the new
code's model, which read "我女儿在国外" as abroad at p 0.874 over the act band 0.868. FEATURES_VERSION alone relied on
remembering to bump it. (The command-line tools and the hearing of sentences are left out: they train nothing.)"""


def code_digest() -> str:
    """A hash of TRAINING_CODE; of a Python file its syntax tree, so a comment or a reflowed line retrains nothing."""
    h = hashlib.sha256()
    for path in TRAINING_CODE:
        h.update(path.name.encode())
        if not path.exists():
            h.update(b"-")
        elif path.suffix == ".py":
            h.update(ast.dump(ast.parse(path.read_text(encoding="utf-8"))).encode())
        else:
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def digest_of(flows) -> str:
    from assistant.understanding.features import StateKind

    # What training reads of the dialog besides the files: each state's intents, kind, the answers its own `on:`
    # makes moves (calibrated at the act band there, model.answers_by_state) and the intents of the same effect.
    structure = sorted((s, tuple(flows.allowed_intents(s)), StateKind.of(flows, s).tags,
                        tuple(sorted(set(flows.states[s].on) & set(flows.answer_of))),
                        tuple(sorted(flows.same_effect(s).items()))) for s in flows.states)
    from assistant.understanding.model import CALIBRATION
    from assistant.understanding.normalize import Normalizer

    return flows_digest(Path(flows.root),
                        repr((FEATURES_VERSION, CALIBRATION, code_digest(), flows.fillers, Normalizer.of(flows).kept,
                              structure)))


def training_examples(flows, config=None):
    """Every training sentence of flows/ (checked: a mistake is a FlowError at its file:line)."""
    from assistant.understanding.data import load_config
    from assistant.understanding.normalize import Normalizer

    return load_examples(flows, Path(flows.root), config or load_config(Path(flows.root)), region_names(flows),
                         Normalizer.of(flows).text)


def train(flows, understander, *, calibrate=True):
    """Train from flows/ and return (model, info); model.digest names the files as they were read."""
    start = time.monotonic()
    # Taken before the files are read: one edited during the minutes of training must not be saved under its new
    # digest with the old sentences learnt (a template added mid-training once was; save_trained refuses that).
    digest = digest_of(flows)
    examples = training_examples(flows, understander.config)
    day = date(2026, 6, 1)  # only whether a date is said matters to training, not which: a fixed day keeps it stable

    def reading(ranked, state, cues):
        same = flows.same_effect(state)
        return understander.post_process(ranked, cues, same), same

    trainer = Trainer(flows, understander.featurizer, understander.config,
                      allowed=flows.readable_intents,  # as the dialog reads turns (Session.allowed_intents)
                      slot_names=lambda raw: understander.slot_names(raw, day), reading=reading)
    from assistant.understanding.data import load_held_out

    held_out = load_held_out(flows, Path(flows.root), understander.config)
    model, info = trainer.train(examples, calibrate=calibrate, digest=digest, held_out=held_out)
    info["seconds"] = round(time.monotonic() - start, 1)
    return model, info


def load_or_train(flows, understander, *, cache_dir: Path | None = None, retrain=False) -> IntentModel:
    folders = [Path(cache_dir)] if cache_dir else model_dirs(flows)
    digest = digest_of(flows)
    for folder in ([Path(cache_dir)] if cache_dir else places_to_look(flows)) if not retrain else []:
        path = folder / f"intents-{digest}.npz"
        if path.exists():
            try:
                return IntentModel.load(path)
            except Exception as exc:  # a damaged or foreign file: retrain rather than trust it
                log.warning("understanding model %s unreadable (%s); retraining", path, exc)
    print("正在学习听懂的说法,第一次要等一会儿…… (training the understanding model from flows/)", file=sys.stderr)
    model, info = train(flows, understander)
    print(f"学好了 (trained in {info['seconds']:.0f} s)", file=sys.stderr)  # setup's log shows what training cost
    log.info("trained understanding model: %s", info)
    save_trained(model, flows, folders)
    return model


def save_trained(model: IntentModel, flows, folders) -> Path | None:
    """Saved under the digest it was trained at, unless flows/ changed while it learnt (then it is used this time
    and learnt again next time, said on stderr)."""
    if digest_of(flows) != model.digest:
        print("学的时候说法文件改过了,这次先用着,下次启动再学一遍 (flows/ changed during training; not saved)",
              file=sys.stderr)
        return None
    return save_somewhere(model, folders, model.digest)


def save_somewhere(model: IntentModel, folders, digest: str) -> Path | None:
    """Saved in the first folder that can be written; a read-only install still answers, it just retrains next
    time (said on stderr)."""
    for folder in folders:
        try:
            return save(model, folder, digest)
        except OSError:
            continue
    print("学好的模型存不下来,下次启动还要再学一遍 (could not save the understanding model)", file=sys.stderr)
    return None


def places_to_look(flows) -> list[Path]:
    """Where a model of these flows is read from, in order: where one is saved (model_dirs), then the committed one
    last (it is never saved into; ship() writes it, on purpose)."""
    return [*model_dirs(flows), shipped_dir(flows.root)]


def find_saved(flows) -> Path | None:
    """The saved model file of these flows and this code, wherever it is (shipped or trained here)."""
    name = f"intents-{digest_of(flows)}.npz"
    return next((f / name for f in places_to_look(flows) if (f / name).is_file()), None)


def ship(flows) -> Path:
    """The saved model of these flows copied, byte for byte, into flows/trained/ (the one model there), to be
    committed with the flows it was trained from (`assistant train --ship` trains first when none is saved)."""
    import shutil

    source = find_saved(flows)
    if source is None:
        raise OSError("no trained model of these flows is saved, so there is nothing to ship")
    target = shipped_dir(flows.root) / source.name
    if source != target:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target.with_suffix(".tmp"))
        os.replace(target.with_suffix(".tmp"), target)
    for old in target.parent.glob("intents-*.npz"):
        if old != target:
            old.unlink()
    return target


def save(model: IntentModel, folder: Path, digest: str) -> Path:
    path = Path(folder) / f"intents-{digest}.npz"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so two processes starting together never read half a file.
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        model.save(tmp)
    os.replace(tmp.name, path)
    # Keep a few: checkouts with different flows (a test copy, a volunteer's edit) may share this folder.
    for old in sorted(folder.glob("intents-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)[4:]:
        old.unlink(missing_ok=True)
    return path
