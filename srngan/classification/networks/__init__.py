"""Classifier networks for 32x32 images (pure torch, no Lightning).

Paper networks (Appendix D, CIFAR-100 parameter counts; ours vs the paper's):

=================  ==================  ==================  =================================
class              ours (100 classes)  paper               note
=================  ==================  ==================  =================================
ResNet110          1,733,812           1,973,236           He et al. option A; no match found
WideResNet28x10    36,539,124          36,539,124          BN after projection shortcuts
DenseNet100        800,032             800,032             DenseNet-BC, k = 12
VGG19              20,086,692          20,548,392          paper's = ours with 1000 outputs
AlexNet            2,495,396           4,965,092           common CIFAR AlexNet; no match found
=================  ==================  ==================  =================================

:func:`build_network` builds one by its short name.
"""

from __future__ import annotations

from torch import nn

from srngan.classification.networks.alexnet import AlexNet
from srngan.classification.networks.densenet import DenseNet100, DenseNetBC
from srngan.classification.networks.resnet import CifarResNet, ResNet110
from srngan.classification.networks.small import MLP, SmallCNN
from srngan.classification.networks.vgg import VGG19
from srngan.classification.networks.wide_resnet import WideResNet, WideResNet28x10

__all__ = [
    "MLP",
    "NETWORKS",
    "VGG19",
    "AlexNet",
    "CifarResNet",
    "DenseNet100",
    "DenseNetBC",
    "ResNet110",
    "SmallCNN",
    "WideResNet",
    "WideResNet28x10",
    "build_network",
]

NETWORKS: dict[str, type[nn.Module]] = {
    "resnet110": ResNet110,
    "wrn28_10": WideResNet28x10,
    "densenet100": DenseNet100,
    "vgg19": VGG19,
    "alexnet": AlexNet,
    "small_cnn": SmallCNN,
}


def build_network(arch: str, num_classes: int) -> nn.Module:
    """The network called ``arch`` (a key of :data:`NETWORKS`) with ``num_classes`` outputs.

    Example::

        >>> build_network("small_cnn", 10).fc.out_features
        10
    """
    if arch not in NETWORKS:
        raise ValueError(f"unknown arch {arch!r}; allowed: {', '.join(NETWORKS)}")
    return NETWORKS[arch](num_classes=num_classes)
