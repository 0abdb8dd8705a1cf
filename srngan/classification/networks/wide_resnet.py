"""Wide ResNet for CIFAR (Zagoruyko & Komodakis, 2016): pre-activation blocks, width factor k."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from srngan.classification.networks._init import init_weights

__all__ = ["WideResNet", "WideResNet28x10"]


class _WideBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.dropout = dropout
        self.shortcut = None
        if stride > 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: Tensor) -> Tensor:
        pre = F.relu(self.bn1(x))
        out = self.conv1(pre)
        out = F.dropout(F.relu(self.bn2(out)), self.dropout, self.training)
        out = self.conv2(out)
        # The projection sees the pre-activated input, as in the reference WRN code.
        return out + (x if self.shortcut is None else self.shortcut(pre))


class WideResNet(nn.Module):
    """WRN-``depth``-``width``: a 3x3 stem to 16 channels, 3 stages of ``(depth - 4) / 6``
    pre-activation blocks with ``16k, 32k, 64k`` channels, BN-ReLU, average pooling, one Linear.

    Shape-changing shortcuts are a 1x1 convolution followed by BatchNorm.

    Args:
        depth: ``6n + 4`` (16, 22, 28, 40, ...).
        width: the widening factor k.
        num_classes: output logits.
        dropout: dropout between the two convolutions of a block (0 in the paper's recipe).

    Example::

        >>> import torch
        >>> WideResNet(depth=10, width=1, num_classes=10)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self, depth: int = 28, width: int = 10, num_classes: int = 100, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n + 4 with n >= 1 (e.g. 28), got {depth}")
        if width < 1:
            raise ValueError(f"WideResNet width must be >= 1, got {width}")
        n = (depth - 4) // 6
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        blocks, in_ch = [], 16
        for stage, base in enumerate((16, 32, 64)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(_WideBlock(in_ch, base * width, stride, dropout))
                in_ch = base * width
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(in_ch)
        self.fc = nn.Linear(in_ch, num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


class WideResNet28x10(WideResNet):
    """WRN-28-10: 36,539,124 parameters for 100 classes, the paper's count exactly.

    The count needs BatchNorm after the 1x1 projection shortcuts (+2,240 parameters over the
    reference code without it, 36,536,884).
    """

    def __init__(self, num_classes: int = 100, dropout: float = 0.0) -> None:
        super().__init__(depth=28, width=10, num_classes=num_classes, dropout=dropout)
