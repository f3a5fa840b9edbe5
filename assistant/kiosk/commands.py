"""`assistant kiosk`: the community-center kiosk, its options, autostart and single instance."""

import logging
import os
import re
import sys
from pathlib import Path

from assistant import app
from assistant.arguments import add_device_arguments, add_session_arguments
from assistant.diagnostics import exit_cleanly_on_signals, where
from assistant.errors import AssistantError

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
    p.add_argument("--barge-in", action="store_true",
                  help="让人在助手说话时打断它,只用在耳机或麦克风离喇叭远的时候 / let the user talk over the "
                       "assistant (a headset, or a microphone far from the speaker; needs echo cancelling)")
    p.add_argument("--no-barge-in", action="store_true", help="(the default) 说话时不让人打断 / half-duplex")
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
        # without a screen, the words also go to the terminal
        controller.speak = voice_speak(controller, kiosk.speaker, show_text=args.no_screen)
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


def voice_speak(controller, speaker, show_text: bool = False):
    """The kiosk's voice: each reply said (the screen follows it sentence by sentence), then, while the person
    does the step, the next turn's likely sentences rendered into the cache at their voice rate (as `run` does)."""
    from assistant.kiosk.controller import print_reply

    def speak(reply):
        if show_text:
            print_reply(reply)
        speaker.say(reply.parts, settings=controller.session.voice, blocking=False,
                    on_sentence=lambda index, seconds: controller.speaking(reply, index, seconds))
        if speaker.ahead is not None:
            speaker.ahead.plan_for(controller.session)

    return speak


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
