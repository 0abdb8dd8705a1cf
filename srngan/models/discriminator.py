"""The SN-GAN ResNet discriminator, unconditional or with a projection head."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from srngan.models.architectures import architecture_for
from srngan.models.blocks import DBlock, DBlockOptimized, _init
from srngan.models.init import WeightInit, check_weight_init, initialize_weights


class ResNetDiscriminator(nn.Module):
    """``D(x, y) -> (N,)`` logits. No normalization inside: it is injected afterwards.

    Features are ReLU'd and sum-pooled over space; the head is ``linear(h)`` plus, when
    conditional, the projection ``<embed(y), h>`` (Miyato & Koyama, 2018).

    Args:
        resolution: 32, 48 or 64; ``None``: the data module's under ``srngan fit``, else 32.
        num_classes: 0 for unconditional, else the number of classes of the projection;
            ``None``: the data module's class count under ``srngan fit``, else 0.
        base_channels: overrides the layout's base width; ``None`` keeps it.
        weight_init: ``xavier`` (the default) or ``orthogonal`` (every weight matrix with equal
            singular values, stable rank ``min(m, n)``, so an SRN target ``c < 1`` binds from the
            first step; see :func:`srngan.models.init.initialize_weights`).
    """

    def __init__(
        self,
        resolution: int | None = None,
        num_classes: int | None = None,
        base_channels: int | None = None,
        weight_init: WeightInit = "xavier",
    ) -> None:
        super().__init__()
        check_weight_init(weight_init)
        resolution = resolution or 32
        num_classes = num_classes or 0
        arch = architecture_for(resolution)
        base = base_channels or arch.d_base
        widths = [base * m for m in arch.d_multipliers]
        self.resolution = resolution
        self.num_classes = num_classes
        blocks: list[nn.Module] = [DBlockOptimized(3, widths[0])]
        for cin, cout, down in zip(widths[:-1], widths[1:], arch.d_downsample[1:]):
            blocks.append(DBlock(cin, cout, down))
        self.blocks = nn.Sequential(*blocks)
        self.linear = _init(nn.Linear(widths[-1], 1))
        self.embed = _init(nn.Embedding(num_classes, widths[-1])) if num_classes else None
        initialize_weights(self, weight_init)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The pooled penultimate features ``h`` of shape ``(N, C)`` (the class enters only
        after them, by projection: ``y`` is accepted for the common signature and unused)."""
        return F.relu(self.blocks(x)).sum(dim=(2, 3))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.features(x)
        out = self.linear(h).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("a conditional discriminator needs class labels y")
            out = out + (self.embed(y) * h).sum(dim=1)
        return out
