"""Small networks for CPU experiments and tests: a plain CNN and an MLP (no BatchNorm)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["MLP", "SmallCNN"]


class SmallCNN(nn.Module):
    """Three 3x3 conv-(BN)-ReLU-maxpool stages (``w, 2w, 4w`` channels) and one Linear.

    Without BatchNorm (the default) every layer between input and logits is a Linear/Conv that
    the normalizations act on, so SN/SRN bound the whole network's Lipschitz constant; with it
    (as in the paper's networks) BN can restore the scale SN removes. ``w = 16`` on 32x32
    inputs has 33,834 parameters for 10 classes (+224 with BatchNorm).

    Args:
        num_classes: output logits.
        width: channels of the first stage.
        image_size: input side (divisible by 8).
        batchnorm: BatchNorm after each convolution.

    Example::

        >>> import torch
        >>> SmallCNN(num_classes=10, width=4)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self, num_classes: int = 10, width: int = 16, image_size: int = 32, batchnorm: bool = False
    ) -> None:
        super().__init__()
        if image_size % 8:
            raise ValueError(f"SmallCNN image_size must be divisible by 8, got {image_size}")
        layers: list[nn.Module] = []
        in_ch = 3
        for out_ch in (width, 2 * width, 4 * width):
            layers.append(nn.Conv2d(in_ch, out_ch, 3, 1, 1))
            if batchnorm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(in_ch * (image_size // 8) ** 2, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x).flatten(1))


class MLP(nn.Module):
    """Flatten, then Linear-ReLU layers of the given widths, then a Linear to the logits.

    Example::

        >>> import torch
        >>> MLP(in_features=12, hidden=(8,), num_classes=3)(torch.zeros(2, 3, 2, 2)).shape
        torch.Size([2, 3])
    """

    def __init__(
        self, in_features: int = 3072, hidden: Sequence[int] = (512, 512), num_classes: int = 10
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(in_features, width), nn.ReLU()]
            in_features = width
        layers.append(nn.Linear(in_features, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
