"""Adversarial losses, the WGAN-GP gradient penalty, and the mode-seeking and feature-matching
terms (pure torch).

A loss is a small class with three methods on discriminator logits: ``d_real`` and ``d_fake``
(whose sum the discriminator minimizes; kept apart for logging) and ``g`` (what the generator
minimizes). Choose one in YAML with ``loss: {class_path: srngan.losses.Hinge}``; a loss of your
own is a subclass of :class:`AdversarialLoss` in your own module, named the same way.

Example::

    >>> import torch
    >>> from srngan.losses import Hinge
    >>> loss = Hinge()
    >>> float(loss.d_real(torch.tensor([2.0, 0.0]))), float(loss.g(torch.tensor([1.0])))
    (0.5, -1.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AdversarialLoss:
    """Base class: D minimizes ``d_real(D(x)) + d_fake(D(G(z)))``, G minimizes ``g(D(G(z)))``."""

    def d_real(self, logits: Tensor) -> Tensor:
        raise NotImplementedError

    def d_fake(self, logits: Tensor) -> Tensor:
        raise NotImplementedError

    def g(self, logits: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Hinge(AdversarialLoss):
    """Lim & Ye 2017, the loss of the paper's SN / SRN / Ortho runs:
    ``relu(1 - D(x)) + relu(1 + D(G(z)))`` for D, ``-D(G(z))`` for G."""

    def d_real(self, logits: Tensor) -> Tensor:
        return F.relu(1.0 - logits).mean()

    def d_fake(self, logits: Tensor) -> Tensor:
        return F.relu(1.0 + logits).mean()

    def g(self, logits: Tensor) -> Tensor:
        return -logits.mean()


class NonSaturating(AdversarialLoss):
    """Goodfellow et al. 2014 with G maximizing ``log D(G(z))``: ``softplus`` on the logits."""

    def d_real(self, logits: Tensor) -> Tensor:
        return F.softplus(-logits).mean()

    def d_fake(self, logits: Tensor) -> Tensor:
        return F.softplus(logits).mean()

    def g(self, logits: Tensor) -> Tensor:
        return F.softplus(-logits).mean()


class Wasserstein(AdversarialLoss):
    """Arjovsky et al. 2017: ``-D(x) + D(G(z))`` for D, ``-D(G(z))`` for G. With
    :class:`srngan.regularizers.GradientPenalty` this is WGAN-GP (Gulrajani et al. 2017)."""

    def d_real(self, logits: Tensor) -> Tensor:
        return -logits.mean()

    def d_fake(self, logits: Tensor) -> Tensor:
        return logits.mean()

    def g(self, logits: Tensor) -> Tensor:
        return -logits.mean()


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


def mode_seeking_term(fake: Tensor, z: Tensor) -> Tensor:
    """Mao et al. (2019)'s mode-seeking term ``1 / (mean_i r_i + 1e-5)`` with
    ``r_i = mean|x_i - x_{i+h}| / mean|z_i - z_{i+h}|`` over the pairs ``(i, i + h)``,
    ``h = N // 2``: small when different latents give different images."""
    h = fake.shape[0] // 2
    ratio = (fake[:h] - fake[h : 2 * h]).abs().mean(dim=(1, 2, 3)) / (
        (z[:h] - z[h : 2 * h]).abs().mean(dim=1)
    )
    return 1.0 / (ratio.mean() + 1e-5)


def class_feature_matching(
    fake: Tensor, real: Tensor, fake_labels: Tensor | None = None, real_labels: Tensor | None = None
) -> Tensor:
    """Class-wise feature matching (Salimans et al. 2016, per class):
    ``mean_c ||mean_{i: y_i = c} f_i - mean_{j: y'_j = c} r_j||^2 / (F * mean(r^2))``.

    ``fake`` ``(N, F)`` and ``real`` ``(M, F)`` are discriminator features; the mean is over
    the classes present in both batches (0 when none is), and the denominator (real features'
    mean square, no gradient) makes the term independent of the features' scale. Without
    labels, all images are one class.
    """
    if fake_labels is None or real_labels is None:
        fake_labels = fake.new_zeros(fake.shape[0], dtype=torch.long)
        real_labels = real.new_zeros(real.shape[0], dtype=torch.long)
    classes = torch.unique(fake_labels)
    classes = classes[torch.isin(classes, real_labels)]
    if classes.numel() == 0:
        return fake.sum() * 0.0
    hits_f = (fake_labels[None] == classes[:, None]).to(fake.dtype)  # (C, N)
    hits_r = (real_labels[None] == classes[:, None]).to(real.dtype)  # (C, M)
    mean_f = hits_f @ fake / hits_f.sum(1, keepdim=True)
    mean_r = hits_r @ real / hits_r.sum(1, keepdim=True)
    scale = real.detach().pow(2).mean().clamp_min(1e-12)  # all-zero real features: no NaN
    return (mean_f - mean_r.detach()).pow(2).mean() / scale


def colour_statistics(images: Tensor, top: float = 0.1) -> Tensor:
    """Per image and channel: the mean, the mean square and the mean of the brightest
    ``top`` fraction of pixels, as ``(N, 3 * C)`` (the fixed features of the colour-matching
    term: the last tells whether an image holds a region of a saturated colour at all)."""
    if not 0.0 < top <= 1.0:
        raise ValueError(f"top must be in (0, 1], got {top}")
    flat = images.flatten(2)
    k = max(1, round(top * flat.shape[2]))
    brightest = flat.topk(k, dim=2).values.mean(dim=2)
    return torch.cat([flat.mean(dim=2), flat.pow(2).mean(dim=2), brightest], dim=1)


__all__ = [
    "AdversarialLoss",
    "Hinge",
    "NonSaturating",
    "Wasserstein",
    "class_feature_matching",
    "colour_statistics",
    "gradient_penalty",
    "mode_seeking_term",
]
