"""Small, fast conditional DCGAN-style networks for CPU runs (the quickstart).

Both follow the network contract of :class:`srngan.training.module.GANModule`. They are built
for *fast class conditioning* on a CPU budget (see ``docs/quickstart.md`` for the measurements):

- :class:`SmallGenerator` feeds the class twice: a learned class embedding concatenated to ``z``
  at the input, and (optionally) conditional batch norm in every up-sampling block.
- :class:`SmallDiscriminator` is a strided-conv net with a projection head
  (Miyato & Koyama 2018) and, optionally, the class given at the input too (a learned
  per-class image-sized bias added after the first convolution), so the early layers can
  compare colours and strokes with the class from the first step.

Normalization (SRN, SN) is injected afterwards by the regularizer, as for the ResNets.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.models.blocks import ConditionalBatchNorm2d, _init


def _num_ups(resolution: int) -> int:
    n = round(math.log2(resolution / 4))
    if resolution < 8 or 4 * 2**n != resolution:
        raise ValueError(f"resolution must be 4 * 2**k >= 8 (8, 16, 32, 64...), got {resolution}")
    return n


class SmallGenerator(nn.Module):
    """``G(z, y) -> (N, channels, resolution, resolution)`` images in [-1, 1].

    ``[z, embed(y)] -> linear -> 4x4 -> (up 2x, conv3x3, (conditional) BN, ReLU) x k -> conv3x3
    -> tanh``; widths halve at every up-sampling from ``base_channels * 2**(k-1)``.

    Args:
        resolution: 4 * 2**k (8, 16, 32, 64); ``None``: the data's under ``srngan fit``, else 32.
        z_dim: latent size.
        num_classes: 0 unconditional; ``None``: the data's class count under ``srngan fit``.
        base_channels: width of the last block.
        embed_dim: size of the class embedding concatenated to ``z`` (0: none).
        conditional_bn: class-conditional batch norm in the blocks (else plain BN).
        channels: output image channels.
    """

    def __init__(
        self,
        resolution: int | None = None,
        z_dim: int = 64,
        num_classes: int | None = None,
        base_channels: int = 32,
        embed_dim: int = 32,
        conditional_bn: bool = True,
        channels: int = 3,
    ) -> None:
        super().__init__()
        resolution = resolution or 32
        num_classes = num_classes or 0
        n_up = _num_ups(resolution)
        self.resolution = resolution
        self.z_dim = z_dim
        self.num_classes = num_classes
        widths = [base_channels * 2 ** (n_up - i) for i in range(n_up + 1)]
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes and embed_dim else None
        in_dim = z_dim + (embed_dim if self.embed is not None else 0)
        self.linear = _init(nn.Linear(in_dim, 16 * widths[0]))
        bn_classes = num_classes if conditional_bn else 0
        self.bn0 = ConditionalBatchNorm2d(widths[0], bn_classes)
        self.convs = nn.ModuleList(
            _init(nn.Conv2d(cin, cout, 3, padding=1)) for cin, cout in itertools.pairwise(widths)
        )
        self.bns = nn.ModuleList(ConditionalBatchNorm2d(c, bn_classes) for c in widths[1:])
        self.to_rgb = _init(nn.Conv2d(widths[-1], channels, 3, padding=1))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional generator needs class labels y")
        h = z if self.embed is None else torch.cat([z, self.embed(y)], dim=1)
        h = self.linear(h).view(z.shape[0], -1, 4, 4)
        h = F.relu(self.bn0(h, y))
        for conv, bn in zip(self.convs, self.bns):
            h = F.relu(bn(conv(F.interpolate(h, scale_factor=2, mode="nearest")), y))
        return torch.tanh(self.to_rgb(h))

    def sample_latent(
        self, n: int, generator: torch.Generator | None = None, device=None
    ) -> Tensor:
        """``n`` standard-normal latents."""
        return torch.randn(n, self.z_dim, generator=generator, device=device)


class SmallDiscriminator(nn.Module):
    """``D(x, y) -> (N,)`` logits from a strided-conv net.

    ``conv3x3 -> (LeakyReLU, conv4x4 stride 2) x k`` down to 4x4, LeakyReLU, sum-pool, then
    ``linear(h) + <embed(y), h>`` (projection). With ``input_conditioning`` a learned per-class
    bias map is added after the first convolution. No normalization inside: the regularizer
    (SRN) is applied to every Linear / Conv / Embedding afterwards.

    Args:
        resolution: 4 * 2**k; ``None``: the data's under ``srngan fit``, else 32.
        num_classes: 0 unconditional; ``None``: the data's class count under ``srngan fit``.
        base_channels: width of the first convolution; doubles at every down-sampling.
        input_conditioning: add the class at the input too (see above).
        channels: input image channels.
    """

    def __init__(
        self,
        resolution: int | None = None,
        num_classes: int | None = None,
        base_channels: int = 32,
        input_conditioning: bool = True,
        channels: int = 3,
    ) -> None:
        super().__init__()
        resolution = resolution or 32
        num_classes = num_classes or 0
        n_down = _num_ups(resolution)
        self.resolution = resolution
        self.num_classes = num_classes
        widths = [base_channels * 2**i for i in range(n_down + 1)]
        self.conv0 = _init(nn.Conv2d(channels, widths[0], 3, padding=1))
        self.convs = nn.ModuleList(
            _init(nn.Conv2d(cin, cout, 4, stride=2, padding=1))
            for cin, cout in itertools.pairwise(widths)
        )
        self.linear = _init(nn.Linear(widths[-1], 1))
        self.embed = _init(nn.Embedding(num_classes, widths[-1])) if num_classes else None
        # Not zero-initialized: SN / SRN divide by the top singular value.
        self.class_map = (
            _init(nn.Embedding(num_classes, widths[0]))
            if num_classes and input_conditioning
            else None
        )

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The pooled penultimate features ``h`` of shape ``(N, C)``."""
        h = self.conv0(x)
        if self.class_map is not None:
            h = h + self.class_map(y)[:, :, None, None]
        for conv in self.convs:
            h = conv(F.leaky_relu(h, 0.2))
        return F.leaky_relu(h, 0.2).sum(dim=(2, 3))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional discriminator needs class labels y")
        h = self.features(x, y)
        out = self.linear(h).squeeze(1)
        if self.embed is not None:
            out = out + (self.embed(y) * h).sum(dim=1)
        return out


__all__ = ["SmallDiscriminator", "SmallGenerator"]
