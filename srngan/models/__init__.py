"""SN-GAN ResNet generator and discriminator (pure torch)."""

from srngan.models.architectures import ARCHITECTURES, RESOLUTIONS, Resolution, architecture_for
from srngan.models.blocks import ConditionalBatchNorm2d
from srngan.models.discriminator import ResNetDiscriminator
from srngan.models.generator import ResNetGenerator

__all__ = [
    "ARCHITECTURES",
    "RESOLUTIONS",
    "ConditionalBatchNorm2d",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "Resolution",
    "architecture_for",
]
