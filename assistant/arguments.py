"""Command-line options several commands share, so `run`, `chat`, `kiosk`, `setup` and `doctor` spell them alike
(command modules take them from here instead of from each other)."""

import argparse


def add_session_arguments(p: argparse.ArgumentParser) -> None:
    """Options every conversation command shares."""
    p.add_argument("--flows", help="folder with the flow files (default: the packaged flows/)")
    p.add_argument("--today", help="pretend today is this date, YYYY-MM-DD (for trying out reminders)")
    p.add_argument("--config", help="settings file made by `assistant setup` (default: the user's config folder)")


def add_device_arguments(p: argparse.ArgumentParser) -> None:
    """The speech model and the audio devices."""
    p.add_argument("--model", help="语音识别模型文件夹 / vosk model folder")
    p.add_argument("--input-device", metavar="NAME|NUMBER", help="麦克风 / microphone (see `assistant devices`)")
    p.add_argument("--output-device", metavar="NAME|NUMBER", help="扬声器 / speaker (see `assistant devices`)")
