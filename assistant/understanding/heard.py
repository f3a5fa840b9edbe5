"""Training sentences as the recogniser hears them: `python -m assistant.understanding.heard [--count N]`.

A seeded sample of the training sentences of flows/ is spoken by the product's own natural voice (rate and pitch
varied, some room noise), then recognised by the real model twice, as the live loop does: biased to the grammar of
a state where the sentence is said, and openly. What comes back — homophones, dropped words, [unk] gaps — is written
with the sentence's intent and state to flows/state_examples_heard.tsv, committed, so training (and CI) never
renders again. Needs the natural voice (.venv-natural) and the speech model; rerun after large data changes.
"""

import argparse
import hashlib
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from assistant.understanding.model import HEARD_FILE as OUT_NAME

SEED = 20261130


def pick(examples, count: int, seed: int = SEED):
    """An even, seeded sample of hand-written sentences (no template combinations, no earlier heard rows)."""
    pool = [e for e in examples if "templates.yaml" not in e.origin and OUT_NAME not in e.origin
            and 2 <= len(e.text) <= 30]
    random.Random(seed).shuffle(pool)
    return pool[:count]


def roughen(samples: np.ndarray, rate: int, rng: random.Random, work: Path) -> np.ndarray:
    """Lower or raise the pitch a little (sox) and add pink noise at 10–25 dB SNR."""
    from assistant.audio.perturb import add_pink_noise
    from assistant.audio.wavio import read_wav, write_wav

    src, dst = work / "in.wav", work / "out.wav"
    write_wav(src, samples)
    cents = rng.choice([-300, -200, -100, 0, 100])
    subprocess.run(["sox", str(src), str(dst), "pitch", str(cents)], check=True, capture_output=True)
    noise_rng = np.random.default_rng(rng.randrange(1 << 30))
    return add_pink_noise(read_wav(dst), rng.uniform(10, 25), noise_rng)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="how many training sentences to speak")
    parser.add_argument("--flows", default=None)
    args = parser.parse_args(argv)

    from assistant.audio.samples import RATE, resample, to_int16
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.live.hearing import clean
    from assistant.recognition.recognizer import Recognizer
    from assistant.recognition.vocab import build_grammar
    from assistant.speech.registry import open_engine
    from assistant.understanding.store import training_examples

    flows = load_flows(args.flows)
    chosen = pick(training_examples(flows), args.count)
    session = Session.__new__(Session)  # only expected_phrases() is needed: no model, no training
    session.flows, session.pending = flows, None
    from assistant.dialog.session import _Position, build_machine

    session._position = _Position()
    session.machine = build_machine(flows, session._position)
    allowed_in: dict[str, list[str]] = {s: [] for s in flows.states}
    for state in flows.states:
        session.machine.set_state(state)
        allowed_in[state] = session.allowed_intents()
    recognizer = Recognizer()
    grammars = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="heard-") as tmp, open_engine("natural") as engine:
        for n, ex in enumerate(chosen):
            rng = random.Random(f"{SEED}:{ex.origin}:{ex.text}")
            states = list(ex.states or [s for s, a in allowed_in.items() if ex.intent in a] or flows.states)
            state = rng.choice(states)
            if state not in grammars:
                session.machine.set_state(state)
                grammars[state] = build_grammar(session.expected_phrases())
            samples, rate = engine.synthesize(ex.text, rng.choice([0.8, 0.9, 1.0, 1.1]))
            audio = roughen(to_int16(resample(samples, rate, RATE)), RATE, rng, Path(tmp))
            readings = {clean(recognizer.transcribe(audio, grammars[state])), clean(recognizer.transcribe(audio, None))}
            rows += [(state, text, ex.intent) for text in sorted(readings) if text]
            if n % 25 == 0:
                print(f"{n}/{len(chosen)}", file=sys.stderr)
    target = Path(flows.root or ".") / OUT_NAME
    with open(target, "w", encoding="utf-8") as out:
        out.write("state\tutterance\tintent\n")
        for state, text, intent in rows:
            out.write(f"{state}\t{text}\t{intent}\n")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
    print(f"wrote {len(rows)} heard sentences from {len(chosen)} spoken ones to {target} ({digest})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
