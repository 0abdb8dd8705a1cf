"""sigma_1 and stable rank of every Linear/Conv layer's effective weight (pure torch)."""

from __future__ import annotations

from torch import nn

from srngan.classification.layers import measured_layers
from srngan.nn import spectral_norm_value, stable_rank
from srngan.nn._matrix import output_dim

__all__ = ["layer_spectra"]


def layer_spectra(model: nn.Module) -> dict[str, tuple[float, float]]:
    """``{layer name: (sigma_1, stable rank)}`` of each Linear/Conv weight as the forward uses it.

    Read with the model in eval mode, so reading an SN/SRN weight never advances its power
    iteration; the training flag is restored.
    """
    was_training = model.training
    model.eval()
    try:
        return {
            name: (
                spectral_norm_value(m.weight, output_dim(m)),
                stable_rank(m.weight, output_dim(m)),
            )
            for name, m in measured_layers(model)
        }
    finally:
        model.train(was_training)
