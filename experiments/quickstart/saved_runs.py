"""The trained-module files of ``compare.py --save FILE`` and the real images the probes use.

A file holds the ``srngan fit`` arguments the module was built from and its ``state_dict``;
``d_scores.py``, ``shape_sizes.py`` and ``empty_probe.py`` read it back with :func:`load_saved`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from srngan.cli import instantiate
from srngan.data.procedural import ShapesDataset


def save_module(module, args: list[str], path: Path) -> None:
    """Write ``module``'s state with the ``srngan fit`` ``args`` that build it."""
    torch.save({"args": args, "state_dict": module.state_dict()}, path)


def load_saved(path: Path):
    """The module written by :func:`save_module`, rebuilt from its arguments."""
    saved = torch.load(path, weights_only=False)
    module, _ = instantiate(*saved["args"])
    module.load_state_dict(saved["state_dict"])
    return module


def real_of_class(data: ShapesDataset, c: int, n: int) -> torch.Tensor:
    """The first ``n`` images of class ``c`` in ``data``, as ``(n, 3, H, W)`` in [-1, 1]."""
    return torch.stack([data[int(i)][0] for i in torch.nonzero(data.labels == c)[:n, 0]])
