"""Image input of the metrics: uint8 ``(N, 3, H, W)``, or floats in [-1, 1] quantized as ``srngan sample`` does."""

from __future__ import annotations

import torch
from torch import Tensor

from srngan.metrics.inception import quantize_images

RANGE_SLACK = 1e-3
"""Float images may exceed [-1, 1] by this much (round-off after ``tanh``); more means another
convention ([0, 255], or a generator without a bounded output), which is refused, not clamped."""


def images_to_uint8(images: Tensor) -> Tensor:
    """``images`` as uint8 ``(N, 3, H, W)``: uint8 pass through, floats in [-1, 1] go through
    :func:`srngan.metrics.inception.quantize_images` (``floor(255 (x + 1) / 2 + 1 / 2)``).

    Raises:
        ValueError: not a 4-d tensor with 3 channels, an integer dtype other than uint8, or float
            values outside [-1, 1] (NaN included), with the bad value in the message.
    """
    if not isinstance(images, Tensor):
        raise ValueError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise ValueError(f"images must be uint8 or floats in [-1, 1], got dtype {images.dtype}")
    if images.numel():
        lo, hi = float(images.min()), float(images.max())
        if not (lo >= -1 - RANGE_SLACK and hi <= 1 + RANGE_SLACK):  # NaN fails both
            nan = bool(torch.isnan(images).any())
            found = "NaN" if nan else f"values in [{lo:.4g}, {hi:.4g}]"
            raise ValueError(f"float images must lie in [-1, 1], got {found}")
    return quantize_images(images)
