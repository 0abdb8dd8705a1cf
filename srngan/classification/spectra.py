"""sigma_1 and stable rank of every Linear/Conv layer's effective weight (pure torch)."""

from __future__ import annotations

from torch import nn

from srngan.classification.layers import measured_layers
from srngan.nn.diagnostics import layer_spectra as _layer_spectra

__all__ = ["layer_spectra"]


def layer_spectra(model: nn.Module) -> dict[str, tuple[float, float]]:
    """``{layer name: (sigma_1, stable rank)}`` of each Linear/Conv weight as the forward uses it
    (BatchNorm and Embedding left out), read in eval mode (see :func:`srngan.nn.layer_spectra`)."""
    return _layer_spectra(model, measured_layers(model))
