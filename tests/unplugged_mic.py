"""The user's chosen microphone unplugged mid-conversation and plugged in again, run as a process of its own:
`python -m tests.unplugged_mic PULSE_SOURCE|--input-device MODEL_DIR PULSE_RUNTIME_DIR`.

tests/test_robustness.py runs it in a child process because the loop's thread, PortAudio's and vosk's native
code run here while PulseAudio moves the recording between sources: once a pytest worker running this scenario
in-process died with "Fatal Python error: Aborted" (garbage collecting in the loop's thread) and the whole suite
then hung waiting for it. Here such an abort fails one test, with this process's own stderr. Prints one JSON
line: the first check that failed (or null), what was said, and the lines the loop printed.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path


class _Stop(BaseException):
    """Ends the loop's thread from its sleep (BaseException: the loop's per-turn guard lets it through)."""


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def run(chosen_by: str, model_dir: str, room) -> dict:
    """The user chose the "usb_mic" source (PULSE_SOURCE, or its name given to --input-device); the room's
    default source is the "laptop microphone" (user_voice). Unplugged, PulseAudio moves the recording to the
    default source: the loop says so once, answers nothing said there, and answers the next turn from usb_mic
    once it is back."""
    from assistant.audio.microphone import Microphone
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.loop import LoopOptions, VoiceLoop
    from assistant.recognition.recognizer import Recognizer
    from tests.test_voice_loop import REAL, RecordingSpeaker

    def plug():
        return room._pactl("load-module", "module-null-sink", "sink_name=usb_mic", "rate=16000", "channels=1").strip()

    def say_into(sink):
        subprocess.run(["paplay", "--server", room.server, f"--device={sink}", str(REAL / utterance)], check=True,
                       timeout=30)

    utterance = sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0]
    default_before = room._pactl("get-default-source").strip()
    module = plug()
    room._pactl("set-default-source", "user_voice.monitor")  # where PulseAudio moves a recording that loses its source
    if chosen_by == "PULSE_SOURCE":
        os.environ["PULSE_SOURCE"] = "usb_mic.monitor"
        device = "pulse"
    else:
        os.environ.pop("PULSE_SOURCE", None)
        device = "usb_mic.monitor"
    flows = load_flows()
    gone, back = flows.say["microphone_gone"], flows.say["microphone_back"]
    speaker, lines, stop = RecordingSpeaker(), [], threading.Event()

    def sleep(seconds):
        if stop.wait(seconds):
            raise _Stop

    loop = VoiceLoop(Session(flows), Recognizer(model_dir), speaker, lambda: Microphone(device).open(),
                     LoopOptions(max_turns=2, reminder_after=0, retry_seconds=0.5, barge_in=False),
                     out=lines.append, sleep=sleep)
    outcome: dict = {}

    def loop_thread():
        try:
            outcome["exit"] = loop.run()
        except _Stop:
            outcome["exit"] = "stopped"

    worker = threading.Thread(target=loop_thread, daemon=True)
    worker.start()
    answers = lambda: [said for said in speaker.said[1:] if said not in (gone, back)]  # noqa: E731 - after greeting
    failed = None
    try:
        assert _wait_for(lambda: loop.listener.mic is not None, 30), "the microphone never opened"
        time.sleep(0.5)
        say_into("usb_mic")
        assert _wait_for(lambda: len(answers()) == 1, 30), "the first turn, on the chosen microphone, was answered"
        room._pactl("unload-module", module)  # unplugged
        # The loop has seen it (and PulseAudio has moved the recording to the default source) before anyone speaks.
        assert _wait_for(lambda: gone in speaker.said, 10), f"the unplugged microphone was not said: {lines}"
        say_into("user_voice")  # someone speaks near the laptop's own microphone
        time.sleep(3)
        assert len(answers()) == 1, "answered what another microphone heard"
        assert gone in speaker.said, f"the unplugged microphone was not said: {lines}"
        assert speaker.said.count(gone) == 1 and "我还在听" not in "".join(speaker.said), "said once, no reminders"
        module = plug()  # plugged in again
        assert _wait_for(lambda: back in speaker.said, 10), "its return was not said"
        time.sleep(0.5)
        say_into("usb_mic")
        worker.join(timeout=30)
        assert outcome.get("exit") == 0 and len(answers()) == 2, "the next turn was answered from the chosen one"
    except AssertionError as exc:
        failed = str(exc)
    finally:
        stop.set()
        loop.listener.close()
        worker.join(timeout=10)
        room._pactl_ok("unload-module", module)  # already unplugged when a check failed there
        if default_before:
            room._pactl("set-default-source", default_before)
    if failed is None and worker.is_alive():
        failed = "the loop did not stop when told to"
    return {"failed": failed, "answers": len(answers()), "said": speaker.said, "lines": lines}


def main(argv: list[str]) -> int:
    from tests.pulse import PulseServer

    chosen_by, model_dir, runtime = argv
    room = PulseServer(Path(runtime))  # the test's running room: only its pactl is used, it is not started here
    print(json.dumps(run(chosen_by, model_dir, room), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
