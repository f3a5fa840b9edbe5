"""What the big-text screen shows at one moment: the view model the controller builds and the screen draws."""

from dataclasses import dataclass

# Status lines, Chinese only: the elder reads them; the staff read the README.
LISTENING = "我在听,请您说话……"
HANDS_FREE = "请直接说话"
TYPING = "请在键盘上打字,按回车"
MIC_MISSING = "麦克风没有接好,请工作人员检查"
KEY_NAMES = {"space": "空格键", "Return": "回车键", "KP_Enter": "回车键"}


def push_to_talk_status(key_label: str) -> str:
    return f"请按{key_label}说话"


def key_label(key: str) -> str:
    """How the status line names the push-to-talk key (a USB button that types F12 can be labelled instead)."""
    return KEY_NAMES.get(key, f"{key}键")


YES, NO = "对", "不对"
"""The choices shown when the assistant asks "您是说……吗?"."""


@dataclass(frozen=True)
class ReplyView:
    """One screen: the sentence being said (or the step) in big characters, what the user can say, where they are."""

    sentences: tuple[str, ...]
    """the whole reply, sentence by sentence, as the voice says it"""
    rest: tuple[str, ...]
    """the big text while the voice is quiet: the step again after an answer ("咱们接着刚才的" + step), else the
    whole reply"""
    options: tuple[str, ...]
    """the 2–3 things the user can say now (对 / 不对 after "您是说……吗?")"""
    progress: str | None
    """"第3步/共7步" inside a walk, else None"""
    status: str
    """the bottom line: press the key / listening / microphone missing"""
    mode: str = "idle"
    """idle, listening or problem: colours the status line"""
    heard: str = ""
    """what was understood from the user's last turn (numbers masked); wiped with the session"""
    speaking: int | None = None
    """index in `sentences` of the sentence the voice is saying now; None while it is quiet"""
    seconds: float = 0.0
    """how long that sentence takes to say (a sentence longer than the screen turns its pages in this time)"""
    title: str | None = None
    """the walk's name ("微信") beside the progress"""

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The big text now: the sentence being said, else the resting text."""
        if self.speaking is not None and 0 <= self.speaking < len(self.sentences):
            return (self.sentences[self.speaking],)
        return self.rest


def progress_text(progress) -> str | None:
    if not progress:
        return None
    step, total = progress
    return f"第{step}步/共{total}步"
