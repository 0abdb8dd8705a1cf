"""Streaming float64 sufficient statistics of feature vectors: count, sum, sum of outer products.

They merge by addition, so batches, processes (all-reduce) and cached files combine exactly up to
float64 summation order, and mean / unbiased covariance follow at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class FeatureStatistics:
    """Mean and unbiased covariance of a feature set, with the sums they come from."""

    count: Tensor  # () float64
    total: Tensor  # (d,) float64
    outer: Tensor  # (d, d) float64, sum of x x^T

    @classmethod
    def empty(cls, dim: int, device: torch.device | str = "cpu") -> FeatureStatistics:
        z = dict(dtype=torch.float64, device=device)
        return cls(torch.zeros((), **z), torch.zeros(dim, **z), torch.zeros(dim, dim, **z))

    def update(self, features: Tensor) -> FeatureStatistics:
        """Add a batch ``(n, d)`` of features (any float dtype; accumulated in float64)."""
        f = features.detach().to(self.total.device, torch.float64)
        self.count += f.shape[0]
        self.total += f.sum(0)
        self.outer += f.T @ f
        return self

    def merge(self, other: FeatureStatistics) -> FeatureStatistics:
        self.count += other.count
        self.total += other.total
        self.outer += other.outer
        return self

    @classmethod
    def from_mean_covariance(cls, mean, covariance, count: float = 2) -> FeatureStatistics:
        """The sums that give this ``mean`` and unbiased ``covariance`` over ``count`` samples
        (e.g. the ``mu`` / ``sigma`` of a pytorch-fid or clean-fid ``.npz``, which record no
        count: any ``count >= 2`` gives back the same mean and covariance)."""
        mean = torch.as_tensor(mean).to(torch.float64)
        covariance = torch.as_tensor(covariance).to(torch.float64)
        d = mean.shape[0] if mean.ndim == 1 else -1
        if mean.ndim != 1 or covariance.shape != (d, d):
            raise ValueError(
                f"mean must be (d,) and covariance (d, d), got {tuple(mean.shape)} and "
                f"{tuple(covariance.shape)}"
            )
        if count < 2:
            raise ValueError(f"count must be >= 2, got {count}")
        n = torch.tensor(float(count), dtype=torch.float64)
        return cls(n, n * mean, (n - 1) * covariance + n * torch.outer(mean, mean))

    @property
    def mean(self) -> Tensor:
        return self.total / self.count

    @property
    def covariance(self) -> Tensor:
        """Unbiased sample covariance ``(S - n mu mu^T) / (n - 1)``, as ``np.cov``."""
        n = self.count
        if n < 2:
            raise ValueError(f"covariance needs at least 2 samples, got {int(n)}")
        mu = self.mean
        return (self.outer - n * torch.outer(mu, mu)) / (n - 1)


def features_to_statistics(features: Tensor) -> FeatureStatistics:
    """Statistics of one ``(n, d)`` feature matrix."""
    return FeatureStatistics.empty(features.shape[1], features.device).update(features)
