"""The family's settings (region, usual channel, last certification date, voice), a TOML file they can edit."""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant.errors import FlowError

CHANNELS = ("wechat", "alipay", "app12333", "laolai", "ganfutong", "yueshitong", "abroad", "family")
_KEYS = {"region", "channel", "last_certified", "voice"}


@dataclass
class Settings:
    """What a relative set up once so the assistant can say real dates."""

    region: str | None = None
    """province or city, as people say it (甘肃, 佛山)"""
    channel: str | None = None
    """the walk the user usually takes (one of CHANNELS)"""
    last_certified: date | None = None
    voice: str | None = None
    """voice profile name in voices/"""


def config_dir() -> Path:
    override = os.environ.get("ASSISTANT_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("pension-assistant"))


def settings_path(path=None) -> Path:
    return Path(path) if path else config_dir() / "settings.toml"


def load_settings(path=None) -> Settings | None:
    """The saved settings, None when there are none; a broken file is a FlowError with file:line."""
    file = settings_path(path)
    if not file.exists():
        if path:
            raise FlowError(file, 0, "设置文件不存在 (settings file not found)")
        return None
    text = file.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        raise FlowError(file, line, f"不是正确的 TOML 格式 (not valid TOML: {exc})") from None

    def fail(key, message):
        raise FlowError(file, _line_of(text, key), message)

    for key in data:
        if key not in _KEYS:
            fail(key, f"不认识的设置 '{key}' (unknown setting; known: {', '.join(sorted(_KEYS))})")
    settings = Settings()
    for key in ("region", "channel", "voice"):
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                fail(key, f"'{key}' 要写成文字,加引号 (must be text in quotes)")
            setattr(settings, key, data[key].strip())
    if settings.channel and settings.channel not in CHANNELS:
        fail("channel", f"channel 只能是 {', '.join(CHANNELS)} 之一")
    if "last_certified" in data:
        value = data["last_certified"]
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                fail("last_certified", "日期要写成 2026-03-05 这样 (date must be YYYY-MM-DD)")
        if not isinstance(value, date) or hasattr(value, "hour"):
            fail("last_certified", "日期要写成 2026-03-05 这样 (date must be YYYY-MM-DD)")
        if value > _today():
            fail("last_certified", "上次认证的日期不能在今天以后 (the last certification cannot be in the future)")
        settings.last_certified = value
    return settings


def _today() -> date:
    try:
        return date.fromisoformat(os.environ["ASSISTANT_TODAY"])
    except (KeyError, ValueError):
        return date.today()


def save_settings(settings: Settings, path=None) -> Path:
    import tomli_w

    file = settings_path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in vars(settings).items() if v is not None}
    tmp = file.with_suffix(".tmp")
    tmp.write_text("# 养老金认证助手的设置,可以直接修改 (assistant settings; edit freely)\n" + tomli_w.dumps(data),
                   encoding="utf-8")
    os.replace(tmp, file)
    return file


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return 0
