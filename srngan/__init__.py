"""srngan: GANs with Stable Rank Normalization, on PyTorch Lightning.

``srngan.nn`` is pure torch. ``srngan.GANModule`` (Lightning) is imported on first use so that
``import srngan.nn`` stays free of Lightning.
"""

from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["GANModule", "__version__"]


def __getattr__(name: str):
    if name == "GANModule":
        from srngan.training.module import GANModule

        return GANModule
    raise AttributeError(f"module 'srngan' has no attribute {name!r}")
