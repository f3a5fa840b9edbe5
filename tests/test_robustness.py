"""Fault injection: what the assistant survives (README, "Robustness").

Real devices where a fault can be made real: a private PulseAudio with two null sinks (the assistant's speaker,
and a "user_voice" sink whose monitor is the microphone), suspended to stall the microphone; real child
processes for the commands. Where PortAudio cannot be made to fail on cue (a device vanishing between
being listed and being opened), the failure is injected at the sounddevice boundary and everything around
it is real.
"""

import ast
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from assistant import ROOT
from assistant.dialog import Session
from assistant.errors import AudioDeviceError
from assistant.flows import load_flows
from assistant.live.loop import LoopOptions, MicListener, VoiceLoop
from tests.kioskdriver import assistant, err, out
from tests.test_voice_loop import REAL, RecordingSpeaker, WavMicrophone, _real

pytestmark = pytest.mark.seconds(60)  # alone, idle 2 cores: the longest units start first (conftest.py)

FLOWS = load_flows()
RAW_PORTAUDIO = ("PaErrorCode", "Error querying", "Error opening", "Unanticipated host error", "Invalid stream")
TONE_RATE = 22050


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(TONE_RATE * seconds)) / TONE_RATE
    return (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)


def loud_seconds(samples) -> float:
    return float((np.abs(samples) > 0.05).sum()) / 16000


def turns_lost(record_property, user_turns: int, answered: int) -> int:
    """User turns the fault left without an answer, for the bench's fault table (bench/faults.py reads it from
    the junit report)."""
    lost = max(user_turns - answered, 0)
    record_property("turns_lost", lost)
    return lost


def assert_plain(text: str):
    for raw in RAW_PORTAUDIO:
        assert raw not in text, f"raw PortAudio text shown to the user: {text!r}"


@pytest.fixture
def recognizer(vosk_model):
    """A recogniser per test (cheap on the shared model): a vosk recogniser is not safe to feed from two threads,
    and a loop thread of an earlier test that outlived its join timeout on a loaded machine must not feed the
    next test's (one worker died in a clean-clone run with "Fatal Python error: Aborted" while collecting
    garbage in a loop thread, right after the kiosk test's loop thread)."""
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(vosk_model)


# --- a room with a speaker and a microphone (PulseAudio null sinks), used from this process -----------------
@pytest.fixture(scope="module")
def room():
    from tests.pulse import start_room

    server, runtime = start_room("pulse-robust-")
    env = {**server.client_env(), "PULSE_SOURCE": "user_voice.monitor"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    import sounddevice

    sounddevice._terminate()  # the harness (not the assistant) re-reads the device list: nothing is open yet
    sounddevice._initialize()
    if not any(d["name"] == "pulse" for d in sounddevice.query_devices()):
        pytest.skip('PortAudio lists no "pulse" device: apt-get install libasound2-plugins')
    yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def stalled(room):
    """Suspends the microphone's sink: the input stream stays 'active' and delivers nothing, as a stalled
    microphone does. Always resumed afterwards."""
    def stall():
        room._pactl("suspend-sink", "user_voice", "1")

    yield stall
    room._pactl("suspend-sink", "user_voice", "0")


def _microphone():
    from assistant.audio.microphone import Microphone

    return Microphone("pulse").open()


def _first_sound(mic, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mic.read(timeout=0.5):
            return
    raise AssertionError("the microphone sent nothing")


# --- one device layer: opening one device never stops another -------------------------------------------------
def test_opening_the_microphone_by_name_never_cuts_the_assistant_off(room):
    from assistant.speech.player import Player

    player = Player("pulse")
    with room.record() as speech:
        player.play(tone(1.5), TONE_RATE, blocking=False)
        deadline = time.monotonic() + 10
        while player._pos == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        mic = _microphone()  # by name: before, this restarted PortAudio and killed the greeting
        try:
            result = player.wait(timeout=10)
        finally:
            mic.close()
    assert result.completed, result
    assert loud_seconds(speech.samples) > 1.2, "the whole sound reached the speaker"


def test_looking_for_a_missing_speaker_never_stops_the_open_microphone(room):
    from assistant.speech.player import Player

    mic = _microphone()
    try:
        _first_sound(mic)
        with pytest.raises(AudioDeviceError) as missing:
            Player("no-such-speaker").play(tone(0.2), TONE_RATE)
        assert_plain(str(missing.value))
        chunks = [mic.read(timeout=1.0) for _ in range(5)]  # before: PortAudioError, the stream was dead
        assert any(chunks)
    finally:
        mic.close()


def test_a_microphone_that_fails_to_open_is_said_in_plain_chinese_and_opened_again(recognizer, monkeypatch):
    """No default microphone at all (no sound server): PortAudio says "Error querying device -1"."""
    from assistant.audio.microphone import Microphone

    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse-socket")
    lines, opened = [], []

    def open_microphone():
        opened.append(1)
        if len(opened) == 1:
            return Microphone().open()  # the default device, while no sound server answers
        return WavMicrophone(np.zeros(16000, np.int16))

    loop = VoiceLoop(Session(FLOWS), recognizer, RecordingSpeaker(), open_microphone,
                     LoopOptions(max_turns=1, reminder_after=1.0), out=lines.append, sleep=lambda s: None)
    assert loop.run() == 0
    announced = [line for line in lines if "麦克风" in line]
    assert announced and "没有找到麦克风" in announced[0]
    for line in lines:
        assert_plain(line)
    assert any("麦克风好了" in line for line in lines)


def test_a_dead_microphone_stream_is_reported_and_opened_again(recognizer, room):
    """Something else restarts PortAudio under the open stream (before: the player did, on every speaker lookup):
    the listener reports a plain AudioDeviceError once and opens the microphone afresh, instead of reading
    the dead stream again and again."""
    import sounddevice

    listener = MicListener(recognizer, RecordingSpeaker(), _microphone, Session(FLOWS))
    try:
        assert listener.listen(None, 0.3) is None
        sounddevice._terminate()
        sounddevice._initialize()
        with pytest.raises(AudioDeviceError) as dead:
            listener.listen(None, 0.3)
        assert_plain(str(dead.value))
        assert listener.mic is None
        assert listener.listen(None, 0.3) is None, "opened again on the next turn"
    finally:
        listener.close()


# --- a stalled microphone: deadlines on the wall clock ------------------------------------------------------
def _listen_in_thread(listener, timeout):
    outcome = {}

    def run():
        try:
            outcome["text"] = listener.listen(None, timeout)
        except AudioDeviceError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_stalled_microphone_never_blocks_listening(recognizer, room, stalled, monkeypatch):
    import assistant.live.loop as loop

    monkeypatch.setattr(loop, "STALL_SECONDS", 2.0, raising=False)
    listener = MicListener(recognizer, RecordingSpeaker(), _microphone, Session(FLOWS))
    try:
        assert listener.listen(None, 0.5) is None  # a working microphone, a quiet room
        _first_sound(listener.mic)
        assert listener.listen(None, 0.3) is None
        stalled()
        started = time.monotonic()
        thread, outcome = _listen_in_thread(listener, 1.0)
        thread.join(timeout=4)
        assert not thread.is_alive(), "listen() waited for sound that never comes"
        assert outcome.get("text") is None and time.monotonic() - started < 3
        # Stalled for longer: the microphone is given up (and opened afresh on the next call).
        thread, outcome = _listen_in_thread(listener, 5.0)
        thread.join(timeout=5)
        assert not thread.is_alive() and isinstance(outcome.get("error"), AudioDeviceError)
        assert "麦克风" in str(outcome["error"]) and listener.mic is None
    finally:
        room._pactl("suspend-sink", "user_voice", "0")
        listener.close()


def test_the_kiosk_wipes_while_the_microphone_is_stalled(recognizer, understander, room, stalled, tmp_path):
    from assistant.kiosk.controller import KioskController
    from assistant.kiosk.runner import KioskRunner

    spoken = []
    controller = KioskController(FLOWS, understander=understander, today=lambda: date(2026, 11, 23),
                                 idle_seconds=1.0, speak=spoken.append, log=lambda message: None)
    listener = MicListener(recognizer, RecordingSpeaker(), _microphone, controller.session)
    runner = KioskRunner(controller, listener, hands_free=True, poll=0.3, retry_seconds=0.3, log=lambda m: None)
    controller.start()
    controller.heard("微信")  # someone is at the kiosk
    stalled()
    worker = threading.Thread(target=runner.run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 8
        while controller.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not controller.active, "the idle wipe never came: the kiosk's tick did not run"
        assert sum(reply.state == "greeting" for reply in spoken) >= 2, "the next person is greeted"
    finally:
        runner.stop.set()
        room._pactl("suspend-sink", "user_voice", "0")
        worker.join(timeout=10)
        listener.close()
    assert not worker.is_alive(), "the kiosk's loop did not stop when told to"


def _outcome_of(module: str, *args) -> dict:
    """Runs a loop scenario in a process of its own (`python -m module args…`, as tests/render_fault.py and
    tests/unplugged_mic.py are) and returns the JSON line it prints last. A native abort in there fails the test
    with that process's stderr instead of taking the test worker, and the suite queued on it, along."""
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-m", module, *map(str, args)],
                          capture_output=True, cwd=ROOT, timeout=150)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"the loop's process ended with {proc.returncode}:\n{stderr[-4000:]}"
    return json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])


# --- the microphone the user chose: unplugged, it is waited for, never replaced -----------------------------------
@pytest.mark.slow(seconds=32)
@pytest.mark.parametrize("chosen_by", ["PULSE_SOURCE", "--input-device"])
def test_an_unplugged_chosen_microphone_is_waited_for_and_never_replaced(vosk_model_dir, room, record_property,
                                                                        chosen_by):
    """The user chose the "usb_mic" source (PULSE_SOURCE, or its name given to --input-device); the room's
    default source is the "laptop microphone" (user_voice). Unplugged mid-conversation, PulseAudio moves the
    recording to the default source: the loop says so once, answers nothing said there, and answers the next
    turn from usb_mic once it is back. The loop runs in a process of its own (tests/unplugged_mic.py): a native
    abort there (one took a test worker down, and the suite hung) fails this test with that process's stderr."""
    _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0])  # skips when the recordings are not there
    default_before = room._pactl("get-default-source").strip()
    try:
        outcome = _outcome_of("tests.unplugged_mic", chosen_by, vosk_model_dir, room.runtime_dir)
    finally:  # a process that died mid-way leaves the room as it found it
        for line in room._pactl("list", "short", "modules").splitlines():
            if "sink_name=usb_mic" in line:
                room._pactl_ok("unload-module", line.split()[0])
        if default_before:
            room._pactl_ok("set-default-source", default_before)
    assert outcome["failed"] is None, f"{outcome['failed']} (said: {outcome['said']})"
    assert turns_lost(record_property, 2, outcome["answers"]) == 0
    for line in outcome["lines"]:
        assert_plain(line)
        assert "Traceback" not in line


# --- the player and the loop's guard --------------------------------------------------------------------------
class ToneSpeaker:
    """The loop's speaker on a real Player: every reply is a short tone on the device; remembers the words."""

    ahead = None  # renders nothing ahead

    def __init__(self, player):
        self._player = player
        self.said = []

    @property
    def playing(self):  # what the loop asks a speaker (Speaker.playing)
        return self._player.playing

    def say(self, parts, settings=None, blocking=False):
        self.said.append("".join(parts))
        return self._player.play(tone(0.4), TONE_RATE, blocking=blocking)

    def stop(self):
        self._player.stop()

    def wait(self, timeout=60.0):  # Speaker.wait: the last reply is heard whole
        if self._player.playing:
            self._player.wait(timeout=timeout)

    def close(self):
        self._player.close()


@pytest.fixture
def vanishing_speaker(monkeypatch):
    """The next speaker to be opened vanishes between being listed and being opened (PortAudio's errors)."""
    import sounddevice as sd

    armed = {"on": True, "gone": None}
    real_stream, real_query = sd.OutputStream, sd.query_devices

    def output_stream(*args, **kwargs):
        if armed["on"]:
            armed["on"], armed["gone"] = False, kwargs.get("device")
            raise sd.PortAudioError("Error opening OutputStream: Device unavailable", -9985)
        return real_stream(*args, **kwargs)

    def query_devices(device=None, kind=None):
        if device is not None and device == armed["gone"]:
            armed["gone"] = None
            raise sd.PortAudioError(f"Error querying device {device}", -9996)
        return real_query(device, kind)

    monkeypatch.setattr(sd, "OutputStream", output_stream)
    monkeypatch.setattr(sd, "query_devices", query_devices)
    return armed


def test_a_speaker_that_fails_to_open_leaves_the_loop_hearing(recognizer, room, vanishing_speaker, record_property):
    from assistant.speech.player import Player

    speaker, lines = ToneSpeaker(Player("pulse")), []
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0])
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, lambda: WavMicrophone(samples),
                     LoopOptions(max_turns=1, reminder_after=0, barge_in=False), out=lines.append,
                     sleep=lambda s: None)
    with room.record() as speech:
        assert loop.run() == 0
        speaker._player.wait(timeout=5)
    loop.close()
    assert not speaker._player.playing
    assert turns_lost(record_property, 1, len(speaker.said) - 1) == 0
    assert len(speaker.said) == 2, "the greeting failed, and the user's turn was still heard and answered"
    assert sum("扬声器打不开" in line for line in lines) == 1, lines
    for line in lines:
        assert_plain(line)
    assert loud_seconds(speech.samples) > 0.2, "the answer was played once the speaker was back"


def test_a_failed_open_never_leaves_the_player_playing(room, monkeypatch):
    import sounddevice as sd

    from assistant.speech.player import Player

    player = Player("pulse")
    real_stream = sd.OutputStream

    def broken(*args, **kwargs):
        raise RuntimeError("the driver crashed")

    monkeypatch.setattr(sd, "OutputStream", broken)
    with pytest.raises((RuntimeError, AudioDeviceError)):
        player.play(tone(0.2), TONE_RATE, blocking=False)
    assert not player.playing, "a failed open left the player 'playing': the loop takes every answer for its own voice"
    monkeypatch.setattr(sd, "OutputStream", real_stream)
    assert player.play(tone(0.2), TONE_RATE).completed


class FailsOnce(Session):
    """A dialog whose next turn fails once (an unexpected bug), then works."""

    failures = 1

    def handle(self, text):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("a bug in one turn")
        return super().handle(text)


def test_an_unexpected_error_in_one_turn_is_said_kindly_and_the_loop_goes_on(recognizer, record_property):
    speaker, lines = RecordingSpeaker(), []
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0])
    mics = [WavMicrophone(samples), WavMicrophone(np.zeros(16000, np.int16))]
    loop = VoiceLoop(FailsOnce(FLOWS), recognizer, speaker, lambda: mics.pop(0) if len(mics) > 1 else mics[0],
                     LoopOptions(max_turns=2, reminder_after=1.0), out=lines.append, sleep=lambda s: None)
    assert loop.run() == 0
    assert any("出了点小问题" in said for said in speaker.said), speaker.said
    answers = [said for said in speaker.said[1:] if "出了点小问题" not in said]
    assert turns_lost(record_property, 2, len(answers)) == 1, "only the turn that failed"
    assert "我还在听" in speaker.said[-1], "the next turn was listened for and answered"


# --- the second reading has a deadline ---------------------------------------------------------------------------
def test_a_second_reading_that_never_answers_costs_the_turn_nothing(recognizer, monkeypatch):
    import assistant.recognition.recognizer as recognition
    import assistant.recognition.second_reading as second_reading

    monkeypatch.setattr(second_reading, "RESULT_SECONDS", 0.5, raising=False)
    never = threading.Event()
    real = recognition.kaldi_recognizer

    def hanging(model, grammar=None):
        if threading.current_thread().name == "second-reading":
            never.wait(60)  # a decoder that never answers
        return real(model, grammar)

    monkeypatch.setattr(recognition, "kaldi_recognizer", hanging)
    free_question = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[5])
    listener = MicListener(recognizer, RecordingSpeaker(), lambda: WavMicrophone(free_question), Session(FLOWS))
    thread, outcome = _listen_in_thread(listener, None)
    try:
        thread.join(timeout=20)
        assert not thread.is_alive(), "the turn waited forever for the second reading"
        assert isinstance(outcome.get("text"), str)
    finally:
        never.set()
        listener.close()


# --- the voice's render child killed or hung, the second reading killed ------------------------------------------
def _run_loop_with_deadline(loop, seconds):
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), f"the loop gave no answer within {seconds} s"


@pytest.mark.slow(seconds=12)
@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_a_killed_or_hung_render_worker_costs_no_answer(vosk_model_dir, tmp_path, fault, record_property):
    """The voice's child is killed (SIGKILL) or hangs (SIGSTOP: alive, never answers) just before the answer to
    the user's turn: the answer is still spoken, by a fresh child, within the render deadline. The loop runs in a
    process of its own (tests/render_fault.py): a fault that brought it down must fail this test, with that
    process's stderr, not take the test worker along."""
    if importlib.util.find_spec("pyttsx3") is None:  # looked up, not imported: pyttsx3 lives in the child only
        pytest.skip("pyttsx3 not installed")
    outcome = _outcome_of("tests.render_fault", fault, vosk_model_dir, tmp_path)
    assert outcome["answered_in_time"], "the loop gave no answer within 90 s"
    assert outcome["hit"], "the fault was injected into a running child"
    played = outcome["played"]
    turns_lost(record_property, 1, len([s for s in played[1:] if s > 0.3]))
    assert len(played) == 2 and all(seconds > 0.3 for seconds in played), "the greeting and the answer were both spoken"
    assert not any(line.startswith("assistant:") for line in outcome["lines"]), outcome["lines"]
    # The wall-clock deadline: the hung child is given up after RENDER_SECONDS, a fresh one starts and renders.
    assert outcome["took"][1] < 4.0 + 20, f"the answer took {outcome['took'][1]:.1f} s"


def test_a_killed_second_reading_still_answers_the_turn_and_holds_no_audio(recognizer, monkeypatch, record_property):
    """The open reading's decoder dies a few chunks into the turn (a crash in its thread): the turn is answered
    with the grammar's reading, and the dead reading is not fed the rest of the turn (no audio piling up)."""
    import assistant.recognition.recognizer as recognition
    import assistant.recognition.second_reading as second_reading

    real = recognition.kaldi_recognizer

    class Crashing:
        def __init__(self, rec):
            self.rec, self.chunks = rec, 0

        def AcceptWaveform(self, pcm):
            self.chunks += 1
            if self.chunks > 3:
                raise RuntimeError("the decoder crashed")
            return self.rec.AcceptWaveform(pcm)

        def __getattr__(self, name):
            return getattr(self.rec, name)

    def crashing(model, grammar=None):
        rec = real(model, grammar)
        return Crashing(rec) if threading.current_thread().name == "second-reading" else rec

    backlogs = []
    real_result, real_cancel = second_reading.SecondReading.result, second_reading.SecondReading.cancel

    def result(self, timeout=None):
        backlogs.append(self._audio.qsize())
        return real_result(self, timeout)

    def cancel(self):
        if self._thread.ident is not None and not self._thread.is_alive():
            backlogs.append(self._audio.qsize())
        return real_cancel(self)

    monkeypatch.setattr(recognition, "kaldi_recognizer", crashing)
    monkeypatch.setattr(second_reading.SecondReading, "result", result)
    monkeypatch.setattr(second_reading.SecondReading, "cancel", cancel)
    free_question = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[5])
    speaker = RecordingSpeaker()
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, lambda: WavMicrophone(free_question),
                     LoopOptions(max_turns=1, reminder_after=0), out=lambda line: None, sleep=lambda s: None)
    try:
        _run_loop_with_deadline(loop, 60)
    finally:
        loop.close()
    assert turns_lost(record_property, 1, len(speaker.said) - 1) == 0, "the turn was answered"
    assert backlogs, "the second reading was asked for its result"
    assert max(backlogs) <= 1, f"a dead second reading was fed {max(backlogs)} chunks it will never decode"


# --- after goodbye at home: quiet ------------------------------------------------------------------------------
class ScriptedListener:
    """Turns as text, one per listen() (the microphone and recogniser are tested elsewhere)."""

    onset = None  # when the words began is not known: no turn continues the one before (assistant/live/rejoin.py)

    def __init__(self, turns):
        self.turns = list(turns)

    def listen(self, expected=None, timeout=None):
        return self.turns.pop(0)

    def close(self):
        pass


def test_after_goodbye_the_home_loop_waits_quietly_for_new_words():
    speaker, lines = RecordingSpeaker(), []
    loop = VoiceLoop(Session(FLOWS), None, speaker, None, LoopOptions(max_turns=4, reminder_after=1.0),
                     out=lines.append)
    loop.listener = ScriptedListener(["再见", "", "", "微信"])
    assert loop.run() == 0
    assert speaker.said[1].startswith("再见")
    assert not any("我还在听" in said for said in speaker.said), "no reminders to an empty room after goodbye"
    assert "微信" in speaker.said[-1], "speaking again wakes it up"


def test_the_greeting_is_said_before_the_loop_waits_for_the_speech_model():
    """`assistant run` loads the speech model while the greeting plays (first sound ≤ 2 s, issue 14)."""
    speaker, order = RecordingSpeaker(), []

    def model_loaded():
        order.append(("model", list(speaker.said)))
        return "the recogniser"

    loop = VoiceLoop(Session(FLOWS), None, speaker, None, LoopOptions(max_turns=1), out=lambda _: None,
                     recognizer_after_greeting=model_loaded)
    loop.listener = ScriptedListener(["微信"])
    loop.listener.use = lambda recognizer: order.append(("use", recognizer))
    assert loop.run() == 0
    assert order[0][0] == "model" and order[0][1] and order[0][1][0].startswith("您好"), order
    assert order[1] == ("use", "the recogniser"), "the listener hears with what was loaded"
    assert "微信" in speaker.said[-1]


def test_a_speech_model_that_fails_to_load_after_the_greeting_ends_the_run_with_its_message():
    from assistant.errors import ModelError

    def broken():
        raise ModelError("语音识别模型无法加载 (model failed to load)")

    loop = VoiceLoop(Session(FLOWS), None, RecordingSpeaker(), None, LoopOptions(max_turns=3), out=lambda _: None,
                     recognizer_after_greeting=broken)
    loop.listener = ScriptedListener(["微信", "好了", "好了"])
    loop.listener.use = lambda recognizer: pytest.fail("nothing was loaded")
    with pytest.raises(ModelError):
        loop.run()  # not swallowed by the per-turn guard: cmd_run prints it and exits 2
    assert loop.listener.turns == ["微信", "好了", "好了"], "no turn was listened for without a recogniser"


def test_assistant_run_with_a_corrupt_speech_model_greets_then_says_what_to_do(tmp_path, vosk_model_dir):
    model = tmp_path / "model"
    for path in Path(vosk_model_dir).rglob("*"):
        if path.is_file():
            (model / path.relative_to(vosk_model_dir)).parent.mkdir(parents=True, exist_ok=True)
            (model / path.relative_to(vosk_model_dir)).symlink_to(path)
    (model / "am" / "final.mdl").unlink()
    (model / "am" / "final.mdl").write_bytes(b"not a model")
    env = {"ASSISTANT_VOSK_MODEL": str(model), "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"),
           "ASSISTANT_NATURAL_PYTHON": "off", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config")}
    proc = assistant("run", "--max-turns", "2", "--output-device", "no-such-speaker", "--input-device",
                     "no-such-microphone", "--voice", "standard", env=env, timeout=120)
    assert proc.returncode == 2, err(proc)
    assert out(proc).startswith("助手: 您好"), "the greeting is not held back by the model load"
    assert "无法加载" in err(proc) and "Traceback" not in err(proc)


# --- privacy of what the user said --------------------------------------------------------------------------------
def test_run_prints_nothing_the_user_said():
    speaker, lines = RecordingSpeaker(), []
    loop = VoiceLoop(Session(FLOWS), None, speaker, None, LoopOptions(max_turns=2), out=lines.append)
    loop.listener = ScriptedListener(["微信", "我的手机号是13812345678"])
    loop.run()
    assert not any(line.startswith("您") for line in lines), lines
    assert not any("13812345678" in line for line in lines)


def test_run_with_debug_prints_what_was_heard_masked():
    speaker, lines = RecordingSpeaker(), []
    loop = VoiceLoop(Session(FLOWS), None, speaker, None, LoopOptions(max_turns=1, show_heard=True),
                     out=lines.append)
    loop.listener = ScriptedListener(["我的手机号是13812345678"])
    loop.run()
    heard = [line for line in lines if line.startswith("您: ")]
    assert heard == ["您: 我的手机号是***"]


def test_voice_setup_prints_what_it_heard_masked():
    from assistant.family.setup_engine import SetupEngine
    from assistant.family.voice_setup import run_voice_setup

    engine = SetupEngine(FLOWS, today=date(2026, 11, 23), mode="voice", voices=["elder-slow", "standard"])
    printed = []
    answers = iter(["我在甘肃,电话是13812345678", None, None, None])
    run_voice_setup(engine, lambda: next(answers), lambda text: None, printed.append)
    assert not any("13812345678" in line for line in printed)
    assert any(line.startswith("您: ") and "***" in line for line in printed)


# --- settings and the clock: warnings, never a crash ------------------------------------------------------------
def _settings(tmp_path, text):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(text, encoding="utf-8")
    return {"ASSISTANT_CONFIG_DIR": str(config), "ASSISTANT_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize("today", [None, "2025-11-20"], ids=["date-after-the-clock", "clock-set-back-a-year"])
def test_kiosk_keeps_running_when_the_last_date_is_after_today(tmp_path, today):
    last = date.today() + timedelta(days=200) if today is None else date(2026, 6, 1)
    env = _settings(tmp_path, f'region = "甘肃"\nlast_certified = {last.isoformat()}\n')
    args = ["kiosk", "--text", "--no-screen"] + (["--today", today] if today else [])
    proc = assistant(*args, stdin="微信\n", env=env)
    assert proc.returncode == 0, err(proc)
    lines = out(proc).splitlines()
    assert lines[0].startswith("助手: 您好") and "微信" in lines[1]
    assert "电脑的日期" in err(proc) and "Traceback" not in err(proc)


def test_the_kiosk_does_not_greet_every_visitor_with_one_persons_date(tmp_path):
    last = date.today() - timedelta(days=365)
    env = _settings(tmp_path, f'region = "甘肃"\nlast_certified = {last.isoformat()}\n')
    proc = assistant("kiosk", "--text", "--no-screen", stdin="", env=env)
    assert proc.returncode == 0, err(proc)
    greeting = out(proc).splitlines()[0]
    assert greeting.startswith("助手: 您好") and "提醒您" not in greeting and "天" not in greeting, greeting


BROKEN = {
    "typo-in-a-name": 'region = "甘肃"\nchanel = "wechat"\n',
    "unknown-channel": 'channel = "pigeon"\n',
    "not-toml": 'region = 甘肃\n',
}


@pytest.mark.parametrize("command", [["chat", "--json"], ["kiosk", "--text", "--no-screen"]])
@pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN))
def test_a_broken_settings_file_is_a_warning_not_a_crash(tmp_path, command, broken):
    env = _settings(tmp_path, BROKEN[broken])
    proc = assistant(*command, stdin="微信\n", env=env)
    assert proc.returncode == 0, err(proc)
    assert "您好" in out(proc).splitlines()[0]
    assert "settings.toml" in err(proc) and "先不用" in err(proc) and "Traceback" not in err(proc)
    assert err(proc).count("settings.toml") == 1, "said once"


def test_assistant_run_with_a_broken_settings_file_greets_and_leaves_no_temporary_audio(tmp_path, vosk_model_dir):
    env = {**_settings(tmp_path, 'region = "甘肃"\nchanel = "wechat"\n'),
           "ASSISTANT_VOSK_MODEL": str(vosk_model_dir), "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"),
           "ASSISTANT_NATURAL_PYTHON": "off", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    proc = assistant("run", "--max-turns", "0", "--output-device", "no-such-speaker", "--voice", "standard",
                     env=env, timeout=120)
    assert proc.returncode == 0, err(proc)
    assert out(proc).startswith("助手: 您好")
    assert "chanel" in err(proc) and "Traceback" not in err(proc)
    assert not list((tmp_path / "tmp").glob("assistant-voice-*")), "temporary audio left behind"


def test_doctor_reports_missing_devices_in_plain_chinese(tmp_path, vosk_model_dir):
    env = {"ASSISTANT_VOSK_MODEL": str(vosk_model_dir), "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"),
           "ASSISTANT_NATURAL_PYTHON": "off", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config"),
           "PULSE_SERVER": "unix:/nonexistent/pulse-socket", "TMPDIR": str(tmp_path)}
    proc = assistant("doctor", "--seconds", "0.5", "--voice", "standard", env=env, timeout=120)
    text = out(proc)
    assert "麦克风" in text and "扬声器" in text and "Traceback" not in err(proc)
    assert "降噪开着" in text
    assert_plain(text)


# --- temporary audio is removed on every exit path ---------------------------------------------------------------
def test_a_stopped_kiosk_leaves_no_temporary_audio(room, vosk_model_dir, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PULSE_SERVER": room.server, "PULSE_SINK": "assistant_speaker",
           "PULSE_SOURCE": "user_voice.monitor", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config"),
           "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"),
           "ASSISTANT_VOSK_MODEL": str(vosk_model_dir), "ASSISTANT_NATURAL_PYTHON": "off", "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "kiosk", "--no-screen", "--hands-free",
                             "--input-device", "pulse", "--output-device", "pulse", "--voice", "standard"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("助手: 您好")
        deadline = time.monotonic() + 30
        while not list(tmp.glob("assistant-voice-*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # the greeting is being synthesised
        assert list(tmp.glob("assistant-voice-*"))
        proc.send_signal(signal.SIGTERM)  # what systemd's stop does
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert not list(tmp.glob("assistant-voice-*")), "temporary audio left behind"


# --- logging: configured once, and no failure swallowed without a line ------------------------------------------
def _catches_everything(handler: ast.ExceptHandler) -> bool:
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else list(handler.type.elts)
    return handler.type is None or any(isinstance(n, ast.Name) and n.id in ("Exception", "BaseException")
                                       for n in names)


def _reports(handler: ast.ExceptHandler) -> bool:
    """Re-raises, logs, prints, sends the failure on, or records it for the user."""
    for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value if isinstance(func, ast.Attribute) else None
            owner_name = getattr(owner, "id", getattr(owner, "attr", ""))
            if name in ("print", "send", "_failed", "report") or "log" in owner_name or name in ("log", "warn"):
                return True
            if name == "append" and "failed" in ast.unparse(func):
                return True
    return False


def test_no_error_is_swallowed_without_a_log_line():
    silent = []
    for path in sorted((ROOT / "assistant").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and _catches_everything(node) and not _reports(node):
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not silent, "an `except Exception` that neither logs nor re-raises: " + ", ".join(silent)


def test_logging_is_configured_once_with_warnings_on_stderr(tmp_path, monkeypatch, capsys):
    import logging

    from tests.kioskdriver import run_main

    monkeypatch.setenv("ASSISTANT_CONFIG_DIR", str(_settings(tmp_path, 'chanel = "wechat"\n')["ASSISTANT_CONFIG_DIR"]))
    for _ in range(2):
        assert run_main(monkeypatch, "chat", "--json", stdin="") == 0
    captured = capsys.readouterr()
    assert captured.err.count("chanel") == 2, "one warning line per run, not one per configuration"
    assert "chanel" not in captured.out, "stdout is the JSON contract"
    assert not logging.getLogger("assistant").isEnabledFor(logging.DEBUG)
    assert run_main(monkeypatch, "chat", "--json", "--debug", stdin="") == 0
    assert logging.getLogger("assistant").isEnabledFor(logging.DEBUG)
    run_main(monkeypatch, "chat", "--json", stdin="")  # back to warnings for the tests that follow
