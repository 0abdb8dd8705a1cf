"""Every private Lightning name srngan uses is listed in srngan._lightning_private and still
exists in the installed Lightning with the parameters srngan passes."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from srngan._lightning_private import PRIVATE_API

PACKAGE = Path(__file__).resolve().parents[1] / "srngan"
LISTED = {name for names in PRIVATE_API.values() for name in names}


def _owner(path: str):
    module, _, name = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module), name)


def _instance(owner, tmp_path):
    """An instance of the classes whose listed names are instance attributes."""
    import lightning as L
    from lightning.pytorch.loggers import TensorBoardLogger

    if owner is L.Trainer:
        return L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path)  # fmt: skip
    if owner is TensorBoardLogger:
        logger = TensorBoardLogger(save_dir=tmp_path, name="x")
        logger.version  # noqa: B018 (sets _version)
        return logger
    if owner is L.LightningModule:
        return L.LightningModule()
    raise AssertionError(f"no instance recipe for {owner}")


@pytest.mark.parametrize(
    ("owner", "name"), [(o, n) for o, names in PRIVATE_API.items() for n in names]
)
def test_listed_private_name_exists_with_its_parameters(owner, name, tmp_path):
    target = _owner(owner)
    parameters = PRIVATE_API[owner][name]
    if parameters is None:  # an attribute, set on instances
        assert hasattr(_instance(target, tmp_path), name), f"{owner}.{name} is gone"
        return
    assert hasattr(target, name), f"{owner}.{name} is gone"
    signature = inspect.signature(getattr(target, name))
    have = [p for p in signature.parameters if p != "self"]
    for p in parameters:
        assert p in have, f"{owner}.{name} no longer takes {p!r} (takes {have})"


def _lightning_private_names() -> set[str]:
    """Underscore names of the Lightning classes srngan builds on (class and instance attributes)."""
    import tempfile

    import lightning as L
    from lightning.pytorch.callbacks import Callback, ModelCheckpoint, TQDMProgressBar
    from lightning.pytorch.cli import LightningCLI
    from lightning.pytorch.loggers import TensorBoardLogger
    from lightning.pytorch.strategies import DDPStrategy

    names = set()
    for cls in (L.Trainer, L.LightningModule, L.LightningDataModule, Callback, ModelCheckpoint,
                TQDMProgressBar, LightningCLI, TensorBoardLogger, DDPStrategy):  # fmt: skip
        names |= {n for n in dir(cls) if n.startswith("_") and not n.startswith("__")}
    with tempfile.TemporaryDirectory() as tmp:
        for cls in (L.Trainer, TensorBoardLogger, L.LightningModule):
            names |= {n for n in vars(_instance(cls, Path(tmp))) if n.startswith("_")}
        names |= {n for n in vars(ModelCheckpoint()) if n.startswith("_")}
        names |= {n for n in vars(TQDMProgressBar()) if n.startswith("_")}
        names |= {n for n in vars(DDPStrategy()) if n.startswith("_")}
    return names


def test_srngan_uses_no_unlisted_private_lightning_name():
    lightning_names = _lightning_private_names()
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_lightning_private.py":
            continue
        tree = ast.parse(path.read_text())
        # Names srngan defines itself (its own attributes and methods) are not Lightning's.
        own = {t.attr for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign))
               for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
               if isinstance(t, ast.Attribute)}  # fmt: skip
        own |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lightning"):
                for alias in node.names:
                    private_module = any(part.startswith("_") for part in node.module.split("."))
                    if alias.name.startswith("_") or private_module:
                        found.setdefault(alias.name, set()).add(path.name)
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                name = node.attr
                if not name.startswith("__") and name in lightning_names and name not in own:
                    found.setdefault(name, set()).add(path.name)
        # Overridden private methods (e.g. LightningCLI._parse_ckpt_path) count as uses.
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name in lightning_names:
                        if item.name.startswith("_") and not item.name.startswith("__"):
                            found.setdefault(item.name, set()).add(path.name)
    assert {"_monitor_candidates", "_parse_ckpt_path", "_trainer"} <= set(found)  # the scan sees
    unlisted = {name: sorted(files) for name, files in found.items() if name not in LISTED}
    assert unlisted == {}, (
        f"private Lightning names used but not in srngan/_lightning_private.py: {unlisted}"
    )
