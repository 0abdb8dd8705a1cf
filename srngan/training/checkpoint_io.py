"""Checkpoints that no reader ever sees half-written, and reading them back safely.

:class:`AtomicCheckpointIO` writes each checkpoint to a temporary file beside its target, flushes
and fsyncs it, then renames it into place (``os.replace`` is atomic within one filesystem, and the
temporary file is in the target's own folder, so it always is). A kill, a full disk or a crash
during the write leaves the previous file intact and at most a ``.<name>.*.tmp`` file behind.
Lightning's own local save writes the target directly (and through a copy when the temporary
folder is on another filesystem), which can leave a truncated ``last.ckpt``.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

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


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save(obj, path)`` through a fsynced temporary file in ``path``'s folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)  # the rename itself survives a power cut


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported here (e.g. some network filesystems): the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict at ``path`` (on CPU); :class:`UnreadableCheckpoint` if it cannot be read."""
    path = Path(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=False)
    except UNREADABLE_ERRORS as err:
        raise UnreadableCheckpoint(path, _first_line(err)) from err
    if not isinstance(raw, dict) or "state_dict" not in raw:
        raise UnreadableCheckpoint(path, "not a Lightning checkpoint (no state_dict)")
    return raw


class UnreadableCheckpoint(ValueError):
    """A checkpoint file that is truncated, corrupt or not a checkpoint."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"checkpoint {path} is unreadable (truncated or corrupt): {reason}")


def _first_line(err: BaseException) -> str:
    # torch's messages run on with advice after the first sentence; the cause is in it.
    lines = str(err).strip().splitlines()
    first = lines[0].split(". ")[0].rstrip(".") if lines else ""
    return f"{type(err).__name__}: {first}".rstrip(": ")
