"""Adversarial losses and the WGAN-GP gradient penalty (pure torch).

Each loss maps discriminator logits to scalars: ``d_loss(real, fake) -> (loss_real, loss_fake)``
whose sum the discriminator minimizes, and ``g_loss(fake) -> loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LossName = Literal["hinge", "non-saturating", "wasserstein"]
LOSSES: tuple[str, ...] = get_args(LossName)


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of objectives: D's (on real and fake logits, kept apart for logging) and G's."""

    name: str
    d_real: Callable[[Tensor], Tensor]
    d_fake: Callable[[Tensor], Tensor]
    g: Callable[[Tensor], Tensor]


_LOSSES = {
    # Lim & Ye 2017; the loss of the paper's SN/SRN/Ortho runs.
    "hinge": AdversarialLoss(
        "hinge",
        d_real=lambda r: F.relu(1.0 - r).mean(),
        d_fake=lambda f: F.relu(1.0 + f).mean(),
        g=lambda f: -f.mean(),
    ),
    # Goodfellow et al. 2014, with G maximizing log D(G(z)).
    "non-saturating": AdversarialLoss(
        "non-saturating",
        d_real=lambda r: F.softplus(-r).mean(),
        d_fake=lambda f: F.softplus(f).mean(),
        g=lambda f: F.softplus(-f).mean(),
    ),
    # Arjovsky et al. 2017; with the gradient penalty this is WGAN-GP (Gulrajani et al. 2017).
    "wasserstein": AdversarialLoss(
        "wasserstein",
        d_real=lambda r: -r.mean(),
        d_fake=lambda f: f.mean(),
        g=lambda f: -f.mean(),
    ),
}


def get_loss(name: str) -> AdversarialLoss:
    """The adversarial loss called ``name``; a ValueError lists the allowed names."""
    if name not in _LOSSES:
        raise ValueError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}")
    return _LOSSES[name]


def gradient_penalty(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None = None,
    weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``weight * E[(||grad_x D(x_hat)||_2 - 1)^2]`` at random interpolates of real and fake.

    The two-sided penalty of WGAN-GP (Gulrajani et al. 2017, lambda = 10). ``labels`` are passed
    to a conditional discriminator. The graph is kept so the penalty can be backpropagated.
    """
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, generator=generator)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = discriminator(mixed, labels) if labels is not None else discriminator(mixed)
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return weight * (norms - 1.0).pow(2).mean()
