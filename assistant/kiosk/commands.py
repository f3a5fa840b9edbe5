"""`assistant kiosk`, `assistant stats`, `assistant setup`, `assistant reminder`."""

import json
import logging
import os
import re
import sys
from pathlib import Path

from assistant import app, clock
from assistant.arguments import add_device_arguments, add_session_arguments
from assistant.diagnostics import exit_cleanly_on_signals, where
from assistant.errors import AssistantError, FlowError

log = logging.getLogger(__name__)


def register(sub):
    p = sub.add_parser("kiosk", help="社区自助机:大字屏幕、按键说话 / community-center kiosk mode")
    p.add_argument("--text", action="store_true",
                   help="typed lines (stdin) stand in for speech: try the kiosk without a microphone")
    p.add_argument("--no-screen", action="store_true", help="no big-text screen (text and voice only)")
    p.add_argument("--windowed", action="store_true",
                   help="a normal window instead of full screen (for trying out; always so with --text)")
    p.add_argument("--hands-free", action="store_true", help="always listening, no key to press")
    add_device_arguments(p)
    p.add_argument("--voice", help="声音设置 / voice profile name or .toml file")
    p.add_argument("--no-barge-in", action="store_true",
                   help="说话时不让人打断 / do not stop talking when someone talks")
    p.add_argument("--key", default="space", help="push-to-talk key, a Tk key name (default: space; e.g. F12, Return)")
    p.add_argument("--key-label", help="how the screen names the key, e.g. 红色大按钮 (default: the key's name)")
    p.add_argument("--idle", type=float, default=90.0, metavar="SECONDS",
                   help="wipe the conversation after this many seconds without anyone talking (default 90)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--install", action="store_true",
                       help="start the kiosk at every login and after a crash (systemd user unit + autostart entry)")
    group.add_argument("--uninstall", action="store_true", help="remove what --install added")
    group.add_argument("--autostart", action="store_true", help=argparse_hidden())
    add_session_arguments(p)
    p.set_defaults(func=run_kiosk)

    p = sub.add_parser("stats", help="自助机的使用次数(不含任何人说的话)/ anonymous kiosk counts")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--reset", action="store_true", help="start counting from zero")
    p.add_argument("--flows", help=argparse_hidden())
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


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


# --- kiosk -------------------------------------------------------------------------------------------------
def kiosk_arguments(args) -> list[str]:
    """The options of this run, to repeat them in the autostart entry and the systemd unit."""
    out = []
    for flag in ("text", "no_screen", "windowed", "hands_free"):
        if getattr(args, flag):
            out.append("--" + flag.replace("_", "-"))
    if args.key != "space":
        out += ["--key", args.key]
    if args.key_label:
        out += ["--key-label", args.key_label]
    if args.idle != 90.0:
        out += ["--idle", f"{args.idle:g}"]
    for name in ("flows", "config"):
        if getattr(args, name, None):
            out += [f"--{name}", str(Path(getattr(args, name)).resolve())]
    return out


def run_kiosk(args) -> int:
    from assistant.kiosk import autostart

    _check_kiosk_options(args)
    if args.install:
        autostart.install(kiosk_arguments(args))
        return 0
    if args.uninstall:
        autostart.uninstall()
        return 0
    if args.autostart:
        if autostart.start_from_desktop():
            print("自助机由 systemd 启动了 (the kiosk was started by the systemd user unit)")
            return 0
        # Started by the desktop itself: its output lands in files such as ~/.xsession-errors, and the
        # conversation must never be written to disk.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    with _single_instance() as first:
        if not first:
            print("自助机已经在运行了 (the kiosk is already running)", file=sys.stderr)
            return 0
        with exit_cleanly_on_signals():  # systemd's stop ends it through every `finally` (devices, temp audio)
            return _run_kiosk(args)


def _check_kiosk_options(args):
    if not args.idle > 0:
        raise AssistantError(f"--idle 要大于 0 秒 (must be more than 0 seconds), 不是 {args.idle:g}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", args.key):
        raise AssistantError(f"--key '{args.key}' 不是按键名,比如 space、F12、Return (not a Tk key name)")


def _run_kiosk(args) -> int:
    kiosk = app.build_kiosk(args)
    try:
        return _run_kiosk_with(args, kiosk)
    finally:
        _close(kiosk)


def _run_kiosk_with(args, kiosk) -> int:
    import functools

    from assistant.kiosk.controller import ReadingPace, print_reply
    from assistant.kiosk.runner import KioskRunner, run_with_screen

    controller, listener = kiosk.controller, kiosk.listener
    if args.text and not args.no_screen:
        pace = ReadingPace()  # no voice: the screen still goes sentence by sentence, at the voice's pace

        def speak(reply):
            print_reply(reply)
            pace.say(reply.parts, lambda index, seconds: controller.speaking(reply, index, seconds))

        controller.speak = speak
    elif not args.text:
        speaker = kiosk.speaker
        show_text = args.no_screen  # without a screen, the words also go to the terminal

        def speak(reply):
            if show_text:
                print_reply(reply)
            speaker.say(reply.parts, settings=controller.session.voice, blocking=False,
                        on_sentence=lambda index, seconds: controller.speaking(reply, index, seconds))

        controller.speak = speak
    # Typing is talking; without a screen there is no key to press: both listen all the time.
    runner = KioskRunner(controller, listener, hands_free=args.text or args.hands_free or args.no_screen)
    if args.no_screen:
        return runner.run()
    try:
        import tkinter

        root = tkinter.Tk(className="pension-assistant-kiosk")
    except Exception as exc:  # TclError: no display; ImportError: no python3-tk
        if not args.text:
            raise AssistantError("没有找到屏幕,自助机打不开 (no display for the kiosk screen: "
                                 f"{type(exc).__name__}). 请在桌面里运行,或者加 --no-screen") from None
        print(f"assistant kiosk: 没有屏幕,只用文字继续 (no display, text only: {type(exc).__name__})",
              file=sys.stderr)
        return runner.run()
    from assistant.kiosk.screen import KioskScreen, cjk_family

    if cjk_family(root) is None:
        print("assistant kiosk: 没有中文字体,屏幕上会是方框。请安装:sudo apt-get install fonts-noto-cjk "
              "(no Chinese font installed)", file=sys.stderr)
    # Typed turns need the terminal within reach, so --text opens a window instead of covering the screen.
    make_screen = functools.partial(KioskScreen, key=args.key, fullscreen=not (args.windowed or args.text))
    return run_with_screen(runner, make_screen, root=root)


def _close(kiosk) -> None:
    """The microphone, then the speaker (and its temporary audio), each on its own."""
    for part in (kiosk.listener, kiosk.speaker):
        close = getattr(part, "close", None)
        if close is None:
            continue
        try:
            close()
        except Exception as exc:  # noqa: BLE001 - closing at exit: log it and close the rest
            log.warning("自助机关闭时出错 (closing failed: %s)", where(exc))


class _single_instance:
    """A lock file in the data folder: a second kiosk on the same machine would fight over the microphone."""

    def __enter__(self) -> bool:
        import fcntl

        from assistant.family.stats import data_dir

        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.file = open(folder / "kiosk.lock", "w")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def __exit__(self, *exc):
        self.file.close()


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
