r"""Fréchet distance between Gaussians fitted to features (FID, Heusel et al. 2017).

.. math:: d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{tr}\Sigma_1 + \operatorname{tr}\Sigma_2
          - 2 \operatorname{tr}\big((\Sigma_1 \Sigma_2)^{1/2}\big)

The trace of the matrix square root is the sum of square roots of the eigenvalues of
:math:`\Sigma_1\Sigma_2`, which is similar to the symmetric PSD matrix :math:`L^\top \Sigma_2 L`
for any factor :math:`\Sigma_1 = L L^\top` (Cholesky when :math:`\Sigma_1` is definite, else a
symmetric eigendecomposition). Only eigenvalues of a symmetric matrix are needed: no ``sqrtm``,
no complex arithmetic, and the reference factor :math:`L` can be cached with the statistics.
When features are at hand and fewer than their dimension, the Gram route needs only an SVD of an
``n1 x n2`` matrix: :math:`\operatorname{tr}(\Sigma_1\Sigma_2)^{1/2} = \|A B^\top\|_* /
\sqrt{(n_1-1)(n_2-1)}` with :math:`A, B` the centred feature matrices.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from srngan.metrics.functional.statistics import FeatureStatistics


def _f64(x) -> Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    return x.detach().to(torch.float64)


def covariance_factor(sigma: Tensor) -> Tensor:
    """A factor ``L`` with ``L @ L.T == sigma``: Cholesky, or eigh when ``sigma`` is singular."""
    sigma = _f64(sigma)
    factor, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        return factor
    evals, evecs = torch.linalg.eigh(sigma)
    return evecs * evals.clamp_min(0).sqrt()


def _congruence(factor: Tensor, sigma: Tensor) -> Tensor:
    """``factor^T @ sigma @ factor``; on CPU with a triangular factor, two BLAS ``trmm`` calls.

    ``trmm`` multiplies by a triangular matrix in half the flops of a general product, which is
    most of the cost of a cold FID at d = 2048.
    """
    if factor.device.type == "cpu" and torch.equal(factor, factor.tril()):
        from scipy.linalg import blas

        # Transposed views are Fortran-ordered with no copy: U = L^T is upper triangular, and
        # sigma^T may stand for sigma (the result is transposed, which keeps the eigenvalues).
        upper = factor.contiguous().numpy().T
        right = blas.dtrmm(
            1.0, upper, sigma.contiguous().numpy().T, side=1, lower=0, trans_a=1
        )  # S L
        return torch.from_numpy(blas.dtrmm(1.0, upper, right, side=0, lower=0).T)  # (L^T S L)^T
    return factor.T @ sigma @ factor


def trace_sqrt_product(sigma_1: Tensor, sigma_2: Tensor, factor_1: Tensor | None = None) -> Tensor:
    """``tr((sigma_1 sigma_2)^{1/2})`` from the eigenvalues of ``L^T sigma_2 L``."""
    factor = covariance_factor(sigma_1) if factor_1 is None else _f64(factor_1)
    similar = _congruence(factor, _f64(sigma_2))
    # Symmetric eigensolvers read one triangle only, so round-off asymmetry does not matter.
    if similar.device.type == "cpu":
        # LAPACK through scipy: same algorithm as torch's eigvalsh without its one-off warm-up.
        from scipy.linalg import eigh

        evals = torch.from_numpy(
            eigh(similar.numpy(), eigvals_only=True, driver="evr", check_finite=False)
        )
    else:
        evals = torch.linalg.eigvalsh(similar)
    return evals.clamp_min(0).sqrt().sum()


def frechet_distance(mu1, sigma1, mu2, sigma2, factor_1: Tensor | None = None) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Args:
        mu1, mu2: means, shape ``(d,)`` (torch or numpy).
        sigma1, sigma2: covariances, shape ``(d, d)``.
        factor_1: optional cached factor ``L`` of ``sigma1`` (``L L^T = sigma1``).
    """
    mu1, mu2, sigma1, sigma2 = map(_f64, (mu1, mu2, sigma1, sigma2))
    if (
        mu1.shape != mu2.shape
        or sigma1.shape != sigma2.shape
        or sigma1.shape != (*mu1.shape, *mu1.shape)
    ):
        raise ValueError(
            f"shape mismatch: mu {tuple(mu1.shape)} / {tuple(mu2.shape)}, "
            f"sigma {tuple(sigma1.shape)} / {tuple(sigma2.shape)}"
        )
    diff = mu1 - mu2
    tr_sqrt = trace_sqrt_product(sigma1, sigma2, factor_1)
    return float(diff @ diff + sigma1.trace() + sigma2.trace() - 2 * tr_sqrt)


def statistics_to_fid(
    reference: FeatureStatistics, generated: FeatureStatistics, factor: Tensor | None = None
) -> float:
    """FID between two :class:`FeatureStatistics` (``factor``: cached factor of the reference)."""
    return frechet_distance(
        reference.mean, reference.covariance, generated.mean, generated.covariance, factor
    )


def features_to_fid(features_1: Tensor, features_2: Tensor) -> float:
    """FID straight from two feature matrices; uses the Gram route when ``n < d``."""
    f1, f2 = _f64(features_1), _f64(features_2)
    n1, n2, d = f1.shape[0], f2.shape[0], f1.shape[1]
    if max(n1, n2) >= d:
        s1 = FeatureStatistics.empty(d).update(f1)
        s2 = FeatureStatistics.empty(d).update(f2)
        return statistics_to_fid(s1, s2)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    a, b = f1 - mu1, f2 - mu2
    scale1, scale2 = n1 - 1, n2 - 1
    tr_sqrt = torch.linalg.svdvals(a @ b.T).sum() / (scale1 * scale2) ** 0.5
    diff = mu1 - mu2
    return float(diff @ diff + a.pow(2).sum() / scale1 + b.pow(2).sum() / scale2 - 2 * tr_sqrt)
