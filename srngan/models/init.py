"""Weight initialization schemes of srngan's networks (pure torch)."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

from srngan.nn._matrix import matrix_to_weight, output_dim, weight_to_matrix

WeightInit = Literal["xavier", "orthogonal"]

__all__ = ["WeightInit", "check_weight_init", "initialize_weights"]


def check_weight_init(scheme: str) -> None:
    """One-line error for an unknown scheme."""
    allowed = get_args(WeightInit)
    if scheme not in allowed:
        raise ValueError(f"weight_init must be one of {', '.join(allowed)}, got {scheme!r}")


@torch.no_grad()
def initialize_weights(network: nn.Module, scheme: WeightInit = "xavier") -> nn.Module:
    """Re-initialize every weight matrix of ``network`` (Linear, Conv, Embedding) by ``scheme``.

    Meant for discriminators (what SN / SRN act on): a matrix that starts at zero is left so.

    ``"xavier"`` leaves the networks' own initialization (Xavier-uniform, as in the SN-GAN code).
    ``"orthogonal"`` replaces each weight, reshaped to the matrix SN / SRN act on, by a random
    matrix with orthonormal rows or columns (``torch.nn.init.orthogonal_``) scaled to the
    Frobenius norm the default initialization gave it. All its singular values are then equal,
    so its stable rank is ``min(m, n)``: an SRN target ``c < 1`` binds from the first step (under
    Xavier the 3x3 convs start near 0.57 ``min(m, n)``, so SRN-70 acts as plain SN until training
    raises the stable rank past 0.7). Call it before a regularizer is applied. Uses the global
    torch RNG.

    Example::

        >>> import torch
        >>> from srngan.models.init import initialize_weights
        >>> from srngan.nn import stable_rank
        >>> net = initialize_weights(torch.nn.Sequential(torch.nn.Linear(64, 32)), "orthogonal")
        >>> round(stable_rank(net[0].weight), 3)  # float32 weights: 32 to ~1e-6
        32.0
    """
    check_weight_init(scheme)
    if scheme == "xavier":
        return network
    for module in network.modules():
        weight = getattr(module, "weight", None)
        if not isinstance(weight, nn.Parameter) or weight.ndim < 2:
            continue
        dim = output_dim(module)
        matrix = weight_to_matrix(weight, dim)
        norm = torch.linalg.matrix_norm(matrix)
        if norm == 0:
            continue  # a zero-initialized matrix stays zero
        fresh = nn.init.orthogonal_(torch.empty_like(matrix))
        fresh *= norm / torch.linalg.matrix_norm(fresh)
        weight.copy_(matrix_to_weight(fresh, weight, dim))
    return network
