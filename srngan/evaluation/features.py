"""Real images for the metrics: a fixed random subset of a dataset, sharded across processes."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Dataset

from srngan.metrics.inception import quantize_images


def dataset_batches(
    dataset: Dataset,
    num: int,
    batch_size: int,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """``(indices, uint8 images, labels)`` batches of ``num`` images of ``dataset``.

    Index ``i`` is ``dataset[perm[i]]`` for a permutation fixed by ``seed``; process ``rank`` of
    ``world_size`` takes batches ``rank, rank + world_size, ...``.
    """
    if num > len(dataset):
        raise ValueError(f"asked for {num} real images but the dataset has {len(dataset)}")
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:num]
    for start in range(rank * batch_size, num, world_size * batch_size):
        idx = torch.arange(start, min(start + batch_size, num))
        items = [dataset[int(perm[i])] for i in idx]
        images = quantize_images(torch.stack([x for x, _ in items]))
        labels = torch.tensor([int(y) for _, y in items], dtype=torch.int64)
        yield idx, images, labels
