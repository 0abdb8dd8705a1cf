"""An endless, resumable, rank-aware stream of shuffled dataset indices (pure torch).

Position ``p`` of the stream is ``perm_e[p mod N]`` with ``e = p // N`` and ``perm_e`` a
permutation drawn from a generator seeded with ``(seed, e)``: the order never touches the global
RNG, so training randomness and data order are independent, and resuming only needs the number
of indices already consumed. Process ``r`` of ``W`` takes positions ``r, r + W, ...``.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from srngan.ranks import process_rank, world_size


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
        # The process group decides the shares; a process without one trains alone.
        rank, world = process_rank(from_environment=False), world_size(from_environment=False)
        position = rank + self.start * world
        epoch, perm = -1, None
        while True:
            e = position // self.size
            if e != epoch:
                epoch, perm = e, self._permutation(e)
            yield int(perm[position % self.size])
            position += world
