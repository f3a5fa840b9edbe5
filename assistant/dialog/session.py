"""One conversation: understands each utterance and decides what to say next.

The `transitions` state machine holds every allowed move between states; this class adds what a
retiree needs around it: questions answered anywhere, repeat/slower/back/start over, confirmation
when unsure, and never keeping a number the user said.
"""

import logging
import re
from collections.abc import Callable
from datetime import date

from transitions import Machine, Transition

from assistant import clock
from assistant.dialog.reply import Reply, VoiceSettings
from assistant.dialog.schedule import days_text, due_text, last_and_due_text, next_deadline
from assistant.flows import RETURN, Flows, sentences
from assistant.flows.schema import ASKS_AGAIN
from assistant.privacy import find_private
from assistant.understanding import (
    ACT,
    CHOOSE,
    CONFIRM,
    OUT_OF_SCOPE,
    UNKNOWN,
    Understander,
    chinese_count,
    has_chinese,
    spoken_date,
)

log = logging.getLogger(__name__)

MAX_CHARS = 200
"""Longer input is not a spoken sentence (a 10,000-character paste); ask for a short one."""
MISSES_BEFORE_PERSON = 3
LONG_TURN = 8
"""A turn of at least this many Chinese characters that is not understood was mostly heard (the spoken dev
set's "领卡的时候也要刷脸吗", heard word for word): it gets "没听明白,换个说法", not "没听清", which would have
the user say the same sentence again, louder. Shorter ones ("那么少" for a "嗯") may well be misheard."""
NUMBER_FOLLOW_TURNS = 2
"""After a number is refused, this many turns take a bare group of digits as more of it (an ID in groups)."""
_NOT_A_CHOICE = frozenset({"negation", "lack", "question", "either"})
"""Cues (flows/understanding.yaml) that keep a channel named beside "我要认证" from being taken as the choice:
"我要认证,微信不会弄", "没有微信", "用微信还是支付宝", "微信能认证吗"."""
_VOICE_CONTROLS = {"slower": ("rate_step", -1), "faster": ("rate_step", 1),
                   "louder": ("volume_step", 1), "softer": ("volume_step", -1)}
_AT_LIMIT = {"slower": "slowest", "faster": "fastest", "louder": "loudest", "softer": "softest"}
_STEP_OPTIONS = ["好了", "再说一遍", "上一步"]
_END_MARKS = "。.!!,, "
"""punctuation and spaces around a one-word answer ("要!"), each stripped on its own"""


class _Position:
    """Where the user is: the model the state machine moves (kept apart so trigger names cannot clash with
    Session's), with the way back its moves keep: `history` for "上一步", `returns` for the step a detour
    (troubleshooting) interrupted."""

    def __init__(self):
        self.history: list[str] = []
        self.returns: list[str] = []
        self.start = ""
        self.detours: frozenset[str] = frozenset()
        """states that are part of a detour (their walk goes back where it was interrupted)"""

    # Both set by transitions' Machine when it takes the model (annotations only: it binds no name the model has).
    state: str
    trigger: Callable[[str], bool]

    # Where a remembered move goes (read by _Move just before the state changes).
    def step_before(self) -> str:
        return self.history[-1]

    def interrupted_step(self) -> str:
        return self.returns[-1] if self.returns else self.start

    # Callbacks after each kind of move: the bookkeeping lives here, not beside each call.
    def went_on(self, event):
        """A move forward (an intent, a channel, a person, goodbye, leaving a walk): 上一步 comes back here; entering
        a detour remembers the step it interrupted; leaving detours altogether forgets them."""
        source, now = event.transition.source, self.state
        self.history.append(source)
        if now in self.detours and source not in self.detours:
            self.returns.append(source)
        elif now not in self.detours:
            self.returns.clear()

    def went_back(self, event):
        self.history.pop()
        if self.state not in self.detours:
            self.returns.clear()

    def came_back(self, event):
        """The detour is over: back to the step it interrupted (上一步 then goes to the detour's last step)."""
        if self.returns:
            self.returns.pop()
        self.history.append(event.transition.source)

    def forgot(self, event):
        # New lists: a kiosk's snapshot of the last user's way back is never changed under it.
        self.history, self.returns = [], []


class _Move(Transition):
    """A transition; a remembered one (上一步, the end of a detour) learns where it goes only when it is made,
    from the position, since the step before is not known when the machine is built."""

    def __init__(self, *args, remembered: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.remembered = remembered

    def _change_state(self, event_data):
        if not self.remembered:
            return super()._change_state(event_data)
        placeholder, self.dest = self.dest, getattr(event_data.model, self.remembered)()
        try:
            super()._change_state(event_data)
        finally:
            self.dest = placeholder


class _Machine(Machine):
    transition_cls = _Move


# Trigger names of the moves that are not a flow's intent (distinct from every intent name in flows/).
STEP_BACK, RESTART, LEAVE = "step_back", "restart", "leave_walk"


def build_machine(flows: Flows, position: _Position) -> Machine:
    """Every move the conversation can make, as a transition; an invalid one raises (MachineError) instead of
    being ignored, so a mismatch between the session and flows/ shows at once."""
    position.start = flows.start
    position.detours = frozenset(s.name for s in flows.states.values() if s.returns)
    # No auto "to_<state>" triggers: 141 states × 141 targets per session is slow, and no move needs them.
    machine = _Machine(model=position, states=list(flows.states), initial=flows.start, auto_transitions=False,
                       ignore_invalid_triggers=False, send_event=True)
    for state in flows.states.values():
        for intent, dest in state.on.items():
            if dest == RETURN:
                machine.add_transition(intent, state.name, flows.start, after="came_back",
                                       remembered="interrupted_step")
            else:
                machine.add_transition(intent, state.name, dest, after="went_on")
    # Added after the states' own moves, so a state's own meaning of an intent wins.
    for intent, dest in flows.goto.items():
        machine.add_transition(intent, "*", dest, after="went_on")
    for place in ("human", "goodbye"):  # control words that are also places: from anywhere
        machine.add_transition(place, "*", place, after="went_on")
    machine.add_transition(LEAVE, "*", flows.start, after="went_on")
    machine.add_transition(STEP_BACK, "*", flows.start, after="went_back", remembered="step_before")
    machine.add_transition(RESTART, "*", flows.start, after="forgot")
    return machine


def _letters(text: str) -> str:
    """The turn's characters without punctuation or spaces, as said (not normalised)."""
    return "".join(ch for ch in text if ch.isalnum())


class Session:
    """A conversation with one user; `greet()` first, then `handle(text)` for each utterance."""

    def __init__(self, flows: Flows, config=None, today: date | None = None,
                 understander: Understander | None = None, remind=None):
        self.flows = flows
        self.remind = remind
        """remind(deadline) writes a calendar file and returns its path (at home; None at a kiosk: no offer)"""
        self.config = config
        self.today = today or clock.today()
        self.understander = understander or Understander(flows)
        self._position = _Position()
        self.machine = build_machine(flows, self._position)
        self._walks_named = {intent: self._walks_of_channel(intent) for intent in flows.goto}
        """channel intent -> the walks it starts, once: the flows do not change in a session"""
        self.voice = VoiceSettings()
        self.reset()

    # --- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._position.state

    @property
    def history(self) -> list[str]:
        """the states before this one, for "上一步" (kept by the machine's callbacks)"""
        return self._position.history

    @property
    def returns(self) -> list[str]:
        """the steps detours interrupted, to come back to (kept by the machine's callbacks)"""
        return self._position.returns

    def reset(self):
        """Forget everything about the conversation (a new user at the kiosk)."""
        self._position.trigger(RESTART)
        self.misses = 0
        self.pending: tuple | None = None
        self.pending_slots: dict = {}
        """what the sentence asked about named (a scam kind, sunglasses), kept for when the user says 对"""
        self.last_content: list[str] = []
        self.warned = False
        """the last reply was the scam warning: a turn of not having fallen for it is read as that (handle)"""
        self.place = None
        """where the user said they live (a regions.Place), remembered for the conversation"""
        self.lacked: set[str] = set()
        """the channels the user said they lack ("我没有微信"): never offered by an answer afterwards"""
        self.certified_today = False
        self.recent_number = 0
        self.moved_on: tuple[str, str, str, str | None] | None = None
        """(step left, step entered, intent, the step a detour's end came back to or None): the last move on
        "done", which a correction right after takes back while the user is still where it led"""

    def allowed_intents(self) -> list[str]:
        state = self.flows.states[self.state]
        # Naming the walk one is already in ("我打开微信了") must not restart it.
        # A yes is read everywhere (Flows.readable_intents): where nothing was asked ("好的", "行", "可以" at the
        # greeting, a choice, the result) it gets "好的。" and the question of that place again (`_execute`), not
        # "没听清" (they would say it louder) nor a guess at something else ("好了" at the greeting was asked
        # "您是说“再见”吗?", where a reflex "对" would end the session).
        # A relative's walk too: "微信" in the WeChat 亲情服务 walk names the walk it is in (the `family` step's own
        # `on` leads there), not the user's own WeChat walk (session 61: it started 本人认证 there).
        return [i for i in self.flows.readable_intents(self.state)
                if not (i in self.flows.goto and i not in state.on and state.walk is not None
                        and state.walk in self._walks_named[i])]

    def _walk_named_alone(self, u) -> str | None:
        """The channel intent whose phrase the whole turn is ("微信", "用支付宝"), when it names the walk one is in and
        the turn was neither acted on nor asked about as done ("微信" at the step that opens WeChat may say it is
        open: "您是说“好了”吗?" stays); else None."""
        walk = self.flows.states[self.state].walk
        if u.action == ACT or walk is None or {u.intent, u.second} & self.understander.done_intents:
            return None
        return next((i for i in self.understander.phrases.get(u.text or "", ())
                     if i in self._walks_named and walk in self._walks_named[i]), None)

    def _walks_of_channel(self, intent: str) -> set:
        """The walks a channel's intent starts: its own (`goto`), and those a step's `on` leads it to instead
        (at the `family` step "微信" is the WeChat 亲情服务 walk)."""
        dests = [self.flows.goto.get(intent, ""), *(s.on[intent] for s in self.flows.states.values() if intent in s.on)]
        return {w for w in map(self._walk_of, dests) if w is not None}

    def same_effect(self) -> dict:
        return self.flows.same_effect(self.state)

    def expected_phrases(self) -> list[str]:
        """What the user is likely to say now: the recogniser's grammar for this state."""
        # Not a yes where nothing was asked (allowed_intents): short words like "好", "要", "行" in a grammar of
        # channels would be read into a mumbled choice; a yes there is heard by the open reading all the same.
        only_heard = self._yes_only_heard(self.flows.states[self.state])
        intents = [i for i in self.allowed_intents() if not (only_heard and i == "yes")]
        intents += ["yes", "no"] if self.pending else []
        phrases = [p.text for i in intents for p in self.flows.intents[i].phrases]
        return list(dict.fromkeys([*phrases, *self.understander.grammar_phrases(intents)]))

    def options(self) -> list[str]:
        state = self.flows.states[self.state]
        if self.state == self.flows.start and self.lacked:
            return self._start_options()
        return state.options or (_STEP_OPTIONS if state.walk else ["重新开始", "我能说什么", "再见"])

    def _apps_left(self) -> list[str]:
        """The apps of the greeting the user has not said they lack: after "我没有微信" and "支付宝也没有", "您可以说
        “微信”……" would name the very apps they just said they do not have. (The family step does not filter: a
        relative's 支付宝 is not the user's.)"""
        lacked = {self.flows.intents[c].label for c in self.lacked if c in self.flows.intents}
        return [o for o in self.flows.states[self.flows.start].options if o not in lacked]

    def _start_options(self) -> list[str]:
        """The ways offered at the greeting once apps were lacked: those left and a relative's help (the greeting's
        own question leaves that to its first words); none left: a relative's help and the other ways."""
        family = [self.flows.intents[i].label for i in ("ch_family", "other_ways") if i in self.flows.intents]
        left = self._apps_left()
        return [*left, *family[:1]] if left else family

    # --- turns ---------------------------------------------------------------------------------
    def greet(self) -> Reply:
        self.reset()
        parts = self._state_sentences(self.state) + self._deadline_reminder()
        self.last_content = parts
        return self._reply(parts, None)

    def handle(self, text: str) -> Reply:
        warned, self.warned = self.warned, False
        reply = self._handle(text, warned)
        self.warned = reply.intent == "q_scam"
        return reply

    def _handle(self, text: str, warned: bool) -> Reply:
        text = (text or "").strip()
        private = find_private(text, after_number=self.recent_number > 0)
        self.recent_number = max(self.recent_number - 1, 0)
        if private == "number":
            self.recent_number = NUMBER_FOLLOW_TURNS
        if private:
            # The number never reaches matching, history or any reply.
            return self._reply([self._say("numbers" if private == "number" else "secret"), self._you_can_say()],
                               "private")
        if not text:
            return self._reply([self._say("silence"), self._you_can_say()], "silence")
        if len(text) > MAX_CHARS:
            return self._reply([self._say("too_long"), self._you_can_say()], "too_long")

        undo = self._correction(text)
        if undo:
            return undo
        pending, self.pending = self.pending, None
        if pending:
            reply = self._resolve_pending(pending, text)
            if reply:
                return reply

        u = self.understander.understand(text, self.state, self.allowed_intents(), self.today, self.same_effect())
        self._remember(u.slots)
        if u.action == UNKNOWN and u.guard == "declined":
            # "别从头来", "不用再说一遍了": understood, and nothing to do — say so and ask the step's question again,
            # rather than "没听清", which would have them say it again louder.
            return self._reply([self._say("declined"), *self._ask_sentences(self.state)], "declined")
        if u.action == UNKNOWN and u.guard == "yes, not no":
            # "对" where nothing was asked (the greeting, the result): heard, and nothing to do — "好的" and the
            # question of this place again, rather than "没听清" (they would say it again, louder).
            return self._reply([self._say("heard_yes"), *self._ask_sentences(self.state)], "heard_yes")
        if u.action == UNKNOWN and u.guard == "says nothing" and self._only_greets(text):
            return self._reply([self._say("hello"), *self._ask_sentences(self.state)], "hello")
        if (u.slots.get("lost") and "q_documents" in (self.flows.answer_of.keys() & self.allowed_intents())
                and ((u.action == UNKNOWN and u.guard in ("went wrong", "cannot here"))
                     or (u.action in (CHOOSE, CONFIRM) and "q_documents" in (u.intent, u.second)))):
            # A card or ID lost (the `lost` slot's own words: 卡丢, 证找不着…): what to do without it, when nothing
            # more was understood — not "弄好了再说好了" (session 60: "我社保卡丢了" at a face step) — or when the
            # documents answer is one of the readings asked about — not "您是说“要准备什么”,还是“还没弄好”?", a
            # question they cannot answer (session 61, the light step, model c4eb5d23).
            return self._answer("q_documents", text, u.slots)
        refusal = self.understander.not_fallen_intent
        if (warned and u.intent != "q_scam" and refusal in self.flows.answer_of
                and self.understander.not_fallen.search(u.text or "")):
            # Right after the scam warning, the words of not having fallen for it ("我没给他", "咱一分钱都没转")
            # answer it, whatever else the model made of them (session 61: "我没给他" was asked "您是说“家里人帮忙”
            # 吗?"). Elsewhere such a turn needs the scam told with it (understanding.yaml needs_cue: "我没填" at its
            # step is not done yet). A new scam story, or having fallen for it (q_scam), is that.
            return self._answer(refusal, text, u.slots)
        named = self._walk_named_alone(u)
        if named:
            # The app of the walk one is in, said alone ("支付宝" in 支付宝代人认证): not a move — the model may not
            # read it there (allowed_intents) and guessed at something else (session 62: "您是说“要更新”吗?") — but
            # heard: we are certifying with it, this step again.
            return self._reply([self._say("in_walk"), *self._ask_sentences(self.state)], named)
        if u.action == UNKNOWN and u.guard == "went wrong":
            # Something went wrong at a step, nothing more understood: take your time, and how to get help; nothing
            # is asked back.
            return self._reply([self._say("went_wrong")], "went_wrong")
        if u.action == UNKNOWN and u.guard == "cannot here":
            # "呃我点不进去啊" where "好了" finishes nothing (the greeting, the other ways, a step that asks a choice):
            # not "没听清" (they were heard, session 65 by hand) nor "弄好了再说好了" — take your time, the ways to get
            # help, and the question of this place again. Nothing is acted on.
            return self._reply([self._say("cannot_here"), *self._ask_sentences(self.state)], "went_wrong")
        if u.action == UNKNOWN:
            # Out of scope but not surely so (a filler, a cough, babble, a half sentence): "没听清" and a second try
            # is kinder than "这个我帮不上忙"; a sure one (above the act band) gets that answer below. A whole sentence
            # the model reads likeliest as out of scope also hears where pension questions are answered (session 67).
            return self._not_understood(text, leans_out_of_scope=u.intent == OUT_OF_SCOPE)
        assert u.intent is not None  # every reading but "not understood" names an intent
        # Only a turn acted on resets the count of turns that went nowhere; a question back ("您是说……吗?") counts
        # as one, so someone who is asked about three unrelated things in a row is offered a person.
        if u.action == ACT and u.intent != OUT_OF_SCOPE:
            self.misses = 0
        elif u.action in (CHOOSE, CONFIRM):
            self.misses += 1
        # A reading that only asks the step's question again is safe to act on: asking "您是说“好了”吗?" first would
        # be a question about a question (the result step's bare "嗯" / "弄完了").
        if u.action in (CHOOSE, CONFIRM) and self._only_asks_again({u.intent, u.second} - {None}):
            return self._execute("next", text)
        # So is a control whose reply is a kind word and the step's question again (a thank-you, ASKS_AGAIN):
        # "您是说“谢谢”吗?" would be silly.
        if u.action in (CHOOSE, CONFIRM) and u.intent in ASKS_AGAIN:
            return self._execute(u.intent, text)
        # So are "lacks it" and the walk of the one other channel named ("我没有微信,用支付宝吧" was asked
        # "您是说“支付宝”,还是“没有这个软件”?"): both lead into that walk (`_lacks_channel`).
        if u.action == CHOOSE and {u.intent, u.second} == {"lacks_channel", u.slots.get("wanted")}:
            return self._execute("lacks_channel", text, u.slots)
        # So is a "no" said first where nothing was asked: its reply is itself a question ("哪里不对?"),
        # and "您是说“不对”吗? 对的话说“对”" about "不是不是,我不是给我自己弄" would have the user answer
        # "对" to mean "不对". Only when the words open with the no: a question holding one
        # ("这是不是年年都得弄", misheard) is still asked about.
        if u.action == CONFIRM and u.intent == "no" and "no" not in self.flows.states[self.state].on \
                and self.understander.says_no_first(text):
            return self._execute("no", text)
        # A place named and nothing else ("北京", "石家庄的", "广东佛山"), with "where I am" among the model's two
        # likeliest readings: that is what it says, as a step's own words do (at the city step "北京" was asked
        # "您是说“我是哪里的”吗?", "天津" "您是说“好了”,还是“我是哪里的”?"). The reply notes the place and asks the
        # step's question again, so a user who meant "I picked it" says "好了" once more; moving on would leave one
        # who had not yet picked it.
        if u.action in (CHOOSE, CONFIRM) and "tell_region" in [i for i, _ in u.ranked[:2]] \
                and self._only_a_place(text, u):
            return self._execute("tell_region", text, u.slots)
        if u.action == CHOOSE and (channel := self._named_channel(u)):
            self.misses = 0
            return self._execute(channel, text, u.slots)
        if u.action == CHOOSE and (channel := self._family_channel(u)):
            # "我帮我妈弄,用我的支付宝" was asked "您是说“支付宝”,还是“家里人帮忙”?": help from a relative on the
            # channel named is that channel's walk for a relative (the family step's own `on`), whichever is answered.
            self.misses = 0
            self._execute("ch_family", text)
            return self._execute(channel, text, u.slots)
        if u.action == CHOOSE:
            self.pending = ("choose", u.intent, u.second, text)
            self.pending_slots = u.slots
            assert u.second is not None  # a choice is between two readings
            first, second = (self._label(i, u.slots) for i in (u.intent, u.second))
            return self._reply([self._say("choose", first=first, second=second)], "choose")
        if u.action == CONFIRM:
            # Asked about the channel named, not the wish: "您是说“掌上12333”吗?" is what the "对" decides.
            intent = self._named_channel(u) or u.intent
            self.pending = ("confirm", intent, text)
            self.pending_slots = u.slots
            label = self._label(intent, u.slots)
            key = "confirm_question" if label.endswith(("吗", "呢")) else "confirm"
            return self._reply([self._say(key, label=label)], "confirm")
        if u.intent == OUT_OF_SCOPE:
            return self._out_of_scope()
        return self._execute(self._named_channel(u) or u.intent, text, u.slots)

    def _label(self, intent: str, slots: dict) -> str:
        """How a reading is named in a question back: its label, or for a place heard the place ("您是说“我是北京的”吗?"
        rather than "您是说“我是哪里的”吗?")."""
        place = slots.get("region")
        if intent == "tell_region" and place is not None:
            return self.flows.say["region_label"].format(region=place.county or place.city or place.province)
        return self.flows.label_in(intent, self.state)

    def _only_a_place(self, text: str, u) -> bool:
        """The turn is a place's name, fillers and nothing else (a 的 or 市 may follow); the region slot found it, so
        an ordinary word that is also a county's name ("和平", "长安") is not one. Read from the words as said: the
        normalised text drops fillers inside names too ("哈尔滨" is "尔滨" there)."""
        place = u.slots.get("region")
        if place is None:
            return False
        return self._without_fillers(_letters(text).replace(place.said, "", 1)) in ("", "的", "嘅", "市")

    def _only_greets(self, text: str) -> bool:
        """The turn is greetings and fillers alone, at least one greeting ("喂,您好啊"; phrases.yaml `greetings`)."""
        words = _letters(text)
        greeted = re.sub("|".join(map(re.escape, self.flows.greetings)), "", words) if self.flows.greetings else words
        if greeted == words:
            return False
        return not self._without_fillers(greeted)

    def _without_fillers(self, words: str) -> str:
        """The words with phrases.yaml's fillers taken out, the longest first ("就是说" before "就是")."""
        return re.sub("|".join(map(re.escape, sorted(self.flows.fillers, key=len, reverse=True))), "", words)

    def _named_channel(self, u) -> str | None:
        """"我要弄养老金认证,俺闺女说在微信上弄": a wish to certify that names one channel is that channel's walk,
        rather than being asked which channel (the model reads the wish, the slots the channel). Only when the model's
        likeliest walk after the wish is that channel's: with a relative named, their phone may be meant ("我闺女用微信
        帮我": 家里人帮忙); and never with a negation, a lack, a question or an either-or."""
        readings = {u.intent, u.second} if u.action == CHOOSE else {u.intent}
        if "want_certify" not in readings or u.action not in (ACT, CONFIRM, CHOOSE) or u.cues & _NOT_A_CHOICE:
            return None
        allowed = self.allowed_intents()
        named = [c for c in u.slots.get("channels", ()) if c in allowed and c in self.flows.goto]
        walks = [i for i, _ in u.ranked if i in allowed and i in self.flows.goto]
        if len(named) != 1 or walks[:1] != named:
            return None
        # A choice only between the wish and the channel its words name ("俺想弄养老金认证,用微信" was asked
        # "您是说“微信”,还是“认证养老金”?"): both readings lead into that walk, as a wish that names it does.
        return named[0] if u.action != CHOOSE or readings == {"want_certify", named[0]} else None

    def _family_channel(self, u) -> str | None:
        """The channel of a choice only between help from a relative and the one channel the words name, when the
        relative's step goes on by that channel (dialog.yaml `family`: 支付宝 → 代人认证) and nothing says the channel
        is lacked, asked about or weighed against another."""
        readings = {u.intent, u.second}
        family = self.flows.goto.get("ch_family")
        if "ch_family" not in readings or u.cues & _NOT_A_CHOICE or family not in self.flows.states \
                or "ch_family" not in self.allowed_intents() \
                or not self.machine.get_transitions("ch_family", source=self.state):
            return None
        (channel,) = readings - {"ch_family"} or {None}
        named = u.slots.get("channels", ())
        return channel if list(named) == [channel] and channel in self.flows.states[family].on else None

    @staticmethod
    def _yes_only_heard(state) -> bool:
        """A yes here is only heard (allowed_intents): nothing was asked and it is no step's "done", so its reply is
        "好的。" and this place's question again. Read unsurely, it is still asked about ("您是说“对”吗?"): acting on it
        then, on an unsure wish to certify at the greeting, and on a choice between the wish and the channel it names
        (tried together in session 45) made 3 more spoken turns of 270 wrong & confident for one more right. The last
        alone (`_named_channel`, session 59) made one spoken dev turn more right at each SNR and none more wrong."""
        return "yes" not in state.on and "next" not in state.on

    def _correction(self, text: str) -> Reply | None:
        """Right after a move on "done" ("好了", "成功了"), "不对" / "没成功" takes it back: a misheard negation
        ("没成功" heard as "成功") must not leave the user at a step they never reached. The readings that correct
        which moves are data (understanding.yaml `corrections`); the same words are then read at the step the user
        is back at, so "没成功" there goes on to the failed walk."""
        # It stays open while the user is where the move led: a "慢一点" or a question first does not end it.
        moved = self.moved_on
        if moved is None or moved[1] != self.state:
            self.moved_on = None
            return None
        left, _, intent, interrupted = moved
        if not self.history or self.history[-1] != left:  # the way back no longer leads there: nothing to take back
            self.moved_on = None
            return None
        on = self.flows.states[self.state].on
        correcting = [r for r, moves in self.understander.corrections.items() if intent in moves and r not in on]
        # A question still open ("要不要记个提醒?", "您是说……吗?") is answered "不要", "不对": that "no" is its answer.
        if self.pending:
            correcting = [r for r in correcting if r != "no"]
        said = self.understander.norm.text(text)
        correcting = [r for r in correcting if self.understander.correction_said(r, said)]
        if not correcting:
            return None
        u = self.understander.understand(text, self.state, list(dict.fromkeys([*self.allowed_intents(), *correcting])),
                                         self.today, self.same_effect())
        ranked = u.ranked or [(u.intent, u.probability)]
        top = ranked[0][0]
        # The best correcting reading, not only the top one: the user said the words of a correction, and at the
        # step the move led to a question about it can outrank it ("没成功" at the end: "how do I know it
        # worked?" 0.48, failed 0.43). Only a turn that asks something is that question.
        asks = "question" in self.understander.featurizer.cues_in(said)
        reading, p = next(((i, q) for i, q in ranked if i in correcting), (None, 0.0))
        # Right after the move, "上一步" means the same: back to the step left. Its belief counts with the
        # correction's (session 60: "刚刚那步我还没弄完", read back 0.60 / not yet 0.34, was asked "上一步, or
        # 还没弄好?" — and "还没弄好" then would have left the user one step ahead).
        if reading is not None:
            p += dict(ranked).get("back", 0.0)
        if reading is None or (top not in (reading, "back") and asks) or p < self.understander.correction_min \
                or (u.guard or "").startswith("scam"):
            return None
        self.moved_on = None
        self.pending = None
        self.certified_today = False
        self._position.trigger(STEP_BACK)
        if interrupted:
            self.returns.append(interrupted)  # back in the detour, whose end comes back here again
        again = self.understander.understand(text, self.state, self.allowed_intents(), self.today,
                                             self.same_effect())
        undone = self._say("undone")
        if again.action == ACT and again.intent in self.flows.states[self.state].on \
                and again.intent not in self.understander.done_intents:
            reply = self._execute(again.intent, text, again.slots)
            reply.parts.insert(0, undone)
            reply.say = undone + reply.say
            return reply
        return self._acknowledged(undone, self._state_sentences(self.state), "back")  # not the apology again

    def _only_asks_again(self, readings: set) -> bool:
        """The readings are "好了" (and perhaps an outcome) where "好了" repeats this step's question."""
        on = self.flows.states[self.state].on
        return "next" in readings and on.get("next") == self.state and readings <= {"next", "yes", *on}

    def _offer_person(self, parts: list[str], intent: str) -> Reply:
        """Three turns in a row went nowhere: "好像不太顺利。要不要找人帮忙?……" A yes to it ("要", "对") reaches
        the person (the `human` control), "不用了" is heard and the place's question asked again; until session 67
        "要" was read as the step's "好了" and moved the user on."""
        self.misses = 0
        self.pending = ("offer", "human")
        return self._reply([*parts, self._say("offer_person")], intent)

    def _out_of_scope(self) -> Reply:
        """Out of scope (chit-chat, or the pension itself: how much, this year's rise): a kind word, where such
        questions are answered, and the choices; three turns that go nowhere in a row offer a person (12333 among
        them)."""
        self.misses += 1
        if self.misses >= MISSES_BEFORE_PERSON:
            return self._offer_person([self._say("out_of_scope")], OUT_OF_SCOPE)
        return self._reply([self._say("out_of_scope"), self._say("other_pension_matters"), self._you_can_say()],
                           OUT_OF_SCOPE)

    def _remember(self, slots: dict):
        if slots.get("region"):
            self.place = slots["region"]

    def not_heard(self) -> Reply:
        """The sound of a turn could not be used at all (a broken recording, a failed microphone)."""
        return self._reply([self._say("not_heard"), self._you_can_say()], "not_heard")

    def trouble(self) -> Reply:
        """Something on the assistant's side failed during the turn (the live loop's guard): say sorry kindly
        and ask again. Flow folders without the sentence fall back to not_heard's."""
        key = "trouble" if "trouble" in self.flows.say else "not_heard"
        return self._reply([self._say(key), self._you_can_say()], "trouble")

    # --- what each intent does -----------------------------------------------------------------
    def _execute(self, intent: str, text: str, slots: dict | None = None) -> Reply:
        slots = slots or {}
        state = self.flows.states[self.state]
        # "我没有微信,用支付宝吧" read as 支付宝 alone (acted on, or asked and answered "对"): the channel lacked beside
        # it is said first ("没有微信也没关系。"), as when it is read as the lack, which starts the wanted walk too.
        if intent in self.flows.goto and slots.get("wanted") == intent and slots.get("lacked") not in (None, intent):
            intent = "lacks_channel"
        # The step's own answer comes first: "没有" at "您以前注册过吗?" is that answer, not the control "no".
        if intent in self.flows.controls and intent not in state.on:
            return self._control(intent, slots)
        if intent in self.flows.answer_of and intent not in state.on:
            return self._answer(intent, text, slots)
        if intent == "yes" and "yes" not in state.on and "next" in state.on:
            intent = "next"
        elif intent == "yes" and self._yes_only_heard(state):
            # A yes where nothing was asked: heard, and nothing to do (allowed_intents).
            return self._reply([self._say("heard_yes"), *self._ask_sentences(self.state)], "heard_yes")
        moves = self.machine.get_transitions(intent, source=self.state)
        if not moves:  # an intent the state does not use, e.g. "对" where nothing was asked
            return self._not_understood(text)
        if getattr(moves[0], "remembered", None):  # the end of a detour
            return self._come_back(intent)
        if moves[0].dest == self.state:  # "好了" where the step asks which result the screen shows: ask again
            return self._content(self._state_sentences(self.state), intent)
        before = self.state
        self._position.trigger(intent)
        if self._channel_walk(intent) == self.flows.states[self.state].walk:
            # Chosen after all ("我没有微信" … "那就微信吧"): the user has it (or will get it); offered again.
            self.lacked.discard(intent)
        self.moved_on = (before, self.state, intent, None) if intent in self.understander.done_intents else None
        says = self._state_sentences(self.state)
        if self.flows.states[self.state].certified:
            after = self._next_after_success()
            if self.place is None and not getattr(self.config, "region", None):
                says += after  # a question: asked last, where the user answers it
            else:
                says[1:1] = after
        return self._content([*self._say_back(before), *says], intent)

    def _next_after_success(self) -> list[str]:
        """Just certified: the next deadline counts from today, by the rule of where the user lives; if we do
        not know where that is, ask (the answer, "我是甘肃的", is counted in _region_told)."""
        self.certified_today = True
        place = self._rule_place()
        t = self.flows.answers["next_date"].templates
        if place is None:
            return [t["after_success_ask"]]
        deadline = next_deadline(self.flows, self.today, place)
        parts = [t["unknown_region"].format(region=place)] if deadline.general else []
        parts.append(due_text(self.flows, deadline))
        if self.remind is not None:
            self.pending = ("remind", deadline)
            parts.append(t["remind_offer"])
        return parts

    def _make_reminder(self, deadline) -> Reply:
        t = self.flows.answers["next_date"].templates
        try:
            path = self.remind(deadline)
        except Exception as exc:  # noqa: BLE001 - a full disk or a missing folder: say so, the conversation goes on
            log.warning("日历提醒没做成 (the calendar file could not be written: %s)", type(exc).__name__)
            return self._content([t["remind_failed"], *self._ask_sentences(self.state)], "yes")
        return self._content([t["remind_made"].format(where=path.name), *self._ask_sentences(self.state)], "yes")

    def _say_back(self, before: str) -> list[str]:
        """Entering a certification walk: say which one, so a misheard choice is noticed at once."""
        now = self.flows.states[self.state]
        if not now.walk or now.returns or now.walk == self.flows.states[before].walk:
            return []
        chosen = self.flows.chosen(now.walk)
        return [chosen] if chosen else []

    def _come_back(self, intent: str) -> Reply:
        before = self.state
        self._position.trigger(intent)
        # "好了" at a detour's end is a move on done too; taken back, the detour is again what interrupted here.
        self.moved_on = (before, self.state, intent, self.state) if intent in self.understander.done_intents else None
        return self._content(self._return_prompt(), "next")

    def _control(self, intent: str, slots: dict | None = None) -> Reply:
        slots = slots or {}
        state = self.flows.states[self.state]
        if intent == "not_yet":
            parts = sentences(self._say("not_yet"))
            return self._reply(parts if "next" in state.on else parts[:1], intent)
        if intent == "check_done":
            if "next" in state.on:
                return self._content([*sentences(self._say("check_done")), *self._ask_sentences(self.state)], intent)
            if state.walk is None and self.state != self.flows.start:
                return self._content(self._ask_sentences(self.state), intent)
            return self._content([self._say("not_started"), *self._ask_sentences(self.state)], intent)
        if intent == "want_certify":
            if state.walk and not state.returns:
                return self._content([self._say("in_walk"), *self._ask_sentences(self.state)], intent)
            if self.state != self.flows.start:
                self._position.trigger(LEAVE)
            return self._content([self._say("want_certify"), *self._ask_sentences(self.state)], intent)
        if intent == "lacks_channel":
            # The channel said to be lacked, not the longest name: "我不用微信,用支付宝" lacks 微信.
            return self._lacks_channel(slots.get("lacked") or slots.get("channel"), slots.get("wanted"),
                                       slots.get("lacking", ()))
        if intent == "tell_region":
            return self._region_told()
        if intent == "no":
            # "不对" / "不是" where nothing was asked: the user disagrees with what they heard or see. They were heard,
            # so not "没听清" (which has them say "不对" again, louder): asked what is wrong, and they stay here.
            return self._reply([self._say("disagree"), self._you_can_say()], intent)
        if intent == "repeat":
            return self._reply(self.last_content or self._state_sentences(self.state), intent)
        if intent in _VOICE_CONTROLS:
            field, delta = _VOICE_CONTROLS[intent]
            changed = self.voice.step(field, delta)
            ack = self._say(intent if changed else _AT_LIMIT[intent])
            return self._reply([ack, *self.last_content], intent, controls=[intent] if changed else [])
        if intent == "back":
            if not self.history:
                return self._acknowledged(self._say("first_step"), self._ask_sentences(self.state), intent)
            self._position.trigger(STEP_BACK)
            return self._acknowledged(self._say("back"), self._state_sentences(self.state), intent)
        if intent == "start_over":
            self.reset()
            return self._acknowledged(self._say("start_over"), self._ask_sentences(self.state), intent)
        if intent == "thanks":
            # A thank-you is no goodbye and no request: a kind word, the step's question again, nothing moved;
            # "再说一遍" afterwards still repeats the step, not "不客气".
            return self._reply([self._say("thanks"), *self._ask_sentences(self.state)], intent)
        if intent == "help":
            return self._reply([self._say("help_state", options=self._options_text()), self._say("help_always")],
                               intent)
        if intent in ("human", "goodbye"):
            self._position.trigger(intent)
            reply = self._content(self._state_sentences(intent), intent)
            if intent == "goodbye":
                reply.controls.append("goodbye")
            return reply
        raise AssertionError(f"control '{intent}' has no behaviour")  # the loader only allows known controls

    def _lacks_channel(self, channel: str | None, wanted: str | None = None, lacking=()) -> Reply:
        """"我没有微信": never the walk of the app named; the other ways instead (and leave its walk if in it).
        "我不用微信,用支付宝" names the way wanted too (slot `wanted`): its walk at once, after "没有微信也没关系。",
        rather than the list of ways and the user naming 支付宝 again. `lacking`: every channel said to be lacked
        ("微信没有,支付宝也没有"), none of them offered."""
        label = self.flows.intents[channel].label if channel in self.flows.intents else None
        self.lacked |= {c for c in (channel, *lacking) if c}
        # The walk of any channel said to be lacked is left, not only the first named's ("掌上12333和微信我都没有" in
        # the WeChat walk had stayed in it).
        lacked_walks = {self._channel_walk(c) for c in (channel, *lacking) if c} - {None}
        if self.flows.states[self.state].walk in lacked_walks and self.state != self.flows.start:
            self._position.trigger(LEAVE)
        names = [label, *(self.flows.intents[c].label for c in lacking if c in self.flows.intents)]
        lacked = [name for name in dict.fromkeys(names) if name]
        if label and len(lacked) > 1:  # "没有微信和支付宝也没关系。"
            label = self._say("comma").join(lacked[:-1]) + self._say("and") + lacked[-1]
        walk_now = self.flows.states[self.state].walk
        if walk_now and walk_now not in lacked_walks and (
                wanted is None or self._channel_walk(wanted) == walk_now):
            # In the walk of a channel the user has, lacking another is no reason to leave it (session 56, by hand:
            # "我没有掌上12333" in the WeChat walk was offered WeChat among the other ways, the step not said again).
            parts = [self._say("lacks_channel", label=label)] if label else []
            return self._content([*parts, *self._return_prompt()], "lacks_channel")
        if (wanted in self.flows.goto and wanted in self.allowed_intents()
                and self.machine.get_transitions(wanted, source=self.state)):
            walk = self._execute(wanted, "")
            parts = ([self._say("lacks_channel", label=label)] if label else []) + walk.parts
            return self._content(parts, wanted)
        parts = [self._say("lacks_channel", label=label)] if label else []
        left = self._apps_left()
        if left:
            parts.append(self._say("other_channels", options=self._join(left)))
        else:  # every app of the greeting lacked ("微信没有,支付宝也没有", then "12333也没有")
            parts.extend(sentences(self._say("no_channel_left")))
        return self._content(parts, "lacks_channel")

    def _region_told(self) -> Reply:
        """"我是广州的": remembered for deadlines; outside a walk, the local app if the guides name one."""
        place = self.place
        if place is None:
            return self._not_understood("")
        name = place.city or place.province
        parts = [self._say("region_noted", region=name)]
        state = self.flows.states[self.state]
        if state.walk:
            return self._content([*parts, *self._return_prompt()], "tell_region")
        if state.certified and self.certified_today:
            return self._content([*parts, *self._next_after_success(), *self._ask_sentences(self.state)],
                                 "tell_region")
        return self._content([*parts, *self._region_app(), *self._ask_sentences(self.state)], "tell_region")

    def _local_app(self, place) -> str | None:
        for name in (place.county, place.city, place.province):
            region = self.flows.find_region(name) if name else None
            if region and region.app:
                return region.app
        return None

    def _answer(self, intent: str, text: str, slots: dict | None = None) -> Reply:
        answer_id = self.flows.answer_of[intent]
        if answer_id == "next_date":
            return self._next_date(slots or {}, text)
        if (intent == "q_phone_type" and (slots or {}).get("phone") == "feature"
                and "no_smartphone" in self.flows.answer_of):
            answer_id = self.flows.answer_of["no_smartphone"]  # "老年机能用吗": no, and here is what to do instead
        if answer_id == "region_app" and "region_app" in self.flows.answers:
            return self._content([*self._region_app(), *self._return_prompt()], intent)
        answer = self.flows.answers[answer_id]
        while answer.offers in self.lacked and answer.instead:
            # "哪个最简单" after "我没有微信": the simplest way the user has, not WeChat (the loader forbids loops).
            answer = self.flows.answers[answer.instead]
        kind = self._answer_kind(answer, slots or {})
        walk = self.flows.states[self.state].walk
        if kind and f"{kind}_{walk}" in answer.templates:
            # This walk's own sentence for the kind (a lost card in the WeChat 亲情服务 walk, which photographs it).
            kind = f"{kind}_{walk}"
        if kind in answer.templates:
            # The point of this question first (a scam's kind: "来电显示也可能是假的"; sunglasses, not the whole
            # list), then what always holds.
            parts = sentences(answer.templates[kind]) + sentences(answer.templates["then"])
        else:
            parts = answer.sentences
        reply = self._content([*parts, *self._return_prompt()], intent)
        # An answer that recommends a walk ("用微信最省事", knowledge.yaml `offers`), given where none is under way: a
        # yes next starts it. Never inside a walk, where "好了" after the answer is the step's own "done".
        offered = answer.offers
        if (offered and offered not in self.lacked and self.flows.states[self.state].walk is None
                and offered in self.allowed_intents() and self.machine.get_transitions(offered, source=self.state)):
            self.pending = ("offer", offered)
        return reply

    def _answer_kind(self, answer, slots: dict) -> str | None:
        """Which first sentence of an answer fits (knowledge.yaml `by`): by a slot of the turn (a scam's kind), or,
        `by: where`, by where the user is — "walk" in a channel's or a trouble walk, "start" outside one (the
        greeting, the other ways): "刷不了脸就说……" means nothing to someone who has not picked a way yet — and
        "waiting" once the certification was handed in (dialog.yaml `awaiting_result`) where the answer has a sentence
        for it: "要等多久" there asks when the result comes, not how long certifying takes (session 64, by hand:
        "不麻烦,一般三到五分钟就能做完" to someone already done)."""
        if answer.by == "where":
            state = self.flows.states[self.state]
            if state.awaiting_result and "waiting" in answer.templates:
                return "waiting"
            return "walk" if state.walk else "start"
        return slots.get(answer.by) if answer.by else None

    def _region_app(self) -> list[str]:
        """"我是山西的,用什么软件": the app the guides name for that place (or a city in it), else the channels
        that work everywhere, and where the guides name nothing, "以当地社保部门或12333为准"."""
        answer = self.flows.answers["region_app"]
        place = self.place
        if place is None:
            return answer.sentences
        name = place.city or place.province
        app = self._local_app(place)
        if app:
            return [answer.templates["app"].format(region=name, app=app)]
        inside = self._app_inside(place)
        if inside:
            city, app = inside
            first = answer.templates["in_province"].format(region=name, city=city, app=app)
        else:
            first = answer.templates["none"].format(region=name)
        return [*sentences(first), *sentences(answer.templates["channels"])]

    def _app_inside(self, place) -> tuple[str, str] | None:
        """A province named where the guides name an app only for one of its cities ("江西" → 新余's 赣服通)."""
        if place.city or not place.province:
            return None
        for region in self.flows.regions.values():
            if region.app and region.within == place.province:
                return region.name, region.app
        return None

    def _next_date(self, slots: dict, text: str = "") -> Reply:
        answer = self.flows.answers["next_date"]
        said = self._said_date(slots)
        if said and said.latest is not None and said.latest >= self.today and \
                not any(word in text for word in self.flows.certified_words):
            # A date that takes in today, said without a word of having done it, is when the user wants to certify
            # ("这个月能认证吗", "今天能认证吗"), not when they last did: asked for that instead (phrases.yaml).
            said = None
        last = said.day if said else getattr(self.config, "last_certified", None)
        place = self._rule_place()
        if last is None:
            self.pending = ("date", place)
            return self._reply(sentences(answer.templates["ask"]), "q_next_date")
        return self._deadline_reply(said, last, place)

    def _deadline_reply(self, said, last: date, place: str | None) -> Reply:
        """The deadline; for a vague date counted from its earliest day, with an offer to count again from the
        exact day if the user remembers it (the next date said is taken as that)."""
        vague = self._vague_note(said)
        ask = [self.flows.answers["next_date"].templates["vague_ask"]] if vague else []
        reply = self._content([*vague, *self._deadline_sentences(last, place), *ask, *self._return_prompt()],
                              "q_next_date")
        if vague:
            self.pending = ("date_refine", place)
        return reply

    @staticmethod
    def _said_date(slots: dict):
        """The date said (the understanding's date slot), if any; a vague one ("五月份", "去年年底") counts from its
        earliest day, so the deadline worked out from it is never too late."""
        from assistant.understanding.dates import SaidDate

        said = slots.get("date")
        if said and said.day is None and said.vague and said.earliest:
            return SaidDate(said.earliest, True, said.earliest, said.latest)
        return said if said and said.day else None

    def _vague_note(self, said) -> list[str]:
        if not (said and said.vague):
            return []
        return [self.flows.answers["next_date"].templates["vague"].format(earliest=spoken_date(said.day))]

    def _rule_place(self) -> str | None:
        """The name whose rule applies to where the user said they live: the city's own rule, else its
        province's (天水 → 甘肃); else the saved setting."""
        if self.place is not None:
            return self.flows.rule_name(self.place)
        return getattr(self.config, "region", None)

    def _deadline_sentences(self, last: date, place: str | None) -> list[str]:
        answer = self.flows.answers["next_date"]
        t = answer.templates
        deadline = next_deadline(self.flows, last, place)
        parts = []
        if place and deadline.general:
            parts.append(t["unknown_region"].format(region=place))
        parts.append(last_and_due_text(self.flows, deadline))
        parts.append(days_text(self.flows, deadline, self.today))
        parts += sentences(t["caveat"])
        return parts

    def _deadline_reminder(self) -> list[str]:
        last = getattr(self.config, "last_certified", None)
        if not last:
            return []
        t = self.flows.answers["next_date"].templates
        due = next_deadline(self.flows, last, getattr(self.config, "region", None)).due
        days = (due - self.today).days
        if days < 0:
            return [t["greeting_overdue"].format(days=-days)]
        if days <= 30:
            return [t["greeting_soon"].format(deadline=spoken_date(due), days=days)]
        return []

    def _resolve_pending(self, pending: tuple, text: str) -> Reply | None:
        kind = pending[0]
        if kind == "offer":
            # Right after an answer that recommends a walk: "好" / "行,就它吧" / "那就用那个" take it; "不用了" is
            # heard ("好的,那就不用。") and the question of this place asked again; anything else as usual.
            answer = self._offer_answered(pending, text)
            if answer == "yes":
                return self._execute(pending[1], text)
            if answer == "no":
                return self._content([self._say("declined"), *self._ask_sentences(self.state)], "no")
            return None
        if kind == "remind":
            answer = self._offer_answered(pending, text)
            if answer == "yes":
                return self._make_reminder(pending[1])
            if answer == "no":
                t = self.flows.answers["next_date"].templates
                return self._content([t["remind_declined"], *self._ask_sentences(self.state)], "no")
            return None  # something else: handled as usual
        if kind in ("date", "date_refine"):
            u = self.understander.understand(text, self.state, self.allowed_intents(), self.today)
            said = self._said_date(u.slots)
            if said:
                self._remember(u.slots)
                return self._deadline_reply(said, said.day, self._rule_place() or pending[1])
            if kind == "date_refine" or u.sure:
                return None  # the user moved on to something else
            return self._content([self._say("no_date"), *self._return_prompt()], "unknown")
        candidates = _readings_asked(pending)
        # A yes/no question was asked: its answer is read among the candidates, yes and no only, so "嗯",
        # "好的", "要" count as yes; a negation or a question never does (the guards still apply).
        u = self.understander.understand(text, self.state, [*candidates, "yes", "no"], self.today)
        if self._sure_of_something_else(pending, text, u):
            return None  # handled as usual
        # Asking back "对还是不对?" would be silly: when the answer is torn between yes and no only ("要" looks like
        # "不要"), the likelier one is the answer. Any other split is not an answer.
        # A plain yes or no may be taken at the confirm level ("嗯"); naming one of the readings must be sure.
        answer = self._yes_no_phrase(text) or (u.intent if _answered(u) else None)
        if kind == "confirm" and answer == "yes" and pending[1] in self.flows.confirm_in_words \
                and self._yes_no_phrase(_one_of_repeats(text)) != "yes":
            # Ending or wiping the session, or "not yet", takes a yes in words (dialog.yaml confirm_in_words):
            # "好了" after "您是说“再见”吗?" or "您是说“还没弄好”吗?" said the step was done, and is read as that at
            # the step.
            return None
        if kind == "confirm" and answer == "yes":
            self.misses = 0
            return self._execute(pending[1], pending[-1], self.pending_slots)
        if u.intent is not None and u.intent in candidates and u.action == ACT:
            self.misses = 0
            return self._execute(u.intent, pending[-1], self.pending_slots)
        if kind == "choose" and answer == "yes":
            # "对" to "您是说“A”,还是“B”?" names neither (session 67, by hand: at a step it was then read as "好了" and
            # moved the user on, whichever they meant; at the greeting it was "好的" and the choice was dropped). The
            # question is asked again, naming both; it counts as a turn that went nowhere, and the third such turn
            # offers a person instead of asking once more.
            self.misses += 1
            if self.misses >= MISSES_BEFORE_PERSON:
                return self._offer_person([], "unknown")
            self.pending = pending
            first, second = (self._label(i, self.pending_slots) for i in candidates)
            return self._reply([self._say("choose_which", first=first, second=second)], "choose")
        if answer == "no":
            return self._reply([self._say("confirm_again")], "no")
        return None

    def _offer_answered(self, pending: tuple, text: str) -> str | None:
        """"yes" or "no" to an offer (a walk, a calendar reminder); None for anything else, to be handled as usual."""
        u = self.understander.understand(text, self.state, ["yes", "no"], self.today)
        if self._sure_of_something_else(pending, text, u):
            return None
        return self._yes_no_phrase(text) or (u.intent if _answered(u) else None)

    def _sure_of_something_else(self, pending: tuple, text: str, answer) -> bool:
        """A yes/no question is answered among its own few readings, where any turn finds a likeliest one. A turn
        the step itself would act on as something else — a question, another answer — is that, not a yes or a
        no: "要刷脸了,我这老花镜用不用摘" after "您是说“还没弄好”吗?" was read as "no" (0.44, among not yet, yes and no;
        用不用 holds a 不) and got "好的,请您再说一遍" where the step reads it as the glasses question at 0.96. A sure
        answer (`answer`, the question's own reading) stays one: "不用了" to the reminder offer is a no, though the step
        alone reads it as goodbye."""
        if self._yes_no_phrase(text) is not None:
            return False
        asked = {"yes", "no", *_readings_asked(pending)}
        # One of another reading's own phrases (intents.yaml) is that reading, however sure the question's few
        # readings are: "再见" after "您是说“对”吗?" at the greeting was a yes at 0.9 among yes and no alone, and
        # the question was asked again instead of leaving.
        own = self.understander.phrases.get(self.understander.norm.text(text), set()) - asked
        whole = self.understander.understand(text, self.state, self.allowed_intents(), self.today,
                                             self.same_effect())
        # A sentence this step surely moves on as another of its own moves tells that move, whatever it also says to
        # the question (session 59, by hand: "短信来了,说认证通过了" after "您是说“好了”吗?" at the submitted step was
        # taken as the yes, and the user went on waiting for a result they had just been told).
        if whole.sure and whole.intent not in asked and whole.intent in self.flows.states[self.state].on:
            return True
        if answer.action == ACT and not own:
            return False
        return whole.sure and whole.intent not in asked and (answer.action != ACT or whole.intent in own)

    def _yes_no_phrase(self, text: str) -> str | None:
        """"yes" or "no" when the turn is itself one of their phrases in intents.yaml: "要" looks like "不要" and
        "好" like chit-chat to the model, but a bare word that is a yes is a yes whatever the model makes of it."""
        said = text.strip(_END_MARKS)
        return next((i for i in ("yes", "no") if said in {p.text for p in self.flows.intents[i].phrases}), None)

    def _not_understood(self, text: str, leans_out_of_scope: bool = False) -> Reply:
        """"没听清" (short), "没听明白,换个说法" (a whole sentence), or the foreign-language word. A whole sentence
        whose likeliest reading is out of scope, below the act band, is most often a question about the pension
        itself ("我那个养老金今年涨没涨", 0.73 with model 07da2bf6): said again in other words it would be as little
        understood, so it also hears where such questions are answered (12333). Short turns (babble, a cough) do not."""
        self.misses += 1
        foreign = not has_chinese(text)
        long = chinese_count(text) >= LONG_TURN
        first = self._say("foreign" if foreign else "not_understood_long" if long else "not_understood")
        if self.misses >= MISSES_BEFORE_PERSON:
            return self._offer_person([first], "foreign" if foreign else "unknown")
        if long and not foreign and leans_out_of_scope:
            return self._reply([first, self._say("other_pension_matters"), self._you_can_say()], "unknown")
        return self._reply([first, self._you_can_say()], "foreign" if foreign else "unknown")

    # --- sentences ------------------------------------------------------------------------------
    def _say(self, key: str, **values) -> str:
        return self.flows.say[key].format(**values)

    def _state_sentences(self, name: str) -> list[str]:
        if name == self.flows.start and self.lacked:
            return self._ask_sentences(name)  # back at the greeting: its question, without the apps lacked
        return self.flows.states[name].sentences

    def _ask_sentences(self, name: str) -> list[str]:
        if name == self.flows.start and self.lacked:
            # The greeting's question without the apps the user said they lack ("咱们接着刚才的。您想用什么认证?
            # 可以说“微信”……" right after "我没有微信" sounded as if nobody had listened).
            return [self._say("ask_channel", options=self._join(self._start_options()))]
        return self.flows.states[name].ask_sentences

    def _return_prompt(self) -> list[str]:
        return [self._say("back_to_step"), *self._ask_sentences(self.state)]

    def _options_text(self) -> str:
        return self._join(self.options())

    def _join(self, options) -> str:
        quoted = [f"“{o}”" for o in options]
        if len(quoted) == 1:
            return quoted[0]
        return self._say("comma").join(quoted[:-1]) + self._say("or") + quoted[-1]

    def _you_can_say(self) -> str:
        return self._say("you_can_say", options=self._options_text())

    def _walk_of(self, state: str) -> str | None:
        return self.flows.states[state].walk if state in self.flows.states else None

    def _channel_walk(self, intent: str) -> str | None:
        """The walk a channel's intent (a `goto` of dialog.yaml) starts, or None."""
        return self._walk_of(self.flows.goto.get(intent, ""))

    def _content(self, parts: list[str], intent: str) -> Reply:
        self.last_content = parts
        return self._reply(parts, intent)

    def _acknowledged(self, ack: str, parts: list[str], intent: str) -> Reply:
        """`ack` ("好的,回到上一步。") then the step's `parts`; "再说一遍" afterwards repeats the step, not the ack
        (session 59, by hand: "刚才说啥来着" after "上一步" was "好的,回到上一步。……" again, as if it had gone back
        once more)."""
        self.last_content = parts
        return self._reply([ack, *parts], intent)

    def _reply(self, parts: list[str], intent: str | None, controls=None) -> Reply:
        state = self.flows.states[self.state]
        return Reply(say="".join(parts), parts=list(parts), state=self.state, intent=intent,
                     controls=list(controls or []), options=self.options(), progress=state.progress)


def _one_of_repeats(text: str) -> str:
    """"对对对" → "对", "好的好的" → "好的": a word said over again is that word (end marks dropped first)."""
    said = re.sub(f"[{_END_MARKS}]", "", text)
    repeated = re.fullmatch(r"(.+?)\1+", said)
    return repeated.group(1) if repeated else said


def _readings_asked(pending: tuple) -> list[str]:
    """The readings a pending "您是说……吗?" (one) or "您是说A,还是B?" (two) asks about; none for other questions."""
    if pending[0] == "choose":
        return [pending[1], pending[2]]
    return [pending[1]] if pending[0] == "confirm" else []


def _answered(u) -> bool:
    """A reading that answers a yes/no question: acted on, asked about, or torn between yes and no only (the
    likelier one is the answer: asking back "对还是不对?" would be silly)."""
    return u.action in (ACT, CONFIRM) or (u.action == CHOOSE and {u.intent, u.second} == {"yes", "no"})
