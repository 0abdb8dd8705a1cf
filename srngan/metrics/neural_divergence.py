"""Neural Divergence (Gulrajani et al. 2019) with the paper's setup (Appendix E.1).

A fresh critic (three 5x5 stride-2 convs with 16/32/64 channels, Swish, a linear output; weights
N(0, 0.02)) is trained with Adam(2e-4, betas (0, 0.9)) on batches of generated and held-out real
images to minimize ``softplus(f(fake)) + softplus(-f(real))``; the score is the mean
``softplus(f(fake))`` over fresh generated samples. Higher is better: the critic cannot tell the
generator from the data. Paper scale: 100k iterations, 1M evaluation samples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class NDCritic(nn.Module):
    """The critic of the Neural Divergence protocol for ``resolution`` x ``resolution`` RGB input."""

    def __init__(self, resolution: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 5, stride=2, padding=2)
            for cin, cout in ((3, 16), (16, 32), (32, 64))
        )
        side = resolution
        for _ in range(3):
            side = (side + 1) // 2
        self.linear = nn.Linear(64 * side * side, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = F.silu(conv(x))  # Swish with beta = 1
        return self.linear(x.flatten(1)).squeeze(1)


def neural_divergence(
    sample_fake: Callable[[int], Tensor],
    sample_real: Callable[[int], Tensor],
    resolution: int = 32,
    iterations: int = 100_000,
    batch_size: int = 128,
    eval_samples: int = 1_000_000,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Train a fresh critic and return the mean ``softplus(f(fake))`` on ``eval_samples`` fakes.

    Args:
        sample_fake: ``n -> n generated images in [-1, 1]`` (fresh samples on every call).
        sample_real: ``n -> n held-out real images in [-1, 1]``.
        progress: optional callback called with each finished iteration count.
    """
    if iterations < 1 or eval_samples < 1:
        raise ValueError(
            f"iterations and eval_samples must be >= 1, got {iterations}, {eval_samples}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        critic = NDCritic(resolution).to(device)
    opt = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.0, 0.9))
    critic.train()
    with torch.enable_grad():  # callers may hold a no_grad context
        _train_critic(
            critic, opt, sample_fake, sample_real, iterations, batch_size, device, progress
        )
    critic.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        while count < eval_samples:
            n = min(1024, eval_samples - count)
            total += float(F.softplus(critic(sample_fake(n).to(device))).double().sum())
            count += n
    return total / count


def _train_critic(
    critic, opt, sample_fake, sample_real, iterations, batch_size, device, progress
) -> None:
    for it in range(iterations):
        fake = sample_fake(batch_size).to(device)
        real = sample_real(batch_size).to(device)
        loss = F.softplus(critic(fake)).mean() + F.softplus(-critic(real)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(it + 1)
