"""Soak: many seeded random conversations in one process: no exception, every reply well-formed, memory flat.

Each conversation greets, then walks: in a step mostly "好了" (as the corpus says it), sometimes "对",
a question, a control (慢一点, 上一步, 重新开始 …), trouble (刷不了脸, 一直转圈 …), the result step's
成功了/失败了, and bad input (silence, gibberish, English, emoji, ID numbers, a 300-character paste, control
characters). Outside a step it chooses a way to certify. A kiosk keeps one process for many users: most
conversations reuse the Session through greet() (which resets it); every tenth builds a new Session with the
shared Understander, as a long-running process is told to.

    python -m bench.soak [--sessions 1000] [--seed 7] [--json OUT]
"""

import argparse
import gc
import json
import random
import re
import sys
import time
from collections import Counter

from bench.common import TODAY, proc_memory

CONTROLS_IN_REPLY = {"slower", "faster", "louder", "softer", "goodbye"}
_SPEAKABLE = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
_LONG_DIGITS = re.compile(r"\d{6,}")
_QUESTIONS = ["q_frequency", "q_next_date", "q_overdue", "q_why", "q_silent", "q_scam", "q_documents", "q_duration",
              "q_phone_type", "q_result", "q_privacy", "no_smartphone", "bedridden", "remote"]
_CONTROLS = ["repeat", "slower", "faster", "louder", "softer", "back", "start_over", "help", "human"]
_TROUBLE = ["face_problem", "spinning", "old_version", "cant_find"]
_CHANNELS = ["ch_wechat", "ch_alipay", "ch_12333", "ch_local", "ch_laolai", "ch_ganfutong", "ch_yueshitong",
             "ch_abroad", "ch_family", "other_ways", "family_wechat"]


def utterance_pools(flows) -> dict[str, list[str]]:
    """Ways to say each intent: the training sentences of flows/ (never the frozen test corpus), as written and
    with recognition noise."""
    from assistant.understanding.noise import noisy
    from assistant.understanding.store import training_examples

    pools: dict[str, list[str]] = {name: [p.text for p in intent.phrases] for name, intent in flows.intents.items()}
    rng = random.Random(7)
    for ex in training_examples(flows):
        if ex.intent in pools:
            pools[ex.intent] += [ex.text, noisy(ex.text, rng)]
    return pools


def junk(rng: random.Random) -> str:
    """Input a recogniser or a keyboard may produce that means nothing here."""
    kind = rng.randrange(11)
    if kind == 0:
        return ""
    if kind == 1:
        return " " * rng.randint(1, 5)
    if kind == 2:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 12)))
    if kind == 3:
        return rng.choice(["hello", "what?", "OK OK", "asdf", "WiFi", "APP", "123"])
    if kind == 4:
        return rng.choice(["😀", "👍👍", "🙏", "❤️"]) * rng.randint(1, 3)
    if kind == 5:
        return rng.choice(["我的身份证号是", "手机号", "卡号", ""]) + "".join(rng.choice("0123456789") for _ in range(18))
    if kind == 6:
        return "验证码是" + "".join(rng.choice("0123456789") for _ in range(6))
    if kind == 7:
        return "好了" * rng.randint(100, 200)
    if kind == 8:
        return rng.choice(["\x00", "\x07好了", "好\t了", "\u200b对\u200b", "\ufeff微信", "對對對"])
    if kind == 9:
        return rng.choice(["三月五号", "去年十二月三号", "2025-03-05", "上次是五月一号", "二月三十号"])
    return rng.choice(["今天天气怎么样", "我孙子考上大学了", "你吃饭了吗", "帮我叫个车", "嗯嗯嗯", "啊?"])


def choose(rng: random.Random, session, flows, pools) -> str:
    state = flows.states[session.state]
    on = state.on
    roll = rng.random()
    if session.pending and roll < 0.3:
        return rng.choice(pools["yes"] + pools["no"])
    if state.walk:  # a step
        if roll < 0.50:
            intent = "next"
        elif roll < 0.55:
            intent = "yes"
        elif roll < 0.63:
            intent = rng.choice(_QUESTIONS)
        elif roll < 0.71:
            intent = rng.choice(_CONTROLS)
        elif roll < 0.75:
            intent = rng.choice(_TROUBLE)
        elif roll < 0.85 and len(on) > 1:
            intent = rng.choice([i for i in on if i != "next"])
        elif roll < 0.855:
            intent = "goodbye"
        else:
            return junk(rng)
    else:
        if roll < 0.50:
            intent = rng.choice(_CHANNELS)
        elif roll < 0.65:
            intent = rng.choice(_QUESTIONS)
        elif roll < 0.78:
            intent = rng.choice(_CONTROLS)
        elif roll < 0.795:
            intent = "goodbye"
        else:
            return junk(rng)
    return rng.choice(pools[intent])


def problems(reply, flows, heard: str) -> list[str]:
    """What is wrong with a reply (empty when it is well-formed)."""
    from assistant.dialog import Reply

    out = []
    if not isinstance(reply, Reply):
        return [f"not a Reply: {type(reply).__name__}"]
    if reply.state not in flows.states:
        out.append(f"unknown state {reply.state!r}")
    if not reply.parts or any(not isinstance(p, str) or not _SPEAKABLE.search(p) for p in reply.parts):
        out.append("a part is empty or unspeakable")
    if reply.say != "".join(reply.parts):
        out.append("say is not the parts joined")
    if not 1 <= len(reply.options) <= 3 or not all(isinstance(o, str) and o for o in reply.options):
        out.append(f"options {reply.options!r}")
    if reply.progress is not None and not 1 <= reply.progress[0] <= reply.progress[1]:
        out.append(f"progress {reply.progress!r}")
    if not set(reply.controls) <= CONTROLS_IN_REPLY:
        out.append(f"controls {reply.controls!r}")
    for number in _LONG_DIGITS.findall(heard or ""):
        if number in reply.say:
            out.append("a number the user said was repeated")
    return out


def simulate(sessions: int = 1000, seed: int = 7, new_session_every: int = 10) -> dict:
    """Run the conversations; returns counts, the first failures and memory before/after."""
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.understanding import Understander

    rng = random.Random(seed)
    flows = load_flows()
    understander = Understander(flows)
    pools = utterance_pools(flows)
    session = None
    warmup = min(max(50, sessions // 10), sessions // 2)  # caches (pinyin, fuzzy matching) fill first
    turns = exceptions = bad = goodbyes = 0
    failures: list[dict] = []
    intents, visited = Counter(), set()
    memory_start = objects_start = None
    started = time.perf_counter()
    for n in range(sessions):
        if n == warmup:
            gc.collect()
            memory_start, objects_start = proc_memory().get("VmRSS"), len(gc.get_objects())
        if session is None or n % new_session_every == 0:
            session = Session(flows, today=TODAY, understander=understander)
        heard = None
        try:
            reply = session.greet()
            for _ in range(rng.randint(5, 60)):
                found = problems(reply, flows, heard)
                if found:
                    bad += 1
                    if len(failures) < 10:
                        failures.append({"kind": "bad reply", "state": reply.state, "input": repr(heard)[:80],
                                         "problems": found})
                visited.add(reply.state)
                if "goodbye" in reply.controls:
                    goodbyes += 1
                    break
                heard = choose(rng, session, flows, pools)
                reply = session.handle(heard)
                turns += 1
                intents[reply.intent] += 1
        except Exception as exc:  # the point of a soak: count every crash, keep going with a fresh session
            exceptions += 1
            if len(failures) < 10:
                failures.append({"kind": type(exc).__name__, "message": str(exc)[:200], "state": session.state,
                                 "input": repr(heard)[:80]})
            session = None
    seconds = time.perf_counter() - started
    gc.collect()
    memory_end, objects_end = proc_memory().get("VmRSS"), len(gc.get_objects())
    growth = (memory_end - memory_start) / memory_start if memory_start and memory_end else None
    return {
        "sessions": sessions, "seed": seed, "turns": turns, "seconds": round(seconds, 1),
        "exceptions": exceptions, "bad_replies": bad, "failures": failures, "goodbyes": goodbyes,
        "states_visited": len(visited), "states_total": len(flows.states),
        "intents": dict(intents.most_common()),
        "rss_after_warmup_mb": round(memory_start, 1) if memory_start else None,
        "rss_end_mb": round(memory_end, 1) if memory_end else None,
        "rss_growth": growth, "warmup_sessions": warmup,
        "gc_objects_after_warmup": objects_start, "gc_objects_end": objects_end,
        "peak_rss_mb": round(proc_memory().get("VmHWM", 0), 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="write the result here instead of stdout")
    args = parser.parse_args(argv)
    result = simulate(args.sessions, args.seed)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)
    return 0 if not result["exceptions"] and not result["bad_replies"] else 1


if __name__ == "__main__":
    sys.exit(main())
