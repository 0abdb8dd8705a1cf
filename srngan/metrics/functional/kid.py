r"""Kernel Inception Distance (Bińkowski et al. 2018) with torch-fidelity's protocol.

Unbiased MMD^2 with the cubic polynomial kernel :math:`k(x, y) = (x^\top y / d + 1)^3`,
averaged over ``subsets`` random subsets of ``subset_size`` from each side. Subsets are drawn
exactly as torch-fidelity does (``RandomState(seed)``, ``choice(n1, m)`` then ``choice(n2, m)``
per subset, without replacement), so the same features give the same subsets; kernels are
evaluated in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from srngan.metrics.keys import KEY_KID_MEAN, KEY_KID_STD


def _polynomial_kernel(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> Tensor:
    return (x @ y.T / x.shape[1] + coef0) ** degree


def unbiased_mmd2(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD^2 estimate between two equal-size samples with the polynomial kernel."""
    m = x.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    off_diagonal = (k_xx.sum() - k_xx.diagonal().sum()) + (k_yy.sum() - k_yy.diagonal().sum())
    return off_diagonal / (m * (m - 1)) - 2 * k_xy.sum() / (m * m)


def features_to_kid(
    features_1: Tensor,
    features_2: Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 2020,
) -> dict[str, float]:
    """KID mean and std over subsets between two ``(n, d)`` feature sets."""
    n1, n2 = features_1.shape[0], features_2.shape[0]
    if min(n1, n2) < subset_size:
        raise ValueError(
            f"KID subset size {subset_size} exceeds the samples available ({n1} and {n2}); "
            "lower --kid-subset-size or use more samples"
        )
    f1 = features_1.detach().to("cpu", torch.float64)
    f2 = features_2.detach().to("cpu", torch.float64)
    rng = np.random.RandomState(seed)
    values = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        idx1 = torch.from_numpy(rng.choice(n1, subset_size, replace=False))
        idx2 = torch.from_numpy(rng.choice(n2, subset_size, replace=False))
        values[i] = unbiased_mmd2(f1[idx1], f2[idx2])
    return {KEY_KID_MEAN: float(values.mean()), KEY_KID_STD: float(values.std(unbiased=False))}
