"""Endpointing, both sides (issue 14): how often a turn is cut off at a hesitation, how often it never ends, and
how long the user waits after their last word — for the words-only end-of-turn judge of before and for the live
loop's judge (the understanding of the words so far, and quiet judged relative to the room).

    .venv/bin/python -m bench.endpointing [--rows N] [--sentences N] [--move S,..] [--join S,..] [--show]

Turns (none from the frozen corpus):
- **hesitation**: rows of bench/corpus/dev.tsv and dev_answers.tsv (the dev sets, allowed to tune on) made into
  older speakers by bench/elder.py's own recipe (tempo, pitch, tremolo, reverb, then pink, brown or babble noise
  at 20 and 10 dB), choosing the rows whose seeded profile puts a 0.5–2 s pause after a comma or particle;
- **sentence**: dev rows without a pause, the same way (the wait after a whole free sentence);
- **short answer**: the latency script's short answers in the states they are said in, aged and noisy the same
  way, and the near-misses the recogniser gives for some of them ("点好能", "找到论", "成功问") read as such by the
  natural voice, clean;
- **question**: free questions written here, read by the natural voice, plain and with a seeded pause at their
  quietest point between 30 % and 70 %.

Each turn is heard once, as MicListener hears it (the state's grammar, the recogniser's own end of turn off, 0.1 s
chunks, the room going on after the recording: its last second repeated), and both judges are fed the same chunks
and partial words. A turn is cut off when it ended before its last word; it never ended when 8 s after the last
word it was still open. A cut off is **harmful** when the rest changes what the dialog does: the understanding (in
the turn's state) of the words heard when the turn ended differs, in intent or in acting/asking, from that of all
the words the recogniser heard to the end of the turn, or the rest asks something (a question word). "好了……谢谢"
cut after 好了 is harmless; "选好了……本人认证" or "好了……但是那个按钮没有" is harmful.

Other judges can be weighed beside them on the same chunks: `--move 0.5,0.6` (the short-move wait), `--join
0.3,0.6` (the live loop's judge, then listening on for that long after the end: speech resuming within it joins
the two parts into one turn, as a loop that read them again as one would; the wait is still counted to the first
end, when the reply would begin). `--show` prints every cut turn: the words heard at the end, all the words, harmful
or not. Audio time throughout, so the figures do not depend on the machine's load. The aged
audio is cached under $ASSISTANT_BENCH_CACHE/endpointing (bench/elder.py's builder, a folder of its own). Writes
bench/out/endpointing.md.
"""

import argparse
import csv
import hashlib
import os
import random
from pathlib import Path

import numpy as np

from bench.common import CORPUS, OUT, Row, md_table, model_dir, percentile, use_isolated_env

QUESTIONS = [
    "我想问一下养老金认证在哪里做",
    "我的手机上没有那个软件怎么办",
    "人脸识别老是通不过是什么原因",
    "我女儿能不能帮我在她手机上认证",
    "今年的认证什么时候截止",
    "认证要不要花钱",
    "我眼睛不好看不清屏幕上的字",
    "微信里面从哪里进去认证",
    "我刚才按错了现在怎么弄",
    "认证成功以后还要做什么",
    "我不会用智能手机能去社区办吗",
    "支付宝上面也可以认证吗",
]
SHORT_TURNS = [("wechat.open", "好了"), ("wechat.open", "点好了"), ("wechat.open", "弄好了"),
               ("wechat.open", "下一步"), ("wechat.open", "慢一点"), ("wechat.open", "大声点"),
               ("wechat.open", "再说一遍"), ("wechat.open", "嗯,好了"), ("trouble_entry.search", "找到了"),
               ("trouble_entry.search", "还是不行"), ("wechat.face.light", "成功了"), ("wechat.face.light", "刷不了脸")]
"""The latency script's short answers (bench/latency.py) and a few more, in a state where each is said."""
NEAR_MISSES = [("wechat.open", "点好能"), ("trouble_entry.search", "找到论"), ("wechat.face.light", "成功问")]
"""What the recogniser heard for 点好了, 找到了, 成功了 in the latency bench: read as such by the natural voice."""
RATE = 16000
CHUNK = 1600  # 0.1 s, as the microphone delivers
WAIT_LIMIT = 8.0
"""Seconds of room after the last word; a turn still open then never ended."""
SNRS = (20, 10)
SIDES = ("words only (before)", "meaning + room, grammar words only", "meaning + room + open words (live loop)")
"""The judges compared: the words-only one of before; the meaning and the room with the grammar's words alone (the
live loop until session 51); the same with the open reading's words so far as well (the live loop now)."""


def speech_bounds(samples: np.ndarray) -> tuple[int, int]:
    """First and last sample of 10 ms frames within 35 dB of the loudest frame."""
    frames = samples[: len(samples) // 160 * 160].astype(np.float32).reshape(-1, 160)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-9
    loud = np.nonzero(rms >= rms.max() * 10 ** (-35 / 20))[0]
    return int(loud[0] * 160), int((loud[-1] + 1) * 160)


def with_pause(samples: np.ndarray, rng: random.Random) -> tuple[np.ndarray, float]:
    """The sentence with a pause of 0.5–2 s at its quietest 10 ms frame between 30 % and 70 % of the speech."""
    start, end = speech_bounds(samples)
    lo, hi = start + int((end - start) * 0.3), start + int((end - start) * 0.7)
    frames = samples[lo: hi // 160 * 160].astype(np.float32)
    frames = frames[: len(frames) // 160 * 160].reshape(-1, 160)
    at = lo + int(np.argmin(np.sqrt(np.mean(frames ** 2, axis=1)))) * 160
    pause = rng.uniform(0.5, 2.0)
    return np.concatenate([samples[:at], np.zeros(int(pause * RATE), samples.dtype), samples[at:]]), pause


class Joined:
    """An end-of-turn judge that keeps listening after it ended, as the live loop does with barge-in
    (assistant/live/rejoin.py): new words from speech that began within `grace` s of the end join the two parts
    into one turn (the judge goes on), else the turn ended where it first ended. `ended_at` is the audio time of
    that first end (when the reply begins, for the wait). Noise alone joins nothing: only new words do, and they
    come up to WORD_LAG s after their speech began."""

    def __init__(self, ends, grace: float):
        self.ends, self.grace = ends, grace
        self.ended_at: float | None = None
        self._words_at_end = ""
        self._voiced_at_end = 0.0

    @property
    def text(self) -> str:
        return self.ends.text

    def feed(self, pcm: bytes) -> None:
        self.ends.feed(pcm)

    def heard(self, raw: str) -> None:
        self.ends.heard(raw)

    def heard_open(self, raw: str) -> None:
        self.ends.heard_open(raw)

    def over(self) -> bool:
        ends = self.ends
        if self.ended_at is not None:
            began = ends.speech_start if ends.speech_start is not None else -1.0
            # Two more characters, as the loop notices speech over its reply (BARGE_IN_CHARS).
            more = len(ends.text) - len(self._words_at_end) >= 2
            if more and self._voiced_at_end < began <= self.ended_at + self.grace:
                self.ended_at = None  # the speaker went on within the grace: one turn
            elif ends.elapsed - self.ended_at >= self.grace + WORD_LAG:
                return True
        if self.ended_at is None and ends.over():
            self.ended_at, self._words_at_end, self._voiced_at_end = ends.elapsed, ends.text, ends.speech_end
        return False


WORD_LAG = 1.0
"""How long after speech begins its first words may come from the recogniser."""


def judges(phrases, hearing, moves=(), joins=()) -> dict:
    """The end-of-turn judges compared: the words-only one of before, the live loop's, and the live loop's with
    other short-move waits (`moves`) or listening on after the end (`joins`)."""
    from assistant.audio.endpoint import Endpointer

    out = {SIDES[0]: Endpointer(phrases),
           SIDES[1]: Endpointer(phrases, meaning=hearing.meaning, follow_room=True, open_words=False),
           SIDES[2]: Endpointer(phrases, meaning=hearing.meaning, follow_room=True)}
    for move in moves:
        out[f"short move waits {move:.2f} s"] = Endpointer(phrases, meaning=hearing.meaning, follow_room=True,
                                                          move_quiet=move)
    for grace in joins:
        out[f"joined within {grace:.2f} s"] = Joined(Endpointer(phrases, meaning=hearing.meaning,
                                                                follow_room=True), grace)
    return out


def harmful(cut: str, whole: str, meaning) -> bool:
    """Whether ending the turn at the words `cut` (of all the words `whole`) changed what the dialog does: its
    understanding differs in intent or action, or the rest asks something."""
    first, full = meaning(cut), meaning(whole)
    if (getattr(first, "intent", None), getattr(first, "action", None)) != (
            getattr(full, "intent", None), getattr(full, "action", None)):
        return True
    rest = whole[len(os.path.commonprefix([cut, whole])):]
    return "question" in getattr(meaning(rest), "cues", ())


def hear_turn(recognizer, grammar, samples: np.ndarray, speech_end: float, sides: dict) -> tuple[dict, str]:
    """Feed the turn (then its room) to the recogniser and every judge as MicListener does; for each judge the
    audio time its turn ended and the words heard then (None when it was still open WAIT_LIMIT s after the last
    word); and all the words the recogniser heard up to a second after the last word."""
    from assistant.live.hearing import clean
    from assistant.live.loop import NEVER
    from assistant.recognition.recognizer import Partial
    from assistant.recognition.second_reading import Decoding

    recognizer.start(grammar, end_silence=NEVER)
    # The open reading beside the grammar's, as MicListener's second reading gives it: here in step with the main
    # recogniser (live, a thread of its own keeps up within a chunk), so the figures do not depend on the load.
    open_reading = Decoding(recognizer.model, None) if grammar is not None else None
    room = samples[-RATE // 2:]  # the last half second: the room, after the reverberation of the last word
    ended: dict = {name: None for name in sides}
    open_ = dict(sides)
    whole = ""
    at = 0
    while (open_ or at / RATE < speech_end + 1.0) and at / RATE < speech_end + WAIT_LIMIT:
        if at < len(samples):
            chunk = samples[at:at + CHUNK]
        else:
            k = (at - len(samples)) % len(room)
            chunk = np.concatenate([room[k:], room])[:CHUNK]
        at += CHUNK
        pcm = np.ascontiguousarray(chunk, dtype="<i2").tobytes()
        result = recognizer.accept(pcm)
        if open_reading is not None:
            open_reading.accept(pcm)
        if isinstance(result, Partial) and clean(result.text):
            whole = clean(result.text)
        for name, ends in list(open_.items()):
            ends.feed(pcm)
            if open_reading is not None:
                ends.heard_open(open_reading.words)
            if isinstance(result, Partial):
                ends.heard(result.text)
            if ends.over():
                judge = getattr(ends, "ends", ends)
                ended[name] = (getattr(ends, "ended_at", None) or at / RATE, ends.text, judge.wait(), judge.open_text)
                del open_[name]
    recognizer.finish_turn()
    return ended, whole


def _dev_rows() -> list[Row]:
    rows = []
    for name in ("dev.tsv", "dev_answers.tsv"):
        with open(CORPUS / name, encoding="utf-8", newline="") as f:
            for n, r in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
                rows.append(Row(f"{Path(name).stem}-{n}", r["state"], r["utterance"], r["intent"], {}, (), "clean", n))
    return rows


def _short_rows() -> list[Row]:
    return [Row(f"short-{i}", state, text, "-", {}, (), "clean", i) for i, (state, text) in enumerate(SHORT_TURNS)]


def pick(rows, paused: bool, count: int, seed: int) -> list[Row]:
    """`count` rows whose seeded older-speaker profile has (or has not) a hesitation pause, in a seeded order."""
    from bench.elder import profile_for

    chosen = [r for r in rows if (profile_for(r, seed).pause is not None) == paused]
    return sorted(chosen, key=lambda r: hashlib.sha256(f"{seed}:{r.id}".encode()).hexdigest())[:count]


def cases(rows: int, sentences: int, pauses: int, seed: int = 14) -> list[dict]:
    """Every turn: kind, state, samples, last word (s), noise."""
    from assistant.audio.wavio import read_wav
    from bench.asr import natural_voice_wavs
    from bench.elder import build, cache_root, profile_for, set_dir

    root = cache_root() / "endpointing"
    dev = _dev_rows()
    aged = [("hesitation", r) for r in pick(dev, True, rows, seed)]
    aged += [("sentence", r) for r in pick(dev, False, sentences, seed)]
    aged += [("short answer", r) for r in _short_rows()]
    entries = build(rows=[("dev", r) for _, r in aged], seed=seed, root=root)
    folder = set_dir(seed, root)
    out = []
    for (kind, row), entry in zip(aged, entries, strict=True):
        noise = profile_for(row, seed).noise
        for snr in SNRS:
            label = f"{kind}, {snr} dB" + (f" {noise}" if snr <= 10 else "")
            out.append({"kind": label, "state": row.state, "speech_end": entry["speech_end"],
                        "pause": (entry.get("pause_from"), entry.get("pause_to")), "text": row.utterance,
                        "samples": read_wav(folder / entry["files"][str(snr)])})
    clean = [t for _, t in NEAR_MISSES] + QUESTIONS
    voice = dict(zip(clean, (read_wav(p) for p in natural_voice_wavs(clean, root / "natural-clean")), strict=True))
    # The voice's files start and end with the words: half a second of a quiet room before them (the user starts
    # after the prompt) and a second after.
    voice = {t: np.concatenate([np.zeros(RATE // 2, np.int16), s, np.zeros(RATE, np.int16)])
             for t, s in voice.items()}
    for state, text in NEAR_MISSES:
        out.append({"kind": "short answer, near miss, clean", "state": state, "samples": voice[text]})
    rng = random.Random(seed)
    for q in QUESTIONS:
        out.append({"kind": "question, clean", "state": "greeting", "samples": voice[q]})
        for _ in range(pauses):
            out.append({"kind": "question with a pause, clean", "state": "greeting",
                        "samples": with_pause(voice[q], rng)[0]})
    for case in out:
        if "speech_end" not in case:
            case["speech_end"] = speech_bounds(case["samples"])[1] / RATE
    return out


def measure(rows: int = 30, sentences: int = 12, pauses: int = 1, seed: int = 14, progress=None, moves=(),
            joins=(), show=None) -> str:
    from assistant.live.hearing import Hearing
    from assistant.recognition.recognizer import Recognizer
    from bench.accuracy import Judge

    use_isolated_env()
    turns = cases(rows, sentences, pauses, seed)
    judge = Judge()
    recognizer = Recognizer(model_dir())
    hearing = Hearing(recognizer, judge.session)
    table: dict = {}
    for i, case in enumerate(turns):
        judge.put_in(case["state"])
        phrases = judge.session.expected_phrases()
        sides = judges(phrases, hearing, moves, joins)
        ended, whole = hear_turn(recognizer, hearing.grammar(), case["samples"], case["speech_end"], sides)
        for side, end in ended.items():
            e = table.setdefault((case["kind"], side), {"n": 0, "cut": 0, "harm": 0, "never": 0, "waits": []})
            e["n"] += 1
            if end is None:
                e["never"] += 1
                if show:
                    show(f"{case['kind']} | {side} | never ended | all {whole} | last word {case['speech_end']:.2f}")
            elif end[0] < case["speech_end"] - 0.05:
                e["cut"] += 1
                hurt = harmful(end[1], whole, hearing.meaning)
                e["harm"] += hurt
                if show:
                    pause = case.get("pause") or (None, None)
                    show(f"{case['kind']} | {side} | heard {end[1]} / open {end[3]} (wait {end[2]:.2f} s) | "
                         f"all {whole} | "
                         f"{'harmful' if hurt else 'harmless'} | pause {pause[0]}–{pause[1]}, end {end[0]:.2f}, "
                         f"last word {case['speech_end']:.2f}")
            else:
                e["waits"].append(end[0] - case["speech_end"])
        if progress:
            progress(i + 1, len(turns))
    names = list(judges((), hearing, moves, joins))
    lines = []
    for (kind, side), e in sorted(table.items(), key=lambda kv: (kv[0][0], names.index(kv[0][1]))):
        waits = e["waits"] or [float("nan")]
        lines.append([kind, side, e["n"], f"{e['cut']} ({100 * e['cut'] / e['n']:.0f} %)", e["harm"], e["never"],
                      f"{percentile(waits, 50):.2f} s", f"{percentile(waits, 95):.2f} s"])
    for side in names:
        every = [e for (_, s), e in table.items() if s == side]
        n, cut, harm, never = (sum(e[k] for e in every) for k in ("n", "cut", "harm", "never"))
        waits = [w for e in every for w in e["waits"]] or [float("nan")]
        lines.append(["**all turns**", side, n, f"{cut} ({100 * cut / n:.1f} %)", f"{harm} ({100 * harm / n:.1f} %)",
                      never, f"{percentile(waits, 50):.2f} s", f"{percentile(waits, 95):.2f} s"])
    text = ("Endpointing (audio time; a wait is from the last loud 10 ms to the end of the turn, in 0.1 s "
            "microphone chunks; 20 dB and 10 dB rows are older-sounding voices in pink, brown or babble noise)\n\n"
            + md_table(["turns", "end-of-turn judge", "n", "cut off", "of which harmful", "never ended", "wait p50",
                       "wait p95"], lines)
            + "\n")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "endpointing.md").write_text(text, encoding="utf-8")
    return text


class _Mic:
    """Neighbour of the loop: `lead` seconds of the room (a prompt plays over them), then the turn's audio in 0.1 s
    chunks, then its room; counts the seconds given. With `echo`, the speaker's voice comes back into it while the
    speaker plays (a neighbour's reply, looped), as a microphone near the speakers hears it without a canceller."""

    def __init__(self, samples: np.ndarray, echo: np.ndarray | None = None, lead: float = 0.0):
        pcm = np.ascontiguousarray(samples, dtype="<i2").tobytes()
        self.room = pcm[-RATE:]  # the last half second, twice: the room after the last word
        self.chunks = [self.room[:CHUNK * 2]] * int(round(lead * RATE / CHUNK))
        self.chunks += [pcm[i:i + CHUNK * 2] for i in range(0, len(pcm), CHUNK * 2)]
        self.fed = 0.0
        self.echo, self._at = echo, 0
        self.speaker: _Speaker | None = None

    def read(self, timeout=1.0):
        playing = self.speaker is not None and self.speaker.playing
        self.fed += CHUNK / RATE
        chunk = self.chunks.pop(0) if self.chunks else self.room[:CHUNK * 2]
        if self.echo is None or not playing:
            return chunk
        n = len(chunk) // 2
        if self._at + n > len(self.echo):
            self._at = 0
        mixed = np.frombuffer(chunk, "<i2").astype(np.int32) + self.echo[self._at:self._at + n]
        self._at += n
        return np.clip(mixed, -32768, 32767).astype("<i2").tobytes()

    def close(self):
        pass


class _Speaker:
    """Neighbour of the loop: each reply 'plays' for REPLY_SECONDS of microphone time, unless stopped."""

    ahead = None

    def __init__(self, mic: _Mic):
        self.mic, self._until = mic, 0.0
        mic.speaker = self
        self.stops = 0

    @property
    def playing(self) -> bool:
        return self.mic.fed < self._until

    def say(self, parts, settings=None, blocking=False):
        self._until = self.mic.fed + REPLY_SECONDS

    def stop(self):
        self._until = 0.0
        self.stops += 1

    def wait(self, timeout=None):
        pass

    def close(self):
        pass


REPLY_SECONDS = 3.0
"""How long the neighbour speaker's reply plays: longer than any pause in the turns."""
LEAD_SECONDS = 4.0
"""The step's prompt plays this long before the turn (with an echo, the loop learns how loud its voice comes back)."""
ECHO_UNDER_DB = (18.0, 8.0)
"""Half-duplex with the reply coming back into the microphone this far under the user's voice (the loud halves of
both): a kiosk microphone near the user, and a laptop whose microphone sits by its speakers."""


def speech_db(samples: np.ndarray) -> float:
    """The level of the loud half of 30 ms frames (dB of int16 units): how loud a voice is, pauses left out."""
    from assistant.audio.samples import levels_db

    n = len(samples) // 480 * 480
    levels = levels_db(np.asarray(samples[:n], np.float64).reshape(-1, 480))
    return float(np.median(levels[levels >= np.median(levels)]))


def echo_voice() -> np.ndarray:
    """The voice coming back: real Mandarin recordings (../shared/audio/real-mandarin, aishell), one after another."""
    from assistant.audio.wavio import read_wav
    from bench.common import REAL_AUDIO

    files = sorted(REAL_AUDIO.glob("aishell_*.wav"))
    return np.concatenate([read_wav(f) for f in files]).astype(np.int32)


def loop_modes(echo_under=ECHO_UNDER_DB) -> list[tuple[str, bool, float | None]]:
    """(name, barge-in, echo dB under the voice or None) for through_loop()."""
    return ([("half-duplex, no echo", False, None)]
            + [(f"half-duplex, echo {db:g} dB under the voice", False, db) for db in echo_under]
            + [("barge-in (a canceller)", True, None)])


def loop_turn(recognizer, judge, case: dict, barge_in: bool, echo_under: float | None, voice=None) -> dict:
    """One turn with a hesitation through the live loop (VoiceLoop: real recogniser and understanding, the session in
    the turn's state): what it handled, and when. Cut when its first handled words came before the last word; then
    the rest was joined (the last text handled begins with the first), lost (under the reply) or a turn of its own."""
    from assistant.live.loop import LoopOptions, VoiceLoop

    samples = case["samples"]
    echo, lead = None, LEAD_SECONDS
    if echo_under is not None:
        voice = echo_voice() if voice is None else voice
        gain = 10 ** ((speech_db(samples) - echo_under - speech_db(voice.astype(np.int16))) / 20)
        echo = (voice * gain).astype(np.int32)
    judge.put_in(case["state"])
    session = judge.session
    handled: list[tuple[str, float]] = []
    mic = _Mic(samples, echo, lead)
    speaker = _Speaker(mic)
    handle = session.handle
    session.handle = lambda text: handled.append((text, mic.fed)) or handle(text)
    loop = VoiceLoop(session, recognizer, speaker, lambda: mic, LoopOptions(barge_in=barge_in, reminder_after=3.0),
                     out=lambda _: None)
    speaker._until = lead  # the step's prompt, playing when the user is about to speak
    try:
        while mic.chunks and len(handled) < 4:
            loop.turn()
    finally:
        del session.handle
        loop.listener.close()
    said = [(t, at - lead) for t, at in handled if t]
    out = {"id": case.get("id"), "said": [t for t, _ in said], "stops": speaker.stops}
    if not said or said[0][1] >= case["speech_end"] - 0.05:
        out["outcome"] = "whole"  # the first turn heard it all
    else:
        out["outcome"] = ("joined" if len(said) > 1 and said[-1][0].startswith(said[0][0])
                          else "own" if len(said) > 1 else "lost")
    return out


def through_loop(rows: int = 30, seed: int = 14, progress=None, show=None, echo_under=ECHO_UNDER_DB,
                 sentences: int = 12) -> str:
    """The hesitation turns through the live loop itself (VoiceLoop: real recogniser and understanding, the
    session in the turn's state, a speaker that plays each reply 3 s): half-duplex without an echo, half-duplex with
    the reply coming back into the microphone (`echo_under` dB under the user's voice, after a prompt of 4 s), and with
    barge-in. A turn is cut when the loop's first turn ended before the last word; then either the rest was joined
    (the last text the session handled begins with the first), or it was lost (under the reply) or handled as a turn
    of its own. The turns said at once (`sentences` dev rows without a pause, and the short answers) count the
    replies stopped when nothing more was said: the price of stopping for the user going on."""
    from assistant.recognition.recognizer import Recognizer
    from bench.accuracy import Judge

    use_isolated_env()
    every = cases(rows, sentences, 0, seed)
    turns = [c for c in every if c["kind"].startswith("hesitation")]
    whole = [c for c in every if c["kind"].startswith(("sentence", "short answer,"))]
    judge = Judge()
    recognizer = Recognizer(model_dir())
    voice = echo_voice()
    modes = loop_modes(echo_under)
    counts = {name: {"n": 0, "cut": 0, "joined": 0, "lost": 0, "own": 0, "stopped": 0} for name, _, _ in modes}
    for case in whole:  # said at once: a reply stopped here was stopped for nothing (the room, its own voice)
        for name, barge_in, under in modes:
            stopped = loop_turn(recognizer, judge, case, barge_in, under, voice)["stops"] > 0
            counts[name]["stopped"] += stopped
            if show and stopped:
                show(f"{case['kind']} | {name} | reply stopped, nothing more said")
        if progress:
            progress(0, len(turns))
    for i, case in enumerate(turns):
        for name, barge_in, under in modes:
            turn = loop_turn(recognizer, judge, case, barge_in, under, voice)
            e = counts[name]
            e["n"] += 1
            if turn["outcome"] == "whole":
                continue
            e["cut"] += 1
            e[turn["outcome"]] += 1
            if show:
                show(f"{case['kind']} | {name} | {' / '.join(turn['said'])} | {turn['outcome']}")
        if progress:
            progress(i + 1, len(turns))
    lines = []
    for name, e in counts.items():
        left = e["cut"] - e["joined"]
        lines.append([name, e["n"], e["cut"], e["joined"], e["lost"], e["own"],
                      f"{left} ({100 * left / e['n']:.0f} %)", f"{e['stopped']} of {len(whole)}"])
    return ("Hesitation turns through the live loop (VoiceLoop, a reply plays 3 s)\n\n"
            + md_table(["loop", "turns", "first turn ended before the last word", "rest joined", "rest lost",
                        "rest a turn of its own", "cut off in the end", "replies stopped, turns said at once"],
                       lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30, help="dev rows with a hesitation pause (seeded)")
    parser.add_argument("--sentences", type=int, default=12, help="dev rows without a pause (seeded)")
    parser.add_argument("--pauses", type=int, default=1, help="paused copies of each written question (seeded)")
    parser.add_argument("--move", default="", help="other short-move waits to weigh, seconds, comma-separated")
    parser.add_argument("--join", default="", help="listening on after the end, seconds, comma-separated")
    parser.add_argument("--show", action="store_true", help="print every cut turn (dev and written turns only)")
    parser.add_argument("--loop", action="store_true", help="the hesitation turns through the live loop instead "
                        "(half-duplex without and with the voice coming back, and barge-in)")
    args = parser.parse_args()
    os.environ.setdefault("ASSISTANT_BENCH_CACHE", str(Path.home() / ".cache" / "pension-assistant-bench"))
    if args.loop:
        print(through_loop(args.rows, progress=lambda i, n: print(f"  {i}/{n}", end="\r", flush=True),
                           show=print if args.show else None, sentences=args.sentences))
        return

    def seconds(text: str) -> list[float]:
        return [float(x) for x in text.split(",") if x.strip()]

    print(measure(args.rows, args.sentences, args.pauses,
                  progress=lambda i, n: print(f"  {i}/{n}", end="\r", flush=True),
                  moves=seconds(args.move), joins=seconds(args.join), show=print if args.show else None))


if __name__ == "__main__":
    main()
