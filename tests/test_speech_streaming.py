"""A reply starts sounding as soon as its first part is rendered: the next parts are rendered while it plays.

Through a private PulseAudio null sink (tests/pulse.py), with the real espeak-ng engine rendering live."""

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.errors import VoiceError
from assistant.speech.cache import VoiceCache
from assistant.speech.player import Player, output_devices
from assistant.speech.profiles import load_profile
from assistant.speech.speaker import LEAD_IN_MS, Speaker
from pulse import pulse_server  # noqa: F401  (session fixture: private PulseAudio with a null sink)
from speech_support import espeak_engine, isolated_voice_env  # noqa: F401

pytestmark = pytest.mark.seconds(35)  # alone, idle 2 cores: the longest units start first (conftest.py)

DEVICE = "pulse"
NORMAL = SimpleNamespace(rate_step=0, volume_step=0)
#: Live sentences (not in any cache).
PARTS = ["您下次认证的时间是三月五号。", "离现在还有九十八天。", "可以在手机日历上记一下。", "到时候我再提醒您。"]


@pytest.fixture(autouse=True)
def pulse_device(pulse_server):
    if not any(name == DEVICE for _, name in output_devices()):
        pytest.skip('PortAudio lists no "pulse" device: apt-get install libasound2-plugins')


class TimedEngine:
    """The real engine, noting when each part's rendering finished (what this test is about)."""

    def __init__(self, engine, fail_at=None, slow=0.0):
        self.engine, self.finished, self.fail_at, self.slow = engine, [], fail_at, slow
        self.identity, self.name = engine.identity, engine.name
        self.lock = threading.Lock()  # one sentence at a time, as the one render child does

    def synthesize(self, text, rate=1.0):
        with self.lock:
            if self.fail_at is not None and len(self.finished) == self.fail_at:
                self.finished.append(time.monotonic())
                raise VoiceError("the voice failed for this part")
            time.sleep(self.slow)
            out = self.engine.synthesize(text, rate)
            self.finished.append(time.monotonic())
            return out

    def close(self):
        pass


def first_loud(rec, level=0.02, timeout=30.0) -> float:
    """The wall-clock time the first loud sample reached the null sink's monitor (read from parec's file live)."""
    fd, deadline = rec._file.fileno(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = os.fstat(fd).st_size
        x = np.abs(np.frombuffer(os.pread(fd, size - size % 2, 0), dtype="<i2").astype(np.float32)) / 32768
        if np.any(x > level):
            return time.monotonic()
        time.sleep(0.005)
    raise AssertionError("nothing reached the sink")


def first_sample(player, timeout=30.0) -> float:
    """The wall-clock time the sound device (PortAudio's callback) first took samples of the reply."""
    deadline = time.monotonic() + timeout
    while player.position == 0:
        assert time.monotonic() < deadline, "the device never took a sample"
        time.sleep(0.002)
    return time.monotonic()


def test_the_first_part_sounds_before_the_last_part_is_rendered(pulse_server, espeak_engine):
    # espeak-ng renders a sentence in ~0.05 s; the natural voice takes 0.5-2.5 s here: each part is made to take
    # 0.3 s longer, as a slow voice would, so the order of events is clear on a loaded machine.
    engine = TimedEngine(espeak_engine, slow=0.3)
    speaker = Speaker(load_profile("standard"), VoiceCache(), Player(DEVICE), engine=engine)
    reports = []
    with pulse_server.record() as rec:
        asked = time.monotonic()
        speaker.say(PARTS, NORMAL, blocking=False, on_sentence=lambda i, s: reports.append((i, time.monotonic())))
        started = first_sample(speaker.player)
        first_loud(rec)  # and it reached the sink (whose own latency, ~1-2 s for a null sink, is not ours)
        result = speaker.player.wait(timeout=120)
    assert result.completed, "the whole reply was played"
    assert len(engine.finished) == len(PARTS) and speaker.last_sources == ["live"] * len(PARTS)
    assert started < engine.finished[-1], (
        f"first sample {started - asked:.2f} s after asking, last part rendered {engine.finished[-1] - asked:.2f} s")
    assert started < engine.finished[1], "the first part plays while the second is being rendered"
    # Everything rendered was played: the last part's end plus the silence after it, and the sink heard it all.
    _, start, seconds = speaker.last_timing[-1]
    rate = 22050  # espeak-ng's
    assert result.frames_played == pytest.approx((start + seconds + LEAD_IN_MS / 1000) * rate, abs=2)
    loud = np.flatnonzero(np.abs(rec.samples) > 0.02)
    assert (loud[-1] - loud[0]) / rec.rate > 0.9 * (start + seconds - LEAD_IN_MS / 1000)
    # The screen follows the voice: each part reported once, in order, then quiet.
    deadline = time.monotonic() + 5
    while (not reports or reports[-1][0] is not None) and time.monotonic() < deadline:
        time.sleep(0.02)  # the report of the quiet comes from the follower's next look at the player
    assert [i for i, _ in reports] == [0, 1, 2, 3, None]


def test_a_part_that_fails_mid_reply_ends_it_after_what_was_said(pulse_server, espeak_engine):
    engine = TimedEngine(espeak_engine, fail_at=2)
    speaker = Speaker(load_profile("standard"), VoiceCache(), Player(DEVICE), engine=engine)
    with pulse_server.record() as rec:
        result = speaker.say(PARTS[:4], NORMAL, blocking=True)  # no exception: two parts were already heard
    assert not result.completed and len(engine.finished) == 3, "rendering stopped at the failing part"
    assert result.frames_played == result.frames_total > 0
    two, rate = speaker.render(PARTS[:2], NORMAL)
    assert result.frames_total == pytest.approx(len(two), abs=0.2 * rate), "the first two parts were played"
    assert np.sqrt(np.mean(rec.samples ** 2)) > 0.01
    assert not speaker.playing
    # The first part failing is said as before: the caller hears of it, nothing plays.
    engine.finished, engine.fail_at = [], 0
    with pytest.raises(VoiceError):
        speaker.say(PARTS[:2], NORMAL, blocking=False)
    assert not speaker.playing


def test_barge_in_stops_rendering_the_rest(pulse_server, espeak_engine):
    engine = TimedEngine(espeak_engine, slow=0.5)
    speaker = Speaker(load_profile("standard"), VoiceCache(), Player(DEVICE), engine=engine)
    speaker.say(PARTS, NORMAL, blocking=False)
    deadline = time.monotonic() + 30
    while speaker.player.position == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=speaker.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive() and not speaker.playing
    time.sleep(1.5)  # time for two more parts, had rendering gone on
    assert len(engine.finished) <= 2, "a reply cut short is not rendered to its end"


def test_a_new_reply_does_not_wait_for_the_rest_of_the_last_one(pulse_server, espeak_engine):
    engine = TimedEngine(espeak_engine, slow=0.5)
    speaker = Speaker(load_profile("standard"), VoiceCache(), Player(DEVICE), engine=engine)
    speaker.say(PARTS, NORMAL, blocking=False)  # four parts, 0.5 s each to render
    first_sample(speaker.player)
    asked = time.monotonic()
    speaker.say(["好的,请您再说一遍。"], NORMAL, blocking=False)
    started = first_sample(speaker.player)
    speaker.player.wait(timeout=30)
    # The new reply waited at most for the part being rendered when it was asked for, not for the others.
    assert len(engine.finished) <= 3, f"{len(engine.finished)} parts rendered; new reply {started - asked:.2f} s"


def test_sounding_gives_the_words_the_voice_is_saying(pulse_server, espeak_engine):
    """What an echo could bring back to the microphone now (the live loop's own-voice check): the part being said
    and those of the last two seconds, from the player's position; nothing once it is quiet."""
    speaker = Speaker(load_profile("standard"), VoiceCache(), Player(DEVICE), engine=espeak_engine)
    speaker.say(PARTS, NORMAL, blocking=False)
    first_sample(speaker.player)
    while speaker.player.position < LEAD_IN_MS / 1000 + 0.05:
        time.sleep(0.005)  # the lead-in's silence says nothing
    assert speaker.sounding().startswith(PARTS[0])
    while len(speaker.last_timing) < len(PARTS):
        time.sleep(0.01)  # espeak-ng renders each part in a fraction of a second
    _, last_start, _ = speaker.last_timing[-1]
    _, first_start, first_seconds = speaker.last_timing[0]
    assert last_start - (first_start + first_seconds) > 2.0, "the first part ends long before the last begins"
    deadline = time.monotonic() + 30
    while speaker.player.position < last_start + 0.1 and time.monotonic() < deadline:
        time.sleep(0.01)
    now = speaker.sounding()
    assert PARTS[-1] in now and PARTS[0] not in now, now
    speaker.player.wait(timeout=60)
    assert speaker.sounding() == ""
