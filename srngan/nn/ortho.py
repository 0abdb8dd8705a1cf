"""Orthonormal regularization (Brock et al., 2016), the Ortho-GAN baseline of the paper."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from srngan.nn._matrix import output_dim, weight_to_matrix
from srngan.nn.normalize import NORMALIZABLE_LAYERS

__all__ = ["orthonormal_penalty"]


def orthonormal_penalty(model: nn.Module, strength: float = 1e-4) -> Tensor:
    r"""``strength * sum_W ||G(W) - I||_F^2`` over the weight layers of ``model``.

    ``W`` is each Linear/Conv/ConvTranspose/Embedding weight reshaped to ``(out, in*k...)`` and
    ``G(W)`` its smaller Gram matrix (``W W^T`` when ``out <= in``, else ``W^T W``), the one that
    can equal the identity: rows (or columns) orthonormal. Add the result to the discriminator loss.

    Args:
        model: the network whose weights are regularized.
        strength: the coefficient :math:`\beta \ge 0`.

    Example::

        >>> import torch
        >>> net = torch.nn.Linear(4, 4, bias=False)
        >>> _ = torch.nn.init.eye_(net.weight)
        >>> float(orthonormal_penalty(net, strength=1.0))
        0.0
    """
    if not strength >= 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    penalties = []
    for layer in model.modules():
        if not isinstance(layer, NORMALIZABLE_LAYERS):
            continue
        dim = output_dim(layer)
        matrix = weight_to_matrix(layer.weight, dim)
        gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
        eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
        penalties.append((gram - eye).pow(2).sum())
    if not penalties:
        return torch.zeros(())
    return strength * torch.stack(penalties).sum()
