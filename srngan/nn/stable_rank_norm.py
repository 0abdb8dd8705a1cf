"""Public entry point of stable rank normalization: validates and registers the parametrization."""

from __future__ import annotations

from typing import TypeVar

from torch import nn
from torch.nn.utils import parametrize

from srngan.nn._matrix import output_dim
from srngan.nn._srn import _StableRankNorm

__all__ = ["stable_rank_norm"]

_ModuleT = TypeVar("_ModuleT", bound=nn.Module)


def stable_rank_norm(
    module: _ModuleT,
    name: str = "weight",
    rank_ratio: float = 0.7,
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> _ModuleT:
    r"""Apply stable rank normalization (SRN) to a parameter of ``module``.

    SRN (Sanyal, Torr & Dokania, ICLR 2020, https://arxiv.org/abs/1906.04659, Algorithm 2)
    normalizes both the spectral norm and the stable rank
    :math:`\operatorname{srank}(W) = \|W\|_F^2 / \sigma_1(W)^2` of a weight. The weight, reshaped
    to a matrix :math:`W \in \mathbb{R}^{m \times n}`, is first divided by its largest singular
    value (estimated by power iteration as in spectral normalization); then the part of
    :math:`W/\sigma` orthogonal to the top singular pair is shrunk so the stable rank is at most
    :math:`r = \max(1, c \cdot \min(m, n))`:

    .. math::
        W_f = \frac{W}{\sigma}, \qquad R = W_f - u v^\top, \qquad
        \widehat{W} = u v^\top + \min\Big(1, \frac{\sqrt{r - 1}}{\|R\|_F}\Big)\, R

    where :math:`c` is ``rank_ratio``. At convergence of the power iteration :math:`\widehat{W}`
    has :math:`\sigma_1 = 1` and stable rank :math:`\min(r, \operatorname{srank}(W))`, and it is
    the optimal (closest in Frobenius norm) such matrix that keeps :math:`\sigma_1` (Theorem 1,
    :math:`k = 1`). The cost is that of spectral normalization: one power iteration per forward
    in training mode; in eval mode the stored singular vectors are used and never updated.

    Gradients flow through :math:`W`, with :math:`u, v` held constant, as in
    :func:`torch.nn.utils.parametrizations.spectral_norm`.

    Args:
        module: the module holding the weight (Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d,
            Embedding, or any module with a parameter ``name`` of at least 2 dimensions).
        name: name of the weight parameter. Default: ``"weight"``.
        rank_ratio: :math:`c \in (0, 1]`, the target stable rank as a fraction of
            :math:`\min(m, n)`. ``1`` is plain spectral normalization; the paper's SRN-70 is 0.7.
        n_power_iterations: power-iteration steps per training forward. Default: 1.
        eps: numerical floor for normalizations. Default: ``1e-12``.
        dim: the output dimension, moved to the front before flattening the weight to a matrix.
            Default: 1 for ConvTranspose modules, else 0.

    Returns:
        The module, with a parametrization registered on ``name`` and buffers
        ``parametrizations.<name>[0]._u`` / ``._v`` holding the singular-vector estimates.

    Raises:
        ValueError: ``rank_ratio`` outside (0, 1], ``n_power_iterations`` < 1, ``eps`` <= 0, or
            no such parameter.

    Example::

        >>> import torch
        >>> from srngan.nn import stable_rank_norm, stable_rank
        >>> layer = stable_rank_norm(torch.nn.Linear(64, 32), rank_ratio=0.5)
        >>> for _ in range(50):  # converge the power iteration
        ...     _ = layer(torch.randn(1, 64))
        >>> bool(stable_rank(layer.weight) <= 0.5 * 32 + 1e-3)
        True

    To remove it and keep the normalized weight, use
    ``torch.nn.utils.parametrize.remove_parametrizations(module, name)``.
    """
    _check_arguments(rank_ratio, n_power_iterations, eps)
    weight = getattr(module, name, None)
    if not isinstance(weight, nn.Parameter):
        raise ValueError(
            f"module {type(module).__name__} has no parameter named {name!r}; "
            "pass the name of a weight parameter"
        )
    if dim is None:
        dim = output_dim(module)
    if not -weight.ndim <= dim < max(weight.ndim, 1):
        raise ValueError(f"dim={dim} is out of range for a weight of shape {tuple(weight.shape)}")
    parametrize.register_parametrization(
        module, name, _StableRankNorm(weight, rank_ratio, n_power_iterations, dim, eps)
    )
    return module


def _check_arguments(rank_ratio: float, n_power_iterations: int, eps: float) -> None:
    if isinstance(rank_ratio, bool) or not isinstance(rank_ratio, (int, float)):
        raise ValueError(f"rank_ratio must be a number in (0, 1], got {rank_ratio!r}")
    if not 0.0 < rank_ratio <= 1.0:
        raise ValueError(f"rank_ratio must be in (0, 1] (1 = spectral norm), got {rank_ratio}")
    if not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"n_power_iterations must be an integer >= 1, got {n_power_iterations!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
