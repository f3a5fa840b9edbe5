"""`assistant setup --voice`: the same four setup questions, asked aloud and answered by speaking."""

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
        out(f"您: {heard}")
        text = engine.answer(heard).say
    out(f"助手: {text}")
    speak(text.splitlines()[0])
    return True


def microphone_setup(args, flows):
    """listen/speak functions on the real microphone and speaker (open recognition: answers are free)."""
    from assistant.audio.microphone import Microphone
    from assistant.dialog import Session
    from assistant.loop import MicListener
    from assistant.recognition.recognizer import Recognizer
    from assistant.voice_commands import build_speaker

    speaker = build_speaker(args)
    listener = MicListener(Recognizer(getattr(args, "model", None)), speaker,
                           lambda: Microphone(getattr(args, "input_device", None)).open(), Session(flows))

    def speak(text):
        speaker.say([text], blocking=True)  # a question is heard to its end before the answer is listened for

    def listen():
        return listener.listen([], QUIET_SECONDS)

    return listen, speak, lambda: (listener.close(), speaker.close())
