"""Exact spectral diagnostics of a weight: its spectral norm and its stable rank."""

from __future__ import annotations

import torch
from torch import Tensor

from srngan.nn._matrix import weight_to_matrix

__all__ = ["spectra_scalars", "spectral_norm_value", "stable_rank"]


@torch.no_grad()
def spectral_norm_value(weight: Tensor, dim: int = 0) -> float:
    """Largest singular value of ``weight`` reshaped to a matrix (exact, by SVD).

    Args:
        weight: a tensor with at least 2 dimensions (Linear, Conv, Embedding weight).
        dim: the output dimension, moved first before flattening (1 for ConvTranspose).
    """
    matrix = weight_to_matrix(weight.detach(), dim).double()
    return float(torch.linalg.matrix_norm(matrix, ord=2))


@torch.no_grad()
def stable_rank(weight: Tensor, dim: int = 0) -> float:
    """Stable rank ``||W||_F^2 / sigma_1(W)^2`` of ``weight`` reshaped to a matrix (exact).

    A zero matrix has stable rank 0 by convention.
    """
    matrix = weight_to_matrix(weight.detach(), dim).double()
    sigma_1 = torch.linalg.matrix_norm(matrix, ord=2)
    if sigma_1 == 0:
        return 0.0
    return float(matrix.pow(2).sum() / sigma_1**2)


def spectra_scalars(spectra: dict[str, tuple[float, float]]) -> dict[str, float]:
    """``{layer: (sigma_1, stable rank)}`` as the scalars logged to TensorBoard:
    ``spectra/sigma1/<layer>`` and ``spectra/stable_rank/<layer>``."""
    out: dict[str, float] = {}
    for name, (sigma, srank) in spectra.items():
        out[f"spectra/sigma1/{name}"] = sigma
        out[f"spectra/stable_rank/{name}"] = srank
    return out
