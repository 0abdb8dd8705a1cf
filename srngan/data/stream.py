"""An endless, resumable, rank-aware stream of shuffled dataset indices (pure torch).

Position ``p`` of the stream is ``perm_e[p mod N]`` with ``e = p // N`` and ``perm_e`` a
permutation drawn from a generator seeded with ``(seed, e)``: the order never touches the global
RNG, so training randomness and data order are independent, and resuming only needs the number
of indices already consumed. Process ``r`` of ``W`` takes positions ``r, r + W, ...``.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Sampler


class ResumableStreamSampler(Sampler[int]):
    """Endless shuffled indices of a dataset of ``size`` items; ``start`` skips consumed ones.

    Args:
        size: dataset length.
        seed: shuffling seed.
        start: indices this process has already consumed (set on resume).
    """

    def __init__(self, size: int, seed: int = 0, start: int = 0) -> None:
        if size < 1:
            raise ValueError(f"cannot sample from an empty dataset (size {size})")
        self.size = size
        self.seed = seed
        self.start = start

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.size, generator=g)

    def __iter__(self) -> Iterator[int]:
        rank, world = (
            (dist.get_rank(), dist.get_world_size())
            if dist.is_available() and dist.is_initialized()
            else (0, 1)
        )
        position = rank + self.start * world
        epoch, perm = -1, None
        while True:
            e = position // self.size
            if e != epoch:
                epoch, perm = e, self._permutation(e)
            yield int(perm[position % self.size])
            position += world
