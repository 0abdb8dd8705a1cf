"""Deterministic, shardable sampling from a generator (pure torch).

Sample ``i`` of a run with seed ``s`` always gets the same latent and label, whatever the batch
size or the number of processes: latents are drawn in fixed blocks of :data:`BLOCK` samples, block
``b`` from a generator seeded with ``(s, b)``, and process ``r`` of ``W`` takes blocks
``r, r + W, ...``. With G in eval mode each image depends only on its own latent, so the images,
and any statistic summed over them, equal those of one process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

BLOCK = 250


@dataclass
class SampleBatch:
    indices: Tensor  # global sample indices, int64
    images: Tensor  # float in [-1, 1], (n, 3, H, W)
    labels: Tensor | None  # int64 class labels for conditional generators


def block_inputs(
    block: int,
    num_samples: int,
    z_dim: int,
    num_classes: int,
    seed: int,
    class_index: int | str | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """``(indices, z, labels)`` of block ``block``.

    Labels are uniform at random (``class_index=None``), all ``class_index``, or, for
    ``"balanced"``, sample ``i`` gets class ``i % num_classes``.
    """
    start = block * BLOCK
    n = min(BLOCK, num_samples - start)
    g = torch.Generator().manual_seed(seed * 1_000_003 + block)
    z = torch.randn(n, z_dim, generator=g)
    labels = None
    if num_classes:
        labels = torch.randint(num_classes, (n,), generator=g)
        if class_index == "balanced":
            labels = torch.arange(start, start + n) % num_classes
        elif class_index is not None:
            labels = torch.full((n,), int(class_index), dtype=torch.int64)
    return torch.arange(start, start + n), z, labels


def generate_samples(
    generate: Callable[[Tensor, Tensor | None], Tensor],
    num_samples: int,
    z_dim: int,
    num_classes: int = 0,
    seed: int = 0,
    batch_size: int = 250,
    device: torch.device | str = "cpu",
    rank: int = 0,
    world_size: int = 1,
    class_index: int | str | None = None,
) -> Iterator[SampleBatch]:
    """Yield this process's share of ``num_samples`` samples, ``batch_size`` at a time.

    Args:
        generate: ``(z, labels) -> images in [-1, 1]`` (G in eval mode, no grad).
        class_index: labels for conditional generators: ``None`` uniform at random, an int for
            that class only, ``"balanced"`` for ``i % num_classes``.
    """
    blocks = range(rank, -(-num_samples // BLOCK), world_size)
    for block in blocks:
        indices, z, labels = block_inputs(block, num_samples, z_dim, num_classes, seed, class_index)
        for s in range(0, indices.shape[0], batch_size):
            zb = z[s : s + batch_size].to(device)
            lb = None if labels is None else labels[s : s + batch_size].to(device)
            with torch.no_grad():
                images = generate(zb, lb)
            yield SampleBatch(indices[s : s + batch_size], images, None if lb is None else lb.cpu())
