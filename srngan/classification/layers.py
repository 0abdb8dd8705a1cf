"""The layers the complexity measures range over, and each one's weight as a matrix."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn

from srngan.nn._matrix import output_dim, weight_to_matrix
from srngan.nn.normalize import NORMALIZABLE_LAYERS

__all__ = ["WEIGHT_LAYERS", "BatchNormMode", "layer_matrices", "measured_layers"]

BatchNormMode = Literal["ignore", "include"]

# The layers SN / SRN act on in a classifier (normalize_modules also covers Embedding).
WEIGHT_LAYERS: tuple[type[nn.Module], ...] = tuple(
    t for t in NORMALIZABLE_LAYERS if t is not nn.Embedding
)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def check_batchnorm_mode(mode: str) -> str:
    allowed = get_args(BatchNormMode)
    if mode not in allowed:
        raise ValueError(f"unknown batchnorm mode {mode!r}; allowed: {', '.join(allowed)}")
    return mode


def measured_layers(
    model: nn.Module, batchnorm: BatchNormMode = "ignore"
) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every Linear/Conv layer (and BatchNorm with ``"include"``)."""
    kinds = WEIGHT_LAYERS + (_BATCHNORMS if check_batchnorm_mode(batchnorm) == "include" else ())
    return [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, kinds) and "parametrizations" not in name
    ]


@torch.no_grad()
def layer_matrices(model: nn.Module, batchnorm: BatchNormMode = "ignore") -> dict[str, Tensor]:
    """``{name: W_i}`` in float64: each layer's effective weight as the matrix SN normalizes.

    Linear/Conv weights are read through any SN/SRN parametrization (the normalized weight the
    forward pass uses; call in eval mode so no power iteration runs) and reshaped to
    ``(out, in * kernel)`` (ConvTranspose: output dimension moved first), as torch's
    ``spectral_norm`` does. With ``batchnorm="include"`` an eval-mode BatchNorm is the linear
    map ``diag(gamma / sqrt(running_var + eps))`` (its shift is a bias, which no measure uses).
    """
    out: dict[str, Tensor] = {}
    for name, m in measured_layers(model, batchnorm):
        if isinstance(m, _BATCHNORMS):
            if m.running_var is None:
                raise ValueError(
                    f"BatchNorm {name!r} tracks no running statistics; use batchnorm='ignore'"
                )
            scale = (m.running_var.double() + m.eps).rsqrt()
            if m.weight is not None:
                scale = scale * m.weight.detach().double()
            out[name] = torch.diag(scale)
        else:
            out[name] = weight_to_matrix(m.weight.detach(), output_dim(m)).double()
    return out
