"""The package tree is the architecture (docs/architecture.md): every import in
`python/alvh`, function-local ones included, points down the layers, no import cycle
exists, and no private name crosses a module boundary outside `_core` / `_fallback`.

Imports under ``if TYPE_CHECKING:`` are not counted: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "alvh"

#: The layers, lowest first. A module may import its own layer or any layer below it.
#: The package root (``import alvh``) gathers the public API of the layers below it; the
#: CLI is a client of that API.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("errors", ("alvh.errors", "alvh._native")),
    ("core", ("alvh._core", "alvh._fallback")),
    ("pricing", ("alvh.calendar", "alvh.pricing", "alvh.bsm", "alvh.black76")),
    ("market", ("alvh.market",)),
    ("book", ("alvh.book",)),
    ("risk", ("alvh.risk",)),
    ("policy", ("alvh.policy",)),
    ("backtest", ("alvh.backtesting",)),
    ("report", ("alvh.report",)),
    ("package", ("alvh",)),
    ("cli", ("alvh.cli",)),
)

#: What may sit in the package root besides the subpackages.
ROOT_MODULES = {"__init__", "errors", "bsm", "black76", "calendar"}

#: Subpackages whose modules share private names among themselves by design.
SHARED_PRIVATE = ("alvh._core", "alvh._fallback")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
#: The compiled extension: a module without a .py file.
EXTENSION = "alvh._native"


def _layer(module: str) -> int:
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    if rank < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return rank


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth, outside ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    walk(sub)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            walk(child)

    walk(tree)
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _edges() -> dict[str, set[str]]:
    """module -> the alvh modules it imports (``from pkg import sub`` counts as pkg.sub)."""
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                source = _resolve(module, is_package, node)
                names = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in (*MODULES, EXTENSION) else source
                    for a in node.names
                ]
            targets.update(n for n in names if n == "alvh" or n.startswith("alvh."))
        edges[module] = {t for t in targets if t in MODULES or t == EXTENSION} - {module}
    return edges


def _private_imports() -> list[str]:
    crossings = []
    for module, path in MODULES.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, is_package, node)
                pairs = [(source, a.name) for a in node.names]
            else:
                pairs = [(a.name.rpartition(".")[0], a.name.rpartition(".")[2]) for a in node.names]
            for source, name in pairs:
                if not name.startswith("_") or name == "__future__" or not source.startswith("alvh"):
                    continue
                shared = any(
                    module.startswith(p) and (source.startswith(p) or source == "alvh")
                    for p in SHARED_PRIVATE
                )
                if not shared:
                    crossings.append(f"{module}: from {source} import {name}")
    return crossings


def test_every_module_is_in_a_layer_and_the_root_holds_only_the_entry_modules() -> None:
    for module in MODULES:
        _layer(module)
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root == ROOT_MODULES, f"modules in the package root: {sorted(root - ROOT_MODULES)}"


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in _edges().items()
        for target in sorted(targets)
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    edges = _edges()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_crosses_a_module_boundary() -> None:
    assert _private_imports() == []


@pytest.mark.parametrize(
    "module",
    sorted(
        m for m in MODULES if not m.rpartition(".")[2].startswith("_") and not m.startswith(SHARED_PRIVATE)
    ),
)
def test_every_public_module_declares_all(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{module} has no module docstring"
    names = {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert "__all__" in names, f"{module} has no __all__"


def test_the_checker_sees_a_planted_cycle_and_an_upward_edge(tmp_path: Path) -> None:
    # The walker must see function-local imports and skip TYPE_CHECKING ones.
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from alvh.cli import main\n"
        "def f():\n    from alvh.report import backtest\n"
    )
    sources = [n.module for n in _imports(tree) if isinstance(n, ast.ImportFrom)]
    assert sources == ["typing", "alvh.report"]
    assert _layer("alvh.report.backtest") > _layer("alvh.risk.grid")


def test_no_exported_name_hides_a_submodule() -> None:
    # `pkg.name` must be the submodule `pkg.name`: a function exported under a submodule's
    # name would make `import pkg.name as m` and `pkg.name.x` reach the function instead.
    import importlib

    for module, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(module)
        for sub in MODULES:
            parent, _, leaf = sub.rpartition(".")
            if parent == module and hasattr(package, leaf):
                assert getattr(package, leaf) is importlib.import_module(sub), f"{sub} is hidden"
