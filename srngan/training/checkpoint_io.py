"""Checkpoints that no reader ever sees half-written, and the one checkpoint reader.

:class:`AtomicCheckpointIO` writes each checkpoint through srngan's atomic writer
(:func:`srngan.atomic.atomic_path`: temporary file beside the target, fsync, rename). A kill, a
full disk or a crash during the write leaves the previous file intact and at most a
``.<name>.*.tmp`` file behind. Lightning's own local save writes the target directly (and
through a copy when the temporary folder is on another filesystem), which can leave a truncated
``last.ckpt``.

:func:`read_checkpoint` is how srngan reads any checkpoint (resume discovery, ``--ckpt_path``,
the tool commands, ``best.ckpt``): a truncated, corrupt or foreign file is an
:class:`UnreadableCheckpoint` (a one-line ``ValueError``), never a PyTorch traceback.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from srngan.atomic import atomic_torch_save
from srngan.errors import CommandError

# What torch.load raises for a truncated, empty or foreign file.
UNREADABLE_ERRORS = (
    RuntimeError,
    EOFError,
    OSError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
    ValueError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
)


class AtomicCheckpointIO(TorchCheckpointIO):
    """:class:`TorchCheckpointIO` whose local saves are atomic (temporary file, fsync, rename).

    Remote paths (``s3://...``) are left to Lightning's own save.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if "://" in str(path) and not str(path).startswith("file://"):
            return super().save_checkpoint(checkpoint, path, storage_options)
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        atomic_torch_save(checkpoint, Path(str(path).removeprefix("file://")))


__all__ = ["AtomicCheckpointIO", "UnreadableCheckpoint", "atomic_torch_save", "read_checkpoint"]


def read_checkpoint(path: str | os.PathLike, mmap: bool = False) -> dict:
    """The checkpoint dict at ``path`` (on CPU); :class:`UnreadableCheckpoint` if it cannot be read.

    Args:
        path: a checkpoint file (a missing file is unreadable too: ``FileNotFoundError``).
        mmap: map the tensors instead of reading them (for looking at a few entries of a large
            checkpoint, e.g. ``best.ckpt``'s record).
    """
    path = Path(path)
    if not path.is_file():
        raise UnreadableCheckpoint(path, "not found")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=False, mmap=mmap)
    except UNREADABLE_ERRORS as err:
        raise UnreadableCheckpoint(path, _first_line(err)) from err
    if not isinstance(raw, dict) or "state_dict" not in raw:
        raise UnreadableCheckpoint(
            path, "not an srngan checkpoint (no state_dict: not written by `srngan fit`)"
        )
    return raw


class UnreadableCheckpoint(CommandError, ValueError):
    """A checkpoint file that is missing, truncated, corrupt or not a checkpoint (one line)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        if reason == "not found" or reason.startswith("not an srngan"):
            message = f"checkpoint {path} {'is ' * (reason != 'not found')}{reason}"
        else:
            message = f"checkpoint {path} is unreadable (truncated or corrupt): {reason}"
        super().__init__(message)


def _first_line(err: BaseException) -> str:
    # torch's messages run on with advice after the first sentence; the cause is in it.
    lines = str(err).strip().splitlines()
    first = lines[0].split(". ")[0].rstrip(".") if lines else ""
    return f"{type(err).__name__}: {first}".rstrip(": ")
