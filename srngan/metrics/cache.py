"""On-disk cache of reference (real-data) statistics, keyed by everything they depend on.

Entries are written to a temporary file in the cache folder and renamed into place, so a crash
or a concurrent writer never leaves a truncated entry; a second evaluation loads instead of
recomputing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from srngan.atomic import atomic_torch_save

CACHE_ENV = "SRNGAN_CACHE"


def cache_dir() -> Path:
    """``$SRNGAN_CACHE``, else ``~/.cache/srngan``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "srngan")


def cache_key(**fields: Any) -> str:
    """A stable short hash of the keyword fields (dataset, split, transform, weights, count...)."""
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def lookup(name: str, key: str, folder: Path | None = None) -> tuple[Any, bool]:
    """``(value, True)`` for the entry ``name-key`` of the cache, ``(None, False)`` if absent."""
    path = (folder or cache_dir()) / f"{name}-{key}.pt"
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=False), True
    return None, False


def store(name: str, key: str, value: Any, folder: Path | None = None) -> None:
    """Write ``value`` as the entry ``name-key`` (through srngan's one atomic writer)."""
    atomic_torch_save(value, (folder or cache_dir()) / f"{name}-{key}.pt")


def cached(
    name: str, key: str, compute: Callable[[], Any], folder: Path | None = None
) -> tuple[Any, bool]:
    """``(value, hit)``: the entry ``name-key`` from the cache, else ``compute()`` stored there."""
    value, hit = lookup(name, key, folder)
    if hit:
        return value, True
    value = compute()
    store(name, key, value, folder)
    return value, False
