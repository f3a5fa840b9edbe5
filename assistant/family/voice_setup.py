"""`assistant setup --voice`: the same four setup questions, asked aloud and answered by speaking."""

import logging

from assistant.diagnostics import where
from assistant.privacy import mask

log = logging.getLogger(__name__)

QUIET_SECONDS = 20.0
ASKS_BEFORE_GIVING_UP = 3


def run_voice_setup(engine, listen, speak, out=print) -> bool:
    """Ask each question aloud until answered. `listen()` returns the words heard, or None after a quiet
    spell; `speak(text)` says a text. True when every question was answered (then the caller saves)."""
    text = engine.ask()
    quiet = 0
    while not engine.done:
        out(f"助手: {text}")
        speak(text)
        heard = listen()
        if heard is None or not heard.strip():
            quiet += 1
            if quiet >= ASKS_BEFORE_GIVING_UP:
                out("没有听到回答,设置先停下,什么也没有保存。(no answer; nothing saved)")
                speak("没有听到回答,设置先停下了。")
                return False
            text = "我没有听到。" + engine.ask()
            continue
        quiet = 0
        out(f"您: {mask(heard)}")  # a number or code said by mistake is never printed
        text = engine.answer(heard).say
    out(f"助手: {text}")
    speak(text.splitlines()[0])
    return True


def microphone_setup(listener, speaker):
    """listen/speak/close functions on a microphone listener and a speaker (built by assistant.app)."""

    def speak(text):
        speaker.say([text], blocking=True)  # a question is heard to its end before the answer is listened for

    def listen():
        return listener.listen([], QUIET_SECONDS)

    def close():
        for part in (listener, speaker):  # each on its own: a microphone failing to close keeps no speaker open
            try:
                part.close()
            except Exception as exc:  # noqa: BLE001 - closing at exit: log it and close the rest
                log.warning("关闭设备出错 (closing a device failed: %s)", where(exc))

    return listen, speak, close
