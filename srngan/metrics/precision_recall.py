"""Improved precision and recall (Kynkäänniemi et al. 2019) as a torchmetrics ``Metric``."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import Extractor
from srngan.metrics.functional.knn import DEFAULT_BLOCK_BYTES
from srngan.metrics.functional.precision_recall import PRC_NEIGHBOURS, features_to_precision_recall
from srngan.metrics.manifold import ManifoldMetric
from srngan.metrics.vgg import VGG16_FEATURE_DIM


class PrecisionRecall(ManifoldMetric):
    """Precision (fidelity) and recall (diversity) of generated images against real ones.

    torch-fidelity 0.4's ``prc`` by default: VGG-16 ``fc2_relu`` features, ``k = 3``, membership
    ``distance <= radius`` (see :mod:`srngan.metrics.functional.precision_recall`); float64 distances in
    blocks. Arguments: see :class:`~srngan.metrics.manifold.ManifoldMetric`.

    Example:
        >>> prc = PrecisionRecall(vgg16_weights="vgg16-397923af.pth")
        >>> prc.update(real_uint8, real=True)
        >>> prc.update(fake, real=False)          # floats in [-1, 1]
        >>> prc.compute()                          # {"precision": ..., "recall": ..., "f_score": ...}
    """

    higher_is_better = True

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        vgg16_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        k: int = PRC_NEIGHBOURS,
        feature_dim: int = VGG16_FEATURE_DIM,
        reference: Tensor | None = None,
        reference_radii: Tensor | None = None,
        reset_real_features: bool = True,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        **kwargs,
    ) -> None:
        super().__init__(
            k, feature_extractor, vgg16_weights, download, feature_dim=feature_dim,
            reference=reference, reference_radii=reference_radii,
            reset_real_features=reset_real_features, block_bytes=block_bytes, **kwargs,
        )  # fmt: skip

    def compute(self) -> dict[str, Tensor]:
        """``{"precision", "recall", "f_score"}`` as float64 scalar tensors."""
        fake, real, radii = self._sides()
        found = features_to_precision_recall(fake, real, self.k, radii, self.block_bytes)
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in found.items()}
