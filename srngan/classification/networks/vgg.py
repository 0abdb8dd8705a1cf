"""VGG-19 with BatchNorm for 32x32 inputs (Simonyan & Zisserman, 2014, configuration E)."""

from __future__ import annotations

from torch import Tensor, nn

from srngan.classification.networks._init import init_weights

__all__ = ["VGG19"]

_CFG_E = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
          512, 512, 512, 512, "M", 512, 512, 512, 512, "M")  # fmt: skip


class VGG19(nn.Module):
    """VGG-19-BN for CIFAR: 16 3x3 convolutions (with bias) each followed by BN and ReLU, 5 max
    pools (32 -> 1 pixel), then one ``Linear(512, num_classes)``: the common CIFAR variant.

    Parameters: 20,086,692 for 100 classes. The paper's 20,548,392 is this network with a
    1000-way output layer (``num_classes=1000``, the ImageNet default); training it on CIFAR-100
    with 1000 logits is possible (the 900 extra classes never occur), but our configs use 100,
    461,700 parameters (2.2 %) fewer than the paper's.

    Example::

        >>> import torch
        >>> VGG19(num_classes=10)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 100) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in _CFG_E:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(in_ch, v, 3, 1, 1), nn.BatchNorm2d(v), nn.ReLU()]
                in_ch = v
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x).flatten(1))
