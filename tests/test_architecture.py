"""The shape of the code: a package per stage, no import cycles, no module too long to read.

The stages import in one direction, from the shared modules up to the driver (see the
packages' docstrings); an import cycle or a module grown past 600 lines fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
STAGES = ("ingest", "transcribe", "transcripts", "tag", "publish")
TOP_LEVEL = {"__init__", "__main__", "model", "archive", "cache", "errors", "fsutil", "processes",
             "text", "build", "cli", "watch", "serve", "check"}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The pipeline modules `path` imports when it runs (not those for type checkers only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # drop `if TYPE_CHECKING:` blocks
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipeline"))
    return found & modules - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: runtime_imports(path, set(paths)) for name, path in paths.items()}


def cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for target in graph[node]:
            if target == start:
                return path + [start]
            if target not in seen:
                seen.add(target)
                stack.append((target, path + [target]))
    return None


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    cycles = [cycle for name in graph if (cycle := cycle_from(graph, name))]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_stages_do_not_import_later_stages():
    """ingest < transcripts < transcribe < tag < publish: a stage uses the ones before it."""
    order = ("cache", "ingest", "transcripts", "transcribe", "tag", "publish")
    rank = {f"pipeline.{name}": index for index, name in enumerate(order)}

    def stage(module: str) -> str | None:
        top = ".".join(module.split(".")[:2])
        return top if top in rank else None

    backwards = [(module, target) for module, targets in import_graph().items()
                 for target in targets
                 if stage(module) and stage(target) and rank[stage(target)] > rank[stage(module)]]
    assert not backwards


def test_every_module_is_short_enough_to_read():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_the_top_level_holds_the_driver_the_cli_and_shared_modules_only():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert top <= TOP_LEVEL
    assert set(STAGES) <= packages
    for name in packages:  # each stage says what it takes and gives
        assert ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())), name
