"""Shared pieces of the tool commands: checkpoint loading with one-line errors, atomic outputs.

Checkpoints are read by srngan's one reader
(:func:`srngan.training.checkpoint_io.read_checkpoint`), outputs written by its one atomic
writer (:func:`srngan.atomic.atomic_path`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from jsonargparse import ArgumentError

from srngan.atomic import atomic_path
from srngan.errors import CommandError
from srngan.training.checkpoint_io import read_checkpoint
from srngan.training.upgrade import upgraded


def command_parser(name: str, description: str) -> argparse.ArgumentParser:
    """The parser of ``srngan <name>``, its description shown verbatim (it holds examples)."""
    return argparse.ArgumentParser(
        prog=f"srngan {name}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def pick_device(name: str | None) -> torch.device:
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise CommandError(f"unknown device {name!r}; allowed: cpu, cuda, cuda:N, auto")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    return torch.device(name)


def resolve_checkpoint(name: str | os.PathLike, runs_root: str | os.PathLike = "runs") -> Path:
    """The checkpoint file ``--ckpt`` names: a path; ``best``, the newest ``best.ckpt`` under
    ``runs_root`` (written by :class:`~srngan.BestCheckpoint`); or
    ``RUN_DIR/best``, that run's ``checkpoints/best.ckpt``."""
    text = str(name)
    if text == "best":
        found = sorted(
            Path(runs_root).glob("**/checkpoints/best.ckpt"), key=lambda p: p.stat().st_mtime
        )
        if not found:
            raise CommandError(
                f"--ckpt best: no checkpoints/best.ckpt under {runs_root}/ (a run keeps one with "
                "the srngan.BestCheckpoint callback); pass a checkpoint file"
            )
        print(f"--ckpt best: {found[-1]}")
        return found[-1]
    path = Path(text)
    if path.name == "best" and not path.exists():
        candidate = path.parent / "checkpoints" / "best.ckpt"
        if not candidate.is_file():
            raise CommandError(f"--ckpt {text}: {candidate} not found")
        return candidate
    return path


def load_checkpoint(path: str | os.PathLike):
    """``(GANModule on CPU in eval mode, raw checkpoint dict)``; one-line errors for bad files.

    ``path`` may also be ``best`` or ``RUN_DIR/best`` (:func:`resolve_checkpoint`). Checkpoints
    from GPU or DDP runs load on CPU (``map_location="cpu"``).
    """
    from srngan.training.module import GANModule

    path = resolve_checkpoint(path)
    raw = read_checkpoint(path)
    if "srngan" not in raw:
        raise CommandError(
            f"{path} is not an srngan checkpoint (no generator state from `srngan fit`)"
        )
    if "_class_path" not in raw.get("hyper_parameters", {}):
        raise CommandError(
            f"checkpoint {path} was written by an srngan before 0.2 (networks built from flat "
            "hyperparameters); it does not load in this version: retrain, or use the older srngan"
        )
    # A checkpoint of srngan 0.2 is read as the current version's (srngan.training.upgrade).
    kwargs: dict = {}
    source = upgraded(path, kwargs, raw)
    try:
        # Rebuilds G and D from the class_path configs the checkpoint records (user classes
        # included, when their module is importable).
        model = GANModule.load_from_checkpoint(
            source, map_location="cpu", weights_only=False, **kwargs
        )
    except (ImportError, TypeError, RuntimeError, ValueError, KeyError, ArgumentError) as err:
        message = " ".join(str(err).split())
        missing = re.search(r"class_path '([\w.]+)': (No module named '[\w.]+')", message)
        if missing:
            message = (
                f"its class {missing.group(1)} cannot be imported ({missing.group(2)}); "
                "put the module that defines it on PYTHONPATH"
            )
        raise CommandError(f"checkpoint {path} cannot be rebuilt: {message}") from err
    return model.eval(), raw


@contextmanager
def atomic_output(path: str | os.PathLike, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` (fsynced), on
    failure it is deleted (:func:`srngan.atomic.atomic_path`).

    A failure (or Ctrl-C) therefore never leaves a partial file or folder at ``path``; a folder
    that cannot be written is a one-line :class:`CommandError` before any work.
    """
    path = Path(path)
    try:
        writer = atomic_path(path, is_dir=is_dir)
        tmp = writer.__enter__()
    except OSError as err:
        parent = path.parent if str(path.parent) else Path(".")
        raise CommandError(f"cannot write to {parent}: {err.strerror or err}") from err
    try:
        yield tmp
    except BaseException:
        if not writer.__exit__(*sys.exc_info()):
            raise
    else:
        writer.__exit__(None, None, None)
