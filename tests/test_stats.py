"""Anonymous kiosk counts: atomic file, kind restart when damaged, only intent names ever stored."""

import json

import pytest

from assistant.flows import load_flows
from assistant.family.stats import FILE_NAME, Counts, StatsStore, data_dir, is_topic, report
from tests.kioskdriver import assistant, err, out, run_main


def test_counts_add_up_and_survive_a_new_store(tmp_path):
    store = StatsStore(tmp_path / "c.json")
    store.add(sessions=1)
    store.add(topic="q_scam")
    store.add(topic="q_scam", misunderstood="unknown")
    store.add(completions=1)
    again = StatsStore(tmp_path / "c.json").load()
    assert (again.sessions, again.completions) == (1, 1)
    assert again.topics == {"q_scam": 2} and again.misunderstandings == {"unknown": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"], "no temporary file left behind"


def test_only_intent_names_can_be_counted(tmp_path):
    store = StatsStore(tmp_path / "c.json")
    for bad in ("王秀英", "13912345678", "q scam", "x" * 41, ""):
        with pytest.raises(ValueError):
            store.add(topic=bad)
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("damage", [
    b"{not json", b"", b"\xff\xfe\x00garbage", b"[]", b'{"version": 1}',
    json.dumps({"version": 1, "since": "2026-01-01", "sessions": -3, "completions": 0, "topics": {},
                "misunderstandings": {}}).encode(),
    json.dumps({"version": 1, "since": "2026-01-01", "sessions": 1, "completions": 0, "topics": {"王秀英": 1},
                "misunderstandings": {}}).encode(),
])
def test_a_damaged_file_is_set_aside_and_counting_restarts(tmp_path, damage):
    path = tmp_path / "c.json"
    path.write_bytes(damage)
    store = StatsStore(path)
    assert store.add(sessions=1).sessions == 1
    assert store.warning and "重新开始" in store.warning
    assert (tmp_path / "c.json.broken").read_bytes() == damage
    assert StatsStore(path).load().sessions == 1


def test_data_dir_honours_the_override(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert StatsStore().path == tmp_path / FILE_NAME and data_dir() == tmp_path


def test_topics_are_questions_and_knowledge_answers():
    flows = load_flows()
    assert is_topic("q_scam", flows) and is_topic("bedridden", flows) and is_topic("no_smartphone", flows)
    assert not is_topic("next", flows) and not is_topic("ch_wechat", flows) and not is_topic(None, flows)


def test_report_names_topics_for_the_staff():
    counts = Counts(since="2026-11-01", sessions=7, completions=3, topics={"q_scam": 2, "bedridden": 5},
                    misunderstandings={"unknown": 4, "foreign": 1})
    text = report(counts, load_flows())
    assert "对话次数 (conversations):        7" in text and "办完认证" in text and ": 3" in text
    assert text.index("上门认证 (bedridden): 5") < text.index("防骗 (q_scam): 2"), "most asked first"
    assert "没听懂 (misunderstandings):      5" in text


def test_stats_command_reads_resets_and_forgives_damage(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert run_main(monkeypatch, "stats") == 0
    assert "对话次数 (conversations):        0" in capsys.readouterr().out
    StatsStore(tmp_path / FILE_NAME).add(sessions=2, topic="q_why")
    assert run_main(monkeypatch, "stats", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions"] == 2 and data["topics"] == {"q_why": 1}
    (tmp_path / FILE_NAME).write_text("}}} broken", encoding="utf-8")
    assert run_main(monkeypatch, "stats", "--reset") == 0
    assert StatsStore(tmp_path / FILE_NAME).load().sessions == 0


def test_stats_program_on_a_damaged_file_is_kind(tmp_path):
    (tmp_path / FILE_NAME).write_text("}}} broken", encoding="utf-8")
    damaged = assistant("stats", env={"ASSISTANT_DATA_DIR": str(tmp_path)})
    assert damaged.returncode == 0 and "统计文件坏了" in out(damaged) and "对话次数" in out(damaged)
    assert err(damaged) == "", "no traceback, no error line"
