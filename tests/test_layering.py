"""Layering: pure torch parts import no Lightning, nothing imports the CLI, no import cycles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "srngan"
PURE = [
    "srngan.nn", "srngan.models", "srngan.losses", "srngan.regularizers", "srngan.errors",
    "srngan.metrics", "srngan.evaluation",
    "srngan.data.procedural", "srngan.data.real", "srngan.data.stream", "srngan.nn.modes",
    "srngan.terms", "srngan", "srngan.atomic", "srngan.ranks", "srngan.console",
]  # fmt: skip

# One interpreter for all of them (torch is imported once): before each module, every srngan
# and Lightning module is dropped from sys.modules, so each import starts from scratch.
_PROBE = """
import json, sys
import torch  # noqa: F401  (kept across modules: it is not what is tested)
FAMILIES = ("srngan", "lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics")
result = {}
for module in sys.argv[1:]:
    for name in [m for m in sys.modules if m.split(".")[0] in FAMILIES]:
        del sys.modules[name]
    __import__(module)
    result[module] = any(m.split(".")[0] in ("lightning", "pytorch_lightning") for m in sys.modules)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def lightning_pulled_in() -> dict[str, bool]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *PURE], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_lightning(module, lightning_pulled_in):
    assert lightning_pulled_in[module] is False, f"{module} pulls in Lightning"


def test_the_probe_sees_lightning_when_it_is_imported():
    # The probe is not vacuous: a module that does import Lightning is caught.
    out = subprocess.run([sys.executable, "-c", _PROBE, "srngan.training.module"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"srngan.training.module": True}


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
