"""The kiosk's brain, without Tk or audio: one Session for whoever stands at the kiosk, wiped between users.

Utterances (text) and time come in from outside — `heard(text)` and `tick(now)` — so every rule here
(idle wipe, goodbye wipe, counting) is tested with a fake clock and never a real wait.
"""

import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import date
from typing import Protocol

from assistant.clock import today_source
from assistant.dialog import Reply, Session, VoiceSettings
from assistant.family.stats import MISUNDERSTOOD, StatsStore, is_topic
from assistant.kiosk import view as v
from assistant.live import rejoin
from assistant.privacy import mask

IDLE_SECONDS = 90.0
HEARD_CHARS = 30
"""How much of the user's last turn the screen echoes (numbers already masked)."""


class Listener(Protocol):
    """Where the kiosk's turns come from: the microphone (the live voice loop) or typed lines."""

    def listen(self, expected_phrases: list[str], timeout: float | None) -> str | None:
        """One turn as text ("" = the user's turn had no words); None when nobody spoke within `timeout` s.

        Raises EOFError when input has ended for good (typed input), AudioDeviceError when the microphone is
        missing (the kiosk shows it and asks again later).
        """


_END = object()


class TextListener:
    """Typed lines stand in for speech (volunteers trying the kiosk without a microphone): one line, one turn."""

    def __init__(self, lines=None):
        self._queue: queue.Queue = queue.Queue()
        source = lines if lines is not None else _stdin_lines()
        # A thread, so listen() can time out and the kiosk keeps ticking while nobody types.
        threading.Thread(target=self._read, args=(source,), daemon=True, name="kiosk-stdin").start()

    def _read(self, source):
        try:
            for line in source:
                if isinstance(line, bytes):
                    line = line.decode("utf-8", errors="replace")
                self._queue.put(line.rstrip("\r\n"))
        finally:
            self._queue.put(_END)

    def listen(self, expected_phrases, timeout):
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _END:
            self._queue.put(_END)  # every later call ends too
            raise EOFError
        return item


def _stdin_lines():
    # Bytes, so a line that is not valid UTF-8 becomes replacement characters instead of a crash.
    yield from sys.stdin.buffer


def print_reply(reply: Reply) -> None:
    """The default voice until a speaker is plugged in: the reply printed."""
    print(f"助手: {reply.say}", flush=True)


class ReadingPace:
    """Typed turns have no voice; this reports each sentence at about the voice's pace instead, so the screen
    of `assistant kiosk --text` goes sentence by sentence just as it does with the voice."""

    SECONDS_PER_CHAR = 0.22
    PAUSE = 0.5
    SHORTEST = 1.0

    def __init__(self):
        self._cancel = threading.Event()

    def say(self, parts: list[str], on_sentence: Callable[[int | None, float], None]) -> None:
        self._cancel.set()  # the previous reply is over
        cancel = self._cancel = threading.Event()

        def run():
            for index, part in enumerate(parts):
                seconds = max(self.SHORTEST, len(part) * self.SECONDS_PER_CHAR)
                on_sentence(index, seconds)
                if cancel.wait(seconds + self.PAUSE):
                    return
            on_sentence(None, 0.0)

        threading.Thread(target=run, daemon=True, name="kiosk-reading-pace").start()


class KioskController:
    """Owns the conversation at the kiosk; pushes a ReplyView to the screen after every change."""

    def __init__(self, flows, *, understander=None, config=None, today: Callable[[], date] | None = None,
                 clock: Callable[[], float] = time.monotonic, idle_seconds: float = IDLE_SECONDS,
                 stats: StatsStore | None = None, speak: Callable[[Reply], None] | None = None,
                 show: Callable[[v.ReplyView], None] | None = None, idle_status: str = v.HANDS_FREE,
                 log: Callable[[str], None] | None = None, follow_voice: bool = False, join_turns: bool = False):
        self.flows = flows
        self.today = today or today_source()  # --today / $ASSISTANT_TODAY, else the clock asked each time
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.stats = stats
        self.speak = speak or print_reply
        self.show = show or (lambda view: None)
        self.idle_status = idle_status
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.follow_voice = follow_voice
        """the voice reports each sentence as it starts (`speaking`): the screen shows that sentence, then rests
        on the step; without it the screen shows the whole reply at once"""
        self.session = Session(flows, config=config, today=self.today(), understander=understander)
        self.join_turns = join_turns
        """words that begin within rejoin.JOIN_SECONDS of a turn's end continue it (assistant/live/rejoin): with
        barge-in; half-duplex, the runner gives such a time only when the reply was stopped for the user going on"""
        self._before: tuple[rejoin.Before, bool] | None = None
        """the session (and whether this person had finished) before the last turn, while it may still go on"""
        self.active = False
        """someone has spoken since the last wipe (only then is there something to wipe)"""
        self.completed = False
        self.last_activity = clock()
        self.mic_missing = False
        self.view: v.ReplyView | None = None
        self._reply: Reply | None = None
        self._heard = ""
        self._options: tuple[str, ...] = ()
        self._following = False
        """the screen follows the voice for the current reply (it does, unless the voice failed)"""
        self._speaking: int | None = None
        self._seconds = 0.0
        self._warned: set[str] = set()
        # The voice reports from its own thread while the turn loop answers the next turn.
        self._lock = threading.RLock()

    # --- what comes in -------------------------------------------------------------------------------
    def start(self) -> v.ReplyView:
        """The greeting for the next person."""
        return self._respond(self.session.greet())

    def listening(self) -> v.ReplyView:
        """Push-to-talk was pressed: show that the kiosk listens (a press also counts as activity)."""
        self.last_activity = self.clock()
        return self._push(v.LISTENING, "listening")

    def heard(self, text: str | None, after: float | None = None) -> v.ReplyView:
        """One turn. None = nobody said anything (no turn at all); "" = a turn without words. `after`: how many
        seconds after the last turn ended this turn's speech began (None: not known)."""
        if text is None:
            return self._push(self._status(), self._mode())
        before, self._before = self._before, None
        if before is not None and rejoin.joined(before[0], text, after):
            # As in `assistant run`: the user went on within a moment; the reply begun (stopped by barge-in) is
            # dropped and both parts are one turn in the step they were said in. (A completion the first part
            # counted stays counted: the counts are kept as they come.)
            rejoin.put_back(self.session, before[0])
            self.completed = before[1]
            text = before[0].text + text
        if self.join_turns and text:
            self._before = (rejoin.remember(self.session, text), self.completed)
        if not self.active:
            self.active = True
            self._count(sessions=1)
        asked_date = bool(self.session.pending and self.session.pending[0] == "date")
        try:
            reply = self.session.handle(text)
        except Exception as exc:  # one failing turn must never end the kiosk: start over for this person
            self._failed("dialog", exc)
            return self.wipe()
        self._heard = mask(text.strip(), strict=reply.intent == "private")[:HEARD_CHARS]
        self._count_reply(reply, asked_date)
        view = self._respond(reply)
        if "goodbye" in reply.controls:
            return self.wipe()
        return view

    def tick(self, now: float | None = None) -> v.ReplyView | None:
        """Time passes: after idle_seconds without anyone at the kiosk, wipe. Returns the new view if wiped."""
        now = self.clock() if now is None else now
        if self.active and now - self.last_activity >= self.idle_seconds:
            return self.wipe()
        return None

    def microphone_missing(self) -> v.ReplyView:
        with self._lock:
            self.mic_missing = True
            return self._push(v.MIC_MISSING, "problem")

    def microphone_back(self) -> v.ReplyView:
        """The microphone works again: the red line goes back to what it said before."""
        with self._lock:
            self.mic_missing = False
            return self._push(self._status(), self._mode())

    def speaking(self, reply: Reply, index: int | None, seconds: float = 0.0) -> v.ReplyView | None:
        """The voice started sentence `index` of `reply` (it lasts `seconds`); None: it finished or was cut off.

        Called from the voice's thread. A report about an earlier reply (already replaced) is ignored.
        """
        with self._lock:
            if reply is not self._reply or not self._following:
                return None
            if index is not None and not 0 <= index < len(reply.parts):
                index = None
            self._speaking, self._seconds = index, float(seconds or 0.0)
            view = self.view
            return self._push(view.status if view else self._status(), view.mode if view else self._mode())

    def wipe(self) -> v.ReplyView:
        """Forget the person completely — dialog, voice changes, what was heard, the screen — and greet anew."""
        self._before = None  # their words too
        self.session.reset()
        self.session.voice = VoiceSettings(limits=self.session.voice.limits)
        self.session.today = self.today()  # a kiosk runs for days; dates must not go stale
        self.active = False
        self.completed = False
        with self._lock:
            self._heard = ""
        return self.start()

    def expected_phrases(self) -> list[str]:
        return self.session.expected_phrases()

    # --- what goes out -------------------------------------------------------------------------------
    def say_again(self) -> v.ReplyView | None:
        """The last reply, said again whole: it was stopped for the user going on, and no words came (a noise)."""
        with self._lock:
            reply = self._reply
        return self._respond(reply) if reply is not None else None

    def _respond(self, reply: Reply) -> v.ReplyView:
        with self._lock:
            self._reply = reply
            self._options = self._options_for(reply)
            self._following = self.follow_voice
            # Following the voice, the first sentence shows at once: the voice reports it a moment later.
            self._speaking = 0 if self._following and reply.parts else None
            self._seconds = 0.0
            view = self._push(self._status(), self._mode())
        try:
            self.speak(reply)
        except Exception as exc:  # the words are on the screen; a broken speaker must not stop the kiosk
            self._failed("speech", exc)
            with self._lock:
                if self._reply is reply and self._following and self.view is not None:
                    self._following, self._speaking = False, None  # no voice to follow: the whole reply
                    view = self._push(self.view.status, self.view.mode)
        self.last_activity = self.clock()  # the idle time starts after the reply was said
        return view

    def _push(self, status: str, mode: str) -> v.ReplyView:
        with self._lock:
            reply = self._reply
            sentences = tuple(reply.parts) if reply else ()
            state = self.flows.states.get(reply.state) if reply else None
            self.view = v.ReplyView(
                sentences=sentences,
                rest=tuple(self._rest(reply)) if reply and self._following else sentences,
                options=self._options,
                progress=v.progress_text(reply.progress) if reply else None,
                title=self.flows.titles.get(state.walk) if state is not None and reply and reply.progress else None,
                status=status, mode=mode, heard=self._heard,
                speaking=self._speaking if self._following else None, seconds=self._seconds)
            view = self.view
        try:
            self.show(view)
        except Exception as exc:
            self._failed("screen", exc)
        return view

    def _rest(self, reply: Reply) -> list[str]:
        """What stays on the screen once the voice is quiet: after "咱们接着刚才的", the step again; else all."""
        parts = list(reply.parts)
        step = self.flows.states[reply.state].ask_sentences
        tail = [self.flows.say["back_to_step"], *step]
        if step and len(parts) >= len(tail) and parts[-len(tail):] == tail:
            return list(step)
        return parts

    def _options_for(self, reply: Reply) -> tuple[str, ...]:
        """What the user can say now; a question back to the user is answered by its own choices."""
        if reply.intent == "confirm":  # "您是说“好了”吗?"
            return (v.YES, v.NO)
        pending = self.session.pending
        if reply.intent == "choose" and pending and pending[0] == "choose":  # "您是说“微信”,还是“支付宝”?"
            return tuple(self.flows.label_in(i, self.session.state) for i in pending[1:3])
        return tuple(reply.options)

    def _status(self) -> str:
        return v.MIC_MISSING if self.mic_missing else self.idle_status

    def _mode(self) -> str:
        return "problem" if self.mic_missing else "idle"

    # --- counting --------------------------------------------------------------------------------------
    def _count_reply(self, reply: Reply, asked_date: bool):
        # Telling the date after "下次什么时候?" finishes that one question; it is not a second one.
        if is_topic(reply.intent, self.flows) and not (asked_date and reply.intent == "q_next_date"):
            self._count(topic=reply.intent)
        if reply.intent in MISUNDERSTOOD:
            self._count(misunderstood=reply.intent)
        if reply.state == "done" and not self.completed:
            self.completed = True
            self._count(completions=1)

    def _count(self, **what):
        if self.stats is None:
            return
        try:
            self.stats.add(**what)
        except OSError as exc:
            self._warn_once("stats", f"assistant kiosk: 统计没法保存 (counts not saved: {exc.strerror})")
        if self.stats.warning:
            self._warn_once("stats-broken", f"assistant kiosk: {self.stats.warning}")

    # --- failures ----------------------------------------------------------------------------------------
    def _failed(self, where: str, exc: Exception):
        # Type and code location only: an exception's message could quote what the user said.
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {frame.filename}:{frame.lineno}" if frame else ""
        self.log(f"assistant kiosk: {where} 出错,继续运行 (a {where} step failed: {type(exc).__name__}{at})")

    def _warn_once(self, key: str, message: str):
        if key not in self._warned:
            self._warned.add(key)
            self.log(message)
