r"""Fréchet Inception Distance as a torchmetrics ``Metric`` (float64 sums, exact across processes)."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import INCEPTION_FEATURE_DIM, Extractor, FeatureMetric
from srngan.metrics.functional.fid import covariance_factor, statistics_to_fid
from srngan.metrics.functional.statistics import FeatureStatistics


class FrechetInceptionDistance(FeatureMetric):
    r"""FID (Heusel et al. 2017) between real and generated images.

    .. math:: \mathrm{FID} = \|\mu_r - \mu_g\|^2 + \operatorname{tr}\Sigma_r
              + \operatorname{tr}\Sigma_g - 2 \operatorname{tr}(\Sigma_r \Sigma_g)^{1/2}

    with unbiased covariances. Each side keeps float64 sums (count, :math:`\sum x`,
    :math:`\sum x x^\top`) that torchmetrics adds across processes (``dist_reduce_fx="sum"``), so
    any batching and any number of processes give the same statistics up to float64 summation
    order; the square-root trace comes from :func:`srngan.metrics.functional.fid.frechet_distance`
    (eigenvalues of :math:`L^\top \Sigma_g L`, no ``sqrtm``).

    Args:
        feature_extractor, inception_weights, download, feature_dim: see
            :class:`~srngan.metrics.base.FeatureMetric` (default: Inception-v3, 2048-d).
        reference: fixed real statistics (e.g. from a cache); then the metric keeps no real
            states and ``update(..., real=True)`` is refused.
        reference_factor: a cached factor ``L`` (``L L^T`` = the reference covariance).
        reset_real_features: ``False`` keeps the real statistics across :meth:`reset`.

    Example:
        >>> fid = FrechetInceptionDistance(inception_weights="weights-inception-2015-12-05-6726825d.pth")
        >>> fid.update(real_uint8, real=True)      # uint8 (N, 3, H, W)
        >>> fid.update(fake, real=False)           # or floats in [-1, 1]
        >>> fid.compute()                          # float64 scalar tensor
    """

    higher_is_better = False

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        inception_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        feature_dim: int = INCEPTION_FEATURE_DIM,
        reference: FeatureStatistics | None = None,
        reference_factor: Tensor | None = None,
        reset_real_features: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(feature_extractor, inception_weights, download, feature_dim, **kwargs)
        sides = ("fake",) if reference is not None else ("real", "fake")
        for side in sides:
            self.add_state(f"{side}_count", torch.zeros((), dtype=torch.float64), "sum")
            self.add_state(f"{side}_total", torch.zeros(feature_dim, dtype=torch.float64), "sum")
            self.add_state(
                f"{side}_outer", torch.zeros(feature_dim, feature_dim, dtype=torch.float64), "sum"
            )
        if reference is not None and reference.total.shape != (feature_dim,):
            raise ValueError(
                f"reference statistics have dimension {tuple(reference.total.shape)}, "
                f"expected ({feature_dim},)"
            )
        self.reference = reference
        self.reference_factor = reference_factor
        if not reset_real_features and reference is None:
            self._kept_on_reset = ("real_count", "real_total", "real_outer")

    def update(
        self,
        images: Tensor | None,
        real: bool,
        *,
        features: Tensor | None = None,
    ) -> None:
        """Add images (uint8 ``(N, 3, H, W)`` or floats in [-1, 1]) to the real or fake side.

        ``features=`` (extractor output, ``(N, feature_dim)``) replaces ``images`` when several
        metrics share one forward pass.
        """
        if real and self.reference is not None:
            raise ValueError("this FID has fixed reference statistics; update(real=False) only")
        f = self._inputs(images, features, None, "features")
        side = "real" if real else "fake"
        setattr(self, f"{side}_count", getattr(self, f"{side}_count") + f.shape[0])
        getattr(self, f"{side}_total").add_(f.sum(0))
        getattr(self, f"{side}_outer").addmm_(f.T, f)

    def statistics(self, real: bool) -> FeatureStatistics:
        """The (synced) statistics of one side, as :class:`FeatureStatistics` (a copy)."""
        if real and self.reference is not None:
            return self.reference
        side = "real" if real else "fake"
        with self.sync_context(should_unsync=True):
            return FeatureStatistics(
                *(
                    getattr(self, f"{side}_{n}").detach().clone()
                    for n in ("count", "total", "outer")
                )
            )

    def compute(self) -> Tensor:
        """FID as a float64 scalar tensor (needs >= 2 images on each side)."""
        sides = {}
        for side in ("real", "fake"):
            if side == "real" and self.reference is not None:
                sides[side] = self.reference
                continue
            # On the CPU, like the cached reference: LAPACK / BLAS routes of frechet_distance.
            stats = FeatureStatistics(
                *(getattr(self, f"{side}_{n}").cpu() for n in ("count", "total", "outer"))
            )
            if stats.count < 2:
                raise ValueError(f"FID needs at least 2 {side} images, got {int(stats.count)}")
            sides[side] = stats
        if self.reference is not None and self.reference_factor is None:
            self.reference_factor = covariance_factor(self.reference.covariance)
        value = statistics_to_fid(sides["real"], sides["fake"], self.reference_factor)
        return torch.tensor(value, dtype=torch.float64)
