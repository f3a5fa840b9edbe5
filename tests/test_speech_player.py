import sys
import threading
import time

import numpy as np
import pytest
import soundfile

from assistant.errors import AudioDeviceError
from assistant.speech.player import Player, output_devices
from pulse import pulse_server  # noqa: F401  (session fixture: private PulseAudio with a null sink)
from speech_support import espeak_engine, isolated_voice_env  # noqa: F401

pytestmark = pytest.mark.seconds(12)  # alone, idle 2 cores: the longest units start first (conftest.py)

DEVICE = "pulse"  # PortAudio's ALSA device that goes through libpulse to PULSE_SERVER


@pytest.fixture(autouse=True)
def pulse_device(request):
    """Tests that play need PortAudio's ALSA "pulse" device (Debian: libasound2-plugins, a pulseaudio dependency)."""
    if "pulse_server" not in request.fixturenames:
        return
    request.getfixturevalue("pulse_server")  # the server first, so the device list sees it
    if not any(name == DEVICE for _, name in output_devices()):
        pytest.skip('PortAudio lists no "pulse" device: apt-get install libasound2-plugins')


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


@pytest.fixture
def speech_wav(tmp_path, espeak_engine):
    samples, rate = espeak_engine.synthesize("您好，请说。", 1.0)  # short: playback runs in real time
    path = tmp_path / "speech.wav"
    soundfile.write(str(path), samples, rate, subtype="PCM_16")
    return path


def test_played_wav_arrives_at_the_sink(pulse_server, speech_wav):
    samples, rate = soundfile.read(str(speech_wav), dtype="float32")
    player = Player(DEVICE)
    with pulse_server.record() as quiet:
        pass
    with pulse_server.record() as rec:
        result = player.play(samples, rate, volume=1.0)
    assert result.completed and result.frames_played == result.frames_total == len(samples)
    assert rms(rec.samples) > 0.02, "no sound reached the null sink's monitor"
    assert rms(rec.samples) > 10 * rms(quiet.samples) + 1e-4


def test_volume_is_applied_to_the_samples(pulse_server, speech_wav):
    samples, rate = soundfile.read(str(speech_wav), dtype="float32")
    player = Player(DEVICE)
    levels = []
    for volume in (0.2, 1.0):
        with pulse_server.record() as rec:
            player.play(samples, rate, volume=volume)
        levels.append(rms(rec.samples))
    assert levels[1] > 2.5 * levels[0]


def test_stop_from_another_thread_interrupts(pulse_server):
    rate = 22050
    t = np.arange(rate * 20) / rate  # 20 s: far longer than the test waits
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    player = Player(DEVICE)
    player.play(tone, rate, blocking=False)
    deadline = time.monotonic() + 10
    while player._pos == 0 and time.monotonic() < deadline:  # the device has started pulling samples
        time.sleep(0.01)
    stopper = threading.Thread(target=player.stop)
    stopper.start()
    stopper.join(timeout=10)
    result = player.wait(timeout=10)
    assert not stopper.is_alive()
    assert result.completed is False
    assert 0 < result.frames_played < result.frames_total / 2
    assert not player.playing


def test_unknown_device_is_a_kind_error(pulse_server):
    with pytest.raises(AudioDeviceError, match="没有叫"):
        Player("no-such-speaker").play(np.zeros(100, np.float32), 22050)


def test_missing_portaudio_is_a_kind_error(monkeypatch):
    class NoPortAudio:
        """Import hook that fails like sounddevice does when libportaudio2 is not installed."""

        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(AudioDeviceError, match="libportaudio2"):
        Player().play(np.zeros(100, np.float32), 22050)
