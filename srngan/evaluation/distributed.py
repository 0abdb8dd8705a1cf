"""This process's place among the evaluation processes (``torch.distributed`` when initialized).

Metric states sync through torchmetrics; evaluation itself only needs to know which share of the
samples this process generates. In a single process: rank 0 of 1.
"""

from __future__ import annotations

import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process (``(0, 1)`` without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
