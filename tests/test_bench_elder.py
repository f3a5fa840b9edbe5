"""The elder-like spoken test set (bench/elder.py): it builds the same files from the same seed, and its
end-to-end scorer tells a right row from a wrong one. Real natural voice, real sox, real vosk model."""

import hashlib
import json

import pytest

from bench.common import Row

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.seconds(22)]  # alone, idle 2 cores: the longest units start first (conftest.py)

WECHAT = Row("t-wechat", "greeting", "我用微信吧", "ch_wechat", {}, (), "clean", 0)
PAUSED = Row("t-pause", "greeting", "那个,我想问一下多久认证一次", "q_frequency", {}, (), "clean", 0)


@pytest.fixture(scope="module")
def natural():
    from bench.asr import natural_python

    if not natural_python():
        pytest.skip("the natural voice (.venv-natural) is not installed")


@pytest.fixture(scope="module")
def wechat_row(natural, tmp_path_factory):
    """One built row (seed 3, "我用微信吧") and its 20 dB audio, for the scorer and endpointing tests: built once, as
    the natural voice takes seconds to load (how a row is built is the determinism tests' concern)."""
    from assistant.audio.wavio import read_wav

    from bench.elder import build, set_dir

    root = tmp_path_factory.mktemp("elder-wechat")
    (entry,) = build(seed=3, root=root, rows=[("test", WECHAT)])
    return entry, read_wav(set_dir(3, root) / entry["files"]["20"])


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
    # On dev rows: a profile depends only on the row's id and the seed, and the frozen rows are never read here.
    from bench.elder import DEV_SEED, pick_rows, profile_for

    profiles = [profile_for(row, DEV_SEED) for _, row in pick_rows(200, DEV_SEED, "dev")]
    assert all(0.75 <= p.tempo <= 0.95 and -300 <= p.pitch <= 100 for p in profiles)
    assert {p.noise for p in profiles} == {"pink", "brown", "babble"}
    pauses = [p.pause for p in profiles if p.pause]
    assert pauses and all(0.5 <= s <= 2.0 for s in pauses) and len(pauses) < len(profiles) / 2


def test_dev_corpus_has_its_own_rows_seed_and_folders(tmp_path):
    import inspect

    from bench.dev import DEV_FILES, load_dev
    from bench.elder import DEV_SEED, SEED, all_rows, build, default_seed, pick_rows, set_dir, voice_dir

    rows = all_rows("dev")
    assert len(rows) == sum(len(load_dev(name)) for name in DEV_FILES.values())
    assert len({row.id for _, row in rows}) == len(rows)  # dev.tsv and dev_answers.tsv ids never collide
    chosen = pick_rows(120, DEV_SEED, "dev")
    assert {part for part, _ in chosen} == {"dev", "dev_answers"}
    assert chosen[:10] == pick_rows(10, DEV_SEED, "dev")  # a smaller set is the start of a larger one
    assert [r.id for _, r in pick_rows(10, SEED, "dev")] != [r.id for _, r in chosen[:10]]

    assert default_seed("dev") == DEV_SEED != SEED == default_seed("frozen")
    assert set_dir(DEV_SEED, tmp_path, "dev") == tmp_path / "elder-dev" / f"v1-seed{DEV_SEED}"
    assert set_dir(SEED, tmp_path) == tmp_path / "elder" / f"v1-seed{SEED}"  # the frozen set stays where it was
    assert voice_dir(tmp_path, "dev") != voice_dir(tmp_path) == tmp_path / "natural-voice"
    # The bench's headline stays the frozen corpus.
    assert inspect.signature(build).parameters["corpus"].default == "frozen"
    assert inspect.signature(pick_rows).parameters["corpus"].default == "frozen"


def test_rows_are_shown_only_for_the_dev_corpus(tmp_path, monkeypatch, capsys):
    from bench.elder import main

    monkeypatch.setenv("ASSISTANT_BENCH_CACHE", str(tmp_path))
    for flag in ("--show", "--causes", "--endpoint=3"):
        assert main(["score", "--rows", "2", flag]) == 2
    assert "only for the dev sets" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before anything was built


def test_dev_rows_build_deterministically_with_their_own_seed(natural, tmp_path):
    from bench.elder import DEV_SEED, SEED, build, pick_rows, profile_for, set_dir, voice_dir

    (entry,) = build(1, root=tmp_path, seed=DEV_SEED, corpus="dev")
    (part, row), = pick_rows(1, DEV_SEED, "dev")
    assert (entry["id"], entry["part"], entry["utterance"]) == (row.id, part, row.utterance)
    assert entry["profile"] == profile_for(row, DEV_SEED).__dict__ != profile_for(row, SEED).__dict__
    folder = set_dir(DEV_SEED, tmp_path, "dev")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["corpus"], manifest["seed"], [r["id"] for r in manifest["rows"]]) == ("dev", DEV_SEED, [row.id])
    assert any(voice_dir(tmp_path, "dev").iterdir()) and not (tmp_path / "natural-voice").exists()
    assert not (tmp_path / "elder").exists()  # nothing of the frozen set's folder

    before = _digests(folder)
    for path in folder.iterdir():
        path.unlink()
    assert build(1, root=tmp_path, seed=DEV_SEED, corpus="dev") == [entry]
    assert _digests(folder) == before


def test_a_reviewed_label_keeps_the_audio_and_a_changed_sentence_is_read_again(natural, tmp_path):
    """A dev label reviewed after its audio was made is taken from the corpus row (the audio stays as it was); a
    row whose sentence changed is never scored on the old sentence's audio."""
    from dataclasses import replace

    from bench.elder import build, set_dir

    (entry,) = build(seed=5, root=tmp_path, rows=[("test", WECHAT)])
    folder = set_dir(5, tmp_path)
    before = {n: (folder / n).read_bytes() for n in entry["files"].values()}
    (relabelled,) = build(seed=5, root=tmp_path, rows=[("test", replace(WECHAT, intent="ch_alipay"))])
    assert relabelled["intent"] == "ch_alipay" and relabelled["files"] == entry["files"]
    assert {n: (folder / n).read_bytes() for n in entry["files"].values()} == before, "the audio was made again"
    (changed,) = build(seed=5, root=tmp_path, rows=[("test", replace(WECHAT, utterance="我用支付宝吧"))])
    assert changed["utterance"] == "我用支付宝吧"
    assert any((folder / n).read_bytes() != before[n] for n in changed["files"].values()), "old audio kept"


def test_scorer_counts_a_right_and_a_wrong_row(wechat_row, vosk_model):
    from assistant.live.hearing import Hearing
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge
    from bench.elder import hear_and_judge, tally

    entry, samples = wechat_row
    judge = Judge()
    hearing = Hearing(Recognizer(vosk_model), judge.session)

    heard, right = hear_and_judge(judge, hearing, entry, samples)
    assert right.kind == "correct", heard
    # The same audio labelled as a question it is not: the dialog acts on WeChat, so it is wrong & confident.
    _, wrong = hear_and_judge(judge, hearing, {**entry, "intent": "q_frequency"}, samples)
    assert wrong.kind == "wrong" and wrong.reported == "ch_wechat" and wrong.moved  # into the WeChat walk
    counts = tally([{"snr": 20, "kind": right.kind, "moved": right.moved},
                    {"snr": 20, "kind": wrong.kind, "moved": wrong.moved},
                    {"snr": 20, "kind": "wrong", "moved": False}])[20]
    assert (counts["n"], counts["correct"], counts["wrong"], counts["wrong_moved"]) == (3, 1, 2, 1)


def test_remembered_readings_are_the_recognisers_and_heard_afresh_for_another_grammar(wechat_row, vosk_model,
                                                                                     vosk_model_dir, tmp_path):
    """The spoken dev set's readings kept on disk are exactly what vosk gave; a second hearing of the same audio
    and grammar is served from disk (the recogniser is not asked), and another grammar is heard afresh. (vosk's
    scores differ slightly from one hearing of a file to the next, so remembering also keeps two understanding
    variants compared on the very same readings.)"""
    from assistant.recognition.recognizer import Recognizer

    from bench.elder import RememberedReadings

    _, samples = wechat_row

    class Counting:
        def __init__(self):
            self.inner, self.calls, self.gave = Recognizer(vosk_model), 0, None

        def readings(self, pcm, grammar=None):
            self.calls += 1
            self.gave = self.inner.readings(pcm, grammar)
            return self.gave

    counting = Counting()
    remembered = RememberedReadings(counting, tmp_path, str(vosk_model_dir))
    grammar = ["我用微信", "我用支付宝", "[unk]"]
    first = remembered.readings(samples, grammar)
    assert first and first == counting.gave
    assert RememberedReadings(counting, tmp_path, str(vosk_model_dir)).readings(samples, grammar) == first
    assert counting.calls == 1, "the same audio and grammar were heard again"
    remembered.readings(samples, None)
    remembered.readings(samples[: len(samples) // 2], grammar)
    assert counting.calls == 3, "another grammar or other audio must be heard afresh"


def test_endpointing_counts_a_turn_cut_before_its_last_word(wechat_row, vosk_model):
    """The live loop's MicListener at real-time pace: a turn that ends after the last word is not cut off and its
    wait is counted; the same turn measured against a last word said later (as after a long hesitation) is."""
    from assistant.recognition.recognizer import Recognizer

    from bench.accuracy import Judge
    from bench.elder import endpoint_row

    entry, samples = wechat_row
    judge, recognizer = Judge(), Recognizer(vosk_model)

    whole = endpoint_row(recognizer, judge, entry, samples)
    assert not whole["cut"] and whole["kind"] == "correct"
    assert 0 <= whole["wait_audio"] <= 3.0 and whole["wait_wall"] >= whole["wait_audio"] - 0.2
    later = endpoint_row(recognizer, judge, {**entry, "speech_end": entry["speech_end"] + 4.0}, samples)
    assert later["cut"]


@pytest.fixture(scope="module")
def judge():
    from bench.accuracy import Judge

    return Judge()


def test_lost_turns_are_sorted_by_cause(judge):
    """Typed wrong → understanding; typed right and heard nearly right → understanding of what was heard; heard
    far off or nothing → recognition. Correct turns are not lost."""
    from bench.elder import causes

    entries = [{"id": "w", "state": "greeting", "utterance": "我用微信吧", "intent": "ch_wechat", "part": "dev"},
               {"id": "q", "state": "greeting", "utterance": "我用微信吧", "intent": "q_frequency", "part": "dev"}]
    results = [{"id": "w", "snr": 20, "kind": "correct", "heard": "我用微信吧"},
               {"id": "w", "snr": 10, "kind": "ask", "heard": "我用为心吧"},
               {"id": "w", "snr": 5, "kind": "missed", "heard": "今天天气很好"},
               {"id": "w", "snr": 5, "kind": "missed", "heard": ""},
               {"id": "q", "snr": 20, "kind": "wrong", "heard": "我用微信吧"}]
    lost = causes(results, entries, judge)
    assert [(r["id"], r["snr"], r["cause"]) for r in lost] == [("w", 10, "near"), ("w", 5, "far"), ("w", 5, "none"),
                                                              ("q", 20, "typed")]
    assert lost[0]["lost"] == 0.0 and lost[1]["lost"] > 0.5 and lost[-1]["typed"] == "wrong"
