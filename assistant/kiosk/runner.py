"""The kiosk's turn loop and its screen: listen, answer, wipe when idle — and never stop on one failure.

The loop runs in a worker thread; Tk keeps the main thread (it must) and only draws what the loop pushes.
"""

import queue
import sys
import threading
import time
import traceback

from assistant.errors import AudioDeviceError

POLL_SECONDS = 1.0
"""How often the loop looks at the clock while nobody talks (the idle wipe needs no better precision)."""
LISTEN_SECONDS = 10.0
"""After a push-to-talk press, how long to wait for words."""
RETRY_SECONDS = 5.0
"""How often to look for an unplugged microphone again."""


class KioskRunner:
    """Drives a KioskController from a Listener until input ends or `stop` is set."""

    def __init__(self, controller, listener, *, hands_free: bool, clock=time.monotonic, pause=None,
                 poll: float = POLL_SECONDS, listen_seconds: float = LISTEN_SECONDS,
                 retry_seconds: float = RETRY_SECONDS, log=None):
        self.controller = controller
        self.listener = listener
        self.hands_free = hands_free
        self.clock = clock
        self.poll = poll
        self.listen_seconds = listen_seconds
        self.retry_seconds = retry_seconds
        self.stop = threading.Event()
        self.talk = threading.Event()
        """set by the push-to-talk key (from the screen's thread)"""
        self.pause = pause or self.stop.wait  # tests pass a fake that advances their clock instead
        self._last_end: float | None = None
        """when the last turn with words ended (the clock's time)"""
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))

    def press(self) -> None:
        """The push-to-talk key or button was pressed."""
        self.talk.set()

    def run(self) -> int:
        self.controller.start()
        while not self.stop.is_set():
            try:
                self.controller.tick(self.clock())
                if not self._turn():
                    break
            except Exception as exc:  # the guard: whatever one turn does, the kiosk goes on
                frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
                at = f" at {frame.filename}:{frame.lineno}" if frame else ""
                self.log(f"assistant kiosk: 这一轮出错,继续运行 (a turn failed: {type(exc).__name__}{at})")
                self.pause(self.poll)
        return 0

    def _turn(self) -> bool:
        """One listen-and-answer; False when input has ended for good."""
        if self.controller.mic_missing and not self._microphone_back():
            return True
        pressed = False
        if not self.hands_free:
            if not self.talk.wait(self.poll):
                return True
            self.talk.clear()
            pressed = True
            self.controller.listening()
        try:
            started = self.clock()
            text = self.listener.listen(self.controller.expected_phrases(),
                                        self.listen_seconds if pressed else self.poll)
        except EOFError:
            return False
        except AudioDeviceError:
            # An unplugged microphone: say so on the screen, keep the conversation, look again later.
            if not self.controller.mic_missing:
                self.controller.microphone_missing()
            self.pause(self.retry_seconds)
            return True
        if self.controller.mic_missing:
            self.controller.microphone_back()
        if getattr(self.listener, "stopped_for_nothing", False):
            self.controller.say_again()  # the reply was stopped for the user going on, and no words came
            return True
        if text is None and pressed:
            text = ""  # pressed and said nothing: a silent turn, answered with "我没听到……"
        self.controller.heard(text, self._after_last_turn(started, text))
        return True

    def _after_last_turn(self, started: float, text: str | None) -> float | None:
        """Seconds from the end of the last turn to the start of this one's speech (the listener's onset is
        audio time since its listen began, at real-time pace; hands-free, listens of nothing come between)."""
        onset = getattr(self.listener, "onset", None)
        after = None
        if text is not None and onset is not None and self._last_end is not None:
            after = started + onset - self._last_end
        if not getattr(self.listener, "barge_in", True):
            # Half-duplex, speech during a reply is not heard: only the user going on over its start, which stopped
            # it (assistant/live/goes_on.py), continues the last turn.
            after = 0.0 if text and getattr(self.listener, "went_on", False) else None
        if text is not None:
            self._last_end = self.clock()
        return after

    def _microphone_back(self) -> bool:
        """While the microphone is missing, look for it every retry_seconds, key pressed or not: the red line
        clears by itself as soon as sound comes in again. True when it is back (or the listener cannot tell
        without listening: then the next listen finds out)."""
        check = getattr(self.listener, "check", None)  # MicListener.check: opens it, waits for sound
        if check is None:
            return True
        try:
            check()
        except AudioDeviceError:
            self.pause(self.retry_seconds)
            return False
        self.controller.microphone_back()
        return True


def run_with_screen(runner: KioskRunner, make_screen, root=None) -> int:
    """Tk in this thread, the loop in a worker; the screen draws the latest view the loop pushed."""
    if root is None:
        import tkinter

        root = tkinter.Tk(className="pension-assistant-kiosk")
    views: queue.Queue = queue.Queue()
    runner.controller.show = views.put
    screen = make_screen(root, on_key=runner.press, on_quit=runner.stop.set)

    def report(exc_type, exc, tb):  # a drawing error must not take the kiosk down either
        frame = traceback.extract_tb(tb)[-1] if tb else None
        at = f" at {frame.filename}:{frame.lineno}" if frame else ""
        runner.log(f"assistant kiosk: 屏幕出错,继续运行 (screen error: {exc_type.__name__}{at})")

    root.report_callback_exception = report
    worker = threading.Thread(target=runner.run, name="kiosk-turns", daemon=True)

    def pump():
        latest = None
        while True:
            try:
                latest = views.get_nowait()
            except queue.Empty:
                break
        if latest is not None:
            screen.render(latest)
        if worker.is_alive() and not runner.stop.is_set():
            root.after(50, pump)
        else:
            root.destroy()

    worker.start()
    root.after(0, pump)
    root.mainloop()
    runner.stop.set()
    worker.join(timeout=5)
    return 0
