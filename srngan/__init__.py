"""srngan: GANs with Stable Rank Normalization, on PyTorch Lightning.

The public names, used in every config and recorded in new checkpoints::

    srngan.GANModule              # the GAN LightningModule
    srngan.GANDataModule          # its data (procedural shapes, CIFAR, CelebA, image folders)
    srngan.MetricsCallback        # IS / FID / KID / ... every N G-steps during fit
    srngan.BestCheckpoint         # best.ckpt by a metric of MetricsCallback
    srngan.ClassifierModule       # the classifier experiments (paper, Section 5)
    srngan.ClassificationDataModule

They are imported on first use (module ``__getattr__``): ``import srngan.nn`` and the other
pure-torch parts stay free of Lightning. The modules that define them
(``srngan.training.module.GANModule``...) stay importable, so configs and checkpoints that name
those paths (srngan 0.2) still load.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

# Public name -> the module that defines it (imported when the name is first used).
_LAZY = {
    "GANModule": "srngan.training.module",
    "GANDataModule": "srngan.data.datamodule",
    "MetricsCallback": "srngan.training.metrics_callback",
    "BestCheckpoint": "srngan.training.best_checkpoint",
    "ClassifierModule": "srngan.classification.module",
    "ClassificationDataModule": "srngan.classification.datamodule",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'srngan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
