"""Reshaping a weight tensor to the matrix its normalizations act on."""

from __future__ import annotations

from torch import Tensor, nn


def weight_to_matrix(weight: Tensor, dim: int = 0) -> Tensor:
    """``weight`` as ``(size(dim), numel / size(dim))``: the out-dimension first, the rest flattened.

    This is the reshape torch's ``spectral_norm`` uses (``dim=1`` for ConvTranspose weights).
    """
    if weight.ndim < 2:
        raise ValueError(
            f"expected a weight with at least 2 dimensions, got shape {tuple(weight.shape)}"
        )
    if dim != 0:
        weight = weight.movedim(dim, 0)
    return weight.flatten(1)


def matrix_to_weight(matrix: Tensor, like: Tensor, dim: int = 0) -> Tensor:
    """Inverse of :func:`weight_to_matrix`: ``matrix`` back in the shape of ``like``."""
    if dim != 0:
        moved = like.movedim(dim, 0)
        return matrix.reshape(moved.shape).movedim(0, dim)
    return matrix.reshape(like.shape)


def output_dim(module: nn.Module) -> int:
    """The weight dimension indexing outputs: 1 for ConvTranspose weights (in, out, ...), else 0."""
    return 1 if isinstance(module, nn.modules.conv._ConvTransposeNd) else 0
