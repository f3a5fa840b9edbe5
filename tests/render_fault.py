"""One voice loop whose voice's render child is killed (SIGKILL) or hung (SIGSTOP) just before the answer to the
user's turn, run as a process of its own: `python -m tests.render_fault killed|hung MODEL_DIR WORK_DIR`.

tests/test_robustness.py runs it in a child process because the fault kills and stops processes: if anything
in it ever brings its process down (twice a pytest worker died in this scenario with "Fatal Python error: Aborted",
and the whole suite then hung), the test fails with this process's own stderr, uncaptured, instead of taking
the test worker and everything queued on it along. Prints one JSON line: what was played, how long each reply
took to be ready, which children were hit, and the lines the loop printed.
"""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path


class QuietPlayer:
    """Neighbour of the speaker: takes each reply's samples (the device is tested elsewhere), plays nothing."""

    playing = False

    def __init__(self):
        self.played = []

    def play(self, samples, sample_rate, volume=1.0, blocking=True):
        self.played.append(len(samples) / sample_rate)

    def stop(self):
        pass

    def wait(self, timeout=None):
        pass

    def close(self):
        pass


class FaultySpeaker:
    """A real Speaker with the real system voice in its real render child; before the reply to the user's turn
    the child is hit by `fault(pid)`. Remembers how long each reply took to be ready."""

    ahead = None  # the fault is in the reply's own render, not in rendering ahead

    def __init__(self, cache: Path, fault):
        from assistant.speech.cache import VoiceCache
        from assistant.speech.profiles import load_profile
        from assistant.speech.pyttsx3_engine import Pyttsx3Engine
        from assistant.speech.speaker import Speaker

        self.player = QuietPlayer()
        self.speaker = Speaker(load_profile("standard"), VoiceCache(cache), self.player, Pyttsx3Engine())
        self.fault, self.hit, self.took = fault, [], []

    @property
    def playing(self):  # what the loop asks a speaker (Speaker.playing)
        return self.player.playing

    def say(self, parts, settings=None, blocking=False):
        worker = self.speaker.engine._worker
        if self.took and not self.hit and worker is not None and worker.alive:
            self.hit.append(worker._proc.pid)
            self.fault(worker._proc.pid)
        started = time.monotonic()
        try:
            return self.speaker.say(parts, settings, blocking)
        finally:
            self.took.append(time.monotonic() - started)

    def stop(self):
        self.speaker.stop()

    def wait(self, timeout=60.0):
        self.speaker.wait(timeout=timeout)

    def close(self):
        self.speaker.close()


def run(fault: str, model_dir: str, work: Path, deadline: float = 90.0) -> dict:
    import assistant.speech.worker as worker
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.loop import LoopOptions, VoiceLoop
    from assistant.recognition.recognizer import Recognizer
    from tests.test_voice_loop import REAL, WavMicrophone, _real

    worker.RENDER_SECONDS = 4.0  # a hung child is given up after 4 s, not 30
    worker.RENDER_SECONDS_PER_CHAR = 0.0
    sig = signal.SIGKILL if fault == "killed" else signal.SIGSTOP
    speaker, lines = FaultySpeaker(work / "cache", lambda pid: os.kill(pid, sig)), []
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0])
    loop = VoiceLoop(Session(load_flows()), Recognizer(model_dir), speaker, lambda: WavMicrophone(samples),
                     LoopOptions(max_turns=1, reminder_after=0, barge_in=False), out=lines.append,
                     sleep=lambda s: None)
    thread = threading.Thread(target=loop.run, daemon=True)
    try:
        thread.start()
        thread.join(timeout=deadline)
    finally:
        for pid in speaker.hit:
            try:
                os.kill(pid, signal.SIGKILL)  # a stopped child must not outlive the run
            except ProcessLookupError:
                pass
        loop.close()
    return {"answered_in_time": not thread.is_alive(), "hit": speaker.hit, "played": speaker.player.played,
            "took": speaker.took, "lines": lines}


def main(argv: list[str]) -> int:
    fault, model_dir, work = argv
    print(json.dumps(run(fault, model_dir, Path(work)), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
