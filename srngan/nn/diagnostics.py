"""Exact spectral diagnostics of a weight: its spectral norm and its stable rank."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from srngan.nn._matrix import output_dim, weight_to_matrix
from srngan.nn.modes import eval_mode

__all__ = [
    "binding_scalars",
    "layer_spectra",
    "spectra_scalars",
    "spectral_norm_value",
    "srn_shrink_factors",
    "stable_rank",
]


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


@torch.no_grad()
def srn_shrink_factors(network: nn.Module) -> dict[str, float]:
    """``{layer: s}`` for every stable-rank-normalized weight of ``network``.

    ``s = min(1, sqrt(r - 1) / ||W / sigma - u v^T||_F)`` is the factor the layer applies to the
    part of ``W / sigma`` outside its top singular pair (see :func:`srngan.nn.stable_rank_norm`),
    read from the layer's own power-iteration vectors, so it says what the layer does now:
    ``s < 1`` means the layer *binds* (it lowers the stable rank to its target ``r``); ``s = 1``
    means it is plain spectral normalization (its weight's stable rank is already below ``r``).
    Layers whose target is at least ``min(m, n)`` can never bind (e.g. a ``C x 1`` head) and are
    left out. No state changes.

    Example::

        >>> import torch
        >>> from srngan.nn import stable_rank_norm
        >>> from srngan.nn.diagnostics import srn_shrink_factors
        >>> net = torch.nn.Sequential(stable_rank_norm(torch.nn.Linear(64, 32), rank_ratio=0.1))
        >>> srn_shrink_factors(net)["0"] < 1  # a random 32 x 64 matrix has stable rank >> 3.2
        True
    """
    from srngan.nn._srn import _StableRankNorm

    out: dict[str, float] = {}
    for name, module in network.named_modules():
        plist = getattr(getattr(module, "parametrizations", None), "weight", None)
        if plist is None:
            continue
        for p in plist:
            if isinstance(p, _StableRankNorm) and p.srn_active:
                out[name] = p.shrink_factor(plist.original)
    return out


def binding_scalars(factors: dict[str, float]) -> dict[str, float]:
    """Shrink factors (:func:`srn_shrink_factors`) as logged scalars:
    ``spectra/srn_shrink/<layer>`` and ``spectra/srn_binding_fraction`` (the fraction of those
    layers with ``s < 1``). Empty when no layer can bind."""
    if not factors:
        return {}
    out = {f"spectra/srn_shrink/{name}": s for name, s in factors.items()}
    out["spectra/srn_binding_fraction"] = sum(s < 1.0 for s in factors.values()) / len(factors)
    return out
