"""The live loop: microphone → recognition → dialog → speech, one turn after another, never giving up.

Stages are passed in (a Session, a Recognizer, a Speaker, a microphone factory), so each can be tested alone
and the loop itself runs on real devices or on a PulseAudio null sink.
"""

import time
from dataclasses import dataclass

import numpy as np

from assistant.errors import AudioDeviceError, VoiceError
from assistant.hearing import Hearing, clean
from assistant.privacy import mask
from assistant.recognition.recognizer import RATE, Final, Partial

BARGE_IN_CHARS = 2
"""Recognised characters while the assistant talks that make it stop and listen (barge-in)."""


@dataclass
class LoopOptions:
    """How the loop behaves; the defaults suit an elder at home."""

    barge_in: bool = True
    reminder_after: float = 30.0
    """seconds of quiet after a prompt before a gentle "我还在听" (0 = never)"""
    retry_seconds: float = 5.0
    """how often to look for a microphone again after it went missing"""
    max_turns: int | None = None
    """stop after this many user turns (tests and benchmarks); None = run until stopped"""


class VoiceLoop:
    """Runs a conversation by voice; `run()` returns only when max_turns is reached."""

    def __init__(self, session, recognizer, speaker, open_microphone, options=None, out=print, sleep=time.sleep,
                 on_reply=None):
        self.session = session
        self.hearing = Hearing(recognizer, session)
        self.recognizer = recognizer
        self.speaker = speaker
        self.open_microphone = open_microphone
        self.options = options or LoopOptions()
        self.out = out
        self.sleep = sleep
        self.on_reply = on_reply
        self.mic = None
        self._mic_announced = False
        self._voice_failed = False

    # --- speaking ------------------------------------------------------------------------------------
    def respond(self, reply) -> None:
        self.out(f"助手: {reply.say}")
        if self.on_reply:
            self.on_reply(reply)
        self._speak(reply.parts)

    def _speak(self, parts) -> None:
        try:
            self.speaker.say(parts, settings=self.session.voice, blocking=False)
        except (VoiceError, AudioDeviceError) as exc:
            if not self._voice_failed:  # printed once; the text is still on screen and in the terminal
                self.out(f"assistant: {exc}")
                self._voice_failed = True

    def _playing(self) -> bool:
        player = getattr(self.speaker, "_player", None)
        return bool(player is not None and player.playing)

    # --- listening -----------------------------------------------------------------------------------
    def _microphone(self):
        while self.mic is None:
            try:
                self.mic = self.open_microphone()
                if self._mic_announced:
                    self.out("assistant: 麦克风好了 (microphone is back)")
                self._mic_announced = False
            except AudioDeviceError as exc:
                if not self._mic_announced:
                    self.out(f"assistant: {exc}")
                    self._speak([str(exc).split(" (")[0]])
                    self._mic_announced = True
                self.sleep(self.options.retry_seconds)
        return self.mic

    def listen(self) -> str:
        """One user turn as text; "" when the user stayed quiet for reminder_after seconds.

        While the assistant talks, recognition is open (a grammar hides free speech, so it would never be
        noticed to barge in); once it is quiet, recognition is biased to what the state expects.
        """
        grammar = self.hearing.grammar()
        rec = self.recognizer
        was_playing = self._playing()
        open_mode = was_playing and self.options.barge_in
        rec.start(None if open_mode else grammar)
        chunks, barged, quiet = [], False, 0.0
        while True:
            mic = self._microphone()
            try:
                pcm = mic.read(timeout=1.0)
            except AudioDeviceError:
                mic.close()
                self.mic = None
                continue
            if pcm is None:
                continue
            playing = self._playing()
            if was_playing and not playing and not barged:
                # What was heard so far is the assistant's own voice through the speakers: start afresh.
                open_mode = False
                rec.start(grammar)
                chunks, quiet = [], 0.0
            was_playing = playing
            chunks.append(pcm)
            result = rec.accept(pcm)
            if isinstance(result, Partial) and clean(result.text):
                quiet = 0.0  # words keep coming; the recogniser ends the turn after the user's pause
                if playing and self.options.barge_in and len(clean(result.text)) >= BARGE_IN_CHARS:
                    self.speaker.stop()
                    barged = True
            elif isinstance(result, Final):
                if playing and not barged:
                    continue  # an end of turn inside our own voice
                return self._final_text(result.text, chunks, open_mode, grammar)
            elif not playing:
                quiet += len(pcm) / 2 / RATE
                if self.options.reminder_after and quiet >= self.options.reminder_after:
                    return ""

    def _final_text(self, text: str, chunks, open_mode: bool, grammar) -> str:
        """Both readings when one is not enough: the grammar's (for expected answers) and the open one."""
        samples = np.frombuffer(b"".join(chunks), dtype="<i2")
        if open_mode:
            return self.hearing.better(self.recognizer.transcribe(samples, grammar), text)
        if not self.hearing.needs_open_pass(text):
            return clean(text)
        return self.hearing.better(text, self.recognizer.transcribe(samples, None))

    # --- the loop ------------------------------------------------------------------------------------
    def run(self) -> int:
        self.respond(self.session.greet())
        turns = 0
        while self.options.max_turns is None or turns < self.options.max_turns:
            text = self.listen()
            turns += 1
            self.out(f"您: {mask(text)}" if text else "您: (没有说话)")
            self.respond(self.session.handle(text))
        self._wait_for_speech_to_end()
        return 0

    def _wait_for_speech_to_end(self, limit: float = 60.0) -> None:
        player = getattr(self.speaker, "_player", None)
        if player is not None and player.playing:
            player.wait(timeout=limit)

    def close(self) -> None:
        if self.mic is not None:
            self.mic.close()
        self.speaker.close()

