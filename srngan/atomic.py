"""Files that no reader ever sees half-written: the one atomic writer of srngan (pure Python).

Every output srngan writes (checkpoints, ``best.ckpt``, sample grids and folders, statistics,
``metrics.jsonl`` records, tool outputs) goes through :func:`atomic_path`: the content is written
to a temporary file (or folder) beside its target, flushed and fsynced, then renamed into place
and the folder fsynced. ``os.replace`` is atomic within one filesystem, and the temporary path
is in the target's own folder, so it always is. A kill, a full disk or a crash during the write
leaves the previous file intact and at most a ``.<name>.*.tmp`` entry behind (:func:`stale_temporaries`
finds those).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["append_line", "atomic_path", "atomic_torch_save", "stale_temporaries"]


@contextmanager
def atomic_path(path: str | os.PathLike, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; write to it, and on success it replaces ``path``.

    On success the temporary file (every file of the temporary folder) is fsynced, renamed over
    ``path`` (a folder at ``path`` is replaced as a whole) and the parent folder fsynced, so the
    rename survives a power cut. On any exception (Ctrl-C included) the temporary path is deleted
    and ``path`` is left as it was.

    Example::

        with atomic_path("out/stats.npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, mu=mu, sigma=sigma)
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp"))
    else:
        fd, name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if is_dir:
            for file in sorted(tmp.rglob("*")):
                if file.is_file():
                    _fsync_file(file)
            _fsync_dir(tmp)
            if path.is_dir():
                shutil.rmtree(path)
        else:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(parent)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` through :func:`atomic_path`."""
    import torch  # here, so that this module stays importable without torch's import cost

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line (``\\n`` added) to a text file such as ``metrics.jsonl``, atomically.

    The file is rewritten through :func:`atomic_path` with the line added, so a reader (or a
    crash) sees the records before the append or after it, never a half-written last line.
    Fine for the small logs it is used for (one record per evaluation).
    """
    path = Path(path)
    before = path.read_bytes() if path.is_file() else b""
    if before and not before.endswith(b"\n"):
        before += b"\n"
    with atomic_path(path) as tmp:
        tmp.write_bytes(before + line.rstrip("\n").encode() + b"\n")


def stale_temporaries(folder: str | os.PathLike, name_pattern: str = "*") -> list[Path]:
    """Temporary entries of writes cut short (a SIGKILL, a power cut) in ``folder`` whose target
    name matches ``name_pattern``, e.g. ``*.ckpt``: never read, safe to delete."""
    folder = Path(folder)
    return sorted(folder.glob(f".{name_pattern}.*.tmp")) if folder.is_dir() else []


def _fsync_file(path: Path) -> None:
    # Writers have closed (flushed) the file; fsync needs only a read descriptor.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
