"""A DCGAN-style generator and discriminator of your own, and a training term of your own,
trained by srngan with SRN in D."""

import itertools
import math

import torch
from torch import nn

from srngan.terms import DStep, DTerm


class DCGANGenerator(nn.Module):
    """z -> 4x4 feature map -> transposed convs doubling the side -> tanh image in [-1, 1]."""

    def __init__(self, resolution: int | None = None, z_dim: int = 64, width: int = 64) -> None:
        super().__init__()
        resolution = resolution or 32
        self.z_dim, self.num_classes = z_dim, 0  # the contract: latent size, unconditional
        ups = int(math.log2(resolution // 4))
        widths = [width * 2 ** (ups - i) for i in range(ups + 1)]
        self.project = nn.Linear(z_dim, widths[0] * 16)
        layers = []
        for cin, cout in itertools.pairwise(widths):
            layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1)]
        self.body = nn.Sequential(*layers, nn.BatchNorm2d(widths[-1]), nn.ReLU())
        self.to_rgb = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], -1, 4, 4)
        return torch.tanh(self.to_rgb(self.body(h)))


class DCGANDiscriminator(nn.Module):
    """Strided convs halving the side down to 4x4, then one logit per image."""

    def __init__(self, resolution: int | None = None, width: int = 64) -> None:
        super().__init__()
        resolution = resolution or 32
        downs = int(math.log2(resolution // 4))
        widths = [3] + [width * 2**i for i in range(downs)]
        layers = []
        for cin, cout in itertools.pairwise(widths):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.1)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * 16, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


class DriftPenalty(DTerm):
    """A training term of your own: keeps D's logits on real images near 0 (Karras et al.
    2018's epsilon drift), logged as ``loss/d_drift_penalty``. Its rows (the reals again)
    join D's one forward of the step, so D still takes one power iteration per step."""

    def rows(self, step: DStep):
        return step.real, step.real_labels

    def loss(self, step: DStep, logits: torch.Tensor | None) -> torch.Tensor:
        return logits.pow(2).mean()
