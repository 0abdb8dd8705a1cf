"""Exact (SVD) solutions of the stable-rank and spectral-norm projection problems.

These are the references the cheap power-iteration parametrization is checked against, and
tools in their own right for analysing trained weights.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from srngan.nn._matrix import matrix_to_weight, weight_to_matrix

__all__ = ["project_spectral_norm", "project_stable_rank"]


def project_stable_rank(weight: Tensor, rank: float, k: int = 1) -> Tensor:
    r"""The matrix closest to ``weight`` (Frobenius) with stable rank ``rank``: problem (4), Theorem 1.

    With the SVD :math:`W = \sum_i \sigma_i u_i v_i^\top`, :math:`S_1` the top-``max(1, k)``
    part and :math:`S_2 = W - S_1`, the solution is :math:`\gamma_1 S_1 + \gamma_2 S_2`:

    - ``k = 0`` (no singular value kept; non-convex): with
      :math:`\gamma = \sqrt{r-1}\,\sigma_1 / \|S_2\|_F`,
      :math:`\gamma_2 = (\gamma + r - 1)/r` and :math:`\gamma_1 = \gamma_2 / \gamma`
      (the appendix's :math:`\gamma_2 / r` is a typo: equation (5) and the proof's
      constraint (7) both need :math:`\gamma_2 / \gamma`). For ``r = 1``: :math:`\sigma_1 u_1 v_1^\top`.
    - ``k >= 1`` (top ``k`` singular values kept; Algorithm 1): :math:`\gamma_1 = 1`,
      :math:`\gamma_2 = \sqrt{r\sigma_1^2 - \|S_1\|_F^2} / \|S_2\|_F`. When keeping ``k`` values
      is infeasible (:math:`\|S_1\|_F^2 > r\sigma_1^2`) the largest feasible ``l < k`` is kept
      and a warning says so.

    A weight whose stable rank is already ``<= rank`` is returned unchanged (a copy).

    Args:
        weight: tensor of at least 2 dimensions; it is reshaped to ``(size(0), -1)`` and the
            result returned in the original shape. Computed in the weight's dtype; pass float64
            for reference-grade results.
        rank: target stable rank ``r >= 1``.
        k: number of top singular values to preserve, ``k >= 0``.
    """
    if not (isinstance(rank, (int, float)) and rank >= 1 and math.isfinite(rank)):
        raise ValueError(f"rank must be a finite number >= 1, got {rank!r}")
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    matrix = weight_to_matrix(weight)
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    frob_sq = s.pow(2).sum()
    if s[0] == 0 or frob_sq <= rank * s[0] ** 2:
        return weight.clone()
    if k == 0:
        s_new = _shrink_k0(s, rank)
    else:
        s_new = _shrink_top_k(s, rank, k)
    return matrix_to_weight((u * s_new) @ vh, weight)


def _shrink_k0(s: Tensor, rank: float) -> Tensor:
    if rank == 1:
        return torch.cat([s[:1], torch.zeros_like(s[1:])])
    tail = s[1:].pow(2).sum().sqrt()
    gamma = math.sqrt(rank - 1) * s[0] / tail
    gamma_2 = (gamma + rank - 1) / rank
    gamma_1 = gamma_2 / gamma
    return torch.cat([gamma_1 * s[:1], gamma_2 * s[1:]])


def _shrink_top_k(s: Tensor, rank: float, k: int) -> Tensor:
    budget = rank * s[0] ** 2
    kept_sq = s.new_zeros(())
    kept = 0
    # Algorithm 1: keep singular values while their energy fits in the budget r * sigma_1^2.
    for i in range(min(k, s.numel())):
        if kept_sq + s[i] ** 2 > budget:
            break
        kept_sq = kept_sq + s[i] ** 2
        kept += 1
    if kept < k:
        warnings.warn(
            f"preserving the top k={k} singular values is infeasible for stable rank {rank:g}; "
            f"kept the top {kept}",
            RuntimeWarning,
            stacklevel=3,
        )
    gamma = ((budget - kept_sq) / s[kept:].pow(2).sum()).sqrt()
    return torch.cat([s[:kept], gamma * s[kept:]])


def project_spectral_norm(weight: Tensor, s: float) -> Tensor:
    """The matrix closest to ``weight`` (Frobenius) with spectral norm ``<= s`` (Algorithm 3).

    Singular values above ``s`` are clipped to ``s``; the rest are kept. Note that dividing by
    sigma_1 (spectral normalization) is not this optimum (Appendix A.2).

    Args:
        weight: tensor of at least 2 dimensions, reshaped to ``(size(0), -1)``.
        s: the bound, ``s > 0``.
    """
    if not (isinstance(s, (int, float)) and s > 0 and math.isfinite(s)):
        raise ValueError(f"s must be a finite number > 0, got {s!r}")
    matrix = weight_to_matrix(weight)
    u, sv, vh = torch.linalg.svd(matrix, full_matrices=False)
    return matrix_to_weight((u * sv.clamp(max=s)) @ vh, weight)
