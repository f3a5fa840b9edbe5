"""The elder-like spoken test set (bench/elder.py): it builds the same files from the same seed, and its
end-to-end scorer tells a right row from a wrong one. Real natural voice, real sox, real vosk model."""

import hashlib
import json

import pytest

from bench.common import Row

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WECHAT = Row("t-wechat", "greeting", "我用微信吧", "ch_wechat", {}, (), "clean", 0)
PAUSED = Row("t-pause", "greeting", "那个,我想问一下多久认证一次", "q_frequency", {}, (), "clean", 0)


@pytest.fixture(scope="module")
def natural():
    from bench.asr import natural_python

    if not natural_python():
        pytest.skip("the natural voice (.venv-natural) is not installed")


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _seed_with_pause(row, start=1):
    """The first seed whose profile gives this row a hesitation (about a third do)."""
    from bench.elder import profile_for

    return next(s for s in range(start, 200) if profile_for(row, s).pause)


def test_same_seed_same_files_and_manifest(natural, tmp_path):
    from bench.elder import SNRS, build, set_dir

    seed = _seed_with_pause(PAUSED)
    rows = [("test", WECHAT), ("test", PAUSED)]
    first = build(seed=seed, root=tmp_path, rows=rows)
    folder = set_dir(seed, tmp_path)
    before = _digests(folder)
    assert len([n for n in before if n.endswith(".wav")]) == 2 * len(SNRS)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in manifest["rows"]] == ["t-pause", "t-wechat"] and manifest["seed"] == seed
    paused = next(e for e in first if e["id"] == "t-pause")
    assert paused["profile"]["pause"] and paused["pause_from"] < paused["pause_to"] < paused["speech_end"]
    assert paused["pause_to"] - paused["pause_from"] >= paused["profile"]["pause"] - 0.05

    # Built again from nothing (the clean voice is kept): byte for byte the same.
    for path in folder.iterdir():
        path.unlink()
    assert build(seed=seed, root=tmp_path, rows=rows) == first
    assert _digests(folder) == before

    # A missing file is rebuilt alone; the others are not touched.
    stamp = (folder / "t-wechat-20dB.wav").stat().st_mtime_ns
    (folder / "t-pause-5dB.wav").unlink()
    build(seed=seed, root=tmp_path, rows=rows)
    assert (folder / "t-wechat-20dB.wav").stat().st_mtime_ns == stamp
    assert _digests(folder) == before

    # Another seed: other speakers.
    other = build(seed=seed + 1000, root=tmp_path, rows=rows)
    assert [e["profile"] for e in other] != [e["profile"] for e in first]
    assert _digests(set_dir(seed + 1000, tmp_path))["t-wechat-20dB.wav"] != before["t-wechat-20dB.wav"]


def test_profiles_stay_in_the_issue_ranges():
    from bench.elder import pick_rows, profile_for

    profiles = [profile_for(row) for _, row in pick_rows(200)]
    assert all(0.75 <= p.tempo <= 0.95 and -300 <= p.pitch <= 100 for p in profiles)
    assert {p.noise for p in profiles} == {"pink", "brown", "babble"}
    pauses = [p.pause for p in profiles if p.pause]
    assert pauses and all(0.5 <= s <= 2.0 for s in pauses) and len(pauses) < len(profiles) / 2


def test_scorer_counts_a_right_and_a_wrong_row(natural, tmp_path, vosk_model):
    from assistant.audio.wavio import read_wav
    from assistant.live.hearing import Hearing
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge
    from bench.elder import build, hear_and_judge, set_dir, tally

    (entry,) = build(seed=3, root=tmp_path, rows=[("test", WECHAT)])
    samples = read_wav(set_dir(3, tmp_path) / entry["files"]["20"])
    judge = Judge()
    hearing = Hearing(Recognizer(vosk_model), judge.session)

    heard, right = hear_and_judge(judge, hearing, entry, samples)
    assert right.kind == "correct", heard
    # The same audio labelled as a question it is not: the dialog acts on WeChat, so it is wrong & confident.
    _, wrong = hear_and_judge(judge, hearing, {**entry, "intent": "q_frequency"}, samples)
    assert wrong.kind == "wrong" and wrong.reported == "ch_wechat"
    counts = tally([{"snr": 20, "kind": right.kind}, {"snr": 20, "kind": wrong.kind}])[20]
    assert (counts["n"], counts["correct"], counts["wrong"], counts["accuracy"]) == (2, 1, 1, 0.5)


def test_endpointing_counts_a_turn_cut_before_its_last_word(natural, tmp_path, vosk_model):
    """The live loop's MicListener at real-time pace: a turn that ends after the last word is not cut off and its
    wait is counted; the same turn measured against a last word said later (as after a long hesitation) is."""
    from assistant.audio.wavio import read_wav
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge
    from bench.elder import build, endpoint_row, set_dir

    (entry,) = build(seed=3, root=tmp_path, rows=[("test", WECHAT)])
    samples = read_wav(set_dir(3, tmp_path) / entry["files"]["20"])
    judge, recognizer = Judge(), Recognizer(vosk_model)

    whole = endpoint_row(recognizer, judge, entry, samples)
    assert not whole["cut"] and whole["kind"] == "correct"
    assert 0 <= whole["wait_audio"] <= 3.0 and whole["wait_wall"] >= whole["wait_audio"] - 0.2
    later = endpoint_row(recognizer, judge, {**entry, "speech_end": entry["speech_end"] + 4.0}, samples)
    assert later["cut"]
