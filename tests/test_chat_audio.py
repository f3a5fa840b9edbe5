"""`chat --audio`: real recordings heard through the same stage the live loop uses; every turn answered."""

import json
import os
import subprocess
import sys

import pytest

from tests.chatdriver import ROOT, SHARED

REAL = SHARED / "audio" / "real-mandarin"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/audio/real-mandarin not present")


def chat_audio(lines, vosk_model_dir, tmp_path):
    env = {**os.environ, "ASSISTANT_VOSK_MODEL": str(vosk_model_dir), "ASSISTANT_CONFIG_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json", "--audio"],
                          input="".join(f"{line}\n" for line in lines), capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


@pytest.mark.slow(seconds=30)
def test_real_recordings_and_bad_files_every_turn_answered(vosk_model_dir, tmp_path):
    """Five studio sentences spread over the set's topics and a Common Voice clip are enough to show every turn is
    heard and answered (what is heard how well is test_recognition's and the bench's)."""
    files = sorted(REAL.glob("mdcs_*.wav"))[::50] + sorted(REAL.glob("cv_*.wav"))[:1]
    assert len(files) == 6
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    lines = [str(f) for f in files] + [str(broken), "", str(tmp_path / "missing.wav")]
    records, err = chat_audio(lines, vosk_model_dir, tmp_path)
    assert len(records) == len(lines) + 1
    heard = [r["heard"] for r in records[1:len(files) + 1]]
    assert all(h and len(h) >= 5 for h in heard), heard  # free sentences come back as words, not [unk]
    assert records[-3]["intent"] == "not_heard" and records[-1]["intent"] == "not_heard"
    assert records[-2]["intent"] == "silence"
    assert "broken.wav" in err and "missing.wav" in err


def test_grammar_never_invents_an_answer_out_of_a_free_sentence(vosk_model_dir, tmp_path):
    # Under the greeting's grammar this sentence about Java once came back as "……说得太快……" → 慢一点.
    records, _ = chat_audio([str(REAL / "mdcs_education_100005.wav")], vosk_model_dir, tmp_path)
    assert records[1]["intent"] in ("unknown", "out_of_scope"), records[1]  # not acted on
    assert "开源" in records[1]["heard"]
