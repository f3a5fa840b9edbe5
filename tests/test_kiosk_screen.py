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
from assistant.kiosk.layout import ELLIPSIS, fit, paginate, wrap
from tests.kioskdriver import ROOT, ask_back

pytestmark = pytest.mark.seconds(45)  # alone, idle 2 cores: the longest units start first (conftest.py)

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
        assert all(len(line) <= width for line in lines), f"a closing mark hangs over the edge: {lines}"
    lines = wrap("做,陌生链接千万别点。", width_at(1), 10)
    assert lines == ["做,陌生链接千万别", "点。"], "the mark takes the character before it down"
    assert wrap("自己打12333。", width_at(1), 8) == ["自己打", "12333。"], "numbers stay whole"


def test_fit_picks_the_largest_size_and_pages_what_the_smallest_cannot_hold():
    sizes = [*range(150, 64, -4), 64]
    short = fit(["好了。"], width_at, lambda px: px * 1.35, 1000, 500, sizes)
    assert short.px == 150 and not short.paged and short.lines == ("好了。",)
    text = "很长的一句话" * 40
    long = fit([text], width_at, lambda px: px * 1.35, 1000, 500, sizes)
    assert long.px == 64 and long.paged, "below the minimum size never: pages instead"
    assert "".join(long.lines) == text and ELLIPSIS not in "".join(long.lines), "nothing is cut off"
    assert all(len(page) <= 500 // (64 * 1.35) for page in long.pages)
    assert all(len(line) * 64 <= 1000 for line in long.lines)


def test_pages_break_between_sentences_unless_one_is_longer_than_a_page():
    assert paginate([["a1", "a2"], ["b1", "b2"], ["c1"]], 3) == (("a1", "a2"), ("b1", "b2", "c1"))
    assert paginate([["a1"], ["b1", "b2", "b3", "b4", "b5"]], 2) == (("a1",), ("b1", "b2"), ("b3", "b4"), ("b5",))
    scam = load_flows().answers["scam"].sentences
    paged = fit(scam, width_at, lambda px: px * 1.3, 900, 400, [64])  # 4 lines of 14 characters a page
    assert paged.paged and "".join(paged.lines) == "".join(scam)
    assert all(any(sentence.startswith(page[0]) for sentence in scam) for page in paged.pages), paged.pages


# --- a virtual screen ---------------------------------------------------------------------------------------------
SIZES = [(1024, 768), (1280, 800), (1920, 1080)]
"""Besides the old laptop: the other common kiosk and monitor sizes, every one tested."""


@pytest.fixture(scope="module")
def xserver():
    """One virtual X server with a screen of each size (":N.0" is WIDTH x HEIGHT, then SIZES), for the module.

    One server for all: Tk keeps its connection to a display until the process ends, so a server stopped while
    tests still run would end the test process itself.
    """
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("Xvfb is not installed (Debian package xvfb): the kiosk screen was NOT tested")
    assert shutil.which("import"), "import missing: sudo apt-get install imagemagick"
    screens = []
    for number, (width, height) in enumerate([(WIDTH, HEIGHT), *SIZES]):
        screens += ["-screen", str(number), f"{width}x{height}x24"]
    read, write = os.pipe()
    # -displayfd: Xvfb picks a free display number itself and writes it once it accepts clients.
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), *screens, "-br", "-nolisten", "tcp"], pass_fds=[write],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@pytest.fixture(scope="module")
def display(xserver):
    return f"{xserver}.0"


def screenshot(display, path=None, size=(WIDTH, HEIGHT)) -> np.ndarray:
    """The whole X screen as (height, width, 3) RGB, by ImageMagick's `import` (Debian package imagemagick)."""
    width, height = size
    if path:
        subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True, timeout=30)
    raw = subprocess.run(["import", "-display", display, "-window", "root", "-depth", "8", "rgb:-"],
                         capture_output=True, check=True, timeout=30).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).astype(int)


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
    assert light_blue(after[:screen.step_box[1]]).sum() > 500, "第1步/共16步 is shown at the top"
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


# --- the whole text, at every common screen size ----------------------------------------------------------------
EDGE = 3
"""The outermost pixel rows and columns that must hold no text at all."""


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module", params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def sized_display(request, xserver):
    return f"{xserver}.{SIZES.index(request.param) + 1}", request.param


@pytest.fixture
def kiosk_at(sized_display, flows, understander):
    """The full-screen kiosk at one screen size, following a voice that the test plays by hand."""
    import tkinter

    from assistant.kiosk.screen import KioskScreen

    display, size = sized_display
    root = tkinter.Tk(screenName=display)
    clock = FakeClock()
    kiosk_screen = KioskScreen(root, clock=clock)
    kiosk_screen.clock_, kiosk_screen.size, kiosk_screen.display = clock, size, display
    spoken = []
    kiosk_screen.controller = KioskController(flows, understander=understander, speak=spoken.append,
                                              show=kiosk_screen.render, follow_voice=True,
                                              idle_status=v.push_to_talk_status("空格键"))
    kiosk_screen.spoken = spoken
    root.update()
    kiosk_screen.controller.start()
    yield kiosk_screen
    root.destroy()


def check_nothing_runs_off(kiosk_screen, what, save_dir=None) -> np.ndarray:
    """Screenshot, then: the outermost pixels are background (or the status bar's own colour) — no text touches
    an edge; every text lies inside the window; the big text stays clear of the lines below it."""
    from assistant.kiosk.screen import BACKGROUND, STATUS_BACKGROUND

    kiosk_screen.root.update()
    width, height = kiosk_screen.size
    path = save_dir / f"{what}-{width}x{height}.png" if save_dir else None
    shot = screenshot(kiosk_screen.display, path, kiosk_screen.size)
    plain = [colour(BACKGROUND), colour(STATUS_BACKGROUND[kiosk_screen.controller.view.mode])]
    frame = np.concatenate([shot[:EDGE].reshape(-1, 3), shot[-EDGE:].reshape(-1, 3),
                            shot[:, :EDGE].reshape(-1, 3), shot[:, -EDGE:].reshape(-1, 3)])
    touching = ~np.any([(frame == c).all(axis=-1) for c in plain], axis=0)
    assert not touching.any(), f"{what}: {touching.sum()} pixels of text on the window's edge ({width}x{height})"
    canvas = kiosk_screen.canvas
    boxes = {tag: [canvas.bbox(item) for item in canvas.find_withtag(tag)]
             for tag in ("big", "heard", "options", "option_box", "progress", "page", "status")}
    for tag, found in boxes.items():
        for x0, y0, x1, y1 in found:
            assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height, f"{what}: {tag} {x0, y0, x1, y1} off screen"
    below = [box[1] for tag in ("heard", "options", "option_box") for box in boxes[tag]]
    above = [box[3] for tag in ("progress", "page") for box in boxes[tag]]
    big = boxes["big"]
    assert big, f"{what}: no big text"
    assert max(b[3] for b in big) <= min(below + [height]), f"{what}: the big text runs into the lines below"
    assert min(b[1] for b in big) >= max(above + [0]), f"{what}: the big text runs into the top line"
    for text in kiosk_screen.texts():
        assert ELLIPSIS not in text, f"{what}: cut short: {text}"
    return shot


def check_whole(kiosk_screen, sentence_or_sentences, what, save_dir=None):
    """Every page of the big text, one after the other: together they are the whole text, and none runs off."""
    from assistant.kiosk.screen import MIN_STEP_PX

    expected = "".join(sentence_or_sentences if isinstance(sentence_or_sentences, tuple) else [sentence_or_sentences])
    pages = kiosk_screen.pages
    seen = []
    for number in range(len(pages)):
        if number:  # the clock to the moment this page turns
            start = kiosk_screen.clock_.now
            for _ in range(100):
                kiosk_screen.clock_.now += 0.25
                kiosk_screen._draw()
                if kiosk_screen.page == number:
                    break
            assert kiosk_screen.page == number, f"{what}: page {number + 1} never came ({start})"
        assert kiosk_screen.step_px >= MIN_STEP_PX
        seen.append("".join(kiosk_screen.texts("big")))
        check_nothing_runs_off(kiosk_screen, f"{what}-page{number + 1}", save_dir if number == 0 else None)
    assert "".join(seen) == expected, f"{what}: the screen showed {seen}, not the whole text"
    return len(pages)


def test_the_scam_answer_is_shown_whole_sentence_by_sentence(kiosk_at, flows, tmp_path):
    kiosk = kiosk_at.controller
    kiosk.heard("这是不是骗子")
    reply = kiosk_at.spoken[-1]
    assert reply.intent == "q_scam"
    for index, sentence in enumerate(reply.parts):
        kiosk_at.clock_.now += 10
        kiosk.speaking(reply, index, 0.25 * len(sentence))
        kiosk_at.root.update()
        assert kiosk_at.texts("big") and "".join(kiosk_at.texts("big")) in sentence
        check_whole(kiosk_at, sentence, f"scam{index}", tmp_path)
    # The answer of flows/knowledge.yaml as written (its longest sentence was once cut to "认证只在掌上……"),
    # all at once, as the screen shows a reply when there is no voice to follow.
    answer = tuple(flows.answers["scam"].sentences)
    assert any(s.startswith("认证只在掌上") and len(s) > 40 for s in answer)
    kiosk_at.render(v.ReplyView(sentences=answer, rest=answer, options=("对", "不对"), progress=None, status="请直接说话"))
    check_whole(kiosk_at, answer, "scam-answer", tmp_path)


def test_a_sentence_longer_than_the_screen_turns_its_pages_with_the_voice(kiosk_at, flows):
    help_always = flows.say["help_always"]
    sentence = help_always * 3  # no sentence of flows/ is this long: even the smallest size needs pages
    kiosk_at.render(v.ReplyView(sentences=(sentence,), rest=(sentence,), options=("好了", "再说一遍", "上一步"),
                                progress="第3步/共16步", title="支付宝代人认证", status="请按空格键说话", heard="这个怎么弄",
                                speaking=0, seconds=30.0))
    assert len(kiosk_at.pages) >= 2 and kiosk_at.page == 0
    assert kiosk_at.texts("page") == [f"第1/{len(kiosk_at.pages)}页"]
    assert check_whole(kiosk_at, sentence, "long") >= 2
    assert kiosk_at.clock_.now - 100 < 30, "every page came while the sentence was being said"


def test_after_an_answer_the_step_comes_back_with_its_title_and_progress(kiosk_at, flows, tmp_path):
    kiosk = kiosk_at.controller
    kiosk.heard("微信")
    kiosk.speaking(kiosk_at.spoken[-1], None)
    kiosk_at.root.update()
    step = flows.states["wechat.prepare.phone"]
    check_whole(kiosk_at, tuple(kiosk_at.spoken[-1].parts), "step", tmp_path)
    kiosk.heard("多久认证一次")
    answer = kiosk_at.spoken[-1]
    kiosk.speaking(answer, 1, 3.0)
    kiosk_at.root.update()
    assert "".join(kiosk_at.texts("big")) == answer.parts[1]
    kiosk.speaking(answer, None)
    kiosk_at.root.update()
    assert "".join(kiosk_at.texts("big")) == "".join(step.ask_sentences)
    assert kiosk_at.texts("progress") == ["微信 · 第1步/共16步"]
    assert kiosk_at.texts("options") == ["您可以说:", "“好了”", "“再说一遍”", "“上一步”"]
    check_whole(kiosk_at, tuple(step.ask_sentences), "back-to-step", tmp_path)


def test_a_question_back_offers_yes_and_no(kiosk_at, tmp_path):
    kiosk = kiosk_at.controller
    kiosk.heard("微信")
    ask_back(kiosk.heard, lambda: kiosk_at.spoken[-1])
    reply = kiosk_at.spoken[-1]
    assert reply.intent == "confirm"
    kiosk.speaking(reply, None)
    kiosk_at.root.update()
    assert [t for t in kiosk_at.texts("options") if t != "您可以说:"] == ["“对”", "“不对”"]
    check_whole(kiosk_at, reply.parts[0], "confirm", tmp_path)
    assert yellow(check_nothing_runs_off(kiosk_at, "confirm")).sum() > 500, "the choices are drawn, in yellow"


@pytest.mark.parametrize("said, secret", [("我的电话是幺三八幺二三四五六七八", "幺三八"),
                                          ("身份证110101199001011234你记一下", "1101"),
                                          ("验证码是四八三九二零", "四八三")])
def test_a_private_number_heard_is_shown_only_masked(kiosk_at, tmp_path, said, secret):
    import re

    kiosk = kiosk_at.controller
    kiosk.heard(said)
    kiosk.speaking(kiosk_at.spoken[-1], 0, 5.0)
    kiosk_at.root.update()
    heard = "".join(kiosk_at.texts("heard"))
    assert "***" in heard and not re.search(r"[0-9零〇一二三四五六七八九幺两]{4,}", heard), heard
    for text in kiosk_at.texts():
        assert secret not in text, text
    check_whole(kiosk_at, kiosk_at.spoken[-1].parts[0], "private", tmp_path)
    # Even a view that was not masked before (a future caller's mistake) is masked when drawn.
    kiosk_at.render(v.ReplyView(sentences=("好的。",), rest=("好的。",), options=(), progress=None, status="请直接说话",
                                heard=said))
    assert secret not in "".join(kiosk_at.texts("heard")) and "***" in "".join(kiosk_at.texts("heard"))
