"""Discriminator regularizers of the paper's comparison: none, SN, SRN, WGAN-GP, Ortho (pure torch).

A regularizer acts in one of two ways: it reparametrizes D's weights once (``sn``, ``srn``,
:func:`apply_regularizer`), or adds a penalty to every D loss (``wgan-gp``, ``ortho``,
:func:`regularizer_penalty`). Either works on any discriminator.
"""

from __future__ import annotations

from typing import Literal, get_args

from torch import Tensor, nn

from srngan.losses import gradient_penalty
from srngan.nn import normalize_modules, orthonormal_penalty

RegularizerName = Literal["none", "sn", "srn", "wgan-gp", "ortho"]
REGULARIZERS: tuple[str, ...] = get_args(RegularizerName)


def check_regularizer(name: str) -> str:
    if name not in REGULARIZERS:
        raise ValueError(f"unknown regularizer {name!r}; allowed: {', '.join(REGULARIZERS)}")
    return name


def apply_regularizer(discriminator: nn.Module, name: str, rank_ratio: float = 0.7) -> nn.Module:
    """Register the weight parametrization that ``name`` needs (SN or SRN) on ``discriminator``."""
    check_regularizer(name)
    kind = name if name in ("sn", "srn") else "none"
    return normalize_modules(discriminator, kind, rank_ratio=rank_ratio)


def regularizer_penalty(
    name: str,
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None,
    gp_weight: float = 10.0,
    ortho_strength: float = 1e-4,
) -> Tensor | None:
    """The penalty ``name`` adds to the D loss, or ``None`` for the reparametrizing ones."""
    if name == "wgan-gp":
        return gradient_penalty(discriminator, real, fake, labels, weight=gp_weight)
    if name == "ortho":
        return orthonormal_penalty(discriminator, ortho_strength)
    return None
