"""ResNet for CIFAR (He et al., 2016, Sec. 4.2): 6n + 2 layers, widths 16/32/64, basic blocks."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from srngan.classification.networks._init import init_weights

__all__ = ["CifarResNet", "ResNet110"]


class _BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.stride, self.pad = stride, out_ch - in_ch

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride > 1 or self.pad:
            # Option A of He et al.: subsample and zero-pad channels, no parameters.
            shortcut = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.pad))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """The CIFAR ResNet of He et al. (2016): a 3x3 stem, 3 stages of ``n = (depth - 2) / 6`` basic
    blocks (16, 32, 64 channels, stride 2 between stages), global average pooling, one Linear.

    Shortcuts are option A (identity; subsample + zero channel padding when the shape changes),
    the definition He et al. used on CIFAR.

    Args:
        depth: ``6n + 2`` (20, 32, 44, 56, 110, ...).
        num_classes: output logits.

    Example::

        >>> import torch
        >>> net = CifarResNet(depth=20, num_classes=10)
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, depth: int = 110, num_classes: int = 100) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n + 2 with n >= 1 (e.g. 20, 110), got {depth}")
        n = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)
        )
        blocks, in_ch = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(n):
                blocks.append(_BasicBlock(in_ch, width, 2 if stage > 0 and i == 0 else 1))
                in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        out = self.blocks(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


class ResNet110(CifarResNet):
    """ResNet-110 (n = 18): 1,733,812 parameters for 100 classes (1,727,962 for 10).

    The paper (Appendix D) reports 1,973,236; no standard ResNet-110 (option A or B shortcuts,
    basic or bottleneck blocks, pre-activation) gives that count, so this is He et al.'s original
    definition, 239,424 parameters (12.1 %) fewer than the paper's.
    """

    def __init__(self, num_classes: int = 100) -> None:
        super().__init__(depth=110, num_classes=num_classes)
