"""A reading whose label is itself a question is asked about as a question (session 45, found by walking WeChat as a
new user would): "成了吗" at a step was asked "您是说“这样好了吗”吗?"."""


def test_a_question_label_is_asked_about_without_a_second_question_word(monkeypatch):
    from assistant.understanding import CONFIRM, Understanding
    from tests.chatdriver import Conversation

    session = Conversation().session
    assert session.flows.intents["check_done"].label.endswith("吗")
    monkeypatch.setattr(session.understander, "understand",
                        lambda *a, **k: Understanding("check_done", CONFIRM, 0.6, ranked=[("check_done", 0.6)]))
    said = session.handle("随便什么").say
    assert "吗”吗" not in said and said.startswith("您是问“这样好了吗”"), said
    monkeypatch.setattr(session.understander, "understand",
                        lambda *a, **k: Understanding("not_yet", CONFIRM, 0.6, ranked=[("not_yet", 0.6)]))
    assert session.handle("随便什么").say.startswith("您是说“还没弄好”吗?"), "other labels as before"
