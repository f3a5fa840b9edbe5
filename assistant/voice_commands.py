"""`assistant run` (the live voice loop), `assistant devices`, and `assistant doctor` (set-up check)."""

import logging
import time

from assistant import app, clock
from assistant.arguments import add_device_arguments, add_session_arguments
from assistant.diagnostics import exit_cleanly_on_signals, trail, where
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

TEST_SENTENCE = "您好,我是养老金认证小助手。您能听清我说话吗?"


def register(sub):
    run = sub.add_parser("run", help="语音对话(麦克风和扬声器)/ the live voice assistant")
    add_device_arguments(run)
    run.add_argument("--voice", help="声音设置 / voice profile name or .toml file")
    run.add_argument("--barge-in", action="store_true",
                    help="让人在助手说话时打断它,只用在耳机或麦克风离喇叭远的时候 / let the user talk over the "
                         "assistant (a headset, or a microphone far from the speaker; needs echo cancelling)")
    run.add_argument("--no-barge-in", action="store_true", help="(the default) 说话时不让人打断 / half-duplex")
    run.add_argument("--reminder-after", type=float, default=30.0, metavar="SECONDS",
                     help="多久没人说话就轻轻提醒一次 / gentle reminder after this much quiet (0 = never)")
    run.add_argument("--max-turns", type=int, help="听这么多次就结束(测试用)/ stop after N user turns (for tests)")
    add_session_arguments(run)
    run.set_defaults(func=cmd_run)

    devices = sub.add_parser("devices", help="列出麦克风和扬声器 / list microphones and speakers")
    devices.set_defaults(func=cmd_devices)

    doctor = sub.add_parser("doctor", help="检查模型、声音、麦克风、扬声器 / check model, voice, microphone, speaker")
    add_device_arguments(doctor)
    doctor.add_argument("--voice", help="声音设置 / voice profile")
    doctor.add_argument("--seconds", type=float, default=3.0,
                        help="录音检查几秒 / seconds to record for the level check")
    add_session_arguments(doctor)
    doctor.set_defaults(func=cmd_doctor)


def cmd_run(args) -> int:
    loop = app.build_voice_loop(args, out=lambda line: print(line, flush=True))
    with exit_cleanly_on_signals():  # a `kill` or a closed terminal still closes the devices and temp audio
        try:
            return loop.run()
        finally:
            loop.close()


def cmd_devices(args) -> int:
    from assistant.audio.microphone import input_devices
    from assistant.speech.player import output_devices

    for title, found in (("麦克风 (input devices):", input_devices()), ("扬声器 (output devices):", output_devices())):
        print(title)
        for index, name in found:
            print(f"  {index}: {name}")
        if not found:
            print("  -: 没有 (none)")
    print("用 --input-device / --output-device 加上编号或名字来选择。(choose with --input-device/--output-device)")
    return 0


def cmd_doctor(args) -> int:
    """Each check runs on its own; the report says in plain Chinese what to fix."""
    checks = [("语音识别模型 (speech model)", _check_model), ("对话内容 (flows)", _check_flows),
              ("设置 (settings)", _check_settings), ("声音 (voice)", _check_voice),
              ("麦克风 (microphone)", _check_microphone), ("扬声器 (speaker)", _check_speaker),
              ("回声消除 (echo cancelling)", _check_echo), ("降噪 (noise suppression)", _check_noise)]
    problems = 0
    for title, check in checks:
        try:
            lines, ok = check(args)
        except AssistantError as exc:
            lines, ok = [str(exc)], False
        except Exception as exc:  # noqa: BLE001 - a doctor reports every failure, it never crashes
            log.warning("doctor: %s 检查出错 (check failed: %s)", title, where(exc))
            log.debug("doctor: %s", trail(exc))
            lines, ok = ["检查的时候出了意外的错误。请运行 assistant doctor --debug,把显示的内容给懂电脑的人看。"
                         " (unexpected error; run `assistant doctor --debug` for details)"], False
        problems += not ok
        print(f"{'✔' if ok else '✘'} {title}")
        for line in lines:
            print(f"    {line}")
    print()
    print("全部正常,可以用了。(all good)" if not problems
          else f"有 {problems} 项要处理,见上面的说明。({problems} to fix)")
    return 0 if not problems else 1


def _check_model(args):
    from assistant.recognition.model import load_model

    started = time.monotonic()
    loaded = load_model(args.model)
    from assistant.recognition.language_model import status

    return [f"{getattr(loaded, 'path', '')} 加载用时 {time.monotonic() - started:.1f} 秒",
            status(getattr(loaded, "language_model", None))], True  # it hears without the mixed one, less well


def _check_flows(args):
    from assistant.flows import load_flows
    from assistant.live.hearing import check_grammar

    flows = load_flows(getattr(args, "flows", None))
    check_grammar(flows)
    return [f"{len(flows.states)} 个步骤, {len(flows.grammar_phrases())} 个说法都能识别"], True


def _check_settings(args):
    from assistant.settings import read_settings, settings_path

    settings, problems = read_settings(getattr(args, "config", None), clock.today(args))
    if problems:
        return [*(str(p) for p in problems),
                "这几项先不用,助手按一般的规定说。用 assistant setup 重新设置就好了。"], False
    if settings is None:
        path = settings_path(getattr(args, "config", None))
        return [f"还没有设置,助手按一般的规定说 (no settings yet): {path}"], True
    return [f"设置正常 (settings are fine): {settings_path(getattr(args, 'config', None))}"], True


def _check_voice(args):
    from assistant.speech.commands import describe_voice_status

    return describe_voice_status(), True


def _check_microphone(args):
    import numpy as np

    from assistant.audio.microphone import Microphone
    from assistant.audio.samples import pcm_to_float

    mic = Microphone(args.input_device).open()
    print(f"    请说几句话,录音 {args.seconds:.0f} 秒…… (speak now, recording)", flush=True)
    chunks, heard = [], 0.0
    try:
        while heard < args.seconds:
            pcm = mic.read(timeout=2.0)
            if pcm is None:
                break
            chunks.append(pcm)
            heard += len(pcm) / 32000
    finally:
        mic.close()
    samples = pcm_to_float(b"".join(chunks))
    if samples.size == 0:
        return ["麦克风没有送来声音。请检查麦克风有没有插好、有没有被静音。"], False
    peak = float(np.max(np.abs(samples)))
    level = 20 * np.log10(max(float(np.sqrt(np.mean(samples ** 2))), 1e-9))
    if peak < 0.01:
        return [f"声音太小 ({level:.0f} dB)。请把麦克风音量调大,或者离麦克风近一点。"], False
    if peak > 0.99:
        return [f"声音太大,有破音 ({level:.0f} dB)。请把麦克风音量调小一点。"], True
    return [f"声音正常 ({level:.0f} dB)。"], True


def _check_echo(args):
    from assistant.audio import echo

    return [echo.status(args.input_device, args.output_device).why], True  # half-duplex still works


def _check_noise(args):
    from assistant.audio import denoise

    return [denoise.status()], True  # it hears without it, less well in a noisy room


def _check_speaker(args):
    speaker = app.build_speaker(args)
    try:
        result = speaker.say([TEST_SENTENCE], blocking=True)
    finally:
        speaker.close()
    if result is None:
        return ["没有声音可以播放。"], False
    return [f"已经说了一句“{TEST_SENTENCE}”。没听到的话,请检查扬声器音量和插头。"], True

