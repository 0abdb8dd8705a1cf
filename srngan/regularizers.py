"""Discriminator regularizers of the paper's comparison (pure torch).

A regularizer acts on a discriminator (or on a classifier, :class:`srngan.ClassifierModule`) in
one or both of two ways: :meth:`Regularizer.apply`
changes it once, before training (SN and SRN register a weight parametrization on every layer),
and :meth:`Regularizer.penalty` adds a term to every discriminator loss (WGAN-GP, Ortho). Both
work on any discriminator. No regularizer at all is ``regularizer: null`` in YAML.

A regularizer of your own is one small subclass in your own module::

    class WeightDecayOnD(Regularizer):
        def __init__(self, strength: float = 1e-4) -> None:
            self.strength = strength

        def penalty(self, discriminator, real, fake, labels):
            return self.strength * sum(p.pow(2).sum() for p in discriminator.parameters())

and ``regularizer: {class_path: mymodule.WeightDecayOnD, init_args: {strength: 1e-3}}``.
"""

from __future__ import annotations

from torch import Tensor, nn

from srngan.losses import gradient_penalty
from srngan.nn import normalize_modules, orthonormal_penalty
from srngan.nn.stable_rank_norm import _check_arguments


class Regularizer:
    """Base class: the identity :meth:`apply` and no :meth:`penalty`."""

    def apply(self, discriminator: nn.Module) -> nn.Module:
        """Return the discriminator to train (may change it in place). Called once."""
        return discriminator

    def penalty(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None
    ) -> Tensor | None:
        """A term added to the discriminator loss of every D step, or ``None``."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class SpectralNorm(Regularizer):
    """Spectral normalization (Miyato et al. 2018) on every Linear, Conv and Embedding layer
    (``W / sigma_1(W)``): srngan's parametrization with ``rank_ratio=1``, bitwise equal to
    torch's ``spectral_norm`` in float32 and safe under autocast (its power iteration and
    ``W / sigma`` stay float32).

    Args:
        n_power_iterations: power-iteration steps per training forward (the paper: 1).
    """

    def __init__(self, n_power_iterations: int = 1) -> None:
        _check_arguments(1.0, n_power_iterations, 1e-12)
        self.n_power_iterations = n_power_iterations

    def apply(self, discriminator: nn.Module) -> nn.Module:
        return normalize_modules(discriminator, "sn", n_power_iterations=self.n_power_iterations)


class StableRankNorm(Regularizer):
    """Stable rank normalization (the paper, Algorithm 2) on every Linear, Conv and Embedding
    layer: ``sigma_1 = 1`` and stable rank at most ``max(1, rank_ratio * min(m, n))``.

    Args:
        rank_ratio: ``c`` in (0, 1]; SRN-70 is 0.7, ``1.0`` is exactly SN.
        n_power_iterations: power-iteration steps per training forward (the paper: 1).
    """

    def __init__(self, rank_ratio: float = 0.7, n_power_iterations: int = 1) -> None:
        _check_arguments(rank_ratio, n_power_iterations, 1e-12)
        self.rank_ratio = rank_ratio
        self.n_power_iterations = n_power_iterations

    def apply(self, discriminator: nn.Module) -> nn.Module:
        return normalize_modules(
            discriminator, "srn", rank_ratio=self.rank_ratio,
            n_power_iterations=self.n_power_iterations,
        )  # fmt: skip


class GradientPenalty(Regularizer):
    """WGAN-GP's two-sided penalty ``weight * E[(||grad D(x_hat)|| - 1)^2]`` (use with
    :class:`srngan.losses.Wasserstein`).

    Args:
        weight: lambda (Gulrajani et al. 2017: 10).
    """

    def __init__(self, weight: float = 10.0) -> None:
        if not weight > 0:
            raise ValueError(f"GradientPenalty weight must be > 0, got {weight}")
        self.weight = weight

    def penalty(self, discriminator, real, fake, labels):
        return gradient_penalty(discriminator, real, fake, labels, weight=self.weight)


class Orthonormal(Regularizer):
    """Orthonormal regularization of Brock et al. 2016 (Ortho-GAN):
    ``strength * sum_W ||G(W) - I||_F^2`` over D's weight matrices, ``G(W)`` the smaller Gram
    matrix (see :func:`srngan.nn.orthonormal_penalty`).

    Args:
        strength: the penalty's weight (default 1e-4).
    """

    def __init__(self, strength: float = 1e-4) -> None:
        if not strength > 0:
            raise ValueError(f"Orthonormal strength must be > 0, got {strength}")
        self.strength = strength

    def penalty(self, discriminator, real, fake, labels):
        return orthonormal_penalty(discriminator, self.strength)


__all__ = ["GradientPenalty", "Orthonormal", "Regularizer", "SpectralNorm", "StableRankNorm"]
