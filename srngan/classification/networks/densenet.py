"""DenseNet-BC for CIFAR (Huang et al., 2017): bottleneck layers and compression 0.5."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.classification.networks._init import init_weights

__all__ = ["DenseNet100", "DenseNetBC"]


class _Bottleneck(nn.Module):
    def __init__(self, in_ch: int, growth: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([x, out], dim=1)


class _Transition(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(in_ch)
        self.conv = nn.Conv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNetBC(nn.Module):
    """DenseNet-BC-``depth`` with growth rate k: a 3x3 stem to 2k channels, 3 dense blocks of
    ``(depth - 4) / 6`` bottleneck layers (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k),
    transitions halving channels and resolution, BN-ReLU, average pooling, one Linear.

    Args:
        depth: ``6n + 4``.
        growth: k.
        num_classes: output logits.

    Example::

        >>> import torch
        >>> DenseNetBC(depth=10, growth=4, num_classes=10)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, depth: int = 100, growth: int = 12, num_classes: int = 100) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f"DenseNet-BC depth must be 6n + 4 with n >= 1 (e.g. 100), got {depth}"
            )
        n = (depth - 4) // 6
        ch = 2 * growth
        layers: list[nn.Module] = [nn.Conv2d(3, ch, 3, 1, 1, bias=False)]
        for stage in range(3):
            for _ in range(n):
                layers.append(_Bottleneck(ch, growth))
                ch += growth
            if stage < 2:
                layers.append(_Transition(ch, ch // 2))
                ch //= 2
        self.features = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(ch)
        self.fc = nn.Linear(ch, num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn(self.features(x)))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


class DenseNet100(DenseNetBC):
    """DenseNet-BC-100, k = 12: 800,032 parameters for 100 classes, the paper's count exactly."""

    def __init__(self, num_classes: int = 100) -> None:
        super().__init__(depth=100, growth=12, num_classes=num_classes)
