"""The kiosk's brain without Tk or audio: idle and goodbye wipes, counting, the guards, the turn loop."""

import json
from datetime import date

import pytest

from assistant.dialog import Session
from assistant.errors import AudioDeviceError
from assistant.kiosk import view as v
from assistant.kiosk.controller import KioskController, TextListener
from assistant.kiosk.runner import KioskRunner
from assistant.family.stats import StatsStore
from tests.kioskdriver import ask_back, assistant, err, out

pytestmark = pytest.mark.seconds(14)  # alone, idle 2 cores: the longest units start first (conftest.py)

GREETING = "您好!我是养老金认证小助手"


class Clock:
    """Time the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def kiosk(flows, understander, tmp_path):
    clock = Clock()
    spoken, shown, logged = [], [], []
    controller = KioskController(flows, understander=understander, today=lambda: date(2026, 11, 23), clock=clock,
                                 idle_seconds=90, stats=StatsStore(tmp_path / "counts.json"),
                                 speak=spoken.append, show=shown.append, log=logged.append,
                                 idle_status=v.push_to_talk_status("空格键"))
    controller.start()
    controller.clock_ = clock
    controller.spoken, controller.shown, controller.logged = spoken, shown, logged
    return controller


def counts(kiosk):
    return kiosk.stats.load()


def walk_to_done(kiosk):
    kiosk.heard("微信")
    for _ in range(30):
        if kiosk.session.state.endswith("face.result"):
            break
        kiosk.heard("好了")
    return kiosk.heard("成功了")


# --- what the screen gets ------------------------------------------------------------------------------------
def test_greeting_then_a_step_with_progress_options_and_what_was_heard(kiosk):
    first = kiosk.shown[-1]
    assert "".join(first.paragraphs).startswith(GREETING) and first.progress is None
    assert first.options == ("微信", "支付宝", "掌上12333") and first.status == "请按空格键说话"
    step = kiosk.heard("我用微信吧")
    assert step.progress == "第1步/共16步" and step.options == ("好了", "再说一遍", "上一步")
    # The choice is said back first, so a misheard one is noticed at once.
    assert step.heard == "我用微信吧" and step.paragraphs == ("好,咱们用微信认证。",
                                                          *kiosk.flows.states["wechat.prepare.phone"].sentences)
    assert kiosk.shown[-1] == step and kiosk.spoken[-1].state == "wechat.prepare.phone"
    assert kiosk.heard("好了").progress == "第2步/共16步"


def test_without_a_voice_to_follow_the_whole_reply_is_shown(kiosk):
    kiosk.heard("微信")
    answer = kiosk.heard("多久认证一次")
    said = kiosk.spoken[-1]
    assert "咱们接着刚才的" in said.say, "the voice still says how to go on"
    assert answer.paragraphs == tuple(said.parts) and answer.speaking is None, "all of it, the step at the end"
    assert any("十二个月" in p for p in answer.paragraphs)
    assert answer.progress == "第1步/共16步" and answer.options == ("好了", "再说一遍", "上一步")


@pytest.fixture
def following(flows, understander, tmp_path):
    """A kiosk whose voice reports each sentence (the test plays the voice by calling `speaking`)."""
    spoken, shown, logged = [], [], []
    controller = KioskController(flows, understander=understander, today=lambda: date(2026, 11, 23), clock=Clock(),
                                 speak=spoken.append, show=shown.append, log=logged.append, follow_voice=True)
    controller.start()
    controller.spoken, controller.shown, controller.logged = spoken, shown, logged
    return controller


def test_the_screen_follows_the_voice_sentence_by_sentence_then_shows_the_step_again(following):
    following.heard("微信")
    step = following.flows.states["wechat.prepare.phone"]
    answer = following.heard("这是不是骗子")
    said = following.spoken[-1]
    assert said.intent == "q_scam" and len(said.parts) > 5
    assert answer.sentences == tuple(said.parts), "the whole answer, nothing left out"
    assert answer.speaking == 0 and answer.paragraphs == (said.parts[0],), "the first sentence before the voice starts"
    for index, sentence in enumerate(said.parts):
        view = following.speaking(said, index, 2.5)
        assert view.paragraphs == (sentence,) and view.seconds == 2.5 and following.shown[-1] == view
    quiet = following.speaking(said, None)
    assert quiet.paragraphs == tuple(step.ask_sentences), "after the answer, the step again"
    assert quiet.title == "微信" and quiet.progress == "第1步/共16步" and quiet.options == ("好了", "再说一遍", "上一步")
    # A step itself rests on everything it said ("好,咱们用……" included); a late report of an old reply is ignored.
    nxt = following.heard("好了")
    assert following.speaking(said, 3) is None and following.view == nxt
    assert following.speaking(following.spoken[-1], None).paragraphs == tuple(following.spoken[-1].parts)


def test_a_voice_that_fails_leaves_the_whole_reply_on_the_screen(flows, understander):
    def speak(reply):
        raise OSError("speaker unplugged")

    controller = KioskController(flows, understander=understander, clock=Clock(), speak=speak, log=lambda m: 0,
                                 follow_voice=True)
    controller.start()
    controller.heard("微信")
    view = controller.heard("多久认证一次")
    assert view.speaking is None and view.paragraphs == view.sentences and len(view.sentences) > 3


def test_a_question_back_offers_its_own_answers(kiosk):
    kiosk.heard("微信")
    confirm = ask_back(kiosk.heard, lambda: kiosk.spoken[-1])
    assert kiosk.spoken[-1].intent == "confirm" and "您是说“好了”吗" in confirm.paragraphs[0]
    assert confirm.options == ("对", "不对")
    assert kiosk.heard("对").options == ("好了", "再说一遍", "上一步"), "answered: the step's choices again"
    kiosk.wipe()
    choose = kiosk.heard("用微信或者支付宝")
    assert kiosk.spoken[-1].intent == "choose" and set(choose.options) == {"微信", "支付宝"}


def test_numbers_are_masked_on_the_screen(kiosk):
    view = kiosk.heard("我的身份证号是110101199001011234")
    assert "1101" not in view.heard and "***" in view.heard
    for said, secret in (("我的电话是幺三八幺二三四五六七八", "幺三八"), ("验证码是四八三九二零", "四八三"),
                         ("卡号6222,0212,3456,7890", "6222")):
        view = kiosk.heard(said)
        assert secret not in view.heard and "***" in view.heard, view.heard
    kiosk.heard("身份证前六位是110105")
    view = kiosk.heard("最后是1234")  # the rest of the number, a turn later (issue 13)
    assert "1234" not in view.heard and "***" in view.heard, view.heard
    assert kiosk.heard("上次是2026-06-01认证的").heard.count("2026-06-01") == 1, "a date is shown, not hidden"


def test_push_to_talk_shows_listening_and_counts_as_activity(kiosk):
    kiosk.heard("微信")
    kiosk.clock_.now += 80
    assert kiosk.listening().mode == "listening" and kiosk.view.status == v.LISTENING
    kiosk.clock_.now += 80  # 160 s after the last reply, but only 80 s after the press
    assert kiosk.tick() is None
    assert kiosk.heard(None).mode == "idle", "nothing heard: back to 'press the key'"


# --- privacy between users -----------------------------------------------------------------------------------
def fresh_fields(session):
    return {"state": session.state, "history": session.history, "returns": session.returns,
            "misses": session.misses, "pending": session.pending, "voice": session.voice}


def test_idle_timeout_wipes_everything_and_greets_again(kiosk, flows, understander):
    kiosk.heard("微信")
    kiosk.heard("慢一点")
    kiosk.heard("乱七八糟说一通")
    kiosk.heard("下次什么时候认证")  # leaves a question pending
    assert kiosk.session.voice.rate_step == -1 and kiosk.session.pending
    spoken_before = len(kiosk.spoken)
    kiosk.clock_.now += 89.9
    assert kiosk.tick() is None
    kiosk.clock_.now += 0.1
    wiped = kiosk.tick()
    assert wiped is not None and "".join(wiped.paragraphs).startswith(GREETING)
    assert wiped.heard == "" and wiped.progress is None
    assert len(kiosk.spoken) == spoken_before + 1 and kiosk.spoken[-1].state == "greeting"
    reference = Session(flows, understander=understander, today=date(2026, 11, 23))
    reference.greet()
    assert fresh_fields(kiosk.session) == fresh_fields(reference)
    assert kiosk.session.last_content == reference.last_content
    assert not kiosk.active


def test_an_empty_kiosk_is_not_wiped_over_and_over(kiosk):
    spoken = len(kiosk.spoken)
    for _ in range(5):
        kiosk.clock_.now += 1000
        assert kiosk.tick() is None
    assert len(kiosk.spoken) == spoken, "nobody there: no greeting every 90 seconds"


def test_goodbye_wipes_after_the_farewell(kiosk):
    kiosk.heard("支付宝")
    kiosk.heard("好了")
    view = kiosk.heard("再见")
    farewell, greeting = kiosk.spoken[-2], kiosk.spoken[-1]
    assert "goodbye" in farewell.controls and farewell.state == "goodbye"
    assert greeting.state == "greeting" and kiosk.session.state == "greeting"
    assert "".join(view.paragraphs).startswith(GREETING) and view.heard == ""
    assert kiosk.session.history == [] and not kiosk.active


def test_a_new_person_gets_todays_date(flows, understander, tmp_path):
    days = iter([date(2026, 11, 23), date(2026, 11, 24)])
    controller = KioskController(flows, understander=understander, today=lambda: next(days), clock=Clock(), speak=lambda r: 0)
    controller.start()
    controller.heard("再见")
    assert controller.session.today == date(2026, 11, 24)


# --- counts ----------------------------------------------------------------------------------------------------
def test_counts_sessions_completions_topics_and_misunderstandings(kiosk):
    kiosk.heard("多久认证一次")
    kiosk.heard("家里老人卧床出不了门")
    kiosk.heard("下次什么时候认证")
    kiosk.heard("今年三月五号")  # the answer to that question, not a second one
    kiosk.heard("hello there")
    kiosk.heard("乱七八糟说一通")
    done = walk_to_done(kiosk)
    assert done.paragraphs and kiosk.session.state == "done"
    kiosk.heard("多久认证一次")  # still in done: no second completion
    c = counts(kiosk)
    assert c.sessions == 1 and c.completions == 1
    assert c.topics == {"q_frequency": 2, "bedridden": 1, "q_next_date": 1}
    assert c.misunderstandings == {"foreign": 1, "unknown": 1}
    kiosk.heard("再见")
    kiosk.heard("支付宝")
    assert counts(kiosk).sessions == 2


def test_nothing_a_user_said_reaches_the_disk(kiosk, tmp_path):
    said = ["我叫王秀英", "我的身份证号是110101199001011234", "验证码是483920", "微信", "我住在幸福路8号",
            "多久认证一次"]
    for text in said:
        kiosk.heard(text)
    files = list(tmp_path.rglob("*"))
    assert [f.name for f in files] == ["counts.json"]
    stored = files[0].read_text(encoding="utf-8")
    for text in said + ["王秀英", "110101", "483920", "幸福路"]:
        assert text not in stored
    assert set(json.loads(stored)) == {"version", "since", "sessions", "completions", "topics", "misunderstandings"}


# --- one failure never ends the kiosk --------------------------------------------------------------------------
def test_a_failing_turn_starts_over_and_logs_no_user_words(kiosk, monkeypatch):
    kiosk.heard("微信")
    real = kiosk.session.handle

    def broken(text):
        raise ValueError(f"cannot handle {text}")

    monkeypatch.setattr(kiosk.session, "handle", broken)
    view = kiosk.heard("我叫王秀英")
    assert "".join(view.paragraphs).startswith(GREETING) and kiosk.session.state == "greeting"
    assert kiosk.logged and "ValueError" in kiosk.logged[-1] and "王秀英" not in "".join(kiosk.logged)
    monkeypatch.setattr(kiosk.session, "handle", real)
    step, total = kiosk.flows.states["alipay.prepare.phone"].progress
    assert kiosk.heard("支付宝").progress == f"第{step}步/共{total}步"


def test_a_broken_speaker_still_shows_the_words(flows, understander):
    shown, logged = [], []

    def speak(reply):
        raise OSError("speaker unplugged")

    controller = KioskController(flows, understander=understander, clock=Clock(), speak=speak, show=shown.append,
                                 log=logged.append)
    controller.start()
    view = controller.heard("微信")
    assert view.progress == "第1步/共16步" and shown[-1] == view
    assert all("speech" in line and "OSError" in line for line in logged) and len(logged) == 2


def test_counts_that_cannot_be_written_do_not_stop_the_kiosk(flows, understander, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    logged = []
    controller = KioskController(flows, understander=understander, clock=Clock(), speak=lambda r: 0, log=logged.append,
                                 stats=StatsStore(blocker / "counts.json"))
    controller.start()
    controller.heard("微信")
    assert controller.heard("好了").progress == "第2步/共16步"
    assert len(logged) == 1 and "counts not saved" in logged[0]


# --- the turn loop ---------------------------------------------------------------------------------------------
class ScriptedListener:
    """Plays back turns: text, None (nobody spoke), or an exception (the microphone gone)."""

    def __init__(self, script, clock, seconds_per_turn=1.0):
        self.script = list(script)
        self.clock = clock
        self.seconds = seconds_per_turn
        self.expected = []

    def listen(self, expected_phrases, timeout):
        self.expected.append(list(expected_phrases))
        self.clock.now += self.seconds
        if not self.script:
            raise EOFError
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def runner_for(kiosk, script, hands_free=True, seconds_per_turn=1.0):
    listener = ScriptedListener(script, kiosk.clock_, seconds_per_turn)
    pauses = []

    def pause(seconds):
        pauses.append(seconds)
        kiosk.clock_.now += seconds

    runner = KioskRunner(kiosk, listener, hands_free=hands_free, clock=kiosk.clock_, pause=pause,
                         log=kiosk.logged.append)
    kiosk.spoken.clear()  # run() greets again itself
    kiosk.shown.clear()
    return runner, listener, pauses


def test_loop_survives_an_unplugged_microphone(kiosk):
    gone = AudioDeviceError("麦克风没有连接 (no microphone)")
    runner, listener, pauses = runner_for(kiosk, ["微信", gone, gone, "好了"])
    assert runner.run() == 0
    statuses = [view.status for view in kiosk.shown]
    assert statuses.count(v.MIC_MISSING) == 1, "said once, not at every retry"
    assert pauses == [runner.retry_seconds, runner.retry_seconds]
    assert kiosk.session.state == "wechat.prepare.network", "the conversation went on where it was"
    assert kiosk.view.status != v.MIC_MISSING and not kiosk.mic_missing
    assert "好了" in listener.expected[0] or "微信" in listener.expected[0]


class ProbedListener(ScriptedListener):
    """A microphone that can be looked at without listening (MicListener.check)."""

    def __init__(self, script, clock, present):
        super().__init__(script, clock)
        self.present = present
        self.checks = 0

    def check(self):
        self.checks += 1
        if not self.present():
            raise AudioDeviceError("麦克风没有连接 (no microphone)")


def test_the_microphone_line_clears_by_itself_when_it_is_back(kiosk):
    """Push-to-talk: nobody presses the key while the microphone is missing; the red line still goes away."""
    plugged = iter([False, False, True])
    runner, _, pauses = runner_for(kiosk, [], hands_free=False)
    runner.listener = listener = ProbedListener([], kiosk.clock_, lambda: next(plugged))
    runner.talk.wait = lambda timeout: runner.talk.is_set()  # no real waiting
    kiosk.microphone_missing()
    assert kiosk.view.mode == "problem"
    for _ in range(3):
        assert runner._turn()
    assert listener.checks == 3 and pauses == [runner.retry_seconds, runner.retry_seconds]
    assert not kiosk.mic_missing and kiosk.view.mode == "idle" and kiosk.view.status == "请按空格键说话"
    assert listener.expected == [], "no key was pressed: nothing was listened to"
    runner._turn()
    assert listener.checks == 3, "looked at only while missing"


class FakeMicrophone:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.closed = False

    def read(self, timeout=1.0):
        return self.chunks.pop(0) if self.chunks else None

    def close(self):
        self.closed = True


def test_the_live_listener_checks_the_microphone_without_a_turn():
    from assistant.live.loop import MicListener

    attempts = []

    def open_microphone():
        attempts.append(1)
        if len(attempts) == 1:
            raise AudioDeviceError("麦克风没有连接 (no microphone)")
        return mics.pop(0)

    mics = [FakeMicrophone([]), FakeMicrophone([b"\x01\x00" * 1600])]
    listener = MicListener(None, None, open_microphone, None)
    with pytest.raises(AudioDeviceError):
        listener.check()  # not plugged in
    silent = mics[0]
    with pytest.raises(AudioDeviceError):
        listener.check()  # opens, but no sound comes
    assert silent.closed and listener.mic is None
    listener.check()
    assert listener.mic is not None and listener._early == [b"\x01\x00" * 1600], "that sound is heard, not lost"


def test_typed_turns_still_go_sentence_by_sentence(monkeypatch):
    import threading

    from assistant.kiosk.controller import ReadingPace

    pace = ReadingPace()
    monkeypatch.setattr(pace, "SECONDS_PER_CHAR", 0.001)
    monkeypatch.setattr(pace, "SHORTEST", 0.01)
    monkeypatch.setattr(pace, "PAUSE", 0.01)
    reports, done = [], threading.Event()
    pace.say(["第一句。", "第二句,长一点。"], lambda i, s: (reports.append((i, s)), i is None and done.set()))
    assert done.wait(5)
    assert [r[0] for r in reports] == [0, 1, None] and reports[1][1] == pytest.approx(0.01)


def test_loop_wipes_after_silence_and_goes_on(kiosk):
    runner, _, _ = runner_for(kiosk, ["微信"] + [None] * 100 + ["支付宝"])
    runner.run()
    states = [r.state for r in kiosk.spoken]
    assert states == ["greeting", "wechat.prepare.phone", "greeting", "alipay.prepare.phone"]


def test_loop_keeps_going_when_the_listener_fails(kiosk):
    runner, _, pauses = runner_for(kiosk, [RuntimeError("driver hiccup"), "微信"])
    assert runner.run() == 0
    assert kiosk.session.state == "wechat.prepare.phone"
    assert any("RuntimeError" in line for line in kiosk.logged)


def test_push_to_talk_listens_only_after_a_press_and_answers_silence(kiosk):
    runner, listener, _ = runner_for(kiosk, ["微信", None], hands_free=False)
    runner.talk.wait = lambda timeout: runner.talk.is_set()  # no real waiting
    runner.press()
    assert runner._turn() and kiosk.session.state == "wechat.prepare.phone"
    assert any(view.mode == "listening" for view in kiosk.shown)
    calls = len(listener.expected)
    assert runner._turn() and len(listener.expected) == calls, "no press, no listening"
    runner.press()
    runner._turn()
    assert kiosk.spoken[-1].intent == "silence", "pressed and said nothing: '我没听到'"


def test_text_listener_lines_timeouts_and_end():
    listener = TextListener([b"\xe5\xbe\xae\xe4\xbf\xa1\n", "好了\r\n", b"\xff\n"])
    assert listener.listen([], 5) == "微信"
    assert listener.listen([], 5) == "好了"
    assert listener.listen([], 5) == "\ufffd"
    for _ in range(2):
        with pytest.raises(EOFError):
            listener.listen([], 5)


def test_text_listener_times_out_when_nobody_types():
    import threading

    gate = threading.Event()

    def lines():
        gate.wait(10)
        yield "微信"

    listener = TextListener(lines())
    assert listener.listen([], 0.05) is None
    gate.set()
    assert listener.listen([], 10) == "微信"


# --- the real command ------------------------------------------------------------------------------------------
def test_kiosk_text_mode_end_to_end(tmp_path):
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CONFIG_DIR": str(tmp_path / "config")}
    proc = assistant("kiosk", "--text", "--no-screen", env=env,
                     stdin="微信\n好了\n我电话是13912345678\n有人打电话要我的验证码\n再见\n支付宝\n")
    assert proc.returncode == 0, err(proc)
    lines = [line for line in out(proc).splitlines() if line.startswith("助手: ")]
    assert len(lines) == 8, out(proc)
    assert lines[0].startswith("助手: " + GREETING) and lines[6].startswith("助手: " + GREETING)
    assert "再见,祝您身体健康" in lines[5] and "把手机连上网" in lines[2]
    stats = assistant("stats", "--json", env=env)
    data = json.loads(out(stats))
    assert data["sessions"] == 2 and data["topics"] == {"q_scam": 1}
    files = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]
    assert files, "the counts were written somewhere under the data folder"
    for path in files:
        assert "13912345678" not in path.read_text(errors="replace")


def test_kiosk_rejects_bad_options_kindly(tmp_path):
    proc = assistant("kiosk", "--text", "--no-screen", "--idle", "0", env={"ASSISTANT_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2 and "--idle" in err(proc) and "Traceback" not in err(proc)
    proc = assistant("kiosk", "--text", "--no-screen", "--key", "a b", env={"ASSISTANT_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2 and "--key" in err(proc)


# --- a turn the user goes on with (barge-in) ----------------------------------------------------------------------
class OnsetListener(ScriptedListener):
    """Turns of (words, seconds into the listen their speech began, seconds the listen took): the listener's onset,
    as MicListener reports it, with the clock moved as a real-time listen moves it."""

    onset = None

    def listen(self, expected_phrases, timeout):
        if not self.script:
            raise EOFError
        text, self.onset, seconds = self.script.pop(0)
        self.clock.now += seconds
        return text


def joining_kiosk(flows, understander, join_turns=True):
    controller = KioskController(flows, understander=understander, today=lambda: date(2026, 11, 23),
                                 clock=Clock(), join_turns=join_turns, log=lambda message: None)
    controller.start()
    controller.heard("微信")
    return controller


def test_words_going_on_within_a_moment_continue_the_turn_in_its_step(flows, understander):
    kiosk = joining_kiosk(flows, understander)
    step, history = kiosk.session.state, list(kiosk.session.history)
    kiosk.heard("好了")
    assert kiosk.session.state != step, "好了 alone moves on at once"
    kiosk.heard("但是没找到那个按钮", after=0.9)
    alone = Session(flows, understander=understander)
    alone.machine.set_state(step)
    whole = alone.handle("好了但是没找到那个按钮")
    assert kiosk._reply.intent == whole.intent and kiosk._reply.say == whole.say, "one turn, heard in its step"
    assert kiosk.session.state == whole.state and kiosk.session.history == history + alone.history


@pytest.mark.parametrize("join_turns, after", [(True, 2.5), (True, None), (False, 0.9)])
def test_later_words_or_half_duplex_are_a_turn_of_their_own(flows, understander, join_turns, after):
    kiosk = joining_kiosk(flows, understander, join_turns)
    kiosk.heard("好了")
    moved_to = kiosk.session.state
    alone = Session(flows, understander=understander)
    alone.machine.set_state(moved_to)
    kiosk.heard("再说一遍", after=after)
    assert kiosk._reply.say == alone.handle("再说一遍").say and kiosk.session.state == moved_to


def test_the_runner_times_the_gap_from_the_last_turn_through_empty_listens(flows, understander):
    """Hands-free, the runner listens a second at a time: the gap is from the end of the turn with words to the
    speech's onset, across the empty listens between (a listen's onset alone would restart at each)."""
    seen = []
    kiosk = joining_kiosk(flows, understander)
    kiosk.heard = lambda text, after=None: seen.append((text, after))
    listener = OnsetListener([("好了", 0.5, 2.0), (None, None, 1.0), ("没找到", 0.4, 2.0), ("再说一遍", 1.0, 3.0)],
                             kiosk.clock)
    KioskRunner(kiosk, listener, hands_free=True, clock=kiosk.clock, pause=lambda s: None, log=lambda m: None).run()
    assert seen[0] == ("好了", None) and seen[1] == (None, None)
    assert seen[2][1] == pytest.approx(1.4) and seen[3][1] == pytest.approx(1.0)


class HalfDuplexListener(OnsetListener):
    """The same, half-duplex (no canceller): a turn may be the user going on over the start of the reply, which
    stopped it (MicListener.went_on), or a reply stopped for a noise with no words after (stopped_for_nothing)."""

    barge_in = False
    went_on = stopped_for_nothing = False

    def listen(self, expected_phrases, timeout):
        if not self.script:
            raise EOFError
        text, self.onset, seconds, how = self.script.pop(0)
        self.went_on, self.stopped_for_nothing = how == "went on", how == "for nothing"
        self.clock.now += seconds
        return text


def test_half_duplex_the_runner_joins_only_the_user_going_on_over_the_reply(flows, understander):
    """Half-duplex, speech right after a short reply is no continuation (its onset says nothing: the microphone was
    deaf while it played); the user going on over the reply's start is (assistant/live/goes_on.py)."""
    seen = []
    kiosk = joining_kiosk(flows, understander)
    kiosk.heard = lambda text, after=None: seen.append((text, after))
    script = [("好了", 0.5, 2.0, ""), ("再说一遍", 0.2, 1.0, ""), ("但是没找到", 0.3, 2.0, "went on")]
    listener = HalfDuplexListener(script, kiosk.clock)
    KioskRunner(kiosk, listener, hands_free=True, clock=kiosk.clock, pause=lambda s: None, log=lambda m: None).run()
    assert seen == [("好了", None), ("再说一遍", None), ("但是没找到", 0.0)]


def test_half_duplex_a_reply_stopped_for_nothing_is_said_again(flows, understander):
    spoken = []
    kiosk = joining_kiosk(flows, understander)
    kiosk.speak = spoken.append
    listener = HalfDuplexListener([("", None, 2.0, "for nothing")], kiosk.clock)
    KioskRunner(kiosk, listener, hands_free=True, clock=kiosk.clock, pause=lambda s: None, log=lambda m: None).run()
    assert len(spoken) == 2 and spoken[0] is spoken[1] is kiosk._reply, "the greeting again, whole; nothing handled"
    assert kiosk.session.state == flows.start
