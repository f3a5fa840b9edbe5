"""The recogniser's language model, told what our users say (issue 14).

The small Mandarin model guesses words with a 3-gram language model of general text (`graph/Gr.fst`). In a noisy
community centre, where the sound alone leaves several readings open, that model prefers news and shopping words
to "人社", "认证" and "刷脸". Here it is mixed, half and half, with a bigram of the sentences the understanding
model learns from (flows/, the same data; never the dev or frozen test sentences): the standard static
interpolation of two backoff models (each n-gram either has, the mixed probability; every other word through the
history's backoff, its weight set again so each history's words still sum to one). The open recogniser then hears
what our users say more often, and still everything else: on the spoken dev set at 10 dB its character error
fell from 30 % to 18 % (100 files), on the real recordings of general speech it rose 7.8 → 8.0 % (bench/README.md,
session 25). The state grammars are built at run time from the templates and do not use this file.

Reading and writing OpenFST files is done by OpenFST's own tools (Debian's libfst-tools, and the ngram plugin of
libfst*-plugins-base, which `script/setup` installs); without them the model's own language model is used, and
`assistant doctor` says so. The mixed model is saved beside the understanding model (`flows/.model/`), named by
what it was made from; `load_model` loads a folder of links to the installed model with it in place of
`graph/Gr.fst` whenever one was made for that model. `ASSISTANT_FLOWS_LM=off` loads the model as it came (for
comparing).
"""

import glob
import hashlib
import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

log = logging.getLogger(__name__)

WEIGHT = 0.5
"""The domain bigram's share of each probability: 0.3 / 0.5 / 0.7 gave 19.0 / 18.0 / 17.6 % CER on the spoken
dev set (10 dB, 100 files; 30.0 % without) and 8.0 % / 8.5 % on general speech (7.8 % without): 0.5 buys most of
it for little."""
VERSION = 1
"""Bumped when the way the model is mixed changes, so an old file is made again."""
OFF_ENV = "ASSISTANT_FLOWS_LM"
GRAPH = "graph/Gr.fst"
TOOLS = ("fstprint", "fstcompile", "fstarcsort", "fstconvert")
END = "</s>"
START_WORD = "<s>"
EPS = "<eps>"
_DEGENERATE = 1e-9


class CannotMix(RuntimeError):
    """The mixed language model could not be made (the model's own is used)."""


class NoTools(CannotMix):
    """OpenFST's command-line tools or its ngram plugin are not installed."""


def turned_off() -> bool:
    return os.environ.get(OFF_ENV, "").strip().lower() in ("0", "off", "no", "false")


def tool_env() -> dict:
    """The environment the OpenFST tools need: their ngram plugin (Gr.fst is an NGramFst) is loaded by name from
    the library path, and Debian keeps it in /usr/lib/<arch>/fst/<n>/. Raises NoTools when something is missing."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    plugins = sorted(glob.glob("/usr/lib/*/fst/*/ngram-fst.so") + glob.glob("/usr/lib/fst/ngram-fst.so")
                     + glob.glob("/usr/local/lib/fst/ngram-fst.so"))
    if missing or not plugins:
        raise NoTools(f"OpenFST tools missing: {', '.join(missing) or 'ngram-fst.so plugin'} "
                      "(apt-get install libfst-tools libfst22-plugins-base)")
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(Path(plugins[-1]).parent),
                                                           env.get("LD_LIBRARY_PATH")]))
    return env


def status(in_use: Path | None) -> str:
    """One line for `assistant doctor`: whether the loaded model hears with the mixed language model, and if not,
    what to do."""
    if in_use is not None:
        return "识别的语言模型学过常用说法 (the recogniser's language model knows what users say)"
    if turned_off():
        return f"识别用模型原来的语言模型 ({OFF_ENV}=off)"
    try:
        tool_env()
    except NoTools as exc:
        return f"识别用模型原来的语言模型,吵的时候听常用说法差一些 ({exc})"
    return ("识别的语言模型还没学常用说法:请运行 assistant model adapt "
            "(the recogniser's language model has not been mixed yet: run `assistant model adapt`)")


# --- what users say -----------------------------------------------------------------------------------------


def domain_sentences(flows) -> list[list[str]]:
    """The understanding model's training sentences as the recogniser's words, each once. The heard readings
    (what the recogniser itself wrote for rendered sentences, mistakes and all) are left out: they would teach it
    its own errors."""
    from assistant.recognition.vocab import segment, spoken_forms
    from assistant.understanding.model import HEARD_FILE
    from assistant.understanding.store import training_examples

    texts = dict.fromkeys(ex.text for ex in training_examples(flows) if HEARD_FILE not in ex.origin)
    out = []
    for text in texts:
        forms = spoken_forms(text)
        words = segment(forms[0]) if forms and forms[0] else None
        if words:
            out.append(words)
    return out


@dataclass
class Bigram:
    """A Witten-Bell bigram of the domain sentences (interpolated with their unigram)."""

    unigram: Counter = field(default_factory=Counter)
    following: dict = field(default_factory=lambda: defaultdict(Counter))
    total: int = 0
    seen: dict = field(default_factory=dict)
    """per history: (how many words followed it, how many different ones)"""

    @classmethod
    def of(cls, sentences) -> "Bigram":
        model = cls()
        for words in sentences:
            seq = [START_WORD, *words, END]
            for a, b in pairwise(seq):
                model.following[a][b] += 1
                model.unigram[b] += 1
        model.total = sum(model.unigram.values())
        model.seen = {u: (sum(c.values()), len(c)) for u, c in model.following.items()}
        return model

    def p_unigram(self, word: str) -> float:
        return self.unigram[word] / self.total if self.total else 0.0

    def p(self, word: str, history: str | None) -> float:
        seen = self.seen.get(history)
        if seen is None:
            return self.p_unigram(word)
        count, types = seen
        return (self.following[history][word] + types * self.p_unigram(word)) / (count + types)


# --- the backoff model as OpenFST writes it ------------------------------------------------------------------


@dataclass
class Backoff:
    """A backoff n-gram model in OpenFST's form: per state its word arcs {word: (next, cost)}, its backoff arc
    (state, cost) and its end-of-sentence cost; costs are -ln p. The root (empty history) has no backoff arc."""

    arcs: dict = field(default_factory=lambda: defaultdict(dict))
    back: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    start: int = 0

    @classmethod
    def parse(cls, lines) -> "Backoff":
        g = cls()
        first = True
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) <= 2:
                g.final[int(parts[0])] = float(parts[1]) if len(parts) == 2 and parts[1] else 0.0
                continue
            src, dst = int(parts[0]), int(parts[1])
            if first:
                g.start, first = src, False
            cost = float(parts[4]) if len(parts) > 4 else 0.0
            if parts[2] == EPS:
                g.back[src] = (dst, cost)
            else:
                g.arcs[src][parts[2]] = (dst, cost)
        return g

    def states(self) -> list[int]:
        return sorted(set(self.arcs) | set(self.back) | set(self.final))

    def root(self) -> int:
        roots = [s for s in self.states() if s not in self.back]
        if len(roots) != 1:
            raise ValueError(f"not a backoff model: {len(roots)} states without a backoff arc")
        return roots[0]

    def order(self, state: int) -> int:
        n = 0
        while state in self.back:
            state = self.back[state][0]
            n += 1
        return n

    def p(self, word: str, state: int) -> float:
        """The model's probability of word (or END) after this state's history."""
        scale = 1.0
        while True:
            if word == END:
                if state in self.final:
                    return scale * math.exp(-self.final[state])
            elif word in self.arcs[state]:
                return scale * math.exp(-self.arcs[state][word][1])
            if state not in self.back:
                return 0.0
            state, cost = self.back[state]
            scale *= math.exp(-cost)


def histories(g: Backoff, root: int, order: dict[int, int]) -> dict[int, tuple]:
    """Each state's history (the words it stands for; order[s] of them), from the arcs that lead to it."""
    hist = {root: (), g.start: (START_WORD,)}
    for s in sorted(g.states(), key=lambda state: order[state]):
        h = hist.get(s)
        if h is None:
            continue
        for word, (nxt, _) in g.arcs[s].items():
            if nxt not in hist:
                hist[nxt] = (h + (word,))[-order[nxt]:] if order[nxt] else ()
    return hist


def _first_known(state_of: dict, *keys, default: int) -> int:
    """The state of the longest history that has one (the state a backoff model goes to after a word)."""
    return next((state_of[k] for k in keys if k in state_of), default)


def interpolate(g: Backoff, domain: Bigram, weight: float):
    """Lines of OpenFST text for (1 - weight) x g + weight x domain; the start state's lines first. g is changed
    (states added for domain words that had none)."""
    root = g.root()
    order = {s: g.order(s) for s in g.states()}
    hist = histories(g, root, order)
    state_of = {h: s for s, h in hist.items()}
    # A domain word the general model never saw a bigram after has no state of its own: give it one, and send
    # the arcs that read it there, so what follows it in our sentences can be said.
    new_id = max(g.states()) + 1
    for word in domain.following:
        if word != START_WORD and (word,) not in state_of and word in g.arcs[root]:
            state_of[(word,)], hist[new_id], order[new_id] = new_id, (word,), 1
            g.back[new_id] = (root, 0.0)
            new_id += 1
    for s in list(g.arcs):
        for word, (nxt, cost) in list(g.arcs[s].items()):
            if nxt == root and (word,) in state_of:
                g.arcs[s][word] = (state_of[(word,)], cost)
    mixed: dict[int, dict] = {}
    alpha: dict[int, float] = {}

    def p_mixed(word, s):
        scale = 1.0
        while True:
            if word in mixed[s]:
                return scale * mixed[s][word]
            if s == root:
                return 0.0
            scale *= alpha[s]
            s = g.back[s][0]

    for s in sorted(hist, key=lambda x: (order[x], x)):
        history = hist[s]
        last = history[-1] if history else None
        words = set(g.arcs[s]) | ({END} if s in g.final else set())
        if order[s] == 1 and last in domain.following:
            words |= set(domain.following[last])
        if s == root:
            words |= set(domain.unigram)
        probs = {w: (1 - weight) * g.p(w, s) + weight * (domain.p(w, last) if last else domain.p_unigram(w))
                 for w in sorted(words)}
        mixed[s] = probs
        if s == root:
            continue
        lower = g.back[s][0]
        # The backoff weight that makes this history's words sum to one again, as a change to the original
        # weight: some of the model's states do not sum to one as shipped, and are kept as they were.
        num, den = 1 - sum(probs.values()), 1 - sum(p_mixed(w, lower) for w in probs)
        g_num, g_den = 1 - sum(g.p(w, s) for w in probs), 1 - sum(g.p(w, lower) for w in probs)
        kept = math.exp(-g.back[s][1])
        alpha[s] = kept if min(num, den, g_num, g_den) < _DEGENERATE else kept * (num / den) / (g_num / g_den)
    for s in [g.start] + [x for x in sorted(hist) if x != g.start]:
        if s != root:
            yield f"{s}\t{g.back[s][0]}\t{EPS}\t{EPS}\t{-math.log(alpha[s]):.6f}\n"
        for word, p in mixed[s].items():
            if word == END or p <= 0:
                continue
            nxt = g.arcs[s][word][0] if word in g.arcs[s] else _first_known(
                state_of, (hist[s] + (word,))[-2:], (word,), default=root)
            yield f"{s}\t{nxt}\t{word}\t{word}\t{-math.log(p):.6f}\n"
    for s in sorted(hist):
        if mixed[s].get(END, 0) > 0:
            yield f"{s}\t{-math.log(mixed[s][END]):.6f}\n"


# --- made once, found at load time ---------------------------------------------------------------------------


def fingerprint(model_folder: Path) -> str:
    """Which language model a folder has: its size and first and last megabyte (the whole 26 MB would cost a
    tenth of a second at every load)."""
    path = Path(model_folder) / GRAPH
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        digest.update(f.read(1 << 20))
        f.seek(max(0, size - (1 << 20)))
        digest.update(f.read())
    return digest.hexdigest()[:16]


def key_of(base: str, sentences, weight: float = WEIGHT) -> str:
    digest = hashlib.sha256(f"{VERSION}:{weight}:{base}\n".encode())
    for words in sentences:
        digest.update((" ".join(words) + "\n").encode())
    return digest.hexdigest()[:16]


def _places(flows_root: Path | None = None) -> list[Path]:
    from assistant import FLOWS_DIR
    from assistant.understanding.store import model_dirs_for

    return model_dirs_for(Path(flows_root) if flows_root else FLOWS_DIR)


def build(model_folder: Path, flows, weight: float = WEIGHT, *, if_needed: bool = False, say=print) -> Path:
    """Make the mixed language model for this model folder and flows; returns where it is saved. Raises CannotMix
    (NoTools when OpenFST is missing) with what went wrong."""
    try:
        return _build(model_folder, flows, weight, if_needed, say)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        raise CannotMix(f"{type(exc).__name__}: {exc}") from exc


def _build(model_folder: Path, flows, weight: float, if_needed: bool, say) -> Path:
    env = tool_env()
    model_folder = Path(model_folder)
    base = fingerprint(model_folder)
    sentences = domain_sentences(flows)
    key = key_of(base, sentences, weight)
    places = _places(flows.root)
    for place in places:
        if if_needed and (place / f"lm-{key}.fst").is_file():
            return place / f"lm-{key}.fst"
    started = time.monotonic()
    say(f"识别的语言模型在学常用说法,要一两分钟 (mixing {len(sentences)} sentences into the recogniser's "
        f"language model)")
    with tempfile.TemporaryDirectory() as tmp:
        symbols = Path(tmp) / "words.txt"
        printed = subprocess.run(["fstprint", f"--save_isymbols={symbols}", str(model_folder / GRAPH)], env=env,
                                 capture_output=True, text=True, check=True)
        g = Backoff.parse(printed.stdout.splitlines())
        del printed
        text = Path(tmp) / "g.txt"
        with open(text, "w", encoding="utf-8") as f:
            f.writelines(interpolate(g, Bigram.of(sentences), weight))
        del g
        out = Path(tmp) / "g.fst"
        with open(out, "wb") as f:
            compiled = subprocess.Popen(["fstcompile", f"--isymbols={symbols}", f"--osymbols={symbols}",
                                         "--keep_isymbols", "--keep_osymbols", str(text)], env=env,
                                        stdout=subprocess.PIPE)
            # Sorted by input label for the decoder's look-ahead composition, and back into the compact
            # NGramFst form the model shipped in (the same 26 MB, not twice as much as a plain FST).
            arcsort = subprocess.Popen(["fstarcsort", "--sort_type=ilabel"], env=env, stdin=compiled.stdout,
                                       stdout=subprocess.PIPE)
            convert = subprocess.Popen(["fstconvert", "--fst_type=ngram"], env=env, stdin=arcsort.stdout, stdout=f)
            assert compiled.stdout is not None and arcsort.stdout is not None
            compiled.stdout.close()  # the next tool holds it now: a tool that dies ends the pipe
            arcsort.stdout.close()
            if any(p.wait() for p in (convert, arcsort, compiled)):
                raise CannotMix("OpenFST could not compile the mixed language model")
        stamp = {"base": base, "weight": weight, "version": VERSION, "sentences": len(sentences),
                 "seconds": round(time.monotonic() - started, 1)}
        for place in places:
            try:
                place.mkdir(parents=True, exist_ok=True)
                target = place / f"lm-{key}.fst"
                shutil.copyfile(out, target.with_suffix(".tmp"))
                target.with_suffix(".tmp").replace(target)
                target.with_suffix(".json").write_text(json.dumps(stamp), encoding="utf-8")
            except OSError as exc:
                log.info("cannot save the mixed language model in %s: %s", place, exc)
                continue
            for old in place.glob("lm-*.json"):
                if old != target.with_suffix(".json") and _stamp(old).get("base") == base:
                    old.with_suffix(".fst").unlink(missing_ok=True)
                    old.unlink(missing_ok=True)
            say(f"学好了 (mixed in {stamp['seconds']} s): {target}")
            return target
    raise OSError("nowhere to save the mixed language model")


def _stamp(path: Path) -> dict:
    """What a mixed model was made from ({} when its stamp cannot be read)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def mixed_for(model_folder: Path) -> Path | None:
    """The newest mixed language model made for this model folder's own, or None (or when turned off)."""
    if turned_off():
        return None
    try:
        base = fingerprint(model_folder)
    except OSError:
        return None
    found = []
    for place in _places():
        for stamp in place.glob("lm-*.json"):
            info = _stamp(stamp)
            fst = stamp.with_suffix(".fst")
            if info.get("base") == base and info.get("version") == VERSION and fst.is_file():
                found.append(fst)
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def mixed_view(model_folder: Path) -> Path | None:
    """A folder of links to model_folder with the mixed language model in place of graph/Gr.fst (in the user data
    dir; made once per model folder and mixed model), or None when there is none for it or it cannot be linked."""
    from assistant.paths import data_dir

    model_folder = Path(model_folder).resolve()
    fst = mixed_for(model_folder)
    if fst is None:
        return None
    name = hashlib.sha256(f"{model_folder}:{fst.resolve()}".encode()).hexdigest()[:16]
    view = data_dir() / "models" / "with-flows-lm" / name
    if (view / GRAPH).is_file():
        return view
    try:
        tmp = Path(tempfile.mkdtemp(dir=_mkdir(view.parent)))
        for item in model_folder.iterdir():
            if item.name != "graph":
                (tmp / item.name).symlink_to(item)
        (tmp / "graph").mkdir()
        for item in (model_folder / "graph").iterdir():
            (tmp / "graph" / item.name).symlink_to(fst.resolve() if item.name == "Gr.fst" else item)
        try:
            tmp.rename(view)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
        return view if (view / GRAPH).is_file() else None
    except OSError as exc:
        log.info("cannot link the mixed language model in: %s", exc)
        return None


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
