"""Issue 12: what elders actually ask, answered where they ask it, and the walk goes on where it was.

In-process: a real Session with the real trained model (no subprocess per conversation). A "您是说……吗?" is
answered "对", as a user would; what the assistant then does is what is checked. How often the model gets such
questions right is measured on the frozen corpus by the bench, not here."""

from datetime import date

import pytest

from assistant.dialog import Session
from assistant.flows import load_flows
from tests.chatdriver import ask, session_at

FLOWS = load_flows()
TODAY = date(2026, 11, 30)


def at(state: str, understander=None, config=None) -> Session:
    """A fresh conversation standing at a state (as if the user had walked there)."""
    return session_at(FLOWS, state, understander, config, TODAY)


# (what is asked, several ways, with fillers and dialect; words the answer must hold; words it must not)
QUESTIONS = [
    ("q_glasses", ["戴着老花镜能刷脸吗", "呃,我这个眼镜要不要摘下来啊", "刷脸的时候老花镜摘不摘"], ["反光"], []),
    ("q_face_cover", ["我戴墨镜行不行", "墨镜要不要摘"], ["墨镜要摘下来"], []),
    ("q_face_cover", ["戴着口罩能刷脸吗", "俺这口罩要摘不"], ["口罩最好摘下来", "鼻子"], []),
    ("q_face_moves", ["让我眨眼,眨了半天它也不认", "它让我摇头,我摇了好几下也不动"], ["慢慢做"], []),
    ("q_light", ["屋里太黑了能刷脸吗", "对着窗户刷脸行不行"], ["光线柔和", "背着光"], []),
    ("q_try_other", ["老是刷不过去,换个手机行不行"], ["安卓", "支付宝"], []),
    ("q_real_app", ["怎么知道下的12333是不是真的", "应用商店里好几个12333,哪个是真的"], ["蓝色图标", "人社"], []),
    ("q_register", ["12333怎么注册", "这个软件咋登录啊"], ["注册", "登录"], []),
    ("forgot_password", ["12333的密码我忘了"], ["忘记密码", "手机号验证"], ["骗"]),
    ("q_ecard", ["电子社保卡怎么领", "它让我先领电子社保卡,咋弄"], ["电子社保卡", "按提示"], []),
    ("q_family_bind", ["亲情服务怎么绑定老人"], ["正面的照片", "为他人认证"], []),
    ("q_self_or_proxy", ["本人认证和代人认证有啥区别"], ["本人认证", "代人认证"], []),
    ("submitted", ["它显示提交成功,然后呢"], ["交上去了", "我的认证记录"], []),
    ("q_simplest", ["哪个办法最简单", "俺们老人用哪个最省事"], ["不用另外下载"], []),
    ("q_fee", ["要收费吗", "认证要不要交钱啊"], ["没有说认证要交钱", "以当地社保部门或12333为准"], ["骗子"]),
    ("q_silent", ["我今年去医院看过病,是不是就不用认证了"], ["自动"], ["补发"]),
    ("q_overdue", ["停发的那几个月的钱还能拿回来吗"], ["全额补发"], []),
    ("q_documents", ["认证之前要准备些什么"], ["手机", "无线网", "身份证号", "光线柔和"], []),
    # Session 43: not reading is no obstacle here (our users often cannot); the network step's own question.
    ("cant_read", ["俺不认识几个字啊", "手机上的字我一个都瞅不清"], ["不要紧", "家里人帮忙"], []),
    ("q_network", ["这wifi是咋连的呀", "没得无线网,光有流量能弄不"], ["手机流量也行", "家里人"], []),
    # Session 60, by hand: "你是机器人吗" was "没听清"; "我社保卡丢了" too; "我眼睛看不清手机" was asked as having no
    # smartphone. (Not sentences of flows/.)
    ("q_assistant", ["你是社保局的人吗", "请问您是哪一位呀"], ["不是真人", "不会问您要密码"], []),
    ("q_documents", ["我社保卡丢了", "身份证找不到了,咋认证"], ["丢了也不要紧", "以当地社保部门或12333为准"], []),
    ("cant_read", ["我眼睛看不清手机"], ["不要紧"], []),
]


@pytest.mark.parametrize("intent, said, must, must_not", QUESTIONS, ids=[f"{q[0]}-{i}" for i, q in enumerate(QUESTIONS)])
@pytest.mark.parametrize("state", ["greeting", "wechat.face.light", "app12333.login"])
def test_a_question_is_answered_and_the_walk_goes_on(understander, intent, said, must, must_not, state):
    for text in said:
        session = at(state, understander)
        reply = ask(session, text)
        if intent in FLOWS.states[state].on:  # the step's own meaning wins: "忘记密码" at the login step moves on
            assert session.state == FLOWS.states[state].on[intent], (text, state, reply.say)
            continue
        assert reply.intent == intent, (text, state, reply.intent, reply.say)
        for word in must:
            assert word in reply.say, (text, word, reply.say)
        for word in must_not:
            assert word not in reply.say, (text, word, reply.say)
        assert session.state == state, "a question never moves the user"
        assert reply.say.endswith(FLOWS.states[state].ask or FLOWS.states[state].say), "and then back to the step"


def test_the_point_of_the_question_comes_first():
    session = at("greeting")
    reply = session._answer("q_face_cover", "我戴墨镜行不行", {"cover": "sunglasses"})
    assert reply.parts[0] == "墨镜要摘下来,戴着墨镜认不出来。"
    assert "脸要露全" in reply.say
    reply = session._answer("q_scam", "有人让我扫二维码认证", {"scam": "qr"})
    assert reply.parts[0] == "这多半是骗子!" and "二维码" in reply.parts[1]
    assert "12333" in reply.say  # then what always holds


@pytest.mark.parametrize("place, must, must_not", [
    ("我是山西的,用什么软件认证", ["山西可以用老来网"], ["以当地"]),
    ("我是江西的,用啥软件认证", ["新余可以用赣服通", "江西别的地方", "以当地社保部门或12333为准"], ["江西可以用赣服通"]),
    ("我是河南的,用什么软件认证", ["河南我这里没有记录专门的软件", "掌上12333全国通用", "以当地社保部门或12333为准"], []),
    ("我是广东佛山的,用什么软件认证", ["粤事通"], []),
])
def test_which_app_for_which_region(understander, place, must, must_not):
    for state in ("greeting", "done"):
        session = at(state, understander)
        reply = ask(session, place)
        if reply.intent == "choose":  # "我是哪里的" or "我们那里用什么软件"
            reply = session.handle("我们那里用什么软件")
        for word in must:
            assert word in reply.say, (place, state, reply.say)
        for word in must_not:
            assert word not in reply.say, (place, state, reply.say)
        assert session.state == state


def test_the_result_step_asks_and_never_assumes(understander):
    for channel, walk in (("用微信", "wechat"), ("用掌上12333", "app12333")):
        for vague in ("好了", "嗯", "弄完了"):
            session = at(f"{walk}.face.result", understander)
            reply = ask(session, vague)
            assert session.state == f"{walk}.face.result", (vague, reply.say)
            assert "认证成功" in reply.say and "提交成功" in reply.say and "太好了" not in reply.say
        session = at(f"{walk}.face.result", understander)
        reply = ask(session, "写的是提交成功")
        assert session.state == f"{walk}.face.submitted", reply.say
        # Only guide 003 (the 12333 app) says "几分钟出结果,会收到短信".
        assert ("短信" in reply.say) == (walk == "app12333"), reply.say
        reply = session.handle("好的")
        assert session.state == "waiting" and "太好了" not in reply.say
        session = at(f"{walk}.face.result", understander)
        assert ask(session, "没成功").state.startswith("trouble_face")


def test_after_success_the_next_deadline_is_said_or_the_place_asked(understander):
    session = at("wechat.face.result", understander)
    reply = ask(session, "认证成功了")
    assert session.state == "done" and reply.say.startswith("太好了")
    assert reply.parts[-1].startswith("您是哪个省")  # no place known: asked, last
    reply = ask(session, "我是甘肃天水的")
    assert "甘肃一百八十天一次" in reply.say and "2027年5月29日" in reply.say, reply.say  # 2026-11-30 + 180 days
    session = at("greeting", understander)
    session.place = None
    ask(session, "我是山西的")
    reply = ask(session, "认证成功了")  # said at the start: it is done, and counted by 山西's (general) rule
    assert session.state == "done" and "2027年11月30日" in reply.say, reply.say
    assert "提前三天" in reply.say


def test_face_steps_say_what_each_channels_guide_says():
    states = FLOWS.states
    assert "抬头" in states["wechat.face.move"].say and "摇头" not in states["wechat.face.move"].say
    assert "仰头" not in states["wechat.face.frame"].say
    assert "摇头" in states["app12333.face.move"].say and "别仰头" in states["app12333.face.frame"].say
    assert "摇摇头" in states["alipay.face.move"].say and "摇摇头" in states["family_alipay.face.move"].say
    quiet = [name for name in states
             if name.endswith("face.result") or (name.endswith("face.submitted") and not name.startswith("app12333"))]
    assert len(quiet) >= 5, quiet  # a renamed step must not leave this loop checking nothing
    for name in quiet:
        assert "短信" not in states[name].say, name


def test_preparation_includes_light():
    for walk in ("wechat", "alipay", "app12333"):
        assert "柔和" in FLOWS.states[f"{walk}.prepare.place"].say and "背着光" in FLOWS.states[f"{walk}.prepare.place"].say


def test_a_fee_question_is_no_scam_but_a_fee_story_is(understander):
    session = at("greeting", understander)
    assert ask(session, "认证收费吗").intent == "q_fee"
    reply = ask(session, "有人打电话说认证要交两百块手续费")
    assert reply.intent == "q_scam" and reply.parts[0].startswith("让您先交钱"), reply.say


def test_a_code_that_has_not_come_is_no_scam_but_a_code_asked_for_is(understander):
    """"短信" and "验证码" are the two cues of a scam story (a person, a secret); a code that has not come yet is
    waiting, not a scam (scam_cues_except in flows/understanding.yaml), while someone asking for it still is."""
    for said in ["短信验证码没收到", "验证码那个短信还没来"]:
        assert ask(at("app12333.register", understander), said).intent != "q_scam", said
    # Nor at the greeting, before any app is open, where it was asked back "您是说“防骗”吗?" (session 16).
    for state in ("greeting", "app12333.register"):
        reply = ask(at(state, understander), "短信验证码一直不来")
        assert reply.intent != "q_scam" and "骗" not in reply.say, (state, reply.intent, reply.say)
    for story in ["有人发短信让我把验证码发给他", "短信说我社保卡要升级,回个验证码就行", "对方说他是12333的,要我的短信验证码"]:
        assert ask(at("app12333.register", understander), story).intent == "q_scam", story


def test_after_success_at_home_the_calendar_reminder_is_offered_and_made(understander, tmp_path, monkeypatch):
    from icalendar import Calendar

    from assistant.family.reminder import REMINDER_FILE, write_after_success

    monkeypatch.setenv("ASSISTANT_REMINDER_DIR", str(tmp_path))
    home = Session(FLOWS, today=TODAY, understander=understander,
                   remind=lambda deadline: write_after_success(FLOWS, deadline, TODAY))
    home.greet()
    ask(home, "我是甘肃天水的")
    home.machine.set_state("app12333.face.result")
    reply = ask(home, "认证成功了")
    assert "2027年5月29日" in reply.say and "日历提醒" in reply.say and "九点" in reply.say, reply.say
    reply = home.handle("要")
    assert "做好了" in reply.say and REMINDER_FILE in reply.say, reply.say
    event = Calendar.from_ical((tmp_path / REMINDER_FILE).read_bytes()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == date(2027, 5, 29)  # 180 days from today, 甘肃's rule

    (tmp_path / REMINDER_FILE).unlink()
    home.greet()
    home.place = None
    home.machine.set_state("wechat.face.result")
    assert ask(home, "认证成功了").parts[-1].startswith("您是哪个省")
    assert "日历提醒" in ask(home, "我是河南的").say  # the place told: the deadline, then the offer
    assert "不做了" in home.handle("不要").say and not (tmp_path / REMINDER_FILE).exists()

    def full_disk(deadline):
        raise OSError(28, "No space left on device")

    home.remind = full_disk
    home.greet()
    home.machine.set_state("wechat.face.result")
    ask(home, "我是河南的")
    ask(home, "认证成功了")
    assert "没做成" in home.handle("要").say and home.state == "done"


def test_a_kiosk_never_offers_a_file_it_cannot_hand_over(understander):
    kiosk = at("wechat.face.result", understander)  # built without remind, as the kiosk builds it
    ask(kiosk, "我是山西的")
    assert "日历提醒" not in ask(kiosk, "认证成功了").say


def test_at_the_network_step_how_to_connect_is_answered_and_connected_moves_on(understander):
    """"这个wifi咋连啊" at the network step was asked "您是说“好了”吗?" (done, with a question in it); now it is
    answered and the step is said again. Saying it is connected still moves on."""
    session = at("wechat.prepare.network", understander)
    reply = ask(session, "那个无线网是咋个连法嘛")
    assert reply.intent == "q_network" and session.state == "wechat.prepare.network", (reply.intent, reply.say)
    reply = ask(session, "手机连上无线网了")
    assert session.state != "wechat.prepare.network", (reply.intent, reply.say)


def test_the_unread_and_network_answers_are_tested_on_sentences_not_trained_on():
    """Session 43's answers were written with their training sentences; what tests them here must be new to the
    model (the older rows of QUESTIONS name the phrases themselves, on purpose)."""
    from tests.chatdriver import training_sentences_among

    said = [t for intent, texts, _, _ in QUESTIONS if intent in ("cant_read", "q_network") for t in texts]
    assert len(said) == 5 and not training_sentences_among(FLOWS, [*said, "那个无线网是咋个连法嘛", "手机连上无线网了"])


def test_who_is_speaking_and_a_lost_card_are_tested_on_sentences_not_trained_on():
    """Session 60's answers (the assistant itself; a card or ID lost) are tested on sentences new to the model."""
    from tests.chatdriver import training_sentences_among

    said = [t for intent, texts, _, _ in QUESTIONS[-3:] for t in texts]
    assert len(said) == 5 and not training_sentences_among(FLOWS, [*said, *(s for _, s in WHO_NOT_YET)])


WHO_NOT_YET = [("greeting", "我这是在跟真人说话吗"), ("wechat.face.light", "我这是在跟真人说话吗")]


@pytest.mark.xfail(strict=True, reason="session 60: not understood — 跟真人说话 reads as asking for a person or for help "
                   "(help 0.38, q_assistant 0.10)")
@pytest.mark.parametrize("state, said", WHO_NOT_YET)
def test_asking_whether_a_person_is_speaking_is_answered(understander, state, said):
    """Held-out ways of asking who is speaking that the model does not read yet (six training sentences of the kind,
    "现在跟我讲话的是个真人不", "这声音是真人在说吗", did not move the first)."""
    reply = ask(at(state, understander), said)
    assert reply.intent == "q_assistant", (reply.intent, reply.say)


def test_a_lost_card_in_the_wechat_family_walk_is_not_told_the_card_is_not_needed():
    """Session 60, rereading: "丢了也不要紧……不用拿着卡" is false in the WeChat 亲情服务 walk, which photographs the
    card's front to bind it; there a lost card hears that it cannot be bound and the way that needs no card (a
    relative's Alipay, 代人认证), never "不用拿着卡". Elsewhere, the sentence for any walk."""
    lost = {"lost": "card"}
    reply = at("family_wechat.bind")._answer("q_documents", "俺娘的社保卡丢了", lost)
    assert "绑不上" in reply.say and "代人认证" in reply.say and "不用拿着卡" not in reply.say, reply.say
    for state in ("greeting", "family_alipay.proxy", "wechat.prepare.info"):
        reply = at(state)._answer("q_documents", "俺娘的社保卡丢了", lost)
        assert "不用拿着卡" in reply.say and "绑不上" not in reply.say, (state, reply.say)


# Session 61, by hand: right after the scam warning "我已经把验证码告诉他了" was "没听明白" and "我没给他" was asked as
# "家里人帮忙". Someone who fell for it hears what to do now first (the scam guard's kind `gave`); someone who did
# not hears "做得对" (the model's scam_refused). Not sentences of flows/.
FELL_FOR_IT = [("greeting", "糟了,验证码我已经告诉那人了"), ("wechat.fill", "他发的那个链接我点开了"),
               ("done", "钱我都转给人家了,咋办呀"), ("app12333.login", "我把银行卡密码念给对方了"),
               ("waiting", "那人叫我报密码,我就报给他了")]
NOT_FALLEN = ["我没把验证码告诉他", "他让我把验证码告诉他", "那人要我点链接", "那链接我可没敢点",
              "儿子让我把验证码告诉他,我就告诉了"]
REFUSED = ["我可没给他", "验证码我一个字也没跟他说", "我当场就把那人电话给挂了"]


@pytest.mark.parametrize("state, said", FELL_FOR_IT)
def test_having_fallen_for_a_scam_hears_what_to_do_now_first(understander, state, said):
    session = at(state, understander)
    reply = ask(session, said)
    assert reply.intent == "q_scam" and reply.parts[0].startswith("别慌"), (reply.intent, reply.say)
    assert "银行" in reply.parts[0] and "110" in reply.parts[0] and "12333官方不会主动打电话" in reply.say
    assert session.state == state  # the walk goes on where it was


@pytest.mark.parametrize("said", NOT_FALLEN)
def test_a_scam_not_fallen_for_or_only_asked_is_not_told_it_was(understander, said):
    """A negation, the scammer's demand told ("他让我……"), or a son's, is no "别慌" — a warning or "做得对" instead."""
    reply = ask(at("greeting", understander), said)
    assert not reply.say.startswith("别慌"), (said, reply.intent, reply.say)
    assert reply.intent in ("q_scam", "scam_refused"), (said, reply.intent, reply.say)


@pytest.mark.parametrize("said", REFUSED)
def test_not_falling_for_it_after_the_warning_is_praised_and_the_walk_goes_on(understander, said):
    session = at("wechat.prepare.network", understander)
    assert ask(session, "有人打电话说他是12333的,要我的验证码").intent == "q_scam"
    reply = ask(session, said)
    assert reply.intent == "scam_refused" and reply.say.startswith("做得对"), (said, reply.intent, reply.say)
    assert "110" in reply.say  # what to do had it gone otherwise, too
    assert session.state == "wechat.prepare.network" and "连上网" in reply.say  # and back to the step


def test_the_scam_follow_ups_are_tested_on_sentences_not_trained_on():
    from tests.chatdriver import training_sentences_among

    said = [s for _, s in FELL_FOR_IT] + NOT_FALLEN + REFUSED
    assert len(said) == 13 and not training_sentences_among(FLOWS, said)


# Session 61, after the first frozen run: a refusal told with the scam itself ("他要验证码,我没给") was the scam
# warning — the story's pattern acted before the model's scam_refused could. The words of not falling for it
# (understanding.yaml `scam_not_fallen`) now make a yielding pattern, or the cues rule, give way. Not in flows/.
STORY_REFUSED = ["有人打电话说是社保局的,要我报验证码,我没报", "短信里让我点链接认证,我没点,直接删了",
                 "那人让我把钱转到安全账户,我可没转"]
STORY_FALLEN = ["他要验证码,我没多想就告诉他了", "有人让我把钱转到安全账户,我转了"]


@pytest.mark.parametrize("said", STORY_REFUSED)
def test_a_scam_story_told_as_not_fallen_for_is_praised(understander, said):
    reply = ask(at("done", understander), said)
    assert reply.intent == "scam_refused" and reply.say.startswith("做得对"), (said, reply.intent, reply.say)


@pytest.mark.parametrize("said", STORY_FALLEN)
def test_a_scam_story_without_a_refusal_is_still_the_warning(understander, said):
    reply = ask(at("done", understander), said)
    assert reply.intent == "q_scam" and "做得对" not in reply.say, (said, reply.intent, reply.say)


def test_the_refused_stories_are_not_training_sentences():
    from tests.chatdriver import training_sentences_among

    assert not training_sentences_among(FLOWS, STORY_REFUSED + STORY_FALLEN)


# Session 62, by hand: "我七十五了还要认证吗" was "没听明白" at the greeting, and "都八十多岁了还得认证啊" asked as how
# often. The age said (understanding.yaml slot `age`) makes the why answer say first that age does not excuse it, and
# how the old are helped. Not sentences of flows/.
AGE_ASKED = [("greeting", "我七十五了还要认证吗"), ("greeting", "都八十多岁了还得认证啊"),
             ("wechat.open", "我这么大岁数了,还要年年认证吗")]


@pytest.mark.parametrize("state, said", AGE_ASKED)
def test_an_elder_asking_whether_their_age_excuses_them_hears_it_does_not_and_how_they_are_helped(understander,
                                                                                                   state, said):
    session = at(state, understander)
    reply = ask(session, said)
    assert reply.intent == "q_why" and reply.parts[0] == "岁数大了也要认证。", (said, reply.intent, reply.say)
    assert "子女" in reply.say and "上门认证" in reply.say
    assert session.state == state


def test_why_asked_without_an_age_is_the_plain_answer(understander):
    reply = ask(at("greeting", understander), "到底为啥要搞这个认证")
    assert reply.intent == "q_why" and "岁数" not in reply.say and "排队盖章" in reply.say, reply.say


# Session 62, by hand: at the steps that ask for the phone's code, saying it was typed in ("短信验证码我输进去了") was
# warned of as a scam (its 短信 counted as a stranger by the cues rule). A stranger asking for it still is one.
CODE_TYPED = [("app12333.reset", "短信验证码我输进去了,新密码也设好了", "app12333.login"),
              ("app12333.register", "短信验证码来了,我填上了", "app12333.entry")]
CODE_ASKED_FOR = ["有人打电话要我的短信验证码", "对方让我把短信验证码念给他听"]


# Session 63, by hand: at the register step "短信来了,验证码我填进去了" was still warned of as a scam (its 短信 the person
# cue). At the steps where the app itself texts a code (understanding.yaml `own_code`) its text message names nobody;
# a stranger named beside it still does, and elsewhere a text message asking for a code is still a scam story.
SMS_CAME = [("app12333.register", "短信来了,验证码我填进去了", "app12333.entry"),
            ("app12333.register", "收到短信了,填上了", "app12333.entry")]
SMS_STRANGER = [("app12333.register", "有人发短信问我要验证码"), ("app12333.reset", "短信里那人说让我把验证码报给他"),
                ("greeting", "收到个短信,说要验证码")]


@pytest.mark.parametrize("state, said, after", CODE_TYPED + SMS_CAME)
def test_the_phones_code_typed_in_at_its_own_step_is_no_scam(understander, state, said, after):
    session = at(state, understander)
    reply = ask(session, said)
    assert reply.intent == "next" and session.state == after, (said, reply.intent, reply.say)


@pytest.mark.parametrize("state, said", [("app12333.reset", said) for said in CODE_ASKED_FOR] + SMS_STRANGER)
def test_a_stranger_asking_for_the_phones_code_is_still_a_scam(understander, state, said):
    reply = ask(at(state, understander), said)
    assert reply.intent == "q_scam" and "骗子" in reply.say, (said, reply.intent, reply.say)


def test_a_misspelt_own_code_step_is_named_at_its_line(flows_copy):
    from assistant.errors import FlowError
    from assistant.understanding import Understander

    root = flows_copy
    config = root / "understanding.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("states: [app12333.register, app12333.reset]",
                                   "states: [app12333.register, app12333.rest]"), encoding="utf-8")
    line = text[:text.index("states: [app12333.register")].count("\n") + 1
    with pytest.raises(FlowError) as error:
        Understander(load_flows(root), model=object())
    assert f"understanding.yaml:{line}" in str(error.value) and "app12333.rest" in str(error.value)


# Session 63, by hand: "嗯,微信,我用的就是微信" in the WeChat 亲情服务 walk (where "微信" is no move) was asked "您是说
# “支付宝”吗?" — the opposite of what was said. A turn naming an app is never read as another app.
WALKS_OWN_APP = [("family_wechat.bind", "嗯,微信,我用的就是微信", "支付宝"),
                 ("family_wechat.fill", "微信,俺用的一直是微信", "支付宝"),
                 ("family_alipay.proxy", "支付宝,我用的就是支付宝", "微信")]


@pytest.mark.parametrize("state, said, other", WALKS_OWN_APP)
def test_naming_the_walks_own_app_is_never_asked_as_the_other(understander, state, said, other):
    session = at(state, understander)
    reply = ask(session, said)
    walk = state.split(".")[0]
    assert session.state.startswith(walk + ".") and other not in reply.say, (said, reply.intent, reply.say)


def test_the_age_and_code_sentences_are_not_training_sentences():
    from tests.chatdriver import training_sentences_among

    said = ([s for _, s in AGE_ASKED] + ["到底为啥要搞这个认证"] + [s for _, s, _ in CODE_TYPED] + CODE_ASKED_FOR
            + [s for _, s, _ in SMS_CAME] + [s for _, s in SMS_STRANGER] + [s for _, s, _ in WALKS_OWN_APP])
    assert len(said) == 16 and not training_sentences_among(FLOWS, said)


# Session 62, by hand: "我没填", "我没下", "我没摇" at their steps (not done yet) were praised "做得对!" as refusing a
# scammer. A refusal is read as one when told with the scam (understanding.yaml needs_cue), or right after the
# warning, where its words (`scam_not_fallen`) answer it whatever the model made of them. Not sentences of flows/.
NOT_DONE_YET = [("wechat.fill", "我没填"), ("app12333.download", "我没下呢"), ("wechat.face.move", "俺没摇")]
AFTER_WARNING = ["没给没给,我一个字没说", "咱一分钱也没转给他", "俺压根没搭理他"]


@pytest.mark.parametrize("state, said", NOT_DONE_YET)
def test_a_step_not_done_is_no_scam_refused(understander, state, said):
    session = at(state, understander)
    reply = ask(session, said)
    assert reply.intent != "scam_refused" and "做得对" not in reply.say, (said, reply.intent, reply.say)
    assert session.state == state


@pytest.mark.parametrize("said", AFTER_WARNING)
def test_right_after_the_warning_the_words_of_refusing_are_praised(understander, said):
    session = at("alipay.open", understander)
    assert ask(session, "有个人打电话说我养老金要停,叫我把验证码报给他").intent == "q_scam"
    reply = session.handle(said)
    assert reply.intent == "scam_refused" and reply.say.startswith("做得对"), (said, reply.intent, reply.say)
    assert session.state == "alipay.open"
    # Only right after it: the same words a turn later are read as they would be anywhere.
    assert not session.warned


def test_the_refusal_sentences_are_not_training_sentences():
    from tests.chatdriver import training_sentences_among

    said = [s for _, s in NOT_DONE_YET] + AFTER_WARNING + ["有个人打电话说我养老金要停,叫我把验证码报给他"]
    assert len(said) == 7 and not training_sentences_among(FLOWS, said)


def test_hearsay_of_scammers_gets_the_advice_not_this_is_a_scam(understander):
    """Session 62: "听说有冒充社保的骗子,咋晓得……" asks how to tell (the advice), it tells of no stranger; it was
    "这多半是骗子!". A stranger told of is still the warning."""
    from tests.chatdriver import training_sentences_among

    heard, met = "听人说有冒充社保局的骗子,咱咋分得清真假", "昨天有个冒充社保局的人打电话,要我的验证码"
    assert not training_sentences_among(FLOWS, [heard, met])
    reply = ask(at("greeting", understander), heard)
    assert reply.intent == "q_scam" and reply.say.startswith("防骗"), reply.say
    reply = ask(at("greeting", understander), met)
    assert reply.intent == "q_scam" and "骗子" in reply.parts[0] and not reply.say.startswith("防骗"), reply.say
