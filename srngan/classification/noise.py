r"""Noise sensitivity of a classifier (paper, Sec. 3 and Fig. 1; Arora et al., 2018)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["noise_sensitivity"]


@torch.no_grad()
def noise_sensitivity(
    model: nn.Module,
    images: Tensor,
    num_draws: int = 10,
    relative_noise: float = 0.1,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Per-sample noise sensitivity, a Monte-Carlo estimate of

    .. math::
        \Phi(x) = \mathbb{E}_{\eta \sim \mathcal{N}(0, \, s^2 I_d)}
            \frac{\|f(x + \eta \|x\|) - f(x)\|^2}{\|f(x)\|^2},
        \qquad s = \text{relative\_noise} / \sqrt{d},

    so the perturbation :math:`\eta\|x\|` has norm about ``relative_noise`` times
    :math:`\|x\|` (``d`` = input size). The paper writes :math:`\eta \sim \mathcal{N}(0, I)`,
    which is ``relative_noise = sqrt(d)``: for a linear map :math:`f(x) = Wx` that gives
    :math:`\Phi(x) = \|W\|_F^2 \|x\|^2 / \|Wx\|^2 \ge \operatorname{srank}(W)` (Arora et al.,
    Prop. 3.1), the link between stable rank and noise sensitivity. For images that much noise
    swamps the signal, hence the smaller default.

    The model runs in eval mode; its training flag is restored.

    Args:
        model: maps ``images`` to outputs ``(N, ...)``.
        images: the points ``x``.
        num_draws: noise samples per point.
        relative_noise: the perturbation's norm relative to ``||x||`` (see above).
        generator: for reproducible noise (on the images' device).

    Returns:
        float64 CPU tensor ``(N,)``.

    Example::

        >>> import torch
        >>> f = torch.nn.Linear(3, 3, bias=False)
        >>> phi = noise_sensitivity(f, torch.randn(4, 3), num_draws=2)
        >>> phi.shape
        torch.Size([4])
    """
    if num_draws < 1:
        raise ValueError(f"num_draws must be >= 1, got {num_draws}")
    if not relative_noise > 0:
        raise ValueError(f"relative_noise must be > 0, got {relative_noise}")
    was_training = model.training
    model.eval()
    try:
        clean = model(images).flatten(1).double()
        d = images[0].numel()
        x_norm = images.flatten(1).norm(dim=1).view(-1, *([1] * (images.ndim - 1)))
        total = torch.zeros(images.shape[0], dtype=torch.float64, device=clean.device)
        for _ in range(num_draws):
            eta = torch.randn(
                images.shape, generator=generator, device=images.device, dtype=images.dtype
            )
            noisy = model(images + eta * (relative_noise / d**0.5) * x_norm).flatten(1).double()
            total += (noisy - clean).pow(2).sum(dim=1)
    finally:
        model.train(was_training)
    return (total / num_draws / clean.pow(2).sum(dim=1)).cpu()
