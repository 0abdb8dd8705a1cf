"""Base of the k-nearest-neighbour set metrics (precision / recall, density / coverage).

Both keep the feature rows of each side (``dist_reduce_fx="cat"``: gathered across processes;
the metrics are set functions, so the order of rows does not matter) and compute float64
distances in blocks (:mod:`srngan.metrics.functional.knn`). Rows are stored in float32, the extractors'
output type, so storing them loses nothing and halves the memory of float64 rows (50 000 VGG-16
features: 0.8 GB per side).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import Extractor, FeatureMetric
from srngan.metrics.functional.knn import DEFAULT_BLOCK_BYTES
from srngan.metrics.vgg import VGG16_FEATURE_DIM, load_vgg16


class ManifoldMetric(FeatureMetric):
    """Feature rows of real and generated images for a k-NN set metric (not used directly).

    Args:
        k: neighbourhood size (>= 1).
        feature_extractor: ``uint8 images -> (features, logits)``; ``None`` loads torch-fidelity's
            VGG-16 (``fc2_relu``, 4096-d), the extractor of its ``prc``.
        vgg16_weights: path of ``vgg16-397923af.pth`` (else ``$SRNGAN_VGG16_WEIGHTS``, else the
            torch hub cache); only for the default extractor.
        download: allow downloading the VGG-16 weights when found nowhere.
        feature_dim: size of the extractor's features (VGG-16: 4096).
        reference: fixed real features ``(n, feature_dim)``; then no real states are kept and
            ``update(..., real=True)`` is refused.
        reference_radii: cached k-NN radii of ``reference`` for this ``k``.
        reset_real_features: ``False`` keeps the real rows across :meth:`reset`.
        block_bytes: memory of one block of distances.
        kwargs: torchmetrics ``Metric`` options.
    """

    def __init__(
        self,
        k: int,
        feature_extractor: Extractor | None = None,
        vgg16_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        feature_dim: int = VGG16_FEATURE_DIM,
        reference: Tensor | None = None,
        reference_radii: Tensor | None = None,
        reset_real_features: bool = True,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        **kwargs,
    ) -> None:
        if feature_extractor is None:
            feature_extractor = load_vgg16(vgg16_weights, download)
        super().__init__(feature_extractor, None, False, feature_dim, **kwargs)
        if k < 1:
            raise ValueError(f"k (nearest neighbours) must be >= 1, got {k}")
        if block_bytes < 1:
            raise ValueError(f"block_bytes must be >= 1, got {block_bytes}")
        self.k, self.block_bytes = k, block_bytes
        if reference is not None and (reference.ndim != 2 or reference.shape[1] != feature_dim):
            raise ValueError(
                f"reference features must have shape (n, {feature_dim}), got {tuple(reference.shape)}"
            )
        if reference_radii is not None and (
            reference is None or reference_radii.shape != (reference.shape[0],)
        ):
            shape = None if reference is None else (reference.shape[0],)
            raise ValueError(
                f"reference_radii must have shape {shape} (one per reference row), got "
                f"{tuple(reference_radii.shape)}"
            )
        self.reference = reference
        self.reference_radii = reference_radii
        for side in ("fake",) if reference is not None else ("real", "fake"):
            self._add_rows_state(f"{side}_features", (feature_dim,), torch.float32)
        if not reset_real_features and reference is None:
            self._kept_on_reset = ("real_features",)

    def update(self, images: Tensor | None, real: bool, *, features: Tensor | None = None) -> None:
        """Add images (uint8 ``(N, 3, H, W)`` or floats in [-1, 1]) or ``features=`` to a side."""
        if real and self.reference is not None:
            raise ValueError(
                f"this {type(self).__name__} has fixed reference features; update(real=False) only"
            )
        f = self._inputs(images, features, None, "features")
        getattr(self, f"{'real' if real else 'fake'}_features").append(f.to(torch.float32))

    def features(self, real: bool) -> Tensor:
        """The (synced) feature rows of one side, float32 ``(n, feature_dim)``."""
        if real and self.reference is not None:
            return self.reference
        with self.sync_context(should_unsync=True):
            return self._rows("real" if real else "fake")

    def _rows(self, side: str) -> Tensor:
        rows = getattr(self, f"{side}_features")
        if isinstance(rows, list):
            rows = torch.cat(rows) if rows else torch.empty(0, self.feature_dim)
        return rows

    def _sides(self) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(fake rows, real rows, cached real radii or None)``, checked for size."""
        fake = self._rows("fake")
        real = self.reference if self.reference is not None else self._rows("real")
        name = type(self).__name__
        for side, rows in (("generated", fake), ("real", real)):
            if rows.shape[0] < self.k + 1:
                raise ValueError(
                    f"{name} with k = {self.k} needs at least {self.k + 1} {side} images, got "
                    f"{rows.shape[0]}"
                )
        return fake, real.to(fake.device), self.reference_radii
