"""The SN-GAN ResNet generator, unconditional or with conditional batch norm."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.models.architectures import architecture_for
from srngan.models.blocks import ConditionalBatchNorm2d, GBlock, _init


class ResNetGenerator(nn.Module):
    """``G(z, y) -> images in [-1, 1]`` of shape ``(N, 3, resolution, resolution)``.

    Args:
        resolution: 32, 48 or 64 (layouts in :mod:`srngan.models.architectures`); ``None``: the
            data module's resolution under ``srngan fit``, else 32.
        z_dim: latent size (paper: 128, standard normal).
        num_classes: 0 for unconditional; otherwise G uses conditional batch norm and ``y``
            (int64 class indices) is required. ``None``: the data module's class count under
            ``srngan fit`` (conditional on a labelled dataset), else 0.
        base_channels: overrides the layout's base width (for small models); ``None`` keeps it.
    """

    def __init__(
        self,
        resolution: int | None = None,
        z_dim: int = 128,
        num_classes: int | None = None,
        base_channels: int | None = None,
    ) -> None:
        super().__init__()
        resolution = resolution or 32
        num_classes = num_classes or 0
        arch = architecture_for(resolution)
        base = base_channels or arch.g_base
        widths = [base * m for m in arch.g_multipliers]
        self.resolution = resolution
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.bottom = arch.bottom
        self.linear = _init(nn.Linear(z_dim, arch.bottom**2 * widths[0]))
        self.blocks = nn.ModuleList(
            GBlock(cin, cout, num_classes) for cin, cout in itertools.pairwise(widths)
        )
        self.bn = nn.BatchNorm2d(widths[-1])
        self.to_rgb = _init(nn.Conv2d(widths[-1], 3, 3, padding=1))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional generator needs class labels y")
        h = self.linear(z).view(z.shape[0], -1, self.bottom, self.bottom)
        for block in self.blocks:
            h = block(h, y)
        return torch.tanh(self.to_rgb(F.relu(self.bn(h))))


__all__ = ["ConditionalBatchNorm2d", "ResNetGenerator"]
