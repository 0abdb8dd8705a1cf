"""Small, fast conditional DCGAN-style networks for CPU runs (the quickstart).

Both follow the network contract of :class:`srngan.GANModule`; they condition on the class
early, which a CPU budget needs (the measurements are in ``docs/quickstart.md``):

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
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.models.augment import random_translate
from srngan.models.blocks import ConditionalBatchNorm2d, _init
from srngan.models.init import WeightInit, check_weight_init, initialize_weights


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
        spatial_transform: warp the last feature map by a similarity transform (rotation,
            scale, shift) computed from ``[z, embed(y)]`` before the output convolution, a
            spatial transformer (Jaderberg et al. 2015; in a GAN generator as in LR-GAN, Yang
            et al. 2017): the convolutions draw in a canonical frame and the pose comes from
            the latent. Starts as the identity.
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
        spatial_transform: bool = False,
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
        self.to_pose = nn.Linear(in_dim, 4) if spatial_transform else None
        if self.to_pose is not None:  # zero: the identity transform at the start
            nn.init.zeros_(self.to_pose.weight)
            nn.init.zeros_(self.to_pose.bias)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes and y is None:
            raise ValueError("a conditional generator needs class labels y")
        h = z if self.embed is None else torch.cat([z, self.embed(y)], dim=1)
        code = h
        h = self.linear(h).view(z.shape[0], -1, 4, 4)
        h = F.relu(self.bn0(h, y))
        for conv, bn in zip(self.convs, self.bns):
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = F.relu(bn(conv(h), y))
        if self.to_pose is not None:
            h = _similarity_warp(h, self.to_pose(code))
        return torch.tanh(self.to_rgb(h))


def _similarity_warp(h: Tensor, pose: Tensor) -> Tensor:
    """``h`` resampled under the similarity transform of ``pose`` ``(N, 4)``: rotation
    ``pi * pose[:, 0]``, scale ``exp(pose[:, 1] / 2)``, shift ``pose[:, 2:] / 2``; edges repeated."""
    angle, scale = math.pi * pose[:, 0], torch.exp(0.5 * pose[:, 1])
    cos, sin = scale * torch.cos(angle), scale * torch.sin(angle)
    shift = 0.5 * pose[:, 2:]
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(h.shape), align_corners=False)
    return F.grid_sample(h, grid, mode="bilinear", padding_mode="border", align_corners=False)


class SmallDiscriminator(nn.Module):
    """``D(x, y) -> (N,)`` logits from a strided-conv net.

    ``conv3x3 -> (LeakyReLU, conv4x4 stride 2) x k`` down to 4x4 (or ``(LeakyReLU, max-pool
    2x2, conv3x3) x k`` with ``downsample="maxpool"``), LeakyReLU, sum-pool, then
    ``linear(h) + <embed(y), h>`` (projection). With ``input_conditioning`` a learned per-class
    bias map is added after the first convolution. No normalization inside: the regularizer
    (SRN) is applied to every Linear / Conv / Embedding afterwards.

    Args:
        resolution: 4 * 2**k; ``None``: the data's under ``srngan fit``, else 32.
        num_classes: 0 unconditional; ``None``: the data's class count under ``srngan fit``.
        base_channels: width of the first convolution; doubles at every down-sampling.
        input_conditioning: add the class at the input too (see above).
        channels: input image channels.
        translate: in training mode, shift every input image (real and fake) by a random
            offset of up to this fraction of its side before D sees it (DiffAugment's
            translation; 0: off).
        downsample: ``"stride"``: every down-sampling is a 4x4 convolution with stride 2;
            ``"maxpool"``: a 2x2 max-pool followed by a 3x3 convolution (the layout of a
            small image classifier), which learns fine shape cues such as corners faster
            (``docs/quickstart.md`` section 7).
        weight_init: ``xavier`` (the default) or ``orthogonal`` (every weight matrix with equal
            singular values, stable rank ``min(m, n)``, so an SRN target ``c < 1`` binds from the
            first step; see :func:`srngan.models.init.initialize_weights`).
    """

    def __init__(
        self,
        resolution: int | None = None,
        num_classes: int | None = None,
        base_channels: int = 32,
        input_conditioning: bool = True,
        channels: int = 3,
        translate: float = 0.0,
        downsample: Literal["stride", "maxpool"] = "stride",
        weight_init: WeightInit = "xavier",
    ) -> None:
        super().__init__()
        check_weight_init(weight_init)
        resolution = resolution or 32
        num_classes = num_classes or 0
        n_down = _num_ups(resolution)
        self.resolution = resolution
        self.num_classes = num_classes
        if not 0.0 <= translate < 0.5:
            raise ValueError(f"translate must be in [0, 0.5), got {translate}")
        if downsample not in ("stride", "maxpool"):
            raise ValueError(f"downsample must be 'stride' or 'maxpool', got {downsample!r}")
        self.translate = translate
        self.pool = downsample == "maxpool"
        widths = [base_channels * 2**i for i in range(n_down + 1)]
        self.conv0 = _init(nn.Conv2d(channels, widths[0], 3, padding=1))
        kernel, stride = (3, 1) if self.pool else (4, 2)
        self.convs = nn.ModuleList(
            _init(nn.Conv2d(cin, cout, kernel, stride=stride, padding=1))
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
        initialize_weights(self, weight_init)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The pooled penultimate features ``h`` of shape ``(N, C)``."""
        if self.training and self.translate:
            x = random_translate(x, self.translate)
        h = self.conv0(x)
        if self.class_map is not None:
            h = h + self.class_map(y)[:, :, None, None]
        for conv in self.convs:
            h = F.leaky_relu(h, 0.2)
            if self.pool:
                h = F.max_pool2d(h, 2)
            h = conv(h)
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
