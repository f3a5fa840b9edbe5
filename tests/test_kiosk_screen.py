"""The big-text screen, for real: Tk on a virtual X display (Xvfb), screenshots checked pixel by pixel.

Measured, not trusted: the height of the rendered characters, the colours, what changes between steps.
"""

import os
import select
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from assistant.flows import load_flows
from assistant.kiosk import view as v
from assistant.kiosk.controller import KioskController
from assistant.kiosk.layout import ELLIPSIS, fit, wrap
from tests.kioskdriver import ROOT

WIDTH, HEIGHT = 1366, 768  # the commonest old-laptop screen
MIN_INK_PX = 50
"""A CJK character at 48 pt (64 px at 96 dpi) is about 56 px of ink; below 50 the text is not that big."""


# --- layout arithmetic (no display needed) ----------------------------------------------------------------------
def width_at(px):
    return lambda text: len(text) * px


def test_wrap_keeps_numbers_whole_and_no_line_starts_with_closing_punctuation():
    lines = wrap("或者“掌上12333”。家里人帮您弄,就说“家里人帮忙”。", width_at(1), 8)
    assert "".join(lines) == "或者“掌上12333”。家里人帮您弄,就说“家里人帮忙”。"
    assert any("12333" in line for line in lines)
    assert not any(line[0] in ",。”、" for line in lines)
    assert not any(line[-1] == "“" for line in lines)
    for width in range(4, 12):  # wherever the break falls
        lines = wrap("可以说“微信”、“支付宝”,或者“掌上12333”。", width_at(1), width)
        assert not any(line[-1] == "“" or line[0] in ",。”、" for line in lines), (width, lines)
        assert "".join(lines) == "可以说“微信”、“支付宝”,或者“掌上12333”。"


def test_fit_picks_the_largest_size_and_never_goes_below_the_smallest():
    sizes = [*range(150, 64, -4), 64]
    short = fit(["好了。"], width_at, lambda px: px * 1.35, 1000, 500, sizes)
    assert short.px == 150 and not short.cut
    long = fit(["很长的一句话" * 40], width_at, lambda px: px * 1.35, 1000, 500, sizes)
    assert long.px == 64 and long.cut and long.lines[-1].endswith(ELLIPSIS)
    assert all(len(line) * 64 <= 1000 for line in long.lines)


# --- a virtual screen ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def display():
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("Xvfb is not installed (Debian package xvfb): the kiosk screen was NOT tested")
    for tool in ("import", "convert"):
        assert shutil.which(tool), f"{tool} missing: sudo apt-get install imagemagick"
    read, write = os.pipe()
    # -displayfd: Xvfb picks a free display number itself and writes it once it accepts clients.
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-br",
                             "-nolisten", "tcp"], pass_fds=[write], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    # Read up to the newline: closing the pipe before Xvfb wrote it makes Xvfb quit.
    received = b""
    while not received.endswith(b"\n") and select.select([read], [], [], 30)[0]:
        chunk = os.read(read, 16)
        if not chunk:
            break
        received += chunk
    os.close(read)
    number = received.decode().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def screenshot(display, path=None) -> np.ndarray:
    png = subprocess.run(["import", "-display", display, "-window", "root", "png:-"], capture_output=True,
                         check=True, timeout=30).stdout
    if path:
        path.write_bytes(png)
    raw = subprocess.run(["convert", "png:-", "-depth", "8", "rgb:-"], input=png, capture_output=True,
                         check=True, timeout=30).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3).astype(int)


def ink_bands(region: np.ndarray, is_ink) -> list[int]:
    """Heights of the horizontal bands that hold ink: one per text line."""
    rows = is_ink(region).any(axis=1)
    bands, run = [], 0
    for row in rows:
        if row:
            run += 1
        elif run:
            bands.append(run)
            run = 0
    return bands + ([run] if run else [])


def white(a):
    return (a > 200).all(axis=-1)


def yellow(a):
    return (a[..., 0] > 200) & (a[..., 1] > 170) & (a[..., 2] < 140)


def light_blue(a):
    return (a[..., 0] < 190) & (a[..., 1] > 180) & (a[..., 2] > 220)


def colour(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


@pytest.fixture(scope="module")
def flows():
    return load_flows()


@pytest.fixture
def screen(display, flows):
    import tkinter

    from assistant.kiosk.screen import KioskScreen

    root = tkinter.Tk(screenName=display)
    pressed = []
    kiosk_screen = KioskScreen(root, on_key=lambda: pressed.append(1))
    kiosk_screen.pressed = pressed
    kiosk_screen.controller = KioskController(flows, speak=lambda r: None, show=kiosk_screen.render,
                                              idle_status=v.push_to_talk_status("空格键"))
    yield kiosk_screen
    root.destroy()


def show(screen, display, path=None):
    screen.root.update()
    return screenshot(display, path)


def test_greeting_is_big_high_contrast_chinese(screen, display, tmp_path):
    from assistant.kiosk.screen import BACKGROUND, CJK_FAMILIES, MIN_STEP_PX, STATUS_BACKGROUND

    assert screen.family in CJK_FAMILIES, "no Chinese font: sudo apt-get install fonts-noto-cjk"
    screen.controller.start()
    shot = show(screen, display, tmp_path / "greeting.png")
    background = (shot == colour(BACKGROUND)).all(axis=-1).mean()
    assert background > 0.55, f"mostly the background colour, got {background:.0%}"
    left, top, right, bottom = screen.step_box
    bands = ink_bands(shot[top:bottom, left:right], white)
    assert len(bands) >= 3 and min(bands) >= MIN_INK_PX, f"line heights in pixels: {bands}"
    assert screen.step_px >= MIN_STEP_PX
    assert yellow(shot[bottom:]).sum() > 2000, "the options are drawn in yellow below the step"
    assert not light_blue(shot[:top]).any(), "no progress line at the greeting"
    status = shot[HEIGHT - 20:HEIGHT - 5]
    assert (status == colour(STATUS_BACKGROUND["idle"])).all(axis=-1).mean() > 0.8


def test_the_big_text_follows_the_dialog(screen, display, tmp_path):
    screen.controller.start()
    before = show(screen, display)
    box_before = screen.step_box
    screen.controller.heard("微信")
    after = show(screen, display, tmp_path / "step.png")
    left, top, right, bottom = box_before
    changed = (before[top:bottom, left:right] != after[top:bottom, left:right]).any(axis=-1).mean()
    assert changed > 0.05, f"the step area barely changed ({changed:.1%})"
    assert light_blue(after[:screen.step_box[1]]).sum() > 500, "第1步/共15步 is shown at the top"
    left, top, right, bottom = screen.step_box
    assert min(ink_bands(after[top:bottom, left:right], white)) >= MIN_INK_PX


def test_a_long_answer_stays_at_least_48_points(screen, display, tmp_path):
    from assistant.kiosk.screen import MIN_STEP_PX

    screen.controller.start()
    screen.controller.heard("听说有静默认证")
    if screen.controller.session.pending:  # asked "您是说“静默认证”吗?": a user says yes, and the answer shows
        screen.controller.heard("对")
    assert "大数据" in "".join(screen.controller.session.last_content)
    shot = show(screen, display, tmp_path / "long.png")
    assert screen.step_px == MIN_STEP_PX
    left, top, right, bottom = screen.step_box
    bands = ink_bands(shot[top:bottom, left:right], white)
    assert len(bands) >= 3 and min(bands) >= MIN_INK_PX, bands
    assert bottom < HEIGHT - 150, "the step never runs over the options and status line"


def test_listening_and_microphone_problems_colour_the_status_line(screen, display):
    from assistant.kiosk.screen import STATUS_BACKGROUND

    screen.controller.start()
    for change, mode in ((screen.controller.listening, "listening"), (screen.controller.microphone_missing, "problem")):
        change()
        shot = show(screen, display)
        status = shot[HEIGHT - 20:HEIGHT - 5]
        assert (status == colour(STATUS_BACKGROUND[mode])).all(axis=-1).mean() > 0.8, mode


def test_the_push_to_talk_key_reaches_the_kiosk(screen, display):
    xdotool = shutil.which("xdotool")
    if not xdotool:
        pytest.skip("xdotool is not installed (Debian package xdotool): the real key press was not tested")
    screen.controller.start()
    screen.root.update()
    window = str(screen.root.winfo_id())
    subprocess.run([xdotool, "windowfocus", "--sync", window], env={**os.environ, "DISPLAY": display}, check=True,
                   timeout=30)
    subprocess.run([xdotool, "key", "space"], env={**os.environ, "DISPLAY": display}, check=True, timeout=30)
    for _ in range(100):  # X events arrive asynchronously; stop as soon as the press is seen
        screen.root.update()
        if screen.pressed:
            break
        time.sleep(0.02)
    assert screen.pressed, "pressing space did not reach the kiosk"


def test_the_real_kiosk_command_draws_each_turn(display, tmp_path):
    """`assistant kiosk --text` with its screen: type a line, the screen follows; end of input ends it."""
    env = {**os.environ, "DISPLAY": display, "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "ASSISTANT_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "kiosk", "--text"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    try:
        assert proc.stdout.readline().decode().startswith("助手: 您好"), proc.stderr.read1().decode()
        greeting = wait_for(display, lambda shot: white(shot[100:400]).sum() > 5000, "the greeting")
        proc.stdin.write("微信\n".encode())
        proc.stdin.flush()
        assert "先准备好手机" in proc.stdout.readline().decode()
        step = wait_for(display, lambda shot: light_blue(shot[:100]).sum() > 500, "the first step", tmp_path)
        assert (greeting[100:400] != step[100:400]).any(axis=-1).mean() > 0.05
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not wait_for(display, lambda shot: not shot.any(), "the window closed").any()


def wait_for(display, condition, what, save_dir=None, seconds=30):
    """Screenshots until the condition holds (the kiosk draws from its own thread)."""
    deadline = time.monotonic() + seconds
    while True:
        shot = screenshot(display, save_dir / "kiosk.png" if save_dir else None)
        if condition(shot):
            return shot
        if time.monotonic() > deadline:
            pytest.fail(f"the screen never showed {what}")
        time.sleep(0.1)
