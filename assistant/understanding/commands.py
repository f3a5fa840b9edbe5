"""`assistant train` and `assistant why`: for volunteers who edit flows/ and want to see what the model learnt."""

import sys


def register(subparsers):
    p = subparsers.add_parser("train", help="重新学习 flows/ 里的说法 (retrain the understanding model from flows/)")
    p.add_argument("--flows", help="flows folder (default: the project's flows/)")
    p.add_argument("--if-needed", action="store_true", help="only when flows/ changed since the last training")
    p.add_argument("--ship", action="store_true",
                   help="train if needed, then put the model into flows/trained/ to be committed with the flows")
    p.set_defaults(func=train_command)

    p = subparsers.add_parser("why", help="为什么这样理解 (why a sentence is understood as it is)")
    p.add_argument("text", help="what the user said, e.g. \"我还没弄好呢\"")
    p.add_argument("--state", default=None, help="the dialog state, e.g. wechat.open (default: the greeting)")
    p.add_argument("--top", type=int, default=5, help="how many intents to list")
    p.add_argument("--flows", help="flows folder (default: the project's flows/)")
    p.set_defaults(func=why_command)


def train_command(args) -> int:
    from assistant.flows import load_flows
    from assistant.understanding import Understander
    from assistant.understanding.store import model_dirs, save_trained, train

    flows = load_flows(args.flows)
    if args.ship:
        from assistant.understanding.store import ship

        Understander(flows)  # loads the saved model, or trains and saves one
        shipped = ship(flows)
        print(f"放好了 (shipped): {shipped} — commit it with the flows it was trained from")
        return 0
    if args.if_needed:
        Understander(flows)  # loads the saved model, or trains and saves one
        return 0
    understander = Understander.__new__(Understander)
    Understander.configure(understander, flows)
    model, info = train(flows, understander)
    path = save_trained(model, flows, model_dirs(flows))
    print(f"学好了 (trained): {info['examples']} sentences → {info['rows']} rows with noisy copies, "
          f"{info['features']} features, {info['seconds']} s")
    if info.get("steps"):  # the model of all rows first, then the folds started from it
        print(f"solver steps: {info['steps'][0]} for all rows, {' / '.join(map(str, info['steps'][1:]))} for the "
              "cross-validation folds")
    if "held_out_rows" in info:
        print(f"bands set on {info['held_out_rows']} held-out calibration sentences (flows/calibration.tsv), "
              f"top-1 there {info['held_out_accuracy']:.1%}")
    else:
        print(f"cross-validated accuracy on the training data: {info.get('cv_accuracy', 0):.1%} "
              f"(an optimistic figure: the frozen test corpus in bench/ is the honest one)")
    b = model.bands
    answered = f" (a question answered in place >= {b.answer:.2f})" if b.answer is not None else ""
    print(f"bands: act >= {b.act:.2f}{answered}, confirm >= {b.confirm:.2f}, choose when the second >= {b.choose:.2f}"
          + (f" (below confirm: when the two sum to >= {b.pair:.2f})" if b.pair is not None else ""))
    print(f"saved: {path}" if path else "not saved: flows/ changed while it learnt; run it again")
    if path:
        # The recogniser's language model learns the same sentences: a volunteer's new wording is then heard as
        # well as understood.
        from assistant.recognition.commands import mix_language_model

        mix_language_model(flows, if_needed=True)
    return 0 if path else 1


def why_command(args) -> int:
    from assistant.dialog import Session
    from assistant.flows import load_flows
    from assistant.privacy import find_private, mask

    flows = load_flows(args.flows)
    state = args.state or flows.start
    if state not in flows.states:
        print(f"没有这个状态 (unknown state): {state}. 例如 (e.g.): {', '.join(list(flows.states)[:6])} …",
              file=sys.stderr)
        return 2
    if find_private(args.text):
        # Never echoed, even to a volunteer's terminal: the dialog refuses it before understanding sees it.
        print(f"heard: {mask(args.text)!r}\ndecision: private — a number or secret; the dialog refuses it "
              "before anything else sees it")
        return 0
    session = Session(flows)
    session.machine.set_state(state)
    print(session.understander.why(args.text, state, session.allowed_intents(), top_n=args.top, today=session.today,
                                   same=session.same_effect()))
    return 0
