"""Parent side of the render worker: start it, send one sentence, wait with a time limit, restart on trouble."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import assistant

RENDER_SECONDS = 30.0
"""Wall-clock deadline for one sentence (plus RENDER_SECONDS_PER_CHAR per character): generous, since a slow
laptop renders a long sentence with the natural voice in a few seconds; a child past it is killed and replaced."""
RENDER_SECONDS_PER_CHAR = 0.5
MAX_PAUSED_SECONDS = 120.0
"""Longest pause (suspend) not counted against a render's deadline: a pause nobody ends cannot hang the voice."""
POLL_SECONDS = 0.25
"""How often a wait for the child's answer looks whether the child was paused meanwhile."""


class WorkerError(Exception):
    """The render child failed, hung or died; the engine retries with a fresh child."""


class WorkerStartError(WorkerError):
    """The child could not start its engine; `kind` is "voice" (no usable voice) or "engine"."""

    def __init__(self, message, kind="engine"):
        super().__init__(message)
        self.kind = kind


# Loads the `assistant` package from its own folder without putting that folder's parent on sys.path:
# in an installed copy the parent is the main venv's site-packages, whose numpy would shadow the natural
# venv's (TensorFlow 2.18 needs numpy < 2.1).
_BOOTSTRAP = (
    "import importlib.util, sys\n"
    "pkg = sys.argv.pop(1)\n"
    "spec = importlib.util.spec_from_file_location('assistant', pkg + '/__init__.py',"
    " submodule_search_locations=[pkg])\n"
    "mod = importlib.util.module_from_spec(spec); sys.modules['assistant'] = mod; spec.loader.exec_module(mod)\n"
    "from assistant.speech.render_worker import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def worker_command(python: str, engine: str, voice: str) -> list[str]:
    """Command line that starts a render worker for `engine` under `python` (-I: no cwd, no user site)."""
    package = str(Path(assistant.__file__).resolve().parent)
    return [python, "-I", "-c", _BOOTSTRAP, package, "--engine", engine, "--voice", voice]


class RenderWorker:
    """One render child process speaking the JSON-lines protocol of render_worker."""

    def __init__(self, engine: str, voice: str = "auto", python: str | None = None,
                 start_timeout: float = 120.0, command: list[str] | None = None):
        self.engine = engine
        self.command = command or worker_command(python or sys.executable, engine, voice)
        self.start_timeout = start_timeout
        self.info: dict = {}
        self._proc: subprocess.Popen | None = None
        self._answers: queue.Queue = queue.Queue()
        self._pause_lock = threading.Lock()
        self._paused_at: float | None = None
        self._paused_total = 0.0
        """seconds this child spent paused (suspended), not counted against its deadlines"""

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> dict:
        """Start the child and wait for its ready line; WorkerStartError if the engine cannot start."""
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
        stderr = None if env.get("ASSISTANT_SPEECH_DEBUG") else subprocess.DEVNULL
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window flashing up on Windows
        try:
            self._proc = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                env=env, cwd=os.path.expanduser("~"), creationflags=flags,
            )
        except OSError as exc:
            raise WorkerStartError(f"cannot run {self.command[0]}: {exc.strerror or exc}") from None
        self._answers = queue.Queue()  # fresh per child: a dead child's reader may still post its end mark
        threading.Thread(target=self._read, args=(self._proc, self._answers), daemon=True).start()
        ready = self._next_answer(self.start_timeout, starting=True)
        if not ready.get("ready"):
            self.close()
            raise WorkerStartError(ready.get("error", "engine did not start"), ready.get("kind", "engine"))
        self.info = ready
        return ready

    @staticmethod
    def _read(proc, answers):
        for raw in proc.stdout:
            try:
                answers.put(json.loads(raw))
            except ValueError:
                continue  # stray output cannot reach us (stdout is claimed), but never trust it
        answers.put(None)  # end of output: the child exited

    def _next_answer(self, timeout: float, starting=False) -> dict:
        waited_from, paused_from = time.monotonic(), self.paused_seconds()
        while True:
            # Time the child spent paused (rendering ahead while the user speaks) is not counted: it was not slow.
            paused = min(self.paused_seconds() - paused_from, MAX_PAUSED_SECONDS)
            left = timeout - (time.monotonic() - waited_from - paused)
            try:
                answer = self._answers.get(timeout=max(0.0, min(left, POLL_SECONDS)))
                break
            except queue.Empty:
                if left > POLL_SECONDS:
                    continue
                self.close()
                what = "starting" if starting else "rendering"
                raise WorkerError(f"{self.engine} worker hung while {what} (no answer in {timeout:.0f} s)") from None
        if answer is None:
            code = self._proc.wait() if self._proc else None
            self._proc = None
            raise (WorkerStartError if starting else WorkerError)(f"{self.engine} worker stopped (exit code {code})")
        return answer

    def paused_seconds(self) -> float:
        """Seconds this child has spent paused so far (the current pause included)."""
        with self._pause_lock:
            now = time.monotonic() - self._paused_at if self._paused_at is not None else 0.0
            return self._paused_total + now

    def pause(self) -> bool:
        """Stop the child where it is (SIGSTOP: it keeps its memory and its half-done sentence, and takes no CPU)
        until resume(). False where that cannot be done (no such signal, no child)."""
        stop = getattr(signal, "SIGSTOP", None)
        with self._pause_lock:
            proc = self._proc
            if stop is None or proc is None or proc.poll() is not None:
                return False
            if self._paused_at is None:
                os.kill(proc.pid, stop)
                self._paused_at = time.monotonic()
            return True

    def resume(self) -> None:
        """Let a paused child go on."""
        with self._pause_lock:
            if self._paused_at is None:
                return
            self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
            proc = self._proc
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)

    def render(self, text: str, rate: float, out: Path, fresh: bool = False, timeout: float | None = None) -> None:
        """Ask the child to write `text` spoken at `rate` into the WAV file `out`."""
        if not self.alive:
            raise WorkerError(f"{self.engine} worker is not running")
        request = {"text": text, "rate": rate, "out": str(out), "fresh": fresh}
        stdin = self._proc.stdin if self._proc is not None else None
        assert stdin is not None  # alive: started with stdin=PIPE
        try:
            stdin.write((json.dumps(request, ensure_ascii=True) + "\n").encode("ascii"))
            stdin.flush()
        except OSError as exc:
            self.close()
            raise WorkerError(f"{self.engine} worker is gone: {exc}") from None
        answer = self._next_answer(timeout or RENDER_SECONDS + RENDER_SECONDS_PER_CHAR * len(text))
        if not answer.get("ok"):
            raise WorkerError(answer.get("error", "render failed"))

    def close(self) -> None:
        self.resume()  # a paused child could not hear "quit"
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                try:
                    if proc.stdin is not None:
                        proc.stdin.write(b'{"quit": true}\n')
                        proc.stdin.close()
                    proc.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait(timeout=5)
        finally:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except (OSError, AttributeError):
                    continue  # a pipe of a dead child may already be broken: nothing left to close
