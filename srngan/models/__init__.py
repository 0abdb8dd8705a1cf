"""SN-GAN ResNet generator and discriminator, and small fast CPU networks (pure torch)."""

from srngan.models.architectures import ARCHITECTURES, RESOLUTIONS, Resolution, architecture_for
from srngan.models.blocks import ConditionalBatchNorm2d
from srngan.models.discriminator import ResNetDiscriminator
from srngan.models.generator import ResNetGenerator
from srngan.models.small import SmallDiscriminator, SmallGenerator

__all__ = [
    "ARCHITECTURES",
    "RESOLUTIONS",
    "ConditionalBatchNorm2d",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "Resolution",
    "SmallDiscriminator",
    "SmallGenerator",
    "architecture_for",
]
