"""Rendering ahead: while the user thinks, the next turn's sentences go into the cache at the current rate; a reply
or the user's voice comes first; the render child can be paused without its deadline running out."""

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from assistant.live.loop import LoopOptions, VoiceLoop
from assistant.speech.ahead import MAX_SENTENCES, RenderAhead, likely_sentences
from assistant.speech.cache import VoiceCache, cache_key
from assistant.speech.profiles import load_profile
from assistant.speech.speaker import Speaker
from assistant.speech.worker import RenderWorker
from speech_support import SENTENCES, espeak_engine, isolated_voice_env  # noqa: F401

pytestmark = pytest.mark.seconds(15)  # alone, idle 2 cores: the longest units start first (conftest.py)

FLOWS = load_flows()
SLOWER = SimpleNamespace(rate_step=-1, volume_step=0)


class TakingPlayer:
    """Neighbour of the speaker: takes every piece of a reply at once and plays nothing (playback is tested in
    test_speech_streaming), so the loop goes straight to listening."""

    playing = False

    def __init__(self):
        self.replies = []

    def play_stream(self, pieces, sample_rate, blocking=True):
        self.replies.append(sum(len(p) for p in pieces) / sample_rate)

    def stop(self):
        pass

    def wait(self, timeout=None):
        pass


class QuietRoom:
    """A microphone in a quiet room, at real-time pace (0.1 s of silence every 0.1 s)."""

    def read(self, timeout=1.0):
        time.sleep(0.1)
        return bytes(3200)

    def close(self):
        pass


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_likely_sentences_are_the_next_steps_fixed_prompts_first():
    session = Session(FLOWS)
    session.greet()
    session.handle("我用微信吧")
    found = likely_sentences(session)
    following = FLOWS.states[FLOWS.states[session.state].on["next"]].sentences
    assert found[:len(following)] == following, "the step 好了 leads to comes first"
    assert "对不起,我没听清。" in found and len(found) <= MAX_SENTENCES
    assert set(found) <= set(FLOWS.fixed_sentences()), "never a live sentence"


def test_after_slower_the_next_prompt_is_in_the_cache_at_the_new_rate_once_the_loop_waited(espeak_engine,
                                                                                              recognizer):
    profile, cache = load_profile("standard"), VoiceCache()
    speaker = Speaker(profile, cache, TakingPlayer(), engine=espeak_engine)
    speaker.ahead = RenderAhead(speaker)
    session = Session(FLOWS)
    session.voice.limits = profile.step_limits()
    session.greet()
    session.handle("我用微信吧")
    reply = session.handle("慢一点")
    assert reply.controls == ["slower"]
    slow = profile.effective_rate(session.voice)
    nxt = FLOWS.states[FLOWS.states[session.state].on["next"]].sentences[0]
    key = cache_key(nxt, espeak_engine.identity, slow)
    loop = VoiceLoop(session, recognizer, speaker, QuietRoom, LoopOptions(barge_in=False, reminder_after=6.0),
                     out=lambda *_: None)
    assert not cache.has(key)
    try:
        loop.respond(reply)
        heard = loop.listen()  # six seconds of a quiet room: the user doing the step
        assert heard == ""
        assert cache.has(key), "the next step's prompt was rendered ahead at the slower rate"
        assert speaker.ahead.rendered and {rate for _, rate in speaker.ahead.rendered} == {slow}
        assert {text for text, _ in speaker.ahead.rendered} <= set(FLOWS.fixed_sentences())
        # The next reply after 好了 comes from the cache, at the slower rate.
        speaker.say(session.handle("好了").parts, settings=session.voice, blocking=False)
        assert speaker.last_sources[0] == "cache"
    finally:
        loop.listener.close()  # listen() ended in the quiet: its turn, and the turn's second reading, are let go
        speaker.ahead.close()


def test_a_reply_and_the_users_voice_come_first(espeak_engine):
    profile, cache = load_profile("standard"), VoiceCache()
    speaker = Speaker(profile, cache, TakingPlayer(), engine=espeak_engine)
    ahead = speaker.ahead = RenderAhead(speaker)
    try:
        ahead.hold()  # a reply is being rendered
        ahead.plan(SENTENCES[:2], SLOWER)
        time.sleep(1.0)
        assert ahead.rendered == [], "nothing starts while a reply is rendered"
        ahead.release()
        assert wait_until(lambda: len(ahead.rendered) == 2, 30)
        ahead.listening()
        ahead.user_speaking()
        ahead.plan(SENTENCES[2:], SLOWER)
        time.sleep(1.0)
        assert len(ahead.rendered) == 2, "nothing starts while the user speaks"
        ahead.listening()  # the next turn
        assert wait_until(lambda: len(ahead.rendered) == 4, 30)
        slow = profile.effective_rate(SLOWER)
        assert all(cache.has(cache_key(s, espeak_engine.identity, slow)) for s in SENTENCES)
    finally:
        ahead.close()


def test_a_paused_render_child_keeps_its_deadline(tmp_path):
    """Paused while the user speaks (SIGSTOP), the child answers after resume; the pause is not held against it."""
    worker = RenderWorker("pyttsx3")
    worker.start()
    try:
        out = tmp_path / "one.wav"
        assert worker.pause()

        def state():
            with open(f"/proc/{worker._proc.pid}/stat") as stat:
                return stat.read().split(") ")[1][0]

        assert wait_until(lambda: state() == "T", 5), "the child is stopped"
        done = []
        thread = threading.Thread(target=lambda: done.append(worker.render("您好。", 1.0, out, timeout=1.0)))
        thread.start()
        time.sleep(2.5)  # longer than the render's deadline, all of it paused
        assert thread.is_alive() and not out.exists(), "nothing is rendered while paused"
        worker.resume()
        thread.join(timeout=30)
        assert done == [None] and out.stat().st_size > 44 and worker.alive, "not killed for the paused time"
    finally:
        worker.close()


def test_the_cache_stays_bounded_and_keeps_what_voice_render_stored(tmp_path):
    cache = VoiceCache(tmp_path / "voice")
    samples = np.zeros(22050, np.float32)
    samples[::50] = 0.5
    keys = [f"{i:064x}" for i in range(6)]
    for n, key in enumerate(keys):
        cache.put(key, samples, 22050)
        path = cache.path_for(key)
        os.utime(path, (1000 + n, 1000 + n))  # oldest first
    cache.write_index({keys[0]: {"text": "voice render's"}})
    one = cache.path_for(keys[1]).stat().st_size
    assert cache.get(keys[1]) is not None  # used now: the newest
    removed = cache.prune(extra_bytes=2 * one)
    assert removed == 3
    assert [cache.has(k) for k in keys] == [True, True, False, False, False, True]


@pytest.fixture(scope="module")
def recognizer(vosk_model_dir):
    from assistant.recognition.recognizer import Recognizer

    return Recognizer(vosk_model_dir)


def test_the_listener_tells_when_the_user_starts_speaking(recognizer):
    """The loop's hook: the voice detector hearing the user (not the assistant) pauses rendering ahead."""
    from assistant.audio.wavio import read_wav
    from assistant.live.loop import MicListener
    from tests.chatdriver import SHARED

    recordings = sorted((SHARED / "audio" / "real-mandarin").glob("*.wav"))
    if not recordings:
        pytest.skip("real recordings not present")
    speech = read_wav(recordings[0])
    pcm = np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(3 * 16000, np.int16)]).astype("<i2").tobytes()
    chunks = [pcm[i:i + 3200] for i in range(0, len(pcm), 3200)]

    class Recording:
        def read(self, timeout=1.0):
            return chunks.pop(0) if chunks else bytes(3200)

        def close(self):
            pass

    calls = []
    quiet_speaker = SimpleNamespace(playing=False)
    listener = MicListener(recognizer, quiet_speaker, Recording, Session(FLOWS), barge_in=False)
    listener.on_speech = lambda: calls.append(len(chunks))
    try:
        listener.listen(timeout=10)
    finally:
        listener.close()  # a turn left open keeps its second reading's thread waiting for audio
    assert calls, "never told"
    total = len(pcm) // 3200
    # Chunks left to read at the first call: after the leading second of silence (10 chunks), before the
    # trailing 3 s (30 chunks) began.
    assert 30 < calls[0] < total - 10, (calls[0], total)


class LongRender:
    """Neighbour of RenderAhead: a voice whose sentence takes as long as the test says, with the child's pause and
    resume recorded (the real child's pause is tested above)."""

    name, identity = "long", "long-test"

    def __init__(self):
        self.go, self.started, self.calls = threading.Event(), threading.Event(), []

    def synthesize(self, text, rate=1.0):
        self.started.set()
        assert self.go.wait(30)
        t = np.arange(1600) / 16000
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000

    def pause(self):
        self.calls.append("pause")
        return True

    def resume(self):
        self.calls.append("resume")

    def close(self):
        pass


def test_the_users_voice_pauses_a_render_in_progress_and_a_reply_lets_it_finish():
    engine = LongRender()
    speaker = Speaker(load_profile("standard"), VoiceCache(), TakingPlayer(), engine=engine)
    ahead = RenderAhead(speaker)
    try:
        ahead.plan([SENTENCES[0], SENTENCES[1]], SLOWER)
        assert engine.started.wait(10)
        ahead.user_speaking()
        ahead.user_speaking()  # called on every chunk while the user speaks: paused once
        assert engine.calls == ["pause"]
        ahead.hold()  # the reply needs the engine: the paused sentence goes on and ends first
        assert engine.calls == ["pause", "resume"]
        engine.go.set()
        assert wait_until(lambda: len(ahead.rendered) == 1, 10)
        time.sleep(0.5)
        assert len(ahead.rendered) == 1, "nothing new while the reply is rendered"
        ahead.release()
        assert wait_until(lambda: len(ahead.rendered) == 2, 10)
    finally:
        engine.go.set()
        ahead.close()


def test_the_kiosk_renders_the_next_step_ahead_at_the_persons_rate(espeak_engine):
    """The kiosk's voice (kiosk.commands.voice_speak) plans the next turn after each reply, as `run` does: after
    慢一点, the step 好了 leads to is in the cache at the slower rate while the person does this one."""
    from assistant.kiosk.commands import voice_speak
    from assistant.kiosk.controller import KioskController

    profile, cache = load_profile("standard"), VoiceCache()
    speaker = Speaker(profile, cache, TakingPlayer(), engine=espeak_engine)
    speaker.ahead = RenderAhead(speaker)
    controller = KioskController(FLOWS, today=lambda: __import__("datetime").date(2026, 11, 23))
    controller.session.voice.limits = profile.step_limits()
    controller.speak = voice_speak(controller, speaker)
    try:
        controller.start()
        controller.heard("我用微信吧")
        controller.heard("慢一点")
        slow = profile.effective_rate(controller.session.voice)
        assert slow != profile.effective_rate(None)
        nxt = FLOWS.states[FLOWS.states[controller.session.state].on["next"]].sentences[0]
        key = cache_key(nxt, espeak_engine.identity, slow)
        assert wait_until(lambda: cache.has(key), 60), "the next step was rendered ahead at the slower rate"
        speaker.say(controller.session.handle("好了").parts, settings=controller.session.voice, blocking=False)
        assert speaker.last_sources[0] == "cache"
    finally:
        speaker.ahead.close()
