"""SRN for classifiers: the paper's Sections 5.1-5.2 and Appendix D.

Pure torch (no Lightning): :mod:`~srngan.classification.networks`,
:mod:`~srngan.classification.measures` (Spec-Fro, Spec-L1, Jac-Norm),
:mod:`~srngan.classification.noise` (noise sensitivity), :mod:`~srngan.classification.layers`,
:mod:`~srngan.classification.random_labels`, :mod:`~srngan.classification.datasets`.

Lightning: :class:`ClassifierModule`, :class:`ClassificationDataModule`,
:class:`TrainAccuracyStop`, imported lazily so the pure modules never pull in Lightning.
"""

from __future__ import annotations

import importlib

__all__ = ["ClassificationDataModule", "ClassifierModule", "TrainAccuracyStop"]

_LAZY = {
    "ClassifierModule": "srngan.classification.module",
    "ClassificationDataModule": "srngan.classification.datamodule",
    "TrainAccuracyStop": "srngan.classification.stopping",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'srngan.classification' has no attribute {name!r}")
