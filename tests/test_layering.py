"""Layering: pure torch parts import no Lightning, nothing imports the CLI, no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "srngan"
PURE = [
    "srngan.nn", "srngan.models", "srngan.losses", "srngan.regularizers", "srngan.errors",
    "srngan.metrics", "srngan.evaluation.evaluator", "srngan.evaluation.runner",
    "srngan.data.procedural", "srngan.data.real", "srngan.data.stream", "srngan.nn.modes",
]  # fmt: skip


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_lightning(module):
    code = f"import sys, {module}; print(any(m.split('.')[0] in ('lightning', 'pytorch_lightning') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False", f"{module} pulls in Lightning"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports() -> dict[str, set[str]]:
    """srngan module -> srngan modules it imports at module level (not inside functions)."""
    graph: dict[str, set[str]] = {}
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        deps = set()
        for node in ast.parse(path.read_text()).body:
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def test_nothing_imports_the_cli():
    importers = [m for m, deps in _top_level_imports().items() if "srngan.cli" in deps]
    lazy = [
        str(p)
        for p in PACKAGE.rglob("*.py")
        if p.name != "cli.py"
        and ("from srngan.cli import" in p.read_text() or "import srngan.cli" in p.read_text())
    ]
    assert importers == [] and lazy == []


def test_no_import_cycles():
    graph = _top_level_imports()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            # A package's __init__ importing its own submodules is not a cycle through them.
            if node.startswith(dep + "."):
                continue
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join([*stack, node, dep]))
            if dep not in state:
                visit(dep, [*stack, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
