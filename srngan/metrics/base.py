"""What srngan's torchmetrics Metrics share: the feature extractor, input checks, ordered rows.

Each metric runs a feature extractor ``uint8 images -> (features, logits)``: torch-fidelity's
Inception-v3 by default (weights from ``inception_weights``, ``$SRNGAN_INCEPTION_WEIGHTS`` or the
torch hub cache), or any callable given as ``feature_extractor`` (the procedural dataset's domain
classifier, a test extractor). Several metrics can share one forward pass: ``update`` also takes
the extractor's outputs directly (``features=`` / ``logits=``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import Tensor
from torchmetrics import Metric

from srngan.metrics.images import images_to_uint8
from srngan.metrics.inception import extract_features, load_inception
from srngan.ranks import process_rank

Extractor = Callable[[Tensor], tuple[Tensor, Tensor]]

INCEPTION_FEATURE_DIM = 2048
INCEPTION_LOGITS = 1008
RANK_STRIDE = 1 << 40
"""Rows added without explicit ``indices`` get ``rank * RANK_STRIDE + arrival position``: one
process keeps arrival order; several processes are ordered rank by rank."""


class FeatureMetric(Metric):
    """Base of the Inception-feature metrics (not used directly).

    Args:
        feature_extractor: ``uint8 (N, 3, H, W) -> (features (N, feature_dim), logits (N, K))``;
            ``None`` loads torch-fidelity's Inception-v3 (``inception-v3-compat``).
        inception_weights: path of ``weights-inception-2015-12-05-6726825d.pth`` (else
            ``$SRNGAN_INCEPTION_WEIGHTS``, else the torch hub cache).
        download: allow downloading the Inception weights when found nowhere.
        feature_dim: size of the extractor's features (Inception: 2048).
        kwargs: torchmetrics ``Metric`` options (``sync_on_compute``, ``process_group``...).
    """

    is_differentiable = False
    full_state_update = False

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        inception_weights: str | os.PathLike | None = None,
        download: bool = False,
        feature_dim: int = INCEPTION_FEATURE_DIM,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if feature_extractor is None:
            self.inception = load_inception(inception_weights, download)
        elif not callable(feature_extractor):
            raise ValueError(
                f"feature_extractor must be callable (uint8 images -> (features, logits)), "
                f"got {type(feature_extractor).__name__}"
            )
        else:
            self.feature_extractor = feature_extractor
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
        self.feature_dim = feature_dim
        self._row_states: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
        self._kept_on_reset: tuple[str, ...] = ()

    # ------------------------------------------------------------------ extraction
    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """``(features, logits)`` of images (uint8, or floats in [-1, 1])."""
        images = images_to_uint8(images).to(self.device)
        if getattr(self, "inception", None) is not None:
            return extract_features(self.inception, images)
        return self.feature_extractor(images)

    def _inputs(
        self, images: Tensor | None, features: Tensor | None, logits: Tensor | None, need: str
    ) -> Tensor:
        """The extractor output ``need`` ("features" or "logits") for this update."""
        given = features if need == "features" else logits
        if images is not None and given is not None:
            raise ValueError(f"pass images or {need}=, not both")
        if images is None and given is None:
            raise ValueError(f"pass images (uint8 or floats in [-1, 1]) or {need}=")
        if given is None:
            given = self.extract(images)[0 if need == "features" else 1]
        if given.ndim != 2:
            raise ValueError(f"{need} must have shape (N, D), got {tuple(given.shape)}")
        if need == "features" and given.shape[1] != self.feature_dim:
            raise ValueError(
                f"features have dimension {given.shape[1]}, but the metric was built with "
                f"feature_dim={self.feature_dim}"
            )
        return given.detach().to(self.device, torch.float64)

    # ------------------------------------------------------------------ row states (cat)
    def _add_rows_state(self, name: str, row_shape: tuple[int, ...], dtype: torch.dtype) -> None:
        """A list state of rows, gathered across processes (``dist_reduce_fx="cat"``)."""
        self.add_state(name, default=[], dist_reduce_fx="cat")
        self._row_states[name] = (row_shape, dtype)

    def _auto_indices(self, n: int, kept: list[Tensor]) -> Tensor:
        start = process_rank(from_environment=False) * RANK_STRIDE + sum(
            int(t.shape[0]) for t in kept
        )
        return torch.arange(start, start + n, device=self.device)

    @staticmethod
    def _check_indices(indices: Tensor, n: int) -> Tensor:
        indices = torch.as_tensor(indices)
        if indices.shape != (n,) or indices.is_floating_point():
            raise ValueError(
                f"indices must be {n} integers (one per image), got {indices.dtype} "
                f"{tuple(indices.shape)}"
            )
        return indices.long()

    @staticmethod
    def _ordered(rows: list[Tensor] | Tensor, indices: list[Tensor] | Tensor) -> Tensor:
        """Rows sorted by their sample index (after a sync the lists are already one tensor)."""
        rows = torch.cat(rows) if isinstance(rows, list) else rows
        indices = torch.cat(indices) if isinstance(indices, list) else indices
        if indices.numel() == 0:
            return rows
        indices, order = torch.sort(indices)
        if bool((indices[1:] == indices[:-1]).any()):
            repeated = int(indices[1:][indices[1:] == indices[:-1]][0])
            raise ValueError(f"sample index {repeated} was added twice")
        return rows[order]

    def sync(self, *args, **kwargs) -> None:
        # torchmetrics stands in a 1-d float32 tensor for an empty list state, which cannot be
        # gathered with (n, d) float64 rows: a process that saw no rows sends (0, d) of its dtype.
        for name, (shape, dtype) in self._row_states.items():
            if not getattr(self, name):
                getattr(self, name).append(torch.empty(0, *shape, dtype=dtype, device=self.device))
        super().sync(*args, **kwargs)

    # ------------------------------------------------------------------ reset / forward
    def reset(self) -> None:
        """Reset the states, except the real side when built with ``reset_real_features=False``."""
        kept = {name: getattr(self, name) for name in self._kept_on_reset}
        super().reset()
        for name, value in kept.items():
            setattr(self, name, value)

    def forward(self, *args, **kwargs) -> None:
        """Calling the metric updates it; set-level metrics have no per-batch value."""
        self.update(*args, **kwargs)
