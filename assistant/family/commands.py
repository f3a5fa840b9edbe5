"""`assistant setup`, `assistant reminder` and `assistant stats`: the family's and the staff's commands."""

import argparse
import json
import sys
from pathlib import Path

from assistant import app, clock
from assistant.arguments import add_device_arguments, add_session_arguments
from assistant.diagnostics import exit_cleanly_on_signals
from assistant.errors import AssistantError, FlowError


def register(sub):
    p = sub.add_parser("stats", help="自助机的使用次数(不含任何人说的话)/ anonymous kiosk counts")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--reset", action="store_true", help="start counting from zero")
    p.add_argument("--flows", help=argparse.SUPPRESS)
    p.set_defaults(func=run_stats)

    p = sub.add_parser("setup", help="家里人帮老人设置:地区、认证方式、上次认证日期、语速 / family setup")
    p.add_argument("--show", action="store_true", help="check and show the saved settings, change nothing")
    p.add_argument("--voice", action="store_true", help="问题说出来,用说话回答 / ask aloud, answer by speaking")
    add_device_arguments(p)
    add_session_arguments(p)
    p.set_defaults(func=run_setup)

    p = sub.add_parser("reminder", help="生成日历提醒文件(提前三天)/ calendar file for the next deadline")
    p.add_argument("--ics", required=True, metavar="FILE", help="the .ics file to write (import it on a phone)")
    p.add_argument("--last", metavar="DATE", help="date of the last certification (default: from `assistant setup`)")
    p.add_argument("--region", metavar="NAME", help="province or city (default: from `assistant setup`)")
    add_session_arguments(p)
    p.set_defaults(func=run_reminder)


# --- stats -------------------------------------------------------------------------------------------------
def run_stats(args) -> int:
    from assistant.family.stats import StatsStore, report
    from assistant.flows import load_flows

    store = StatsStore()
    if args.reset:
        store.reset()
        print(f"已经从零开始计数 (counts reset): {store.path}")
        return 0
    counts = store.load()
    if store.warning:
        print(store.warning)
    if args.json:
        print(json.dumps(counts.to_json(), ensure_ascii=False))
        return 0
    try:
        flows = load_flows(getattr(args, "flows", None))
    except FlowError:
        flows = None  # the counts are still worth showing, with intent names instead of labels
    print(report(counts, flows))
    return 0


# --- setup -------------------------------------------------------------------------------------------------
def run_setup(args) -> int:
    from assistant.family.setup_engine import SetupEngine, deadline_sentence, rule_sentence, setting_text
    from assistant.flows import load_flows
    from assistant.settings import load_settings, save_settings, settings_path

    flows = load_flows(getattr(args, "flows", None))
    today = clock.today(args)
    path = settings_path(args.config)
    if args.show:
        settings = load_settings(args.config, today)  # a broken file is a FlowError file:line, printed by cli
        if settings is None:
            print(f"还没有设置 (no settings yet): {path}\n运行 assistant setup 来设置 (run `assistant setup`)")
            return 0
        print(f"设置文件 (settings file): {path}")
        for key in ("region", "channel", "last_certified", "voice"):
            print(f"  {SetupEngine.LABELS[key]}: {setting_text(key, getattr(settings, key), flows)}")
        if settings.region:
            print(rule_sentence(flows, settings.region))
        if settings.last_certified:
            print(deadline_sentence(flows, settings.last_certified, settings.region, today))
        return 0

    current = None
    try:
        current = load_settings(args.config, today) if path.exists() else None
    except FlowError as exc:
        print(f"现在的设置文件有错,这次会重新写一份 (the settings file has an error and will be rewritten): {exc}")
    if args.voice:
        from assistant.family.voice_setup import run_voice_setup

        engine = SetupEngine(flows, today=today, current=current, mode="voice")
        with exit_cleanly_on_signals():
            listen, speak, close = app.build_voice_setup(args, flows)
            try:
                finished = run_voice_setup(engine, listen, speak)
            finally:
                close()
        if not finished:
            return 1
        saved = save_settings(engine.settings, args.config)
        load_settings(saved, today)
        print(f"已保存 (saved): {saved}")
        return 0
    print("养老金认证助手 · 家里人帮忙设置 (family setup). 每个问题打字回答,按回车 (type an answer, press Enter).")
    engine = SetupEngine(flows, today=today, current=current)
    print(engine.ask(), flush=True)
    for line in _stdin_lines():
        turn = engine.answer(line)
        print(turn.say, flush=True)
        if turn.done:
            saved = save_settings(engine.settings, args.config)
            load_settings(saved, today)  # what was written must read back exactly as validated
            print(f"已保存 (saved): {saved}\n这个文件可以用文本编辑器修改 (you can edit it by hand); "
                  "检查用 assistant setup --show")
            return 0
    print("设置没有做完,什么也没有保存 (setup not finished; nothing was saved)")
    return 1


def _stdin_lines():
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


# --- reminder ----------------------------------------------------------------------------------------------
def run_reminder(args) -> int:
    from assistant.family.reminder import (
        ALARM_DAYS,
        calendar_bytes,
        plan,
        understand_date,
        understand_region,
        write_atomically,
    )
    from assistant.flows import load_flows
    from assistant.settings import load_settings

    flows = load_flows(getattr(args, "flows", None))
    today = clock.today(args)
    settings = load_settings(args.config, today) if not (args.last and args.region) else None
    last = understand_date(args.last, today) if args.last else getattr(settings, "last_certified", None)
    if last is None:
        raise AssistantError("不知道上次认证的日期:先运行 assistant setup,或者加上 --last 2026-03-05 "
                             "(no last certification date: run `assistant setup` or pass --last)")
    region = understand_region(flows, args.region) if args.region else getattr(settings, "region", None)
    reminder = plan(flows, last, region, today)
    for note in reminder.notes:
        print(note)
    path = Path(args.ics)
    write_atomically(path, calendar_bytes(flows, reminder))
    print(f"已写好日历文件 (calendar file written): {path}\n"
          f"在手机上打开这个文件,加到日历里;截止日前{ALARM_DAYS}天会提醒 "
          f"(import it on the phone; it alerts {ALARM_DAYS} days before)")
    return 0
