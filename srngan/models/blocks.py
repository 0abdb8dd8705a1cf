"""Residual blocks of the SN-GAN generator and discriminator, and conditional batch norm."""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn


def _init(conv: nn.Module, gain: float = 1.0) -> nn.Module:
    nn.init.xavier_uniform_(conv.weight, gain=gain)
    if getattr(conv, "bias", None) is not None:
        nn.init.zeros_(conv.bias)
    return conv


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are looked up per class (Dumoulin et al., 2017).

    With ``num_classes == 0`` it is a plain affine ``BatchNorm2d``.
    """

    def __init__(self, channels: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(channels, affine=num_classes == 0)
        if num_classes:
            self.gamma = nn.Embedding(num_classes, channels)
            self.beta = nn.Embedding(num_classes, channels)
            nn.init.ones_(self.gamma.weight)
            nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        out = self.bn(x)
        if not self.num_classes:
            return out
        return self.gamma(y)[:, :, None, None] * out + self.beta(y)[:, :, None, None]


class GBlock(nn.Module):
    """BN-ReLU-Up-Conv-BN-ReLU-Conv with an Up-Conv1x1 shortcut."""

    def __init__(self, in_ch: int, out_ch: int, num_classes: int = 0) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(in_ch, num_classes)
        self.conv1 = _init(nn.Conv2d(in_ch, out_ch, 3, padding=1), math.sqrt(2))
        self.bn2 = ConditionalBatchNorm2d(out_ch, num_classes)
        self.conv2 = _init(nn.Conv2d(out_ch, out_ch, 3, padding=1), math.sqrt(2))
        self.shortcut = _init(nn.Conv2d(in_ch, out_ch, 1))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    """ReLU-Conv-ReLU-Conv(-AvgPool), with a Conv1x1(-AvgPool) shortcut when shapes change.

    The residual branch's hidden width is the block's *input* width (``in_ch -> in_ch -> out_ch``),
    as in Miyato et al.'s SN-GAN code and torch-mimicry's ``DBlock``; it matters where widths
    grow (the 48 / 64 px discriminators) and sets the SRN target ``r`` of those layers.
    """

    def __init__(self, in_ch: int, out_ch: int, downsample: bool) -> None:
        super().__init__()
        self.downsample = downsample
        self.conv1 = _init(nn.Conv2d(in_ch, in_ch, 3, padding=1), math.sqrt(2))
        self.conv2 = _init(nn.Conv2d(in_ch, out_ch, 3, padding=1), math.sqrt(2))
        self.shortcut = (
            _init(nn.Conv2d(in_ch, out_ch, 1)) if downsample or in_ch != out_ch else None
        )

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        skip = x
        if self.shortcut is not None:
            skip = self.shortcut(skip)
            if self.downsample:
                skip = F.avg_pool2d(skip, 2)
        return h + skip


class DBlockOptimized(nn.Module):
    """The first D block: Conv-ReLU-Conv-AvgPool, shortcut AvgPool-Conv1x1 (no ReLU on pixels)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = _init(nn.Conv2d(in_ch, out_ch, 3, padding=1), math.sqrt(2))
        self.conv2 = _init(nn.Conv2d(out_ch, out_ch, 3, padding=1), math.sqrt(2))
        self.shortcut = _init(nn.Conv2d(in_ch, out_ch, 1))

    def forward(self, x: Tensor) -> Tensor:
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))
