"""The package's shape: no import cycles between its modules, and the parts are built in one place.

Imports inside functions count too: a lazy import only hides a cycle until someone calls that function."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its text (top level or inside a function).
    A package's own __init__ is not counted as imported by its submodules: Python runs it first anyway."""
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        edges.add(full)  # `from package import submodule`
                    elif base in modules:
                        edges.add(base)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path):
    package = tmp_path / "assistant"
    (package / "live").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "live" / "__init__.py").write_text("")
    (package / "live" / "loop.py").write_text("def f():\n    from assistant.cli import build\n")
    (package / "cli.py").write_text("from assistant.live import loop\n")
    (package / "other.py").write_text("from . import cli\n")
    assert cycles(import_graph(package)) == [["assistant.cli", "assistant.live.loop"]]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_parts_are_built_only_in_the_composition_root():
    """A Recognizer, a Speaker or a MicListener is made in assistant/app.py; commands call it (the speech and
    recognition commands, which try out one part on their own, may build theirs)."""
    builders = {"Recognizer(", "MicListener(", "Speaker(", "KioskController("}
    allowed = {"assistant.app",
               "assistant.speech.commands", "assistant.recognition.commands",  # `say`, `model check`: one part
               "assistant.live.loop",  # the loop's own listener, from the parts it was given
               "assistant.understanding.heard"}  # a developer tool rendering training sentences
    offenders = set()
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and f"{node.func.id}(" in builders:
                if name not in allowed:
                    offenders.add(f"{name} builds {node.func.id}")
    assert not offenders


def test_today_comes_only_from_the_clock_module():
    """`--today` and $ASSISTANT_TODAY must change every date the assistant says: only assistant/clock.py may
    ask the system for today's date."""
    askers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"today", "now"} and \
                    isinstance(node.value, ast.Name) and node.value.id in {"date", "datetime"}:
                askers.add(module_name(path))
    assert askers <= {"assistant.clock", "assistant.family.reminder"}  # the reminder's calendar stamp is a time
