"""The family's settings (region, usual channel, last certification date, voice), a TOML file they can edit."""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant import clock
from assistant.errors import FlowError
from assistant.paths import config_dir

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


def settings_path(path=None) -> Path:
    return Path(path) if path else config_dir() / "settings.toml"


def load_settings(path=None, today: date | None = None) -> Settings | None:
    """The saved settings, None when there are none; a broken file is a FlowError with file:line (for the
    family's own commands: `setup --show`, `reminder`). `today` is the command's today (`assistant.clock`)."""
    settings, _problems = _read(path, today, strict=True)
    return settings


def read_settings(path=None, today: date | None = None) -> tuple[Settings | None, list[FlowError]]:
    """The saved settings for a conversation (`run`, `chat`, `kiosk`): each problem is a FlowError in the list
    and only that setting is left out (a typo in one line never stops the assistant); None when there are
    no usable settings at all."""
    return _read(path, today, strict=False)


def _read(path, today, strict: bool) -> tuple[Settings | None, list[FlowError]]:
    file = settings_path(path)
    problems: list[FlowError] = []

    def problem(line, message):
        error = FlowError(file, line, message)
        if strict:
            raise error
        problems.append(error)

    if not file.exists():
        if path:
            problem(0, "设置文件不存在 (settings file not found)")
        return None, problems
    text = file.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        problem(line, f"不是正确的 TOML 格式 (not valid TOML: {exc})")
        return None, problems

    def fail(key, message):
        problem(_line_of(text, key), message)

    settings = Settings()
    for key in data:
        if key not in _KEYS:
            fail(key, f"不认识的设置 '{key}' (unknown setting; known: {', '.join(sorted(_KEYS))})")
    for key in ("region", "channel", "voice"):
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                fail(key, f"'{key}' 要写成文字,加引号 (must be text in quotes)")
                continue
            setattr(settings, key, data[key].strip())
    if settings.channel and settings.channel not in CHANNELS:
        fail("channel", f"channel 只能是 {', '.join(CHANNELS)} 之一")
        settings.channel = None
    if "last_certified" in data:
        settings.last_certified = _last_certified(data["last_certified"], today or clock.today(),
                                                  lambda message: fail("last_certified", message))
    return settings, problems


def _last_certified(value, today: date, fail) -> date | None:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, date) or hasattr(value, "hour"):
        fail("日期要写成 2026-03-05 这样 (date must be YYYY-MM-DD)")
        return None
    if value > today:
        fail(f"上次认证的日期 {value.isoformat()} 在今天 ({today.isoformat()}) 以后:日期写错了,或者电脑的日期不对"
             " (the last certification cannot be in the future: a typo, or the computer's clock is wrong)")
        return None
    return value


PERSONAL = ("last_certified", "channel")
"""Settings about one person: a kiosk serves many people and must not use them (they belong to a home install)."""


def for_kiosk(settings: Settings | None) -> tuple[Settings | None, list[str]]:
    """The settings a kiosk may use (the place and the voice), and the names of the personal ones left out."""
    if settings is None:
        return None, []
    ignored = [key for key in PERSONAL if getattr(settings, key) is not None]
    return Settings(region=settings.region, voice=settings.voice), ignored


def describe_problems(problems: list[FlowError]) -> list[str]:
    """One plain line per problem, saying what the assistant does instead."""
    return [f"设置文件有一处不对,这一项先不用,按一般的规定说 (a setting is ignored): {problem}"
            for problem in problems]


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
