"""The module layout holds: check families share only the kit, and nothing imports in a circle.

Read from the source (the AST of every module), not from what happens to be imported, so an
import inside a function counts as much as one at the top. Imports under ``if TYPE_CHECKING:``
are left out: they never run.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from pgdrill import checks

ROOT = Path(__file__).resolve().parent.parent
# The one installed package; checks/ and fixtures/ are its subpackages pgdrill.checks and
# pgdrill.fixtures through the links pgdrill/checks and pgdrill/fixtures.
PACKAGE = "pgdrill"
# The repository's folders that are subpackages of pgdrill, never packages of their own.
MAPPED = ("checks", "fixtures")


def _modules() -> dict[str, Path]:
    """Every module of the installed package by its import name, read through the links."""
    found = {}
    for folder, _, files in sorted(os.walk(ROOT / PACKAGE, followlinks=True)):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = Path(folder) / name
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
               for stmt in node.body for n in ast.walk(stmt)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pgdrill.checks import results`` imports the module pgdrill.checks.results.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {module: _imports(module, path, known) for module, path in known.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # pgdrill.cli imports the grader only when a command runs.
    assert "pgdrill.grading" in graph["pgdrill.cli"]
    assert "pgdrill.checks.kit" in graph["pgdrill.checks.results"]


def test_the_folders_are_subpackages_of_pgdrill():
    for folder in MAPPED:
        link = ROOT / PACKAGE / folder
        assert link.is_symlink() and os.readlink(link) == f"../{folder}", link  # relative: every copy its own
    known = _modules()
    assert {"pgdrill.checks.kit", "pgdrill.fixtures.server", "pgdrill.cli"} <= set(known)
    assert not any(m.split(".")[0] in MAPPED for m in known)


def test_nothing_imports_the_folders_as_top_level_packages():
    """``checks`` and ``fixtures`` are not installed: an import by those names works only from a
    source tree (the folder is on sys.path) and there loads a second copy of the catalogue."""
    found = []
    for path in sorted([*ROOT.glob("*.py"), *ROOT.joinpath("tests").rglob("*.py"), *ROOT.joinpath("tools").rglob("*.py"),
                        *ROOT.joinpath("bench").rglob("*.py"), *_modules().values()]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in names if name.split(".")[0] in MAPPED]
    assert not found, "import pgdrill.checks / pgdrill.fixtures instead:\n" + "\n".join(found)


def test_no_import_cycle_in_pgdrill_checks_or_fixtures():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_a_cycle_is_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_check_families_share_only_the_kit():
    graph = import_graph()
    families = {f"pgdrill.checks.{name}" for name in checks.FAMILIES}
    registering = {f"pgdrill.checks.{d.family}" for d in checks.load_all().values()}
    assert registering <= families, "a module registers checks but is not in pgdrill.checks.FAMILIES"
    borrowed = {module: sorted(graph[module] & families) for module in sorted(families) if graph[module] & families}
    assert not borrowed, f"check families import other families (use checks/kit.py): {borrowed}"
    shared = {m for m in graph if m.startswith("pgdrill.checks.") and m not in families}
    leaning = {module: sorted(graph[module] & families) for module in sorted(shared) if graph[module] & families}
    assert not leaning, f"shared check modules import a family: {leaning}"


def test_front_ends_build_on_the_shared_output_helpers_not_on_the_renderers():
    graph = import_graph()
    # pgdrill.render dispatches every format, the front ends' too; they share pgdrill.output.
    assert "pgdrill.render" not in graph["pgdrill.classroom"]
    assert "pgdrill.output" in graph["pgdrill.classroom"]
