"""The package's rooms: subpackages that talk only through their public faces, without cycles.

Read from the source with ``ast`` (nothing is imported or executed), so a violation is found
even in a function-level import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "alsstats"

# The only modules allowed at the top level, beside the subpackages.
LOOSE_MODULES = {"__init__", "__main__", "errors", "io", "palette", "paths", "version"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str | None:
    """The subpackage or loose module a dotted name belongs to; None for the package root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute target module, imported names) of every import in a file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("alsstats"):
                continue
            names = [a.name for a in node.names]
            if node.module is None:  # ``from .. import design``: each name is a module
                for name in names:
                    found.append((node.lineno, f"{target}.{name}", []))
            else:
                found.append((node.lineno, target, names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("alsstats"):
                    found.append((node.lineno, alias.name, []))
    return found


def _files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _edges() -> tuple[dict[str, set[str]], list[str]]:
    """Room -> rooms it imports, and every boundary violation as text."""
    graph: dict[str, set[str]] = {}
    problems = []
    for path in _files():
        here = _room(_module_name(path))
        if here is None or here == "__main__":
            continue  # the package root is the curated face of every room
        graph.setdefault(here, set())
        for line, target, names in _imports(path):
            there = _room(target)
            if there is None or there == here:
                continue
            where = f"{path.relative_to(SRC.parent)}:{line}"
            if target != f"alsstats.{there}":
                problems.append(f"{where}: imports {target}, not the public face alsstats.{there}")
            if there.startswith("_"):
                problems.append(f"{where}: imports private top-level module {there}")
            private = [n for n in names if n.startswith("_") and not n.endswith("__")]
            if private:
                problems.append(f"{where}: imports private names {private} from {target}")
            graph[here].add(there)
    return graph, problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_private_name_or_module_crosses_a_room():
    _, problems = _edges()
    assert problems == []


def test_rooms_import_each_other_without_cycles():
    graph, _ = _edges()
    assert _cycles(graph) == []


def test_only_the_allowed_loose_modules():
    loose = {p.stem for p in SRC.glob("*.py")}
    assert loose <= LOOSE_MODULES, f"new loose module(s): {sorted(loose - LOOSE_MODULES)}"


def test_every_subpackage_has_a_public_face():
    for folder in sorted(p for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        if folder.name == "data":
            continue
        assert init.exists(), f"{folder.name}/ has no __init__.py"
        tree = ast.parse(init.read_text())
        doc = ast.get_docstring(tree)
        assert doc, f"{folder.name}/__init__.py has no docstring saying its job"
        if folder.name == "cli":
            continue
        names = [
            n
            for n in tree.body
            if isinstance(n, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in n.targets)
        ]
        assert names, f"{folder.name}/__init__.py has no explicit __all__"


def test_data_flows_one_way():
    """The layering of the house plan: lower rooms never import higher ones."""
    graph, _ = _edges()
    layer = {
        "errors": 0,
        "version": 0,
        "palette": 0,
        "paths": 0,
        "io": 0,
        "summary": 1,
        "models": 1,
        "survival": 1,
        "checks": 2,
        "interaction": 2,
        "reconstruct": 3,
        "design": 4,
        "km": 4,
        "report": 5,
        "catalogue": 5,
        "cli": 6,
    }
    wrong = [
        (a, b) for a, targets in graph.items() for b in targets if layer.get(b, 9) > layer.get(a, 9)
    ]
    assert wrong == []


# The checker itself must be able to fail: each fixture below is a violation it has to see.
@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_cycle_finder(graph, expected):
    assert _cycles(graph) == expected
