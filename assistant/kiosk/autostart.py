"""Start the kiosk with the desktop and restart it after a crash: a systemd user unit plus an XDG autostart entry.

The desktop entry is what every desktop runs at login; it hands the display to the systemd user manager and
starts the unit (Restart=always), so there is only ever one kiosk. Without systemd it runs the kiosk itself.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from assistant import ROOT
from assistant.paths import xdg_config_home as config_home

UNIT_NAME = "pension-assistant-kiosk.service"
DESKTOP_NAME = "pension-assistant-kiosk.desktop"
DISPLAY_VARIABLES = ("DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY")


def unit_path() -> Path:
    return config_home() / "systemd" / "user" / UNIT_NAME


def desktop_path() -> Path:
    return config_home() / "autostart" / DESKTOP_NAME


def kiosk_command(kiosk_args: list[str], python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "assistant", "kiosk", *kiosk_args]


def _systemd_quote(arg: str) -> str:
    # systemd splits ExecStart like a shell (quotes, C escapes) and expands % specifiers and $VARIABLES.
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if escaped and not any(c in escaped for c in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _desktop_quote(arg: str) -> str:
    # Desktop Entry spec: quote arguments with reserved characters; inside quotes escape " ` $ \ ; % becomes %%.
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{inner}"'


def unit_text(command: list[str]) -> str:
    exec_start = " ".join(_systemd_quote(a) for a in command)
    return f"""# 养老金认证助手 · 社区自助机 (pension certification assistant, kiosk mode)
# Installed by `assistant kiosk --install`; removed by `assistant kiosk --uninstall`.
[Unit]
Description=Pension certification assistant kiosk (养老金认证助手自助机)
Documentation=file://{ROOT / "README.md"}
After=graphical-session.target sound.target
PartOf=graphical-session.target
# Never give up restarting, however often it fails (an unplugged screen at boot, a bad day).
StartLimitIntervalSec=0

[Service]
Type=simple
WorkingDirectory={_systemd_quote(str(ROOT))}
ExecStart={exec_start}
Restart=always
RestartSec=3
Environment=PYTHONUNBUFFERED=1
# The conversation must not reach the journal on disk (a reply can repeat a date the user said);
# stderr keeps the kiosk's own problem lines (never anything heard) for the staff: journalctl --user -u …
StandardOutput=null
StandardError=journal

[Install]
WantedBy=graphical-session.target
"""


def desktop_text(command: list[str]) -> str:
    exec_line = " ".join(_desktop_quote(a) for a in [*command, "--autostart"])
    return f"""[Desktop Entry]
Type=Application
Version=1.0
Name=养老金认证助手自助机
Name[en]=Pension assistant kiosk
Comment=开机自动打开养老金认证助手 (starts the pension certification assistant kiosk at login)
Exec={exec_line}
Path={ROOT}
Terminal=false
NoDisplay=false
X-GNOME-Autostart-enabled=true
X-GNOME-Autostart-Delay=5
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Systemctl:
    """`systemctl --user …`, or a clear note when there is none (no systemd, no user session)."""

    def __init__(self, out=print, run=subprocess.run):
        self.path = shutil.which("systemctl")
        self.out = out
        self.run_process = run

    def __call__(self, *args: str) -> bool:
        if not self.path:
            return False
        try:
            done = self.run_process([self.path, "--user", *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.out(f"  systemctl --user {' '.join(args)}: {exc}")
            return False
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[:1]
            self.out(f"  systemctl --user {' '.join(args)}: {reason[0] if reason else f'exit {done.returncode}'}")
        return done.returncode == 0


def install(kiosk_args: list[str], out=print, systemctl: Systemctl | None = None) -> list[Path]:
    """Write the unit and the autostart entry; enable the unit when a systemd user manager answers."""
    command = kiosk_command(kiosk_args)
    _write(unit_path(), unit_text(command))
    _write(desktop_path(), desktop_text(command))
    out(f"已安装 (installed): {unit_path()}")
    out(f"已安装 (installed): {desktop_path()}")
    systemctl = systemctl or Systemctl(out)
    if not systemctl.path:
        out("没有 systemctl:登录桌面时由自动启动项打开自助机,出错时在程序里自己恢复。"
            " (systemctl is unavailable: the desktop autostart entry starts the kiosk; no systemd restarts)")
    elif systemctl("daemon-reload") and systemctl("enable", UNIT_NAME):
        out(f"已启用 (enabled): systemctl --user 的 {UNIT_NAME},出错会自动重启 (restarts after a crash)")
    else:
        out("systemd 用户服务现在用不了(比如没有登录桌面);下次登录时自动启动项会启动它。"
            " (the systemd user manager did not answer; the autostart entry starts the unit at the next login)")
    return [unit_path(), desktop_path()]


def uninstall(out=print, systemctl: Systemctl | None = None) -> list[Path]:
    systemctl = systemctl or Systemctl(out)
    if systemctl.path and unit_path().exists():
        systemctl("disable", "--now", UNIT_NAME)
    removed = []
    for path in (unit_path(), desktop_path()):
        if path.exists():
            path.unlink()
            removed.append(path)
            out(f"已删除 (removed): {path}")
    if systemctl.path and removed:
        systemctl("daemon-reload")
    if not removed:
        out("没有找到自动启动的文件,不用删除 (nothing was installed)")
    return removed


def start_from_desktop(out=print, systemctl: Systemctl | None = None) -> bool:
    """Run by the autostart entry: give the display to systemd and start the unit; False = run it ourselves."""
    systemctl = systemctl or Systemctl(out)
    if not (systemctl.path and unit_path().exists()):
        return False
    present = [v for v in DISPLAY_VARIABLES if os.environ.get(v)]
    if present and not systemctl("import-environment", *present):
        return False
    return systemctl("start", UNIT_NAME)
