"""The user's folders, from one place: data (speech model, natural-voice venv, kiosk counts), config (settings,
own voice profiles) and cache (prompt audio, the understanding model).

Each has an environment override (`ASSISTANT_DATA_DIR`, `ASSISTANT_CONFIG_DIR`, `ASSISTANT_CACHE_DIR`) that
replaces the whole folder, so tests and a second account never touch the real ones; otherwise platformdirs
gives the platform's usual place (Linux: ~/.local/share, ~/.config, ~/.cache, each with pension-assistant/).
"""

import os
from pathlib import Path

import platformdirs

APP_NAME = "pension-assistant"


def data_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_CACHE_DIR") or user_cache_dir())


def user_cache_dir() -> Path:
    """The platform's cache folder even when ASSISTANT_CACHE_DIR is set (the understanding model looks in both)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def xdg_config_home() -> Path:
    """Where the desktop and systemd look for a user's autostart entries and units (not our own config folder)."""
    value = os.environ.get("XDG_CONFIG_HOME")
    # The XDG spec: a relative path is invalid and must be ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".config"
