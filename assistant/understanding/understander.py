"""What did the user mean? The learned model's reading, with the guards that must never fail around it.

Order, every turn (secrets are masked by the dialog before anything reaches this):
1. scams before channels — a scam story is a scam whatever channel or "12333" it names (patterns in
   flows/understanding.yaml, and a person asking for money or secrets);
2. the model ranks the intents the state allows, plus out_of_scope;
3. a turn of fillers and particles or sounds alone is not understood unless it is itself a phrase of an allowed intent
   ("嗯" is a yes); a negation, a question or "not yet" never counts as done/yes, and something gone wrong
   ("屏幕黑了") is not even asked about as done (guards: not_done_cues, never_done_cues);
4. two readings equally likely → ask which; goodbye (which wipes a kiosk) only when sure;
5. the act / confirm / not-understood band, from cross-validation.
Slots (channel, region, date, relative, scam kind) are read alongside, so a two-part sentence acts on both.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from assistant import clock
from assistant.errors import FlowError
from assistant.understanding.data import OUT_OF_SCOPE, load_config, word_lists
from assistant.understanding.features import Featurizer, StateKind
from assistant.understanding.model import IntentModel, answers_by_state
from assistant.understanding.normalize import Normalizer, chinese_count, has_chinese
from assistant.understanding.store import load_or_train

log = logging.getLogger(__name__)

ACT, CONFIRM, CHOOSE, UNKNOWN = "act", "confirm", "choose", "unknown"
_FEATURE_SLOTS = ("region", "channel", "date", "relative")
"""the slots the model sees when understanding.yaml names none (`feature_slots`)"""
_NOT_DONE_CUES = ("negation", "question", "not_yet")
"""the cues that keep a turn from being acted on as done when understanding.yaml's guards do not name them"""
_DONE_ENDS = "了啦哒嘞"
"""characters that end a "done" clause ("弄好了", "开了灯啦", "好哒"): a question may follow (_question_after_done)"""
_PAUSES = " ,，。、;；!！?？…"
MIN_TAIL_CHARS = 4
"""a question after a done clause is read alone only when it has this many Chinese characters ("咋办" alone is not)"""


@dataclass
class Understanding:
    """The reading of one turn in one state."""

    intent: str | None
    """what to act on or ask about; out_of_scope for chit-chat; None when nothing fits"""
    action: str
    """act | confirm | choose | unknown"""
    probability: float = 0.0
    second: str | None = None
    """the other reading, when the user is asked to choose"""
    ranked: list = field(default_factory=list)
    slots: dict = field(default_factory=dict)
    guard: str | None = None
    """which guard decided, if one did (for `assistant why`)"""
    text: str = ""
    """the normalised text the model saw"""
    cues: frozenset = frozenset()
    """the cues of flows/understanding.yaml found in that text ("question", "negation" …): the end-of-turn judge
    asks whether the words ask something from the same list the model and the guards use"""

    @property
    def sure(self) -> bool:
        return self.action == ACT and self.intent not in (None, OUT_OF_SCOPE)


@dataclass
class Choice:
    """The reading best_reading() chose: its index among the readings given, its score, its understanding."""

    index: int
    score: float
    understanding: Understanding


class Understander:
    def __init__(self, flows, model: IntentModel | None = None, *, cache_dir: Path | None = None,
                 retrain: bool = False):
        self.configure(flows)
        self.model = model or load_or_train(flows, self, cache_dir=cache_dir, retrain=retrain)

    def configure(self, flows):
        """Everything but the model: config, features, guards, slot words (training needs these first)."""
        self.flows = flows
        root = Path(flows.root)
        self.config = load_config(root)
        self.featurizer = Featurizer(Normalizer.of(flows), dict(self.config["cues"]),
                                     list(self.config["training"].get("features") or ()),
                                     dict(self.config.get("cue_exceptions") or {}))
        self.norm = self.featurizer.norm
        guards = self.config["guards"]
        self.scams = [(str(g["kind"]), re.compile(str(g["pattern"])), frozenset(map(str, g.get("except") or ())))
                      for g in guards.get("scam", [])]
        for g, (kind, _, unless) in zip(guards.get("scam", []), self.scams, strict=True):
            # A misspelt name would leave the pattern never yielding, silently: said at load time instead.
            for intent in sorted(unless - set(flows.intents)):
                raise FlowError(self.config.file, g.line_of("except") if hasattr(g, "line_of") else 0,
                                f"the '{kind}' scam pattern's 'except' names '{intent}', which is not an intent of "
                                "intents.yaml")
        not_fallen = guards.get("scam_not_fallen") or {}
        self.not_fallen_intent = str(not_fallen.get("intent") or "")
        """the reading a scam story yields to when told as not fallen for (scam_refused), or none"""
        if self.not_fallen_intent and self.not_fallen_intent not in flows.intents:
            raise FlowError(self.config.file, not_fallen.line_of("intent") if hasattr(not_fallen, "line_of") else 0,
                            f"'scam_not_fallen' names '{self.not_fallen_intent}', which is not an intent of "
                            "intents.yaml")
        self.not_fallen = re.compile(str(not_fallen.get("pattern") or "(?!)"))
        self.scam_cues = set(map(str, guards.get("scam_cues") or []))
        self.scam_cues_except = set(map(str, guards.get("scam_cues_except") or []))
        # A scam cue's words by their sound: recognition writes "验证码" as "验正码" and "密码" as "秘码", and a story
        # whose cue characters were misheard that way would lose the rule (bench/README.md, session 40).
        self.scam_sounds = {str(cue): sorted({self.norm.key(self.norm.text(str(w))) for w in words} - {""})
                            for cue, words in (guards.get("scam_cue_sounds") or {}).items()}
        self._sounded: tuple = ("", frozenset())
        for cue in self.scam_sounds:
            if cue not in self.scam_cues:
                line = guards.line_of("scam_cue_sounds") if hasattr(guards, "line_of") else 0
                raise FlowError(self.config.file, line, f"'scam_cue_sounds' names '{cue}', which is not among "
                                                        f"scam_cues ({', '.join(sorted(self.scam_cues))})")
        own_code = guards.get("own_code") or {}
        self.own_code_states = set(map(str, own_code.get("states") or ()))
        """the steps where the app itself texts the user a code: there its text message names no stranger"""
        for state in sorted(self.own_code_states - set(flows.states)):
            raise FlowError(self.config.file, own_code.line_of("states") if hasattr(own_code, "line_of") else 0,
                            f"'own_code' names the step '{state}', which is not a state of dialog.yaml")
        self.own_code_words = re.compile(str(own_code.get("words") or "(?!)"))
        self.done_intents = set(str(i) for i in guards["done_intents"])
        self.not_done_cues = self._cue_names(guards, "not_done_cues", _NOT_DONE_CUES)
        """a turn with one of these cues is never acted on as done (it may be asked about: "口罩摘了,眼镜不戴")"""
        self.never_done_cues = self._cue_names(guards, "never_done_cues", ())
        """a turn with one of these ("屏幕黑了", "手机没电了") is not even asked about as done"""
        self.cannot = re.compile(str(guards.get("cannot") or "(?!)"))
        """not being able to do it ("点不进去", "不会选"): never "没听清" if nothing else was understood (_cannot_do)"""
        corrections = guards.get("corrections") or {}
        self.corrections = {str(r): set(map(str, moves)) for r, moves in (corrections.get("readings") or {}).items()}
        """reading -> the done moves it takes back when said right after one (the dialog's undo)"""
        self.correction_words = re.compile(str(corrections.get("pattern") or "(?!)"))
        self.correction_own_words = self._own_correction_words(corrections)
        """reading -> the words that take it back instead of `pattern` ("不对,我刚才还没连上网" for not yet)"""
        self.correction_min = float(corrections.get("min", 1.0))
        self.needs_cue = self._needs_cue(flows, guards)
        """intent -> the cues one of which a turn must have to be read as it ("我能出门" is no home visit)"""
        self.goodbye_min = float(guards["goodbye_min"])
        self.asked_in_a_walk = set(map(str, guards.get("asked_in_a_walk") or ()))
        """intents that lose the user's place: in the middle of a walk, asked back unless said in their own words"""
        for intent in self.asked_in_a_walk - set(flows.intents):
            raise FlowError(self.config.file, guards.line_of("asked_in_a_walk") if hasattr(guards, "line_of") else 0,
                            f"'asked_in_a_walk' names '{intent}', which is not an intent of intents.yaml")
        self.answers_in = answers_by_state(flows, self.config)
        """state -> the questions answered in place there at the answer band (the rest, moves — a state's own
        `on:` included — and alarming answers, at the act band)"""
        self.answers = self.answers_in[None]
        """those answered in place at the answer band in a state whose `on:` makes none of them a move"""
        self.declined = self._declined(flows, guards)
        """intent -> the pattern of that request turned down ("别从头来"): never acted on as the request"""
        # Normalised as the turn is, since they are looked for in its normalised text: "掌上12333" is "掌上一二三"
        # there (digits said, a repeat folded), and as written it was never found.
        self.words = {name: [(self.norm.text(w), v) for w, v in pairs]
                      for name, pairs in {**_slot_words(root), **_pairs(word_lists(self.config, "slots"))}.items()}
        self.app_intents = {v for _, v in self.words.get("channel", ())}
        """the intents of the apps named in templates.yaml's channel list (ch_wechat, ch_alipay …)"""
        self.feature_slots = self._feature_slots()
        """the kinds of slot the model sees as features (that one was named, not which): understanding.yaml"""
        (self.lacked_before, self.lacked_after, self.lacked_joined, self.lacked_all, self.had_before,
         self.had_after) = self._lacked_patterns()
        """a lack word right before / right after a channel's name: the channel the turn says the user lacks; names
        joined, or all said to lack; a "有" of a name's own (one lack word between two names is the other's)"""
        self.typed = {self.norm.text(t): i.name for i in flows.intents.values() for t in i.typed}
        # A turn of fillers and sounds that say nothing alone means something only when it is itself a phrase of
        # intents.yaml (normalised, with the intents it says).
        # Written as said, matched as normalised ("叽叽喳喳" is 叽喳 once doubled characters are one); a filler, which
        # normalising removes, stays as written.
        empty = {self.norm.text(w) or w for w in {*flows.fillers, *map(str, guards.get("says_nothing_alone") or ())}}
        self.says_nothing = _only_these(empty)
        # A turn of nothing but "no" ("不对", "不是不是") is never asked about as done or yes: "您是说“对”吗?" is the
        # opposite of what was said, whatever probability the model gives the only readings a step allows.
        no_words = [str(w) for w in guards.get("negation_alone") or ()]
        self.only_no = _only_these({*empty, *no_words})
        # A turn that opens with a "no" word ("不是不是,我不是给我自己弄") is not asked about as done or yes either,
        # whatever follows: the user's first words were "no". Words of two characters or more only ("不错" holds 不).
        self.opens_with_no = _only_these([w for w in no_words if len(w) > 1])
        self.phrases: dict[str, set[str]] = {}
        for i in flows.intents.values():
            for p in i.phrases:
                self.phrases.setdefault(self.norm.text(p.text), set()).add(i.name)
        # The mirror: a turn of nothing but a yes ("对", "是的", "对对对") is never read as "no". Where nothing was
        # asked (the greeting, the result, "找人帮忙"), "yes" is not among the readings and the model's nearest was
        # "no" (对 is in 不对): "对" got "您是说“不对”吗?", and a second "对" confirmed the opposite of what was said.
        self.only_yes = _only_these({*empty, *(p for p, names in self.phrases.items() if p and "yes" in names)})

    # --- the reading ----------------------------------------------------------------------------------
    def understand(self, raw: str, state: str | None, allowed, today: date | None = None,
                   same: dict | None = None) -> Understanding:
        """The reading of `raw` in `state`. `same` maps intents that do the same thing here to one of them (on a
        troubleshooting step "好了" and "成功了" both go back): their probabilities are pooled before the bands."""
        text = self.norm.text(raw)
        kind = StateKind.of(self.flows, state)
        slots = self.slots(raw, text, today)
        if not text:
            return Understanding(None, UNKNOWN, text=text, slots=slots)
        if not has_chinese(text) or (not has_chinese(raw) and re.search(r"[A-Za-z]", raw)):
            # Typed Latin or digits: only an exact typed form ("ok", "bye"); fuzzy English is no answer. Digits
            # become numerals (一二三 for 123) before this, so Latin letters among them keep a turn with no Chinese
            # at all typed ("\x1b[31m" read as 三一m was asked as "上一步" at p 0.37); digits alone may be "12333".
            intent = self.typed.get(text)
            if intent in allowed:
                return Understanding(intent, ACT, 1.0, text=text, slots=slots, guard="typed")
            return Understanding(None, UNKNOWN, text=text, slots=slots, guard="not Chinese")
        if self.says_nothing.fullmatch(text):
            meant = self.phrases.get(text, set()) & set(allowed)
            if len(meant) == 1:
                # A sound that is a phrase of intents.yaml ("嗯" is a yes) says that and nothing else: acted on,
                # whatever the model makes of one syllable (one retraining put "嗯" at 0.91, under the act band).
                return Understanding(meant.pop(), ACT, 1.0, text=text, slots=slots, guard="says nothing else")
            if not meant:
                # Hesitation, a laugh, a "喂" or a particle alone ("呃", "嗯…那个", "呵呵", "吧") says nothing: never
                # a move, never "您是说“好了”吗?" — the model would only give back the state's likeliest answer.
                return Understanding(None, UNKNOWN, text=text, slots=slots, guard="says nothing")
        cues = set(self.featurizer.cues_in(text))
        ranked = self.model.rank(self.featurizer.features_of_normalised(text, kind, self._featured(slots)), allowed)
        ranked = self.post_process(ranked, cues, same or {})
        answers = self.answers_in.get(state, self.answers)
        result = self._asked_before_leaving(self._decide(text, state, cues, ranked, allowed, slots, answers),
                                            text, kind)
        if result.guard == "not-done" and result.action != ACT and "question" in cues:
            result = self._question_after_done(text, kind, allowed, same or {}, answers) or result
        if result.action == UNKNOWN and result.intent is None and self.cannot.search(text):
            result = self._cannot_do(result, allowed)
        result.slots, result.text, result.cues = {**slots, **result.slots}, text, frozenset(cues)
        if result.intent == "q_scam":
            if "scam" not in result.slots and "question" in cues and not self._scam_cues(text, state, cues):
                # "怎么认出骗子来": asked how to tell or avoid one, no stranger and no money told — advice, not
                # "这多半是骗子!" (flows/knowledge.yaml, scam: advice).
                result.slots["scam"] = "advice"
            result.slots.setdefault("scam", "general")
        return result

    def _cannot_do(self, result: "Understanding", allowed) -> "Understanding":
        """A turn that says the user cannot do it ("点不进去", "选不了"), nothing else understood, at a step: no move
        and no "没听清" (they were heard, session 64 by hand) — take your time, and how to get help (guard "went
        wrong", as for trouble). Nothing is acted on: a first version answered "还是不行" in place (the stuck answer)
        and on the frozen rows it turned no turn right and three noisy ones wrong (bench/README.md, session 64).
        Where "好了" finishes nothing (the greeting, the other ways, a step that asks a choice) the guard is "cannot
        here": the same, in words that fit there (session 65, by hand: "呃我点不进去啊" at the greeting was
        "没听清")."""
        guard = "went wrong" if "next" in allowed else "cannot here"
        return Understanding(None, UNKNOWN, result.probability, ranked=result.ranked, guard=guard)

    def _question_after_done(self, text: str, kind, allowed, same: dict, answers) -> "Understanding | None":
        """"头发弄好了,我站哪儿光线好点": a step reported done, then a question. Read whole, the turn is "done" with a
        question cue, which is never acted on as done (rule 3), and the question drowned in it: the user was asked
        "您是说“好了”吗?" and the question went unanswered. Each tail after a "了" (the end of the done part) is read
        on its own; a tail that asks something answered in place, sure at the answer band by itself, is answered.
        Nothing else is: a move, a done reading, or an unsure tail leaves rule 3's answer as it was."""
        best = None
        for end in range(2, len(text) - MIN_TAIL_CHARS + 1):
            if text[end - 1] not in _DONE_ENDS:
                continue
            tail = text[end:].lstrip(_PAUSES)
            if chinese_count(tail) < MIN_TAIL_CHARS:
                continue
            cues = set(self.featurizer.cues_in(tail))
            if "question" not in cues:
                continue
            ranked = self.post_process(self.model.rank(self.featurizer.features_of_normalised(tail, kind, []),
                                                       allowed), cues, same)
            top, p = ranked[0]
            if (top in answers and top in allowed and top not in self.done_intents
                    and p >= self.model.bands.act_for(top, answers) and (best is None or p > best.probability)):
                best = Understanding(top, ACT, p, ranked=ranked, guard="question after done")
        return best

    def best_reading(self, readings, state: str | None, allowed, today: date | None = None,
                     same: dict | None = None) -> "Choice | None":
        """Of the recogniser's readings of one turn — (text, recognition weight, literal) with literal = the
        first reading of a recogniser — the one that makes most sense here: of the meaning with the most weight
        (recognition weight × the probability of what it is understood as, summed over the readings meaning it),
        a reading acted on if it has one, the best scored of those. None when no reading is understood, or when the
        readings not understood weigh more than all those meaning what the best one means.

        Guards stay outside the scores: each reading is masked before it is understood (privacy), and a reading
        read as done/yes whose negation, question or not-yet cue is gone while a literal reading has one is
        never chosen — "还没好" must not become "好了" because "好了" is likelier in a step."""
        from assistant.privacy import mask

        masked = [(mask(text), weight, literal) for text, weight, literal in readings]
        cues = [set(self.featurizer.cues_in(self.norm.text(text))) & self.not_done_cues for text, _, _ in masked]
        literal_cues = set().union(*(c for c, (_, _, literal) in zip(cues, masked, strict=True) if literal))
        not_understood = 0.0
        by_intent: dict[str, float] = {}
        best_of: dict[str, Choice] = {}
        for index, (text, weight, _) in enumerate(masked):
            if weight <= 0 or not text:
                continue
            u = self.understand(text, state, allowed, today, same)
            if u.intent is None or u.action == UNKNOWN:
                not_understood += weight
                continue
            if u.intent in self.done_intents and literal_cues and not literal_cues & cues[index]:
                continue
            score = weight * u.probability
            by_intent[u.intent] = by_intent.get(u.intent, 0.0) + score
            # Of a meaning's wordings, one the dialog would act on before any it would only ask about, then the
            # best scored: the meaning is already what most of the belief says, and "点了也那个我们" (asked about)
            # beside "点了点那个我们" (acted on) is one "done" said twice, not a doubt.
            mine = best_of.get(u.intent)
            if mine is None or (u.action == ACT, score) > (mine.understanding.action == ACT, mine.score):
                best_of[u.intent] = Choice(index, score, u)
        if not by_intent:
            return None
        # The meaning most of the belief agrees on, in the wording chosen above: three readings of "老年机" that
        # each say a little outweigh one that says "续费" loudly (a misheard scam warning for a feature phone).
        meant = max(by_intent, key=by_intent.__getitem__)
        # Unintelligible speech gives many readings, and one may read as something by chance: the best reading
        # wins only when the readings meaning what it means outweigh those that mean nothing.
        if not_understood > by_intent[meant]:
            return None
        return best_of[meant]

    def _declined(self, flows, guards) -> dict[str, re.Pattern]:
        """guards.declined as one pattern per intent, over normalised text: a decline word, perhaps a word such as
        再 or 给我, then one of the intent's phrases or its `also` words. An unknown intent is a FlowError at its
        line."""
        section = guards.get("declined")
        if not section:
            return {}
        file = self.config.file
        line = guards.line_of("declined") if hasattr(guards, "line_of") else 0
        words, between = list(map(str, section.get("words") or ())), list(map(str, section.get("between") or ()))
        if not words:
            raise FlowError(file, line, "'declined' needs its 'words' (不用, 不要, 别 ...)")
        def alt(items) -> str:
            return "|".join(map(re.escape, items))

        declining = f"(?:{alt(words)})(?:{alt(between)})?"  # the same for every intent: built once
        intents = [str(i) for i in section.get("intents") or ()]
        also = section.get("also") or {}
        for intent in section.get("intents") or ():
            if str(intent) not in flows.intents:
                raise FlowError(file, getattr(intent, "line", line), f"unknown intent '{intent}' in 'declined'")
        for intent in also:  # a key of a mapping: its line is the mapping's to tell
            if str(intent) not in intents:
                raise FlowError(file, also.line_of(intent) if hasattr(also, "line_of") else line,
                                f"'{intent}' has 'also' words in 'declined' but is not among its intents")
        found = {}
        for intent in intents:
            said = [p.text for p in flows.intents[intent].phrases] + list(map(str, also.get(intent) or ()))
            phrases = sorted({self.norm.text(p) for p in said} - {""}, key=len, reverse=True)
            found[intent] = re.compile(f"{declining}(?:{alt(phrases)})")
        return found

    def _feature_slots(self) -> tuple:
        """`feature_slots` of understanding.yaml: each a slot the understander reads (a list of templates.yaml, of
        `slots:`, or region / date), else a FlowError at its line."""
        names = self.config.get("feature_slots")
        if names is None:
            return _FEATURE_SLOTS
        known = {*self.words, "region", "date"}
        for name in names:
            if str(name) not in known:
                line = getattr(name, "line", None) or self.config.line_of("feature_slots")
                raise FlowError(self.config.file, line, f"'feature_slots' names '{name}', which is no slot "
                                                        f"({', '.join(sorted(known))})")
        return tuple(map(str, names))

    def _own_correction_words(self, corrections) -> dict:
        """`corrections: own_words`, reading -> pattern; a reading it names must be one `readings` takes back, and
        a pattern must compile (a FlowError at its line otherwise)."""
        own = corrections.get("own_words") or {}
        words = {}
        for reading, pattern in own.items():
            line = own.line_of(reading) if hasattr(own, "line_of") else 0
            if str(reading) not in self.corrections:
                raise FlowError(self.config.file, line, f"'own_words' names '{reading}', which is not among the "
                                                        f"readings taken back ({', '.join(self.corrections)})")
            try:
                words[str(reading)] = re.compile(str(pattern))
            except re.error as e:
                raise FlowError(self.config.file, line,
                                f"the own words of '{reading}' are not a regular expression: {e}") from None
        return words

    def correction_said(self, reading: str, said: str) -> bool:
        """The normalised turn `said` has the words that take `reading` back: its own words, or the shared ones."""
        return bool(self.correction_own_words.get(reading, self.correction_words).search(said))

    def _needs_cue(self, flows, guards) -> dict[str, set[str]]:
        """needs_cue, checked: a misspelt intent would leave its guard off, and a misspelt cue would silence the
        intent for good, both without a word; each is a FlowError at its line."""
        needs = guards.get("needs_cue") or {}
        if not hasattr(needs, "items"):
            raise FlowError(self.config.file, guards.line_of("needs_cue") if hasattr(guards, "line_of") else 0,
                            "'needs_cue' must map intents to lists of cues")
        for intent in needs:
            if str(intent) not in flows.intents:
                raise FlowError(self.config.file, needs.line_of(intent) if hasattr(needs, "line_of") else 0,
                                f"'needs_cue' names '{intent}', which is not an intent of intents.yaml")
            self._cue_names(needs, intent, ())
        return {str(i): set(map(str, cues)) for i, cues in needs.items()}

    def _cue_names(self, guards, key: str, default) -> frozenset:
        """A guard's list of cue names; a name that is not among the cues is a FlowError at its line."""
        names = guards.get(key)
        if names is None:
            return frozenset(default)
        for name in names:
            if str(name) not in self.featurizer.cues:
                line = getattr(name, "line", None) or (guards.line_of(key) if hasattr(guards, "line_of") else 0)
                raise FlowError(self.config.file, line,
                                f"'{key}' names the cue '{name}', which is not among the cues "
                                f"({', '.join(self.featurizer.cues)})")
        return frozenset(map(str, names))

    def _not_fallen(self, ranked) -> Understanding:
        """The reading of a scam told as not fallen for (scam_refused), where the scam rules gave way to it."""
        return Understanding(self.not_fallen_intent, ACT, 1.0, ranked=ranked, guard="scam:not fallen")

    def _scam_cues_by_sound(self, text: str) -> set:
        """The scam cues whose words are in the turn by their sound (fuzzy pinyin), whatever characters were heard."""
        if not self.scam_sounds:
            return set()
        # The last turn's answer is kept: a scam turn asks twice (the rule, then advice or not). One tuple, swapped
        # whole, so two threads reading turns at once never see one turn's text with another's cues.
        last_text, last_cues = self._sounded
        if last_text == text:
            return set(last_cues)
        # The spans that hold a cue's words without saying it (cue_exceptions: "短信验证码" names no stranger) are left
        # out here too, as for the cue by its characters.
        exceptions = self.featurizer.exceptions
        plain = self.norm.key(text)
        cues = set()
        for cue, sounds in self.scam_sounds.items():
            key = self.norm.key(exceptions[cue].sub(" ", text)) if cue in exceptions else plain
            if any(k in key for k in sounds):
                cues.add(cue)
        self._sounded = (text, frozenset(cues))
        return cues

    def post_process(self, ranked, cues, same: dict) -> list:
        """What happens to the model's ranking before deciding (training's calibration does the same)."""
        return _pooled(_without_uncued(ranked, self.needs_cue, cues), same)

    def _asked_before_leaving(self, result: Understanding, text: str, kind: StateKind) -> Understanding:
        """Leaving loses the user's place (and wipes a kiosk), so a goodbye acted on by any rule is asked back
        ("您是说“再见”吗?") unless it is sure by itself: over `goodbye_min`, and, in the middle of a walk, said in
        the words the assistant itself offers ("再见"). In a walk, whether the model's p of "算了不弄了" was 0.885
        or 0.901 decided it, and a retraining moved it over `goodbye_min` (session 42)."""
        if result.action != ACT:
            return result
        if (result.intent in self.asked_in_a_walk and {"walk", "trouble"} & set(kind.tags)
                and result.intent not in self.phrases.get(text, ())):
            guard = "in a walk"
        elif result.intent == "goodbye" and result.probability < self.goodbye_min:
            guard = "goodbye-sure"
        else:
            return result
        return Understanding(result.intent, CONFIRM, result.probability, ranked=result.ranked, slots=result.slots,
                             guard=guard)

    def _not_yet_asked(self, ranked, allowed, p1: float) -> Understanding:
        """A turn read as done that says "not yet": the likeliest reading allowed here that is neither done nor
        chit-chat, asked about when the model gives it the confirm band, else "not yet" itself where the step
        allows it (the cue says so), else not understood (the step is said again)."""
        others = [(i, p) for i, p in ranked if i not in self.done_intents and i != OUT_OF_SCOPE and i in allowed]
        if others and others[0][1] >= self.model.bands.confirm:
            return Understanding(others[0][0], CONFIRM, others[0][1], ranked=ranked, guard="not-done")
        if "not_yet" in allowed:
            p = dict(ranked).get("not_yet", 0.0)
            return Understanding("not_yet", CONFIRM, p, ranked=ranked, guard="not-done")
        return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="not-done")

    def _without_unnamed_apps(self, ranked, slots: dict) -> list:
        """A turn that names an app it does not say it lacks is not about another app: "嗯,微信,我用的就是微信" in
        the WeChat 亲情服务 walk (where "微信" is no move) was asked "您是说“支付宝”吗?" — the opposite of what was said
        (session 63). The readings of the other apps of templates.yaml's channel list leave; nothing else gains
        their probability (a reading put on the wrong app is no evidence for the rest), so the turn is asked about
        or said again rather than acted on more readily. Lacking, help from home and questions stay."""
        named = set(slots.get("channels", ())) - set(slots.get("lacking", ()))
        if not named:
            return ranked
        kept = [(i, p) for i, p in ranked if i in named or i not in self.app_intents]
        return kept or ranked

    def _scam_cues(self, text: str, state: str | None, cues: set) -> set:
        """The scam cues of a turn, by its characters (`cues`) or by their sound; at a step where the app itself
        texts the user a code (`own_code`), read in the turn less that text message."""
        if state in self.own_code_states:
            own = self.own_code_words.sub(" ", text)
            if own != text:
                text, cues = own, set(self.featurizer.cues_in(own))
        return self.scam_cues & (cues | self._scam_cues_by_sound(text))

    def _decide(self, text, state, cues, ranked, allowed, slots, answers) -> Understanding:
        bands = self.model.bands
        # 1. Scams before channels.
        if "q_scam" in allowed:
            # Told as not fallen for (`scam_not_fallen`'s words): a rule yielding to that reading gives way on them.
            refused = self.not_fallen_intent in allowed and bool(self.not_fallen.search(text))
            for kind, pattern, unless in self.scams:
                if pattern.search(text):
                    if refused and self.not_fallen_intent in unless:
                        return self._not_fallen(ranked)
                    # The not-fallen reading is yielded to on its words only: the model reads "没多想就告诉他了"
                    # (fell for it) as not fallen for, 0.91 (session 61).
                    if ranked[0][0] not in unless - {self.not_fallen_intent}:
                        return Understanding("q_scam", ACT, 1.0, ranked=ranked, slots={"scam": kind},
                                             guard=f"scam:{kind}")
            if self.scam_cues and self.scam_cues <= self._scam_cues(text, state, cues):
                if refused and self.not_fallen_intent in self.scam_cues_except:
                    return self._not_fallen(ranked)
                if ranked[0][0] not in self.scam_cues_except - {self.not_fallen_intent}:
                    return Understanding("q_scam", ACT, 1.0, ranked=ranked, slots={"scam": "general"},
                                         guard="scam:" + "+".join(sorted(self.scam_cues)))
                # The rule yielded to the best reading ("短信验证码一直不来" read as how to register): judged no scam
                # story, so the scam answer is not offered back as the other of two readings.
                if ranked[0][0] != "q_scam":
                    ranked = [r for r in ranked if r[0] != "q_scam"]
            if refused and ranked[0][0] == "q_scam":
                return self._not_fallen(ranked)
        ranked = _without_lacked(ranked, slots.get("lacking", ()))
        ranked = self._without_unnamed_apps(ranked, slots)
        (top, p1), (second, p2) = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0.0))
        guard = None
        if top == "no" and self.only_yes.fullmatch(text):
            # A yes read as "no" where no yes is allowed: never acted on nor asked about as its opposite.
            return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="yes, not no")
        # 2. A request turned down ("别从头来", "不用重新开始") is never carried out: the best other reading when it is
        # sure by itself, else not understood (the step is said again with what can be answered).
        if top in self.declined and self.declined[top].search(text):
            # The decline word is a negation too: the other reading is never "done" (rule 3 holds here as well).
            negated = cues & self.not_done_cues
            others = [(i, p) for i, p in ranked
                      if i != top and i in allowed and not (negated and i in self.done_intents)]
            if others and others[0][1] >= bands.act_for(others[0][0], answers):
                return Understanding(others[0][0], ACT, others[0][1], ranked=ranked, guard="declined")
            return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="declined")
        # 3. A negation, a question or "not yet" is never acted on as "done": the best other reading is acted on
        # only when it is sure by itself; otherwise the user is asked ("您是说“好了”吗?"), because "口罩摘了,眼镜
        # 不戴" is done and "还没弄好" is not, and only the user knows which.
        if top in self.done_intents and cues & self.not_done_cues:
            others = [(i, p) for i, p in ranked if i not in self.done_intents]
            if others and others[0][1] >= bands.act and others[0][0] in allowed:
                return Understanding(others[0][0], ACT, others[0][1], ranked=ranked, guard="not-done")
            if cues & self.never_done_cues:
                # Something went wrong ("屏幕黑了", "俺这手机卡了", "点错了"): asking "您是说“好了”吗?" would be the
                # opposite of what was said. The dialog says take your time, and how to get help.
                return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="went wrong")
            if "not_yet" in cues:
                # Work still under way ("正传着嘞", "还下载着呢"): "您是说“好了”吗?" would offer the opposite of what
                # was said, and a "对" to it would move the user on. The likeliest reading that is not done is asked
                # about instead, however the model split the rest (one retraining read "正传着嘞" as done at 0.89).
                return self._not_yet_asked(ranked, allowed, p1)
            if p1 < bands.confirm or self.only_no.fullmatch(text) or self.opens_with_no.match(text):
                # Too unsure to ask about, or nothing but "no", or "no" first: "不对" read as "yes" at 0.3 (0.53 by
                # another model) was asked "您是说“对”吗?", the opposite of what was said. Not understood instead:
                # the step is said again with what can be answered.
                return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="not-done")
            return Understanding(top, CONFIRM, p1, ranked=ranked, guard="not-done")
        # 4. A turn that is exactly one of the answers a step offers ("对", "行", "嗯呐" — a phrase of intents.yaml,
        # of one intent allowed here) is that answer when the model reads it so too: whether "呐" was acted on
        # hung on p 0.891 against an act band of 0.883, and "行" at a face step was asked back at 0.81.
        own = self.phrases.get(text, set()) & set(allowed)
        if own == {top}:
            return Understanding(top, ACT, p1, ranked=ranked, guard="its own words")
        # 5. Two readings, neither sure: ask which (unless one of them is chit-chat). Two channels named in
        # two places are two readings however the probability is split, and always when offered as a choice
        # ("微信还是支付宝"); "不用微信,用支付宝" stays a sure choice.
        named = [i for i in slots.get("channels", ()) if i in allowed and i != slots.get("lacked")]
        if (p1 < bands.act or "either" in cues) and top in named and len(named) > 1:
            return Understanding(top, CHOOSE, p1, next(i for i in named if i != top), ranked, guard="two channels")
        act = bands.act_for(top, answers)
        # Below the confirm band a calibrated pair is asked about too ("您是想……还是……?" rather than "没听清"):
        # the truth is one of the two often enough (`pair_min_right`).
        pair = bands.act if p1 >= bands.confirm or bands.pair is None else min(bands.pair, bands.act)
        # A turn that says "not yet" or "no" is never offered "done" as the other choice either: "正传着嘞" (still
        # uploading) was asked "您是说“还没弄好”,还是“好了”?" — the opposite of what was said, as one of two. The
        # likelier reading is then acted on or asked about alone.
        # (Nor the walk of a channel the turn says the user lacks — "俺不会用支付宝,微信俺会" was asked "您是说“没有这个
        # 软件”,还是“支付宝”?" — which _without_lacked took out of the readings above.)
        offers_opposite = (second in self.done_intents and top not in self.done_intents
                           and cues & ({"negation", "not_yet"} | self.never_done_cues))
        if (second and p1 < act and p2 >= bands.choose and p1 + p2 >= pair
                and OUT_OF_SCOPE not in (top, second) and not offers_opposite):
            return Understanding(top, CHOOSE, p1, second, ranked, guard=guard)
        if p1 >= act:
            return Understanding(top, ACT, p1, ranked=ranked, guard=guard)
        if p1 >= bands.confirm and top != OUT_OF_SCOPE:
            return Understanding(top, CONFIRM, p1, ranked=ranked, guard=guard)
        if cues & self.never_done_cues and "next" in allowed:
            # Trouble at a step (where "next" is allowed; the greeting allows "success", a bare yes is allowed
            # wherever something was asked) that says nothing more ("字太小了"): "没听清" would have them say it
            # again, louder; they are told to take their time, and how to get help, as for trouble read as done.
            return Understanding(None, UNKNOWN, p1, ranked=ranked, guard="went wrong")
        return Understanding(None if top != OUT_OF_SCOPE else OUT_OF_SCOPE, UNKNOWN, p1, ranked=ranked, guard=guard)

    # --- recognition grammar --------------------------------------------------------------------------
    def grammar_phrases(self, intents) -> list[str]:
        """Phrases from the templates of these intents for the recogniser's grammar: the shortest few that the
        model's vocabulary can say (a grammar of thousands of place names would drown the answers expected)."""
        extra = self._template_phrases()
        return [p for i in intents for p in extra.get(i, ())]

    def _template_phrases(self) -> dict:
        if getattr(self, "_grammar_cache", None) is None:
            from assistant.recognition.vocab import segment
            from assistant.understanding.data import template_sentences

            per_intent = int(self.config["training"].get("grammar_per_intent", 0))
            by_intent: dict[str, list[str]] = {}
            for intent, text in template_sentences(self.flows, Path(self.flows.root)):
                if len(text) <= 8 and text.isalnum() and segment(text) is not None:
                    by_intent.setdefault(intent, []).append(text)
            self._grammar_cache = {i: sorted(set(ts), key=lambda t: (len(t), t))[:per_intent]
                                   for i, ts in by_intent.items()}
        return self._grammar_cache

    # --- slots ----------------------------------------------------------------------------------------
    def slots(self, raw: str, text: str, today: date | None) -> dict:
        from assistant.understanding.dates import understand_date
        from assistant.understanding.regions import find_place

        slots = {}
        for name, words in self.words.items():
            found = sorted(((len(w), v) for w, v in words if w in text), reverse=True)
            if found:
                slots[name] = found[0][1]
                if name == "channel":
                    slots["channels"] = list(dict.fromkeys(v for _, v in found))
        lacked = self._lacked_channels(text) if "channel" in slots else []
        if lacked:
            slots["lacked"] = lacked[0]
            slots["lacking"] = lacked
            # The one other channel named, with no lack word beside it, is the way wanted: "我不用微信,用支付宝".
            others = [c for c in slots["channels"] if c not in lacked]
            if len(others) == 1:
                slots["wanted"] = others[0]
        place = find_place(raw)
        if place:
            slots["region"] = place
        said = understand_date(raw, today or clock.today(), self.flows.certified_words)
        if said:
            slots["date"] = said
        return slots

    def _lacked_channels(self, text: str) -> list[str]:
        """The channels named with a lack word right before or after their name, in the order said
        (understanding.yaml `lacked_channel`): "我不用微信用支付宝" lacks 微信, though 支付宝 is the longer name and so
        the `channel` slot; "微信没有,支付宝也没有" lacks both."""
        spans = sorted({(m.start(), m.end(), v) for w, v in self.words["channel"] if w
                        for m in re.finditer(re.escape(w), text)})
        # A name inside a longer one ("一二三" inside "掌上一二三") is that one's.
        named = [(a, b, v) for a, b, v in spans
                 if not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2, _ in spans)]
        before = [bool(self.lacked_before.search(text[:a])) for a, _, _ in named]
        after = [bool(self.lacked_after.search(text[b:])) for _, b, _ in named]
        for i in range(len(named) - 1):
            if after[i] and before[i + 1]:
                # One lack word between two names: the one of them with no "有" of its own lacks
                # ("我有微信和支付宝没有掌上一二三": the 有 before the names joined with 支付宝;
                # "微信没有支付宝有"); with neither said, both (safe: never walked).
                group = i  # the first of the names joined with this one
                while group and self.lacked_joined.fullmatch(text[named[group - 1][1]:named[group][0]]):
                    group -= 1
                if self.had_after.search(text[named[i + 1][1]:]):
                    before[i + 1] = False
                elif self.had_before.search(text[:named[group][0]]):
                    after[i] = False
        lacked = {i for i in range(len(named)) if before[i] or after[i]}
        # Names said together ("没有微信和支付宝", "微信和支付宝都没有", "微信支付宝我都没装") share the lack said
        # before the first or after the last of them.
        first = 0
        for last in range(len(named)):
            if last + 1 < len(named) and self._said_together(text, named[last], named[last + 1]):
                continue
            if last > first and (first in lacked or last in lacked):
                lacked |= set(range(first, last + 1))
            first = last + 1
        return list(dict.fromkeys(v for i, (_, _, v) in enumerate(named) if i in lacked))

    def _said_together(self, text: str, name, following) -> bool:
        """Two names joined by 和/跟/还有… (understanding.yaml lacked_channel `joined`), or by nothing when what
        follows the second says all of them lack ("微信支付宝我都没装", `all`)."""
        between = text[name[1]:following[0]]
        if between:
            return bool(self.lacked_joined.fullmatch(between))
        return bool(self.lacked_all.search(text[following[1]:]) and self.lacked_after.search(text[following[1]:]))

    def _lacked_patterns(self) -> tuple[re.Pattern, ...]:
        """understanding.yaml `lacked_channel`: before / after / joined / all / had_before / had_after, each a
        pattern (a FlowError at its line if not)."""
        section = self.config.get("lacked_channel") or {}
        if not hasattr(section, "get"):
            raise FlowError(self.config.file, self.config.line_of("lacked_channel"),
                            "'lacked_channel' must map before / after / joined / all / had_before / had_after "
                            "to patterns")
        patterns = []
        for side in ("before", "after", "joined", "all", "had_before", "had_after"):
            try:
                patterns.append(re.compile(str(section.get(side) or "(?!)")))
            except re.error as e:
                line = section.line_of(side) if hasattr(section, "line_of") else 0
                raise FlowError(self.config.file, line, f"the pattern of '{side}' in lacked_channel is not a regular "
                                                        f"expression: {e}") from None
        return tuple(patterns)

    def says_no_first(self, raw: str) -> bool:
        """The turn is nothing but "no", or opens with a "no" word of two characters or more ("不是不是,我不是……")."""
        text = self.norm.text(raw)
        return bool(self.only_no.fullmatch(text) or self.opens_with_no.match(text))

    # --- explanation ----------------------------------------------------------------------------------
    def slot_names(self, raw: str, today: date | None = None) -> list[str]:
        """Which kinds of slot the text names that the model sees (understanding.yaml `feature_slots`)."""
        text = self.norm.text(raw)
        return self._featured(self.slots(raw, text, today))

    def _featured(self, slots) -> list[str]:
        """Of the slots a turn names, the kinds the model sees (understanding.yaml `feature_slots`)."""
        return [k for k in slots if k in self.feature_slots]

    def why(self, raw: str, state: str | None, allowed, top_n: int = 5, today: date | None = None,
            same: dict | None = None) -> str:
        """Plain lines for a volunteer: the reading, the top intents, and the features that decided."""
        u = self.understand(raw, state, allowed, today, same)
        kind = StateKind.of(self.flows, state)
        feats = self.featurizer.features_of_normalised(u.text, kind, self._featured(u.slots))
        lines = [f"heard (normalised): {u.text!r}   state: {state}   state cues: {', '.join(kind.tags)}",
                 f"decision: {u.action} {u.intent or '-'}" + (f" / {u.second}" if u.second else "") +
                 f"   p={u.probability:.2f}" + (f"   guard: {u.guard}" if u.guard else ""),
                 f"bands: act >= {self.model.bands.act:.2f} (a question answered in place >= "
                 f"{self.model.bands.act_for('q_frequency', self.answers):.2f}), "
                 f"confirm >= {self.model.bands.confirm:.2f}, "
                 f"choose when the second >= {self.model.bands.choose:.2f}"
                 + (f" (below confirm: when the two sum to >= {self.model.bands.pair:.2f})"
                    if self.model.bands.pair is not None else "")]
        if u.slots:
            lines.append("slots: " + ", ".join(f"{k}={_slot_text(v)}" for k, v in u.slots.items() if k != "channels"))
        lines.append("top intents:")
        lines += [f"  {p:6.1%}  {i}" for i, p in u.ranked[:top_n]]
        if u.ranked:
            best = u.ranked[0][0]
            against = u.ranked[1][0] if len(u.ranked) > 1 else None
            lines.append(f"what pushed '{best}'" + (f" over '{against}'" if against else "") + ":")
            for f, w in self.model.contributions(feats, best, against)[:12]:
                lines.append(f"  {w:+.2f}  {_feature_text(f)}")
        return "\n".join(lines)


def _sharing(ranked, kept: list) -> list:
    """`kept` (some of `ranked`, in its order), sharing the probability of the readings left out."""
    if len(kept) == len(ranked):
        return ranked
    total = sum(p for _, p in kept) or 1.0
    return [(i, p / total) for i, p in kept]


def _without_uncued(ranked, needs_cue: dict, cues: set) -> list:
    """Drop the readings whose required cue is absent; the rest share their probability."""
    return _sharing(ranked, [(i, p) for i, p in ranked if not (i in needs_cue and not needs_cue[i] & cues)])


def _without_lacked(ranked, lacking) -> list:
    """A channel the turn says the user lacks is not the way they want: "我不会用微信,我闺女会" was asked "您是说“微信”
    吗?", and a "对" would have walked them through the app they just said they cannot use (session 57). Its walk
    leaves the readings and the rest share its probability; the lack itself, help from home, the other ways stay."""
    kept = [(i, p) for i, p in ranked if i not in lacking]
    return _sharing(ranked, kept) if kept else ranked


def _pooled(ranked, same: dict) -> list:
    """Readings that do the same thing count together, named by the most likely of them."""
    if not same:
        return ranked
    groups: dict[str, list] = {}
    for intent, p in ranked:
        groups.setdefault(same.get(intent, intent), []).append((intent, p))
    pooled = [(members[0][0], sum(p for _, p in members)) for members in groups.values()]
    return sorted(pooled, key=lambda item: -item[1])


def _only_these(words) -> re.Pattern:
    """A whole turn made of nothing but these words, each any number of times (the longest tried first)."""
    return re.compile("(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + ")+")


def _slot_words(root: Path) -> dict[str, list[tuple[str, str]]]:
    """Words naming a channel or a relative, from the lists in templates.yaml: (words, value)."""
    from assistant.flows.yamlsrc import load_yaml

    path = root / "templates.yaml"
    return _pairs(word_lists(load_yaml(path), "lists")) if path.exists() else {}


def _pairs(lists) -> dict[str, list[tuple[str, str]]]:
    return {name: [(item.words, item.value) for item in items] for name, items in lists.items()}


def _slot_text(value) -> str:
    if hasattr(value, "province"):
        return "/".join(p for p in (value.province, value.city, value.county) if p)
    if hasattr(value, "vague"):
        vague = f" (vague {value.earliest}..{value.latest})" if value.vague else ""
        return f"{value.day or '?'}{vague}"
    return str(value)


def _feature_text(feature: str) -> str:
    kind, rest = feature[0], feature[1:]
    if kind == "c":
        return f"characters '{rest}'"
    if kind == "p":
        return f"sounds '{rest}'"
    if kind == "k":
        return f"characters apart '{rest}'"
    if kind == "w":
        return f"word '{rest}'"
    if kind == "v":
        return f"words '{rest}'"
    return feature
