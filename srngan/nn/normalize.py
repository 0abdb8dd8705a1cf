"""Apply one discriminator normalization to every weight layer of a model."""

from __future__ import annotations

from typing import Literal, get_args

from torch import nn

from srngan.nn.stable_rank_norm import stable_rank_norm

__all__ = ["NORMALIZABLE_LAYERS", "Normalization", "normalize_modules"]

Normalization = Literal["none", "sn", "srn"]

NORMALIZABLE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Embedding,
)


def normalize_modules(
    model: nn.Module,
    kind: Normalization,
    rank_ratio: float = 0.7,
    n_power_iterations: int = 1,
) -> nn.Module:
    """Register ``kind`` normalization on the weight of every Linear/Conv/ConvTranspose/Embedding.

    Args:
        model: the model, modified in place and returned.
        kind: ``"none"`` (leave it), ``"sn"`` (spectral normalization:
            :func:`~srngan.nn.stable_rank_norm` with ``rank_ratio=1``, the same buffers, warm
            start and float32 arithmetic as torch's
            :func:`~torch.nn.utils.parametrizations.spectral_norm`, bitwise equal to it in
            float32, and kept in float32 under autocast, where torch's fails on CUDA) or
            ``"srn"`` (:func:`~srngan.nn.stable_rank_norm` with ``rank_ratio``).
        rank_ratio: target stable rank fraction for ``"srn"``, in (0, 1].
        n_power_iterations: power-iteration steps per training forward.

    Example::

        >>> import torch
        >>> from srngan.nn import normalize_modules
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.LazyLinear(1))
        >>> _ = normalize_modules(net[:1], "srn", rank_ratio=0.7)
    """
    allowed = get_args(Normalization)
    if kind not in allowed:
        raise ValueError(f"unknown normalization {kind!r}; allowed: {', '.join(allowed)}")
    if kind == "none":
        return model
    # Collect first: registering a parametrization adds submodules while we iterate.
    layers = [m for m in model.modules() if isinstance(m, NORMALIZABLE_LAYERS)]
    for layer in layers:
        ratio = 1.0 if kind == "sn" else rank_ratio
        stable_rank_norm(layer, rank_ratio=ratio, n_power_iterations=n_power_iterations)
    return model
