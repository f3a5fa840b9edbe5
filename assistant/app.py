"""The composition root: the one place where the assistant's parts are built from a command's options and the
saved settings — session, recogniser, speaker, microphone listener, the voice loop, the kiosk.

Command modules (`chat`, `voice_commands`, `kiosk/commands`, ...) only parse arguments and call these, so a
part is chosen or swapped here and nowhere else. Imports stay inside the functions: `assistant --help` must
not load vosk or the voice.
"""

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant import clock

log = logging.getLogger(__name__)


def conversation_settings(args, today: date, personal: bool = True):
    """The saved settings for a conversation. A problem in the file is a warning, said once in plain Chinese,
    and that setting is left out; the assistant carries on with the general rule. A kiosk (`personal=False`)
    also leaves out one person's settings (last date, usual channel)."""
    from assistant.settings import describe_problems, for_kiosk, read_settings

    settings, problems = read_settings(getattr(args, "config", None), today)
    for line in describe_problems(problems):
        log.warning(line)
    if not personal:
        settings, ignored = for_kiosk(settings)
        if ignored:
            log.warning("自助机为很多人服务,不用设置里某一个人的 %s (a kiosk ignores personal settings: %s)",
                        "、".join(ignored), ", ".join(ignored))
    return settings


def build_session(args):
    """A Session from the command's options: flows, saved settings, today's date; at home, after success it
    offers the calendar file `assistant reminder` makes."""
    from assistant.dialog import Session
    from assistant.family.reminder import write_after_success
    from assistant.flows import load_flows

    flows = load_flows(getattr(args, "flows", None))
    today = clock.today(args)
    return Session(flows, config=conversation_settings(args, today), today=today,
                   remind=lambda deadline: write_after_success(flows, deadline, today))


def build_speaker(args, session=None):
    """The voice: the `--voice` profile, else the saved setting, else the default profile; on `--output-device`.
    With a session, the profile's 大声点/慢一点 limits become the dialog's (the step past the last is said as
    "已经是最大声了")."""
    from assistant.settings import read_settings
    from assistant.speech.player import Player
    from assistant.speech.profiles import load_profile
    from assistant.speech.speaker import Speaker

    # Problems in the settings file are reported once, where the conversation's settings are read.
    settings_voice = getattr(read_settings(getattr(args, "config", None))[0], "voice", None)
    chosen = getattr(args, "voice", None)
    if not isinstance(chosen, str):  # `setup --voice` is a switch (ask aloud), not a profile name
        chosen = None
    profile = chosen or settings_voice
    speaker = Speaker(load_profile(profile), player=Player(getattr(args, "output_device", None)))
    if session is not None:
        session.voice.limits = speaker.profile.step_limits()
    return speaker


def build_recognizer(args, flows, model=None):
    """The vosk recogniser (`--model`, or a model already loaded), after checking every phrase of the flows can
    be said with its words."""
    from assistant.live.hearing import check_grammar
    from assistant.recognition.recognizer import Recognizer

    check_grammar(flows)
    return Recognizer(model if model is not None else getattr(args, "model", None))


def wants_barge_in(args) -> bool:
    """Barge-in is asked for, never the default: with the speaker near the microphone even PulseAudio's webrtc
    canceller leaves enough of the assistant's own voice for vosk to read words into it, which then barged in and
    were answered (tests/test_voice_loop.py, measured). An assistant that answers itself is worse for an elder
    than one that cannot be interrupted; words begun just before a prompt ends are still kept (pre-roll)."""
    return bool(getattr(args, "barge_in", False)) and not getattr(args, "no_barge_in", False)


def full_duplex(args) -> bool:
    """Echo cancelling set up for this run; without it the loop must not listen while it talks (half-duplex)."""
    from assistant.audio import echo

    state = echo.prepare(getattr(args, "input_device", None), getattr(args, "output_device", None))
    if not state.cancelled:
        log.warning("%s", state.why)
    return state.cancelled


def build_listener(args, session, speaker):
    """One turn from the microphone (`--input-device`); barge-in only with `--barge-in` and echo cancelling."""
    from assistant.audio.microphone import Microphone
    from assistant.live.loop import MicListener

    device = getattr(args, "input_device", None)
    return MicListener(build_recognizer(args, session.flows), speaker, lambda: Microphone(device).open(), session,
                       barge_in=wants_barge_in(args) and full_duplex(args))


def build_voice_loop(args, out=print):
    """`assistant run`: session, recogniser, speaker and microphone in the live loop."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.audio.microphone import Microphone
    from assistant.live.loop import LoopOptions, VoiceLoop
    from assistant.recognition.model import load_model, resolve_model_dir

    barge_in = wants_barge_in(args) and full_duplex(args)  # before any stream opens: it picks the devices
    folder = resolve_model_dir(getattr(args, "model", None))  # a missing model is said before any greeting
    # The speech model loads beside the dialog (two cores, two slow starts) and goes on loading while the greeting
    # plays: the loop needs it only to listen, so the first sound does not wait for it (issue 14: ≤ 2 s). The voice
    # engine for live sentences loads while the greeting plays too (Speaker.say warms it up).
    pool = ThreadPoolExecutor(1, thread_name_prefix="load-model")
    model = pool.submit(lambda: load_model(folder).model)
    pool.shutdown(wait=False)
    session = build_session(args)
    speaker = build_speaker(args, session)
    from assistant.speech.ahead import RenderAhead

    speaker.ahead = RenderAhead(speaker)  # the next turn's sentences rendered while the user thinks
    options = LoopOptions(barge_in=barge_in, reminder_after=args.reminder_after, max_turns=args.max_turns,
                          show_heard=bool(getattr(args, "debug", False)))  # what the user said: --debug only, masked
    device = getattr(args, "input_device", None)
    return VoiceLoop(session, None, speaker, lambda: Microphone(device).open(), options, out=out,
                     recognizer_after_greeting=lambda: build_recognizer(args, session.flows, model.result()))


def build_wav_hearing(args, session):
    """`chat --audio`: a hear(line) that recognises the WAV file the line names."""
    from assistant.audio.files import wav_hearing
    from assistant.live.hearing import Hearing

    return wav_hearing(Hearing(build_recognizer(args, session.flows), session))


@dataclass
class Kiosk:
    controller: Any
    listener: Any
    """TextListener (--text) or the microphone's MicListener"""
    speaker: Any = None
    """None with --text: there is no voice"""


def build_kiosk(args) -> Kiosk:
    """The kiosk: one controller for many people (no personal settings, today asked again for each person),
    typed lines or the microphone, and the voice unless --text."""
    from assistant.family.stats import StatsStore
    from assistant.flows import load_flows
    from assistant.kiosk import view
    from assistant.kiosk.controller import KioskController, TextListener
    from assistant.understanding import Understander

    flows = load_flows(getattr(args, "flows", None))
    today = clock.today_source(args)  # asked again for every new person: the kiosk runs for days
    settings = conversation_settings(args, today(), personal=False)
    label = args.key_label or view.key_label(args.key)
    if args.text:
        status = view.TYPING
    else:
        status = view.HANDS_FREE if args.hands_free or args.no_screen else view.push_to_talk_status(label)
    controller = KioskController(
        flows, understander=Understander(flows), config=settings,
        today=today,
        idle_seconds=args.idle, stats=StatsStore(), idle_status=status,
        follow_voice=not args.no_screen)  # the screen shows the sentence being said, one after the other
    if args.text:
        return Kiosk(controller, TextListener())
    from assistant.speech.ahead import RenderAhead

    speaker = build_speaker(args, controller.session)
    listener = build_listener(args, controller.session, speaker)
    # As in `run`: words going on over the reply continue the turn (half-duplex: when told from its echo by loudness).
    controller.join_turns = True
    # As in `run`: the next step's sentences are rendered while the person does this one, paused while they speak.
    speaker.ahead = RenderAhead(speaker)
    listener.on_speech = speaker.ahead.user_speaking
    return Kiosk(controller, listener, speaker)


def build_voice_setup(args, flows):
    """`setup --voice`: listen/speak/close for the questions said aloud and answered by speaking (open
    recognition: answers are free). The voice is the saved or the default profile."""
    from assistant.dialog import Session
    from assistant.family.voice_setup import microphone_setup

    speaker = build_speaker(args)
    return microphone_setup(build_listener(args, Session(flows), speaker), speaker)
