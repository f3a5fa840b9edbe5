"""`assistant kiosk --install/--uninstall`: a systemd user unit and an XDG autostart entry, in a scratch HOME.

systemctl is never called for real: a recording stand-in is put first on PATH (or none at all).
"""

import shlex
import shutil
import subprocess
import sys

import pytest

from assistant.kiosk.autostart import DESKTOP_NAME, UNIT_NAME
from tests.kioskdriver import run_main

FAKE_SYSTEMCTL = """#!/bin/sh
echo "$@" >> "$FAKE_SYSTEMCTL_LOG"
if [ -n "$FAKE_SYSTEMCTL_FAIL" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi
exit 0
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A scratch HOME and XDG_CONFIG_HOME; PATH holds only a recording systemctl."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL)
    fake.chmod(0o755)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_SYSTEMCTL_LOG", str(tmp_path / "systemctl.log"))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FAKE_SYSTEMCTL_FAIL", raising=False)
    return tmp_path


def systemctl_calls(home):
    log = home / "systemctl.log"
    return log.read_text().splitlines() if log.exists() else []


def value(text, key):
    return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "="))


def test_install_writes_unit_and_desktop_entry_under_xdg_config_home(home, monkeypatch, capsys):
    assert run_main(monkeypatch, "kiosk", "--install", "--hands-free", "--idle", "120") == 0
    unit = (home / "xdg" / "systemd" / "user" / UNIT_NAME).read_text(encoding="utf-8")
    desktop = (home / "xdg" / "autostart" / DESKTOP_NAME).read_text(encoding="utf-8")
    assert not (home / "home" / ".config").exists()
    assert "Restart=always" in unit and "StartLimitIntervalSec=0" in unit
    assert "[Install]" in unit and "WantedBy=graphical-session.target" in unit
    assert shlex.split(value(unit, "ExecStart")) == [sys.executable, "-m", "assistant", "kiosk", "--hands-free",
                                                     "--idle", "120"]
    assert "[Desktop Entry]" in desktop and "Type=Application" in desktop and "Terminal=false" in desktop
    assert shlex.split(value(desktop, "Exec")) == [sys.executable, "-m", "assistant", "kiosk", "--hands-free",
                                                   "--idle", "120", "--autostart"]
    assert systemctl_calls(home) == ["--user daemon-reload", f"--user enable {UNIT_NAME}"]
    assert "已启用 (enabled)" in capsys.readouterr().out


def test_install_without_xdg_config_home_uses_dot_config(home, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert run_main(monkeypatch, "kiosk", "--install") == 0
    assert (home / "home" / ".config" / "systemd" / "user" / UNIT_NAME).is_file()
    assert (home / "home" / ".config" / "autostart" / DESKTOP_NAME).is_file()


def test_arguments_with_spaces_and_percent_survive_both_files(home, monkeypatch, tmp_path):
    config = tmp_path / "家里 的 设置" / "50%.toml"
    assert run_main(monkeypatch, "kiosk", "--install", "--key", "F12", "--key-label", "红色 大按钮", "--config", config) == 0
    unit = (home / "xdg" / "systemd" / "user" / UNIT_NAME).read_text(encoding="utf-8")
    desktop = (home / "xdg" / "autostart" / DESKTOP_NAME).read_text(encoding="utf-8")
    expected = [sys.executable, "-m", "assistant", "kiosk", "--key", "F12", "--key-label", "红色 大按钮",
                "--config", str(config)]
    # Both formats read a lone % as a specifier/field code (%h, %f …): a literal % must be written %%.
    for line in (value(unit, "ExecStart"), value(desktop, "Exec")):
        assert "%" not in line.replace("%%", ""), line
    # After that they split like a shell.
    assert shlex.split(value(unit, "ExecStart").replace("%%", "%")) == expected
    assert shlex.split(value(desktop, "Exec").replace("%%", "%")) == [*expected, "--autostart"]


def test_systemd_itself_accepts_the_unit(home, monkeypatch):
    analyze = shutil.which("systemd-analyze", path="/usr/bin:/bin")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd): the unit file was not verified")
    run_main(monkeypatch, "kiosk", "--install", "--text", "--config", home / "a b" / "s.toml")
    unit = home / "xdg" / "systemd" / "user" / UNIT_NAME
    # `verify` parses the file offline (no systemd manager, no systemctl); warnings go to stderr.
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and UNIT_NAME not in proc.stderr, proc.stderr


def test_the_desktop_entry_is_valid(home, monkeypatch):
    validate = shutil.which("desktop-file-validate", path="/usr/bin:/bin")
    if not validate:
        pytest.skip("desktop-file-validate is not installed (Debian package desktop-file-utils)")
    run_main(monkeypatch, "kiosk", "--install", "--config", home / "a b" / "s.toml")
    proc = subprocess.run([validate, str(home / "xdg" / "autostart" / DESKTOP_NAME)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout


def test_without_systemctl_the_output_says_so(home, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(home / "empty"))
    assert run_main(monkeypatch, "kiosk", "--install") == 0
    printed = capsys.readouterr().out
    assert "systemctl is unavailable" in printed and "没有 systemctl" in printed
    assert (home / "xdg" / "autostart" / DESKTOP_NAME).is_file()


def test_a_systemctl_without_user_manager_is_explained(home, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "1")
    assert run_main(monkeypatch, "kiosk", "--install") == 0
    printed = capsys.readouterr().out
    assert "Failed to connect to bus" in printed and "did not answer" in printed


def test_uninstall_removes_both_and_disables_the_unit(home, monkeypatch, capsys):
    run_main(monkeypatch, "kiosk", "--install")
    (home / "systemctl.log").unlink()
    assert run_main(monkeypatch, "kiosk", "--uninstall") == 0
    assert not (home / "xdg" / "systemd" / "user" / UNIT_NAME).exists()
    assert not (home / "xdg" / "autostart" / DESKTOP_NAME).exists()
    assert systemctl_calls(home) == [f"--user disable --now {UNIT_NAME}", "--user daemon-reload"]
    capsys.readouterr()
    assert run_main(monkeypatch, "kiosk", "--uninstall") == 0
    assert "nothing was installed" in capsys.readouterr().out


def test_at_login_the_entry_hands_the_display_to_systemd(home, monkeypatch, capsys):
    run_main(monkeypatch, "kiosk", "--install")
    (home / "systemctl.log").unlink()
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XAUTHORITY", raising=False)
    assert run_main(monkeypatch, "kiosk", "--autostart") == 0
    assert systemctl_calls(home) == ["--user import-environment DISPLAY", f"--user start {UNIT_NAME}"]
    assert "助手:" not in capsys.readouterr().out, "systemd runs the kiosk, not this process"


def test_at_login_without_systemd_the_entry_runs_the_kiosk_itself_and_writes_no_conversation(home, monkeypatch,
                                                                                               capsys):
    import json

    monkeypatch.setenv("PATH", str(home / "empty"))
    run_main(monkeypatch, "kiosk", "--install", "--text", "--no-screen")
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # the kiosk replaces it; put it back after the test
    assert run_main(monkeypatch, "kiosk", "--text", "--no-screen", "--autostart", stdin="微信\n好了\n") == 0
    # Desktop sessions append a program's output to files such as ~/.xsession-errors: nothing may go there.
    assert capsys.readouterr().out == ""
    counts = json.loads((home / "data" / "kiosk-counts.json").read_text(encoding="utf-8"))
    assert counts["sessions"] == 1, "the kiosk did run"


def test_the_unit_keeps_the_conversation_out_of_the_journal(home, monkeypatch):
    run_main(monkeypatch, "kiosk", "--install")
    unit = (home / "xdg" / "systemd" / "user" / UNIT_NAME).read_text(encoding="utf-8")
    assert "StandardOutput=null" in unit and "StandardError=journal" in unit
