"""Rendering ahead: while the user thinks about a step, the sentences the next turn is likely to need are
rendered into the voice cache at the voice's current rate, so the reply starts from the cache.

Who needs it: after 慢一点 every fixed sentence is rendered again at the slower rate the first time it is said, and
a user takes many seconds to do a step; those seconds are spent rendering the next step's prompt instead of making
the user wait for it after they spoke.

Lowest priority, on the one render child the speaker uses:
- a reply being rendered holds it (`hold`/`release`, called by Speaker.say): nothing new is started, and a render
  of ours that was paused is let go on at once so the reply gets the engine after it;
- the moment the user speaks (`user_speaking`, from the live loop's voice detector) nothing new is started and a
  render in progress is paused (the child is stopped, SIGSTOP, where the system has it), so recognition has the
  CPU; it goes on when the reply needs the engine or the next turn starts (`listening`);
- only fixed sentences of flows/ are planned (never a live sentence with a date, never anything the user said),
  and what it adds to the cache is bounded (`VoiceCache.prune`).
"""

import logging
import threading

from assistant.errors import VoiceError
from assistant.speech.cache import EXTRA_BYTES, cache_key

log = logging.getLogger(__name__)

MAX_SENTENCES = 60
"""Most sentences planned for one turn (the likeliest first): a step's prompt, its neighbours', the short replies,
the first steps of the troubles a user may tell of."""
#: Short replies any turn may need, in the order they are most often said (keys of flows/phrases.yaml).
SHORT_REPLIES = ("not_understood", "not_understood_long", "confirm_again", "not_yet", "check_done", "silence",
                 "back_to_step", "back", "not_heard", "slower", "slowest", "louder", "loudest", "softer", "faster")


def likely_sentences(session) -> list[str]:
    """The fixed sentences the turn after this one is likely to need, likeliest first: the prompts of the states
    reachable from the current one (in the order flows/ lists its answers, so "好了"'s next step comes first; from
    the greeting, each walk's first step), the current step again (再说一遍), the short fixed replies, and in a walk
    the first steps of the troubles (找不到, 刷不了脸). Only
    sentences of `flows.fixed_sentences()`, at most MAX_SENTENCES."""
    from assistant.flows.model import sentences

    flows = session.flows
    fixed = set(flows.fixed_sentences())
    here = flows.states.get(session.state)
    found: list[str] = []
    if here is not None:
        targets = list(here.on.values())
        if here.walk is None:  # the greeting or another hub: a walk is chosen by name (微信, 支付宝, ...)
            targets += [t for t in flows.goto.values() if t in flows.states and flows.states[t].walk]
            found += [said for said in map(flows.chosen, flows.titles) if said]
        for target in dict.fromkeys(targets):
            found += flows.states[target].sentences if target in flows.states else []
        found += here.ask_sentences + here.sentences
    for key in SHORT_REPLIES:
        if key in flows.say:
            found += sentences(flows.say[key])
    if here is not None and here.walk is not None:  # in a walk, a trouble can be told any time (找不到, 转圈)
        found += [s for t in flows.goto.values() if t in flows.states and (flows.states[t].walk or "").startswith(
            "trouble") and flows.states[t].walk != here.walk for s in flows.states[t].sentences]
    return [s for s in dict.fromkeys(found) if s in fixed][:MAX_SENTENCES]


class RenderAhead:
    """A background thread rendering planned sentences into the speaker's cache while nobody needs the engine."""

    def __init__(self, speaker, extra_bytes: int = EXTRA_BYTES):
        self.speaker = speaker
        self.extra_bytes = extra_bytes
        self._cond = threading.Condition()
        self._todo: list[tuple[str, float]] = []
        self._holds = 0
        """replies being rendered now"""
        self._user = False
        """the user is speaking (this turn): nothing new until the reply or the next turn"""
        self._busy = False
        """a sentence of ours is being rendered"""
        self._paused = False
        """the engine's child was stopped by us (user_speaking) while rendering our sentence"""
        self._closed = False
        self.rendered: list[tuple[str, float]] = []
        """(text, rate) rendered ahead so far (for tests and the bench)"""
        self._thread = threading.Thread(target=self._run, daemon=True, name="render-ahead")
        self._thread.start()

    # --- what the loop and the speaker say -------------------------------------------------------------------
    def plan(self, sentences, settings=None) -> None:
        """Render these next (replacing the previous plan) at the rate `settings` give the speaker's profile."""
        rate = self.speaker.profile.effective_rate(settings)
        with self._cond:
            self._todo = [(s, rate) for s in sentences]
            self._cond.notify_all()

    def plan_for(self, session) -> None:
        """Render what the turn after the session's last reply is likely to need, at the session's voice rate."""
        self.plan(likely_sentences(session), session.voice)

    def hold(self) -> None:
        """A reply is being rendered: start nothing, and let a paused render of ours finish so the engine is free."""
        with self._cond:
            self._holds += 1
            self._let_go()

    def release(self) -> None:
        with self._cond:
            self._holds = max(0, self._holds - 1)
            if not self._holds:
                self._user = False  # the reply to what the user said is rendered: their turn is over
            self._cond.notify_all()

    def user_speaking(self) -> None:
        """The user started to speak: recognition needs the CPU. Cheap when called again for the same turn."""
        with self._cond:
            if self._user:
                return
            self._user = True
            if self._busy and not self._paused:
                self._paused = self._engine_call("pause")

    def listening(self) -> None:
        """A new turn is listened for and the user has not spoken yet."""
        with self._cond:
            self._user = False
            self._let_go()
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        """Nothing planned is left and nothing is being rendered."""
        with self._cond:
            return not self._todo and not self._busy

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._todo = []
            self._let_go()
            self._cond.notify_all()
        self._thread.join(timeout=5)

    # --- the thread -----------------------------------------------------------------------------------------
    def _let_go(self) -> None:
        if self._paused:
            self._engine_call("resume")
            self._paused = False

    def _engine_call(self, name: str) -> bool:
        """Pause or resume the engine's child (engines without one, or systems without SIGSTOP, do nothing)."""
        method = getattr(self.speaker.engine, name, None)
        try:
            return bool(method()) if method is not None else False
        except Exception as exc:  # noqa: BLE001 - a child that is gone cannot be paused: rendering goes on as is
            log.debug("render ahead: %s failed: %s", name, exc)
            return False

    def _next(self) -> tuple[str, float] | None:
        with self._cond:
            while not self._closed and (not self._todo or self._holds or self._user):
                self._cond.wait()
            if self._closed:
                return None
            self._busy = True
            return self._todo.pop(0)

    def _run(self) -> None:
        added = False
        while True:
            job = self._next()
            if job is None:
                return
            try:
                added = self._render(*job) or added
            except Exception as exc:  # noqa: BLE001 - rendering ahead is a bonus: a failure costs only the bonus
                log.debug("render ahead stopped for this plan: %s", exc)
                with self._cond:
                    self._todo = []
            finally:
                with self._cond:
                    self._busy = False
                    self._let_go()
                    done = not self._todo
            if done and added:
                added = False
                try:
                    self.speaker.cache.prune(self.extra_bytes)
                except OSError as exc:
                    log.debug("voice cache not pruned: %s", exc)

    def _render(self, text: str, rate: float) -> bool:
        """Render one sentence into the cache unless it is there; True if it was rendered now."""
        speaker = self.speaker
        try:
            identity = speaker.engine.identity  # starts the child if needed (the greeting's warm-up did already)
        except VoiceError:
            raise
        key = cache_key(text, identity, rate)
        if speaker.cache.has(key):
            return False
        samples, sample_rate = speaker.prerender(text, rate)
        speaker.cache.put(key, samples, sample_rate)
        self.rendered.append((text, rate))
        return True
