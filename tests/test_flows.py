"""flows/ loads, every state is reachable and has a way out, every fact has a source found in the seeds,
and a broken flow file is reported as file:line."""

import re
import shutil
import subprocess
import sys
from collections import deque

import pytest
import yaml

from assistant import FLOWS_DIR
from assistant.errors import FlowError
from assistant.flows import RETURN, load_flows
from tests.chatdriver import ROOT, SHARED

FLOWS = load_flows()


def _moves(state):
    """Where a state can lead by what the user says there (its own answers, not the global words)."""
    return {dest for dest in FLOWS.states[state].on.values()}


def test_every_state_is_reachable_from_the_greeting():
    seen, queue = {FLOWS.start}, deque([FLOWS.start])
    global_targets = set(FLOWS.goto.values()) | {"human", "goodbye"}
    while queue:
        state = queue.popleft()
        for dest in _moves(state) | global_targets:
            if dest != RETURN and dest not in seen:
                seen.add(dest)
                queue.append(dest)
    assert set(FLOWS.states) - seen == set()


def test_every_step_has_its_own_way_forward_and_no_dead_end():
    # From every state the user can reach the end of certification, a person, or the start,
    # using only what that state itself offers (plus coming back from troubleshooting).
    ends = {"done", "human", "goodbye", FLOWS.start}
    for name, state in FLOWS.states.items():
        if name in ends or state.walk is None:
            # Menus: left by choosing one of their options (global words), checked below.
            continue
        seen, queue, ok = {name}, deque([name]), False
        while queue and not ok:
            for dest in _moves(queue.popleft()):
                if dest == RETURN or dest in ends:
                    ok = True
                elif dest not in seen:
                    seen.add(dest)
                    queue.append(dest)
        assert ok, f"{name} leads nowhere"
        # The one loop allowed: a step that asks which outcome the screen shows repeats its question on a bare
        # "好了" (the answer that says nothing), never on anything else.
        loops = {i for i, dest in state.on.items() if dest == name}
        assert loops <= {"next"} and (not loops or len(state.options) >= 2), f"{name} loops onto itself on {loops}"


def test_menu_options_lead_somewhere():
    from assistant.dialog import Session

    for name in ["greeting", "other_ways", "local_apps", "family", "done", "human", "goodbye"]:
        session = Session(FLOWS)
        session.machine.set_state(name)
        for option in FLOWS.states[name].options:
            reply = session.handle(option)
            assert reply.intent not in ("unknown", "confirm", "choose"), f"{name}: option '{option}' not understood"
            session.machine.set_state(name)


def test_every_fact_has_a_source():
    items = list(FLOWS.states.values()) + list(FLOWS.answers.values()) + list(FLOWS.regions.values())
    for item in items:
        assert item.sources, f"{getattr(item, 'name', getattr(item, 'id', '?'))} has no source"


def _plain(text):
    return re.sub(r"[\W_]+", "", text)


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds not present: cannot check quotes")
def test_every_quoted_source_is_in_its_seed_file():
    seeds = {p.name: _plain(p.read_text(encoding="utf-8")) for p in (SHARED / "seeds").glob("*.txt")}
    items = list(FLOWS.states.values()) + list(FLOWS.answers.values()) + list(FLOWS.regions.values())
    items.append(FLOWS.general_region)
    checked = 0
    for item in items:
        for source in item.sources:
            if source.file == "product" or source.file.startswith("rule "):
                continue
            assert source.file in seeds, f"line {source.line}: unknown seed {source.file}"
            assert _plain(source.quote) in seeds[source.file], f"line {source.line}: quote not in {source.file}"
            checked += 1
    assert checked > 50


def test_every_quoted_rule_is_in_flows_rules():
    """An official rule quoted beside the guides ("rule <name>: <quote>") is checked against its text in
    flows/rules.yaml, as a seed quote is against its seed; it needs no ../shared."""
    rules = yaml.safe_load((FLOWS_DIR / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    checked = 0
    for item in list(FLOWS.states.values()) + list(FLOWS.answers.values()) + list(FLOWS.regions.values()):
        for source in item.sources:
            if source.file.startswith("rule "):
                name = source.file.removeprefix("rule ").strip()
                assert name in rules, f"line {source.line}: rule '{name}' is not in flows/rules.yaml"
                assert _plain(source.quote) in _plain(rules[name]["text"]), f"line {source.line}: quote not in {name}"
                checked += 1
    assert checked >= 1


def test_regional_difference_is_always_qualified():
    # Wherever a rule differs by region, the assistant points to the local office or 12333.
    assert "以当地社保部门或12333为准" in FLOWS.answers["frequency"].say
    assert "以当地社保部门或12333为准" in FLOWS.answers["next_date"].templates["caveat"]


def test_fixed_sentences_and_grammar_phrases():
    fixed = FLOWS.fixed_sentences()
    assert len(fixed) > 150 and all("{" not in s for s in fixed)
    assert len(fixed) == len(set(fixed))
    phrases = FLOWS.grammar_phrases()
    assert all(re.fullmatch(r"[\u3400-\u9fff0-9]+", p.text) for p in phrases)
    assert all(p.file.endswith("intents.yaml") and p.line > 0 for p in phrases)


def test_options_are_few():
    assert all(len(s.options) <= 3 for s in FLOWS.states.values())


# --- broken flow files -------------------------------------------------------------------------------
@pytest.fixture
def flows_copy(tmp_path):
    target = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns(".model", "trained"))  # 50 MB not needed
    return target


def _break(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


BREAKAGES = [
    ("dialog.yaml", "        on: {success: done, failed: trouble_face, next: waiting}",
     "        on: {success: done, next: nowhere, failed: trouble_face}", "unknown step or state 'nowhere'"),
    ("dialog.yaml", "        say: 打开微信,点“我”。点好了说“好了”。", "        say: [打开微信", "not valid YAML"),
    ("dialog.yaml", "        source: \"000_493390c0cddda157.txt: 打开微信,点击「我-服务-城市服务」\"\n      - id: service",
     "        sauce: x\n      - id: service", "'source' is missing"),
    ("intents.yaml", "phrases: [微信, 用微信,", "phrases: [WeChat, 用微信,", "only Chinese characters"),
    ("intents.yaml", "    phrases: [再见, 拜拜,", "    phrases: [再见, 12333, 拜拜,", "put 12333 in quotes"),
    ("intents.yaml", "  faster:\n", "  slower:\n", "given twice"),
    ("intents.yaml", "phrases: [快一点, 快点说,", "phrases: [慢一点, 快点说,", "reads the same as"),
    ("knowledge.yaml", "      - \"000_493390c0cddda157.txt: 整个流程仅需3-5分钟\"", "      - \"somewhere\"",
     "a source is"),
    ("regions.yaml", "    cycle_days: 180", "    cycle_days: 5", "not a plausible cycle"),
    ("phrases.yaml", "  not_understood: 对不起,我没听清。\n", "", "sentence 'not_understood' is missing"),
    # Issue 13: shapes and placeholders that used to give tracebacks at load or in the middle of a conversation.
    ("dialog.yaml", "  prepare:\n    steps:", "  prepare: 准备\n  prepare_old:\n    steps:", "walk 'prepare' must be a mapping"),
    ("dialog.yaml", "        on: {success: done, failed: cover, next: \"@return\"}", "        on: [success, failed]",
     "'on' must be a mapping"),
    ("dialog.yaml", "             not_yet, check_done,", "             not_yet, check_done, ch_wechat,",
     "'ch_wechat' is not a control"),
    ("dialog.yaml", "  confirm_in_words: [goodbye, start_over, not_yet,", "  confirm_in_words: [goodbye, see_you, not_yet,",
     "confirm_in_words: 'see_you' is not a global intent"),
    ("knowledge.yaml", "    overdue: 已经过了{days}天", "    overdu: 已经过了{days}天", "'overdu' is not a sentence of 'next_date'"),
    ("knowledge.yaml", "    say: 不麻烦,一般三到五分钟就能做完。", "    say: 不麻烦,一般{三到五分钟就能做完。", "lone '{'"),
    ("knowledge.yaml", "    remaining: 离现在还有{days}天。", "    remaining: 离现在还有{dayz}天。", "uses {dayz}"),
    ("knowledge.yaml", "    offers: ch_wechat", "    offers: ch_wechta", "offers 'ch_wechta', which is no walk"),
    ("knowledge.yaml", "    instead: simplest_for_family", "    instead: simplest_for_famly",
     "said instead as 'simplest_for_famly', which knowledge.yaml lacks"),
    ("knowledge.yaml", "    instead: simplest_for_family", "    instead: simplest", "which leads back to it"),
    ("knowledge.yaml", "  fee:\n    say:", "  fee:\n    instead: simplest\n    say:", "offers no walk"),
    ("phrases.yaml", "  chosen: 好,咱们用{title}认证。", "  chosen: 好,咱们用{titel}认证。", "uses {titel}"),
    # The schema (assistant/flows/schema.py): keys, types and format strings of every file, at load time.
    ("dialog.yaml", "        say: 打开微信,点“我”。点好了说“好了”。", "        sey: 打开微信,点“我”。点好了说“好了”。",
     "'say' is missing ('sey' is not a key here: a typo?)"),
    ("dialog.yaml", "        say: 打开微信,点“我”。点好了说“好了”。", "        say: 打开微信,点“{我}”。", "'say' uses {我}"),
    ("dialog.yaml", "        say: 打开微信,点“我”。点好了说“好了”。", "        say: 打开微信,点“{我”。", "'say' has a lone '{'"),
    ("dialog.yaml", "      - id: submitted\n        alt: true", "      - id: submitted\n        alt: 是",
     "'alt' must be true or false"),
    ("intents.yaml", "phrases: [微信, 用微信,", "phrases: 微信\n    typed: [用微信,", "'phrases' must be a list"),
    ("regions.yaml", "    cycle_days: 180", "    cycle_days: \"180\"", "'cycle_days' must be a whole number"),
    ("phrases.yaml", "  not_understood: 对不起,我没听清。", "  not_understood: [对不起]", "'not_understood' must be text"),
    # A walk's own `on` (every step of it, the face steps spliced in too): reported at the walk's line, not a step's.
    ("dialog.yaml", "    on: {ch_alipay: family_alipay}", "    on: {ch_alipay: family_alipy}",
     "unknown step or state 'family_alipy'"),
]


@pytest.mark.parametrize("file, old, new, message", BREAKAGES, ids=[b[3] for b in BREAKAGES])
def test_broken_flow_file_reports_file_and_line(flows_copy, file, old, new, message):
    line = _break(flows_copy / file, old, new)
    with pytest.raises(FlowError) as err:
        from assistant.dialog import Session

        Session(load_flows(flows_copy))
    assert message in str(err.value)
    assert err.value.file.endswith(file)
    if message == "'source' is missing":  # reported where the step that lacks it begins
        assert 0 <= line - err.value.line <= 3, f"reported line {err.value.line}, step near {line}"
    elif message in ("'say' is missing ('sey' is not a key here: a typo?)",):  # where the step begins
        assert 0 <= line - err.value.line <= 2, f"reported line {err.value.line}, step near {line}"
    elif message not in ("sentence 'not_understood' is missing", "reads the same as", "given twice"):
        assert abs(err.value.line - line) <= 1, f"reported line {err.value.line}, broken line {line}"


def test_broken_flow_file_through_the_program_is_one_line_not_a_traceback(flows_copy):
    _break(flows_copy / "dialog.yaml", "start: greeting", "start: nowhere")
    proc = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json", "--flows", str(flows_copy)],
                          input=b"", capture_output=True, cwd=ROOT)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert re.search(r"dialog\.yaml:\d+: start state 'nowhere' does not exist", err)


def test_missing_flows_folder(tmp_path):
    with pytest.raises(FlowError, match="intents.yaml: file is missing"):
        load_flows(tmp_path)


def test_entering_a_walk_names_it_once_and_never_says_renzheng_twice():
    """"好,咱们用支付宝代人认证认证。" was said entering the family Alipay walk (its title already says 认证): found by hand
    (session 54). Every walk's sentence is said as rendered ahead."""
    from assistant.dialog import Session

    flows = load_flows()
    for walk, title in flows.titles.items():
        said = flows.chosen(walk)
        assert said and title in said and "认证认证" not in said, (walk, said)
    session = Session(flows)
    session.greet()
    session.handle("家里人帮忙")
    reply = session.handle("支付宝")
    assert reply.say.startswith("好,咱们用支付宝代人认证。"), reply.say
    assert reply.parts[0] in flows.fixed_sentences(), "rendered ahead, not synthesised live"
