"""The heard training sentences (assistant/understanding/heard.py): batches that never overlap, the elder recipe's
roughening reproducible from its seed, and readings that lost the sentence left out. Real sox, real recordings."""

import random
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import SHARED


@dataclass
class Example:
    text: str
    origin: str


def test_batches_are_slices_of_one_seeded_order_without_templates_or_heard_rows():
    from assistant.understanding.heard import pick

    pool = [Example(f"第{n}句话", f"examples.yaml:{n}") for n in range(40)]
    pool += [Example("模板里的句子", "templates.yaml:3"), Example("听到的句子", "state_examples_heard.tsv:2"),
             Example("好", "examples.yaml:99")]
    whole = pick(pool, 20)
    assert pick(pool, 8) + pick(pool, 12, start=8) == whole
    assert [e.text for e in whole] != [e.text for e in pool[:20]]  # shuffled
    every = pick(pool, None)
    assert len(every) == 40 and all(e.origin.startswith("examples.yaml") and len(e.text) >= 2 for e in every)


def test_a_new_writer_is_heard_by_itself_in_an_order_the_other_files_do_not_move():
    """`--only writer_d`: one file's sentences alone, whatever is added to the other files."""
    from assistant.understanding.heard import pick

    new = [Example(f"新写的第{n}句", f"state_examples_writer_d.tsv:{n}") for n in range(2, 30)]
    old = [Example(f"第{n}句话", f"examples.yaml:{n}") for n in range(40)]
    chosen = pick(old + new, None, only="writer_d")
    assert sorted(e.text for e in chosen) == sorted(e.text for e in new)
    more = old + [Example("后来加的句子", "state_examples_writer_a.tsv:9")] * 3 + new
    assert pick(more, 10, only="writer_d") == chosen[:10] and pick(more, 5, start=10, only="writer_d") == chosen[10:15]


def test_a_reading_is_judged_by_the_syllables_it_kept():
    from assistant.understanding.heard import MAX_LOST, lost

    assert lost("我用微信吧", "我用为心吧") == 0.0  # homophones: heard right
    assert lost("大声点我听不清楚", "大声的我听五清楚") <= MAX_LOST
    assert lost("眨眨眼晃晃头了", "甲板衍文晃晃头累") > MAX_LOST
    assert lost("我用微信吧", "") == 1.0


def test_roughening_is_the_elder_recipe_and_reproducible(tmp_path):
    from assistant.audio.perturb import RATE, speech_bounds
    from assistant.understanding.heard import roughen

    babble = SHARED / "audio" / "real-mandarin"
    if not any(babble.glob("*.wav")):
        pytest.skip("no real recordings for babble noise (shared/ is not beside the checkout)")
    t = np.arange(RATE) / RATE
    speech = (np.sin(2 * np.pi * 220 * t) * 8000 * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.int16)
    outs = [roughen(speech, random.Random(seed), tmp_path, babble) for seed in (1, 1, 2)]
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])
    for out in outs:
        assert out.dtype == np.int16
        # slower (tempo 0.75–0.95), with room before and after: longer than what was said
        assert len(out) > len(speech) / 0.95 + 0.2 * RATE
        start, end = speech_bounds(out)
        assert end - start > 0.5
        # noise everywhere: no digital silence left, even before the speech starts
        assert np.abs(out[: int(0.1 * RATE)]).max() > 0
