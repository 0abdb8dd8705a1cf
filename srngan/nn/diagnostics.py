"""Exact spectral diagnostics of a weight: its spectral norm and its stable rank."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from srngan.nn._matrix import output_dim, weight_to_matrix
from srngan.nn.modes import eval_mode

__all__ = ["layer_spectra", "spectra_scalars", "spectral_norm_value", "stable_rank"]


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


def layer_spectra(
    network: nn.Module, layers: Iterable[tuple[str, nn.Module]] | None = None
) -> dict[str, tuple[float, float]]:
    """``{layer: (sigma_1, stable rank)}`` of each layer's effective (normalized) weight.

    Read in eval mode, so reading an SN / SRN weight never advances its power iteration (the
    training flag is restored).

    Args:
        network: the network.
        layers: ``(name, module)`` pairs to measure; default: every module of ``network`` with a
            weight of 2 or more dimensions (Linear, Conv, ConvTranspose, Embedding).
    """
    out: dict[str, tuple[float, float]] = {}
    # Inside eval mode even the search: reading an SN / SRN weight in training mode would step
    # its power iteration (on one DDP rank only, when a rank-0 monitor calls this).
    with eval_mode(network):
        if layers is None:
            layers = [
                (name, m)
                for name, m in network.named_modules()
                if isinstance(getattr(m, "weight", None), Tensor)
                and m.weight.ndim >= 2
                and "parametrizations" not in name
            ]
        for name, layer in layers:
            dim = output_dim(layer)
            out[name] = (spectral_norm_value(layer.weight, dim), stable_rank(layer.weight, dim))
    return out


def spectra_scalars(spectra: dict[str, tuple[float, float]]) -> dict[str, float]:
    """``{layer: (sigma_1, stable rank)}`` as the scalars logged to TensorBoard:
    ``spectra/sigma1/<layer>`` and ``spectra/stable_rank/<layer>``."""
    out: dict[str, float] = {}
    for name, (sigma, srank) in spectra.items():
        out[f"spectra/sigma1/{name}"] = sigma
        out[f"spectra/stable_rank/{name}"] = srank
    return out
