"""Channel layouts of the SN-GAN ResNets (Miyato et al. 2018, Appendix B) per image resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Resolution = Literal[32, 48, 64]
RESOLUTIONS: tuple[int, ...] = get_args(Resolution)


@dataclass(frozen=True)
class Architecture:
    """A ResNet G/D layout: base widths, per-block multipliers, G's bottom size, D's downsampling."""

    g_base: int
    g_multipliers: tuple[int, ...]  # first entry: the width after G's linear layer
    bottom: int
    d_base: int
    d_multipliers: tuple[int, ...]  # first entry: the optimized first block
    d_downsample: tuple[bool, ...]


ARCHITECTURES: dict[int, Architecture] = {
    # CIFAR: G 256 channels, 3 up-blocks; D 128 channels, optimized first block, 4 blocks.
    32: Architecture(256, (1, 1, 1, 1), 4, 128, (1, 1, 1, 1), (True, True, False, False)),
    # STL-10 layout of SN-GAN.
    48: Architecture(64, (8, 4, 2, 1), 6, 64, (1, 2, 4, 8, 16), (True, True, True, True, False)),
    # CelebA 64x64.
    64: Architecture(64, (16, 8, 4, 2, 1), 4, 64, (1, 2, 4, 8, 16), (True,) * 5),
}


def architecture_for(resolution: int) -> Architecture:
    """The layout for ``resolution``; a ValueError lists the supported ones."""
    if resolution not in ARCHITECTURES:
        allowed = ", ".join(str(r) for r in RESOLUTIONS)
        raise ValueError(f"unsupported resolution {resolution!r}; allowed: {allowed}")
    return ARCHITECTURES[resolution]
