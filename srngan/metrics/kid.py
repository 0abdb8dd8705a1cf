r"""Kernel Inception Distance as a torchmetrics ``Metric``, with torch-fidelity's subsets."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import INCEPTION_FEATURE_DIM, Extractor, FeatureMetric
from srngan.metrics.functional.kid import features_to_kid
from srngan.metrics.keys import KEY_KID_MEAN, KEY_KID_STD


class KernelInceptionDistance(FeatureMetric):
    r"""KID (Bińkowski et al. 2018): unbiased MMD² with the cubic kernel, over random subsets.

    .. math:: k(x, y) = (x^\top y / d + 1)^3, \qquad
              \mathrm{KID} = \operatorname{mean}_s \widehat{\mathrm{MMD}}^2_u(X_s, Y_s)

    ``subsets`` subsets of ``subset_size`` features per side, drawn as torch-fidelity draws them
    (``RandomState(seed)``, generated side first), so the value equals torch-fidelity's on the
    same features. Subsets index rows, so rows are ordered by the ``indices`` given to
    :meth:`update` (default: arrival order; under DDP, processes rank by rank). States: float64
    feature rows and their indices per side, gathered across processes (``dist_reduce_fx="cat"``).

    Args:
        feature_extractor, inception_weights, download, feature_dim: see
            :class:`~srngan.metrics.base.FeatureMetric`.
        subsets, subset_size, seed: torch-fidelity's ``kid_subsets`` (100),
            ``kid_subset_size`` (1000) and ``rng_seed`` (2020).
        reference: fixed real features ``(n, feature_dim)`` in sample order; then no real states.
        reset_real_features: ``False`` keeps the real features across :meth:`reset`.

    Example:
        >>> kid = KernelInceptionDistance(inception_weights=path, subset_size=500)
        >>> kid.update(real_uint8, real=True)
        >>> kid.update(fake, real=False)
        >>> mean, std = kid.compute()
    """

    higher_is_better = False

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        inception_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        feature_dim: int = INCEPTION_FEATURE_DIM,
        subsets: int = 100,
        subset_size: int = 1000,
        seed: int = 2020,
        reference: Tensor | None = None,
        reset_real_features: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(feature_extractor, inception_weights, download, feature_dim, **kwargs)
        if subsets < 1 or subset_size < 2:
            raise ValueError(
                f"KID needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}"
            )
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed
        if reference is not None and (reference.ndim != 2 or reference.shape[1] != feature_dim):
            raise ValueError(
                f"reference features must have shape (n, {feature_dim}), got {tuple(reference.shape)}"
            )
        self.reference = reference
        for side in ("fake",) if reference is not None else ("real", "fake"):
            self._add_rows_state(f"{side}_features", (feature_dim,), torch.float64)
            self._add_rows_state(f"{side}_indices", (), torch.int64)
        if not reset_real_features and reference is None:
            self._kept_on_reset = ("real_features", "real_indices")

    def update(
        self,
        images: Tensor | None,
        real: bool,
        *,
        indices: Tensor | None = None,
        features: Tensor | None = None,
    ) -> None:
        """Add images (uint8 or floats in [-1, 1]) or ``features=`` to the real or fake side.

        ``indices``: each image's global sample index (orders the rows the subsets draw from).
        """
        if real and self.reference is not None:
            raise ValueError("this KID has fixed reference features; update(real=False) only")
        f = self._inputs(images, features, None, "features")
        side = "real" if real else "fake"
        rows = getattr(self, f"{side}_features")
        idx = self._auto_indices(f.shape[0], rows) if indices is None else indices
        getattr(self, f"{side}_indices").append(
            self._check_indices(idx, f.shape[0]).to(self.device)
        )
        rows.append(f)

    def features(self, real: bool) -> Tensor:
        """The (synced) features of one side, ordered by sample index."""
        if real and self.reference is not None:
            return self.reference
        with self.sync_context(should_unsync=True):
            side = "real" if real else "fake"
            return self._ordered(
                getattr(self, f"{side}_features"), getattr(self, f"{side}_indices")
            )

    def compute(self) -> tuple[Tensor, Tensor]:
        """``(mean, std)`` float64 tensors over the subsets (std: population, as torch-fidelity)."""
        fake = self._ordered(self.fake_features, self.fake_indices)
        if self.reference is not None:
            real = self.reference
        else:
            real = self._ordered(self.real_features, self.real_indices)
        # Generated first, as torch-fidelity (input1 = generated) draws its subsets.
        result = features_to_kid(fake, real, self.subsets, self.subset_size, self.seed)
        return (
            torch.tensor(result[KEY_KID_MEAN], dtype=torch.float64),
            torch.tensor(result[KEY_KID_STD], dtype=torch.float64),
        )
