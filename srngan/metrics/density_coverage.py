"""Density and coverage (Naeem et al. 2020) as a torchmetrics ``Metric``."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import Extractor
from srngan.metrics.functional.density_coverage import DC_NEIGHBOURS, features_to_density_coverage
from srngan.metrics.functional.knn import DEFAULT_BLOCK_BYTES
from srngan.metrics.manifold import ManifoldMetric
from srngan.metrics.vgg import VGG16_FEATURE_DIM


class DensityCoverage(ManifoldMetric):
    """Density (fidelity, unbounded) and coverage (diversity) of generated against real images.

    The ``prdc`` package's definitions (``k = 5``, membership ``distance < radius``, real balls
    only; see :mod:`srngan.metrics.functional.density_coverage`) on VGG-16 ``fc2_relu`` features by
    default; float64 distances in blocks. Arguments: see
    :class:`~srngan.metrics.manifold.ManifoldMetric`.

    Example:
        >>> dc = DensityCoverage(vgg16_weights="vgg16-397923af.pth")
        >>> dc.update(real_uint8, real=True)
        >>> dc.update(fake, real=False)
        >>> dc.compute()                           # {"density": ..., "coverage": ...}
    """

    higher_is_better = True

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        vgg16_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        k: int = DC_NEIGHBOURS,
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
        """``{"density", "coverage"}`` as float64 scalar tensors."""
        fake, real, radii = self._sides()
        found = features_to_density_coverage(fake, real, self.k, radii, self.block_bytes)
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in found.items()}
