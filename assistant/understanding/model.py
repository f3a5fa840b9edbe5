"""A small learned classifier: multinomial logistic regression over the features of features.py.

Trained with scikit-learn from the sentences in flows/ (data.py), then kept as plain numpy weights, so answering
a turn is a dot product over the few features the turn has. The act / confirm / choose bands come from
cross-validation on the training data (goals in flows/understanding.yaml), never from hand-set numbers.
"""

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from assistant.errors import FlowError
from assistant.understanding.data import OUT_OF_SCOPE, Example
from assistant.understanding.features import FEATURES_VERSION, Featurizer, StateKind
from assistant.understanding.noise import noisy

HEARD_FILE = "state_examples_heard.tsv"
"""Training sentences as the recogniser heard them (heard.py): label-noisy by nature."""
TEMPLATE_WEIGHT = 0.5
"""A template's expansions teach its pattern: they may not outweigh the hand-written sentences."""
HEARD_WEIGHT = 0.25
"""A heard sentence may have lost its meaning in recognition, and there are thousands of them (a fifth of all
sentences): at half weight they made the model surer on the dev writers' sentences, wrong ones included."""


@dataclass(frozen=True)
class Bands:
    act: float
    """at or above: act on the best reading"""
    confirm: float
    """between confirm and act: ask "您是说……吗?"; below: not understood"""
    choose: float
    """two readings each at least this likely, together at or above `act`: ask which one"""
    answer: float | None = None
    """the act band for a question answered where the user is (they hear an answer and stay on their step, so a
    wrong one costs a moment, not their place); None: the same as `act`"""
    pair: float | None = None
    """below `confirm`, two readings (the second at least `choose`) together at or above this: ask which one
    rather than "没听清" (the truth is one of the two often enough); None: only at `act`"""

    def act_for(self, intent, answers) -> float:
        return self.answer if self.answer is not None and intent in answers else self.act

    def as_array(self):
        return np.array([self.act, self.confirm, self.choose, self.act if self.answer is None else self.answer,
                         self.act if self.pair is None else self.pair], dtype=np.float64)


def feature_hash(feature: str) -> int:
    """A stable 63-bit number for a feature: the model keeps these, not 100,000 strings and their index."""
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little") >> 1


class IntentModel:
    """Weights and feature hashes; `rank` gives the allowed intents with their probabilities."""

    def __init__(self, classes, hashes, weights, bias, bands: Bands, digest: str = ""):
        self.classes = [str(c) for c in classes]
        self.class_index = {c: i for i, c in enumerate(self.classes)}
        hashes = np.asarray(hashes, dtype=np.int64)
        order = np.argsort(hashes)
        self.hashes = hashes[order]
        # classes × features in hash order; kept as stored (float16 from a file): a turn converts only its columns
        self.weights = np.asarray(weights)[:, order]
        self.bias = np.asarray(bias, dtype=np.float32)
        self.bands = bands
        self.digest = digest

    @property
    def size(self) -> int:
        return len(self.hashes)

    def _columns(self, feats) -> dict:
        """feature -> its column, for the features the model knows."""
        names = list(dict.fromkeys(feats))
        wanted = np.array([feature_hash(f) for f in names], dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        return {f: int(p) for f, p, w in zip(names, pos, wanted, strict=True) if self.hashes[p] == w}

    def _vector(self, feats: list[str]) -> tuple[np.ndarray, float]:
        idx = np.array(sorted(self._columns(feats).values()), dtype=np.int64)
        scale = 1.0 / np.sqrt(max(len(set(feats)), 1))
        return idx, scale

    def logits(self, feats: list[str]) -> np.ndarray:
        idx, scale = self._vector(feats)
        return self.weights[:, idx].astype(np.float32).sum(axis=1) * scale + self.bias

    def rank(self, feats: list[str], allowed) -> list[tuple[str, float]]:
        """(intent, probability) over the allowed intents and out_of_scope, most likely first."""
        names = [c for c in dict.fromkeys([*allowed, OUT_OF_SCOPE]) if c in self.class_index]
        rows = np.array([self.class_index[c] for c in names])
        z = self.logits(feats)[rows].astype(np.float64)
        p = np.exp(z - z.max())
        p /= p.sum()
        order = np.argsort(-p)
        return [(names[i], float(p[i])) for i in order]

    def contributions(self, feats: list[str], intent: str, against: str | None = None) -> list[tuple[str, float]]:
        """How much each feature pushed `intent` (over `against`, if given): for `assistant why`."""
        columns = self._columns(feats)
        scale = 1.0 / np.sqrt(max(len(set(feats)), 1))
        pairs = []
        for name, col in columns.items():
            w = float(self.weights[self.class_index[intent], col])
            if against is not None:
                w -= float(self.weights[self.class_index[against], col])
            pairs.append((name, w * scale))
        return sorted(pairs, key=lambda p: -abs(p[1]))

    # --- storage -------------------------------------------------------------------------------------
    def save(self, path):
        # Uncompressed: a chat process starts by reading it, and decompressing took most of a second.
        np.savez(path, classes=np.array(self.classes), hashes=self.hashes,
                            weights=self.weights.astype(np.float16), bias=self.bias, bands=self.bands.as_array(),
                            digest=np.array(self.digest), version=np.array(FEATURES_VERSION))

    @classmethod
    def load(cls, path) -> "IntentModel":
        with np.load(path, allow_pickle=False) as data:
            if str(data["version"]) != FEATURES_VERSION:
                raise ValueError("model file from another feature version")
            bands = [float(x) for x in data["bands"]]
            return cls(data["classes"], data["hashes"], data["weights"], data["bias"],
                       Bands(bands[0], bands[1], bands[2], bands[3] if len(bands) > 3 else None,
                             bands[4] if len(bands) > 4 else None),
                       str(data["digest"]))


@dataclass(frozen=True)
class _Row:
    feats: list
    label: str
    allowed: tuple
    group: str
    weight: float
    original: bool
    state: str = ""
    cues: frozenset = frozenset()
    sentence: int = 0
    """which training sentence this row is (its noisy copies share the number)"""


class Trainer:
    """Turns examples into weighted feature rows (with noisy copies) and fits the model."""

    def __init__(self, flows, featurizer: Featurizer, config, allowed=None,
                 slot_names=lambda raw: (), reading=None):
        self.flows = flows
        self.featurizer = featurizer
        self.slot_names = slot_names
        # reading(ranked, state, cues) -> (ranked, same): what the understander does to the model's ranking before
        # it decides (pooling readings with the same effect, dropping uncued ones); calibration does the same.
        self.reading = reading or (lambda ranked, state, cues: (ranked, dict[str, str]()))
        self.training = config["training"]
        self.bands_goal = config["bands"]
        # The readings acted on at the answer band, and only they, calibrate it: a strict answer, or one that the
        # reading's state makes a move, acts at the act band of moves and is calibrated with the moves.
        self.answers = answers_by_state(flows, config)
        self.seed = int(self.training["seed"])
        # allowed(state): the intents a turn there may be read as (default: the state's own and the global ones)
        allowed = allowed or flows.allowed_intents
        self.allowed_by_state = {s: tuple(allowed(s)) for s in flows.states}
        self.states_for_intent = defaultdict(list)
        for state, allowed in self.allowed_by_state.items():
            for intent in allowed:
                self.states_for_intent[intent].append(state)
        self.kinds = {s: StateKind.of(flows, s) for s in flows.states}
        self.steps: list[int] = []
        """the solver's steps in each fit so far (train() reports them)"""

    def rows(self, examples: list[Example]) -> list[_Row]:
        out = []
        copies = int(self.training["noisy_copies"])
        all_states = list(self.flows.states)
        for number, ex in enumerate(examples):
            rng = random.Random(f"{self.seed}:{ex.origin}:{ex.text}:{ex.intent}")
            states = ex.states or self.states_for_intent.get(ex.intent) or all_states
            if ex.states is None and ex.intent == "next":
                # A done-report is heard in the step it reports: "微信打开了" in "打开微信".
                normalised = self.featurizer.text(ex.text)
                states = [s for s in states if self.featurizer.echoes(normalised, self.kinds[s])] or states
            slots = self.slot_names(ex.text)
            # A template's expansions teach its pattern, and a heard sentence may have lost its meaning in
            # recognition: neither may outweigh hand-written sentences, nor judge the model in calibration.
            weight = ex.weight * (HEARD_WEIGHT if HEARD_FILE in ex.origin else
                                  TEMPLATE_WEIGHT if "templates.yaml" in ex.origin else 1.0)
            for k in range(copies + 1):
                state = rng.choice(states)
                text = ex.text if k == 0 else noisy(ex.text, rng)
                normalised = self.featurizer.text(text)
                feats = self.featurizer.features_of_normalised(normalised, self.kinds[state], slots)
                out.append(_Row(feats, ex.intent, self.allowed_by_state[state], ex.group,
                                weight if k == 0 else weight * 0.5, k == 0 and HEARD_FILE not in ex.origin, state,
                                frozenset(self.featurizer.cues_in(normalised)), number))
        return out

    def fit(self, rows: list[_Row], classes: list[str], start: IntentModel | None = None) -> IntentModel:
        """The model fitted to `rows`; from `start`'s weights (a model of most of the same rows) when given.

        The fit goes to its optimum either way (`training: tol`), which is unique (an L2-penalised logistic
        regression), so where it starts changes only how many steps it takes: the cross-validation folds, each
        two thirds of the rows, start from the model of all of them (session 39: 67 / 45 / 57 steps after 118 for
        all rows; from zero a fold takes about as many as all rows)."""
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        # A feature of a single sentence (its n-grams, shared with its own noisy copies) teaches nothing general,
        # and each one costs the solver a weight per class: kept only when `min_sentences` sentences have it
        # (session 40: 248,142 features in two rows, 146,676 in two sentences; the solver's own step costs in
        # proportion, bench/README.md).
        min_sentences = int(self.training["min_sentences"])
        sentences: dict[str, set] = defaultdict(set)
        for row in rows:
            for f in row.feats:
                sentences[f].add(row.sentence)
        kept = {f for f, where in sentences.items() if len(where) >= min_sentences}
        del sentences
        vocab: dict[str, int] = {}
        indptr, indices, values = [0], [], []
        for row in rows:
            feats = sorted({vocab.setdefault(f, len(vocab)) for f in row.feats if f in kept})
            indices += feats
            values += [1.0 / np.sqrt(max(len(set(row.feats)), 1))] * len(feats)
            indptr.append(len(indices))
        x = csr_matrix((np.array(values, dtype=np.float32), np.array(indices), np.array(indptr)),
                       shape=(len(rows), len(vocab)))
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[r.label] for r in rows])
        # Fitted to its optimum (understanding.yaml `training: tol`), not stopped early: at tol 1e-3 lbfgs stopped
        # after 36 of its steps, and where it stopped moved with any change of the data (bench/README.md, session 26).
        clf = LogisticRegression(C=float(self.training["c"]), max_iter=int(self.training["max_iter"]),
                                 tol=float(self.training["tol"]), class_weight=self.training.get("class_weight"))
        if start is not None:
            present = np.unique(y)  # the fit's classes, in its order: those with rows here
            rows_of = np.array([start.class_index[classes[c]] for c in present])
            columns = start._columns(vocab)  # this fit's features the start model knows (the rest start at 0)
            init = np.zeros((len(present), len(vocab)))
            if columns:
                mine = np.array([vocab[f] for f in columns])
                init[:, mine] = start.weights[np.ix_(rows_of, np.array(list(columns.values())))]
            clf.set_params(warm_start=True)
            clf.coef_, clf.intercept_ = init, start.bias[rows_of].astype(np.float64)
        clf.fit(x, y, sample_weight=np.array([r.weight for r in rows]))
        self.steps.append(int(np.max(clf.n_iter_)))
        # Classes without any example get a very low bias: never predicted, but still addressable.
        weights = np.zeros((len(classes), len(vocab)), dtype=np.float32)
        bias = np.full(len(classes), -30.0, dtype=np.float32)
        for k, c in enumerate(clf.classes_):
            weights[c] = clf.coef_[k]
            bias[c] = clf.intercept_[k]
        hashes = np.zeros(len(vocab), dtype=np.int64)
        for f, i in vocab.items():
            hashes[i] = feature_hash(f)
        return IntentModel(classes, hashes, weights, bias, Bands(1.0, 1.0, 1.0))

    def calibrate(self, rows: list[_Row], classes: list[str], start: IntentModel | None = None) -> tuple[Bands, dict]:
        """Cross-validated (p1, p2, right?) for every hand-written sentence as written (not the noisy copies, not the
        heard ones: their words may no longer carry their label), then the bands that meet the goals."""
        folds = int(self.bands_goal["folds"])
        # A group's fold comes from its group (file:line), not from its place in a shuffled list (8 new sentences
        # moved the answer band 0.74 → 0.76 and dev_answers 69 → 62 %, session 15). A line added at the end of a
        # file moves only its own fold; one inserted mid-file still shifts the line numbers, so the folds, of all
        # below it (session 19: 0.92 → 0.96; keying by the words is measured in bench/README.md, not yet in).
        fold_of = {g: int(hashlib.sha1(f"{self.seed}:{g}".encode()).hexdigest(), 16) % folds
                   for g in {r.group for r in rows}}
        seen, answered = [], []
        for k in range(folds):
            model = self.fit([r for r in rows if fold_of[r.group] != k], classes, start=start)
            for r in rows:
                if fold_of[r.group] == k and r.original:
                    ranked, same = self.reading(model.rank(r.feats, r.allowed), r.state, r.cues)
                    seen.append(_seen(ranked, same, r.label, r.original))
                    answered.append(seen[-1][4] in self.answers[r.state])
        return bands_from(seen, self.bands_goal, answered=answered), {
            "cv_rows": len(seen), "cv_accuracy": sum(s[2] for s in seen) / max(len(seen), 1)}

    def held_out(self, model: IntentModel, examples: list[Example]) -> tuple[Bands, dict]:
        """(p1, p2, right?) of the trained model for every calibration sentence as written, in its state and
        read as the understander reads it, then the bands that meet the goals. A sentence by a writer the training
        data never saw meets the model as a user's does; cross-validation on the training writers found only
        about half the wrong actions new writers' sentences met."""
        seen, answered = [], []
        for ex in examples:
            state = (ex.states or (self.flows.start,))[0]
            normalised = self.featurizer.text(ex.text)
            feats = self.featurizer.features_of_normalised(normalised, self.kinds[state], self.slot_names(ex.text))
            cues = frozenset(self.featurizer.cues_in(normalised))
            ranked, same = self.reading(model.rank(feats, self.allowed_by_state[state]), state, cues)
            seen.append(_seen(ranked, same, ex.intent, True))
            answered.append(seen[-1][4] in self.answers[state])
        return bands_from(seen, self.bands_goal, answered=answered), {
            "held_out_rows": len(seen), "held_out_accuracy": sum(s[2] for s in seen) / max(len(seen), 1)}

    def train(self, examples: list[Example], *, calibrate=True, digest="",
              held_out: list[Example] | None = None) -> tuple[IntentModel, dict]:
        """The model from `examples`; its bands from `held_out` sentences when given (one fit), else from
        cross-validation (`folds` more fits)."""
        classes = sorted({*self.flows.intents, OUT_OF_SCOPE})
        rows = self.rows(examples)
        info: dict = {"examples": len(examples), "rows": len(rows)}
        self.steps.clear()
        model = self.fit(rows, classes)
        # The folds start from the model of all rows (fit's docstring): the same optimum in fewer steps.
        bands, cv = (self.calibrate(rows, classes, start=model) if calibrate and not held_out
                     else (Bands(0.5, 0.3, 0.25), {}))
        info["steps"] = list(self.steps)
        if calibrate and held_out:
            bands, cv = self.held_out(model, held_out)
        info.update(cv)
        model.bands, model.digest = bands, digest
        info["features"] = model.size
        return model, info


def _seen(ranked, same: dict, label: str, original: bool) -> tuple:
    """(p1, p2, top right?, original, top, one of the top two right?) of one cross-validated or held-out reading."""
    (top, p1), (second, p2) = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0.0))
    truth = same.get(label, label)
    right = same.get(top, top) == truth
    return p1, p2, right, original, top, right or (second is not None and same.get(second, second) == truth)


CALIBRATION = "smooth-1"
"""How the bands are read off the cross-validated readings; part of the model's digest (store.digest_of), so a model
calibrated another way is never loaded as if calibrated this way."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def accuracy_curve(p: np.ndarray, right: np.ndarray,
                   is_answer: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """How often a reading is right, as a smooth rising function of its probability: a logistic fit of "right?"
    (`right`) on logit(p1) (`p`), with one more term for questions answered in place (`is_answer`; they are right
    more often at the same p).

    Why not count: the bands used to be read off the 0/1 counts directly (the lowest p at which the wrong ones
    reached the budget; the first window of 50 guesses below it right less than half the time), and they swung
    with every retraining — act 0.92-0.95, confirm 0.43-0.57 over nine trainings, worth 3-5 points of accuracy —
    because a handful of sentences decided them. Resampling one training's readings showed the counts alone move
    that much (act 0.89-0.93, confirm 0.47-0.61, 5-95 %); read off this curve, 0.92-0.94 and 0.38-0.42
    (bench/README.md, session 23). Returns each reading's chance of being right and (slope, intercept, answer term)."""
    if right.all() or not right.any():  # nothing to fit a slope on: every reading is as right as the sample
        share = float(right.mean()) if len(right) else 0.0
        return np.full(len(p), share), (0.0, float(_logit(np.array([share]))[0]), 0.0)
    from sklearn.linear_model import LogisticRegression

    x = np.c_[_logit(p), is_answer.astype(float)]
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(x, right)
    (slope, answer_term), intercept = fit.coef_[0], fit.intercept_[0]
    return fit.predict_proba(x)[:, 1], (float(slope), float(intercept), float(answer_term))


def _lowest_band(p: np.ndarray, chance_right: np.ndarray, wrong_max: float) -> float:
    """The lowest probability down to which the readings, taken from the surest, are expected to be wrong at most
    `wrong_max` times (1.0 when even the surest one alone is over)."""
    order = np.argsort(-p, kind="stable")
    expected_wrong = np.cumsum(1.0 - chance_right[order])
    within = np.nonzero(expected_wrong <= wrong_max)[0]
    return float(p[order][within[-1]]) if len(within) else 1.0


def in_place_answers(flows, config) -> frozenset:
    """The intents answered where the user is (dialog.yaml `answers`) that are acted on at the answer band, less
    those in `bands: strict_answers` (understanding.yaml): an answer that alarms ("这多半是骗子!") is no cheap mistake
    when the user said nothing of the kind, so it needs the act band of moves everywhere (one that only some steps'
    own `on:` make a move is held to it there alone: answers_by_state). Calibration counts them with the moves,
    where they are acted on (until session 48 with the answers: "failed" listed there raised the answer band)."""
    bands = config["bands"]
    strict = bands.get("strict_answers") or []
    line = bands.line_of("strict_answers") if hasattr(bands, "line_of") and "strict_answers" in bands else 0
    if not isinstance(strict, list):
        raise FlowError(config.file, line, "'strict_answers' must be a list of intents from dialog.yaml's answers")
    for intent in strict:
        if str(intent) not in flows.answer_of:
            raise FlowError(config.file, line, f"'{intent}' in strict_answers is not an answered intent "
                                               "(dialog.yaml: answers)")
    return frozenset(flows.answer_of) - set(map(str, strict))


def answers_by_state(flows, config) -> dict:
    """state -> the intents acted on at the answer band there: the in-place answers (in_place_answers) less those
    the state's own `on:` makes a move ("我提交了" at the result step goes on to the waiting step; "还是不行" at a face
    step starts its trouble walk): a move takes the user from their place, so it needs the act band of moves there,
    and only there (until session 49 `submitted` was acted on at the answer band everywhere). None: no state."""
    everywhere = in_place_answers(flows, config)
    return {None: everywhere, **{name: everywhere - set(state.on) for name, state in flows.states.items()}}


def bands_from(seen, goal, answered=()) -> Bands:
    """The lowest act threshold at which the turns acted on wrongly stay within `wrong_acted_max` of all turns
    (the figure a user lives with, and the bench's), and the confirm threshold below which a guess is right less
    than `confirm_min_right` of the time (asking about it would mostly annoy) — both read off the smooth accuracy
    curve (accuracy_curve), not off the counts.

    With `answer_wrong_max`, readings whose top intent is answered in place in the reading's state (`answered`,
    one flag per reading; none when empty) get their own act band, calibrated on those readings to that share of
    all turns; the moves keep `wrong_acted_max` for themselves.

    A band never falls below its `floor` (act / answer / confirm): the cross-validated curve moves with a few dozen
    easy sentences, and a band that drops with them buys the failure they mend with wrong acts elsewhere."""
    right_min = float(goal["confirm_min_right"])
    ordered = sorted(seen, key=lambda s: -s[0])
    split = "answer_wrong_max" in goal and any(answered)
    p = np.array([s[0] for s in seen], dtype=float)
    is_answer = np.array(answered if split else [False] * len(seen), dtype=bool)
    chance, (slope, intercept, _) = accuracy_curve(p, np.array([bool(s[2]) for s in seen]), is_answer)
    answer = None
    if split:
        act = _lowest_band(p[~is_answer], chance[~is_answer], float(goal["wrong_acted_max"]) * len(seen))
        answer = round(_lowest_band(p[is_answer], chance[is_answer], float(goal["answer_wrong_max"]) * len(seen)), 4)
    else:
        act = _lowest_band(p, chance, float(goal["wrong_acted_max"]) * len(seen))
    # Where the curve of moves crosses `right_min` (below it, a guess is mostly wrong); no rising curve: never ask.
    confirm = (float(1 / (1 + np.exp(-(float(_logit(np.array([right_min]))[0]) - intercept) / slope)))
               if slope > 0 else act)
    floor = goal.get("floor") or {}
    act = max(act, float(floor.get("act", 0.0)))
    answer = None if answer is None else max(answer, float(floor.get("answer", 0.0)))
    confirm = max(confirm, float(floor.get("confirm", 0.0)))
    confirm = min(confirm, act, answer if answer is not None else act)
    second_min = float(goal["choose_second_min"])
    return Bands(round(act, 4), round(confirm, 4), second_min, answer,
                 _pair_band(ordered, confirm, second_min, goal.get("pair_min_right")))


def _pair_band(ordered, confirm: float, second_min: float, min_right) -> float | None:
    """The lowest sum of the two likeliest readings at which, among turns below the confirm band whose second
    reading is at least `second_min`, the truth is one of the two at least `min_right` of the time (cumulated from
    the surest pair down); None when not asked for or never met."""
    if min_right is None:
        return None
    pairs = sorted((s for s in ordered if s[0] < confirm and s[1] >= second_min), key=lambda s: -(s[0] + s[1]))
    band, right = None, 0
    for n, s in enumerate(pairs, 1):
        right += s[5]
        if right / n >= float(min_right):
            band = round(s[0] + s[1], 4)
    return band
