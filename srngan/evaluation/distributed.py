"""Collectives for evaluation across processes, via ``torch.distributed`` when it is initialized.

Under Lightning DDP the process group exists, so callbacks and the ``evaluate`` command share
this code path; in a single process every collective is the identity.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


class Collective:
    """Rank, world size and the two collectives evaluation needs (sum, ordered gather)."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.active = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.active else 0
        self.world_size = dist.get_world_size() if self.active else 1
        # NCCL reduces only CUDA tensors; gloo reduces CPU tensors.
        self.device = (
            torch.device(device)
            if self.active and dist.get_backend() == "nccl"
            else torch.device("cpu")
        )

    def sum_(self, *tensors: Tensor) -> None:
        """In-place all-reduce (sum) of float64 tensors."""
        if not self.active:
            return
        for t in tensors:
            buf = t.to(self.device)
            dist.all_reduce(buf)
            t.copy_(buf.to(t.device))

    def gather_by_index(self, indices: Tensor, values: Tensor) -> Tensor:
        """All processes' rows of ``values``, ordered by their global ``indices``."""
        if self.active:
            sizes = [
                torch.zeros(1, dtype=torch.int64, device=self.device)
                for _ in range(self.world_size)
            ]
            dist.all_gather(sizes, torch.tensor([indices.shape[0]], device=self.device))
            largest = int(max(s.item() for s in sizes))
            pad_i = torch.full((largest,), -1, dtype=torch.int64, device=self.device)
            pad_v = torch.zeros(largest, *values.shape[1:], dtype=values.dtype, device=self.device)
            pad_i[: indices.shape[0]] = indices.to(self.device)
            pad_v[: values.shape[0]] = values.to(self.device)
            all_i = [torch.empty_like(pad_i) for _ in range(self.world_size)]
            all_v = [torch.empty_like(pad_v) for _ in range(self.world_size)]
            dist.all_gather(all_i, pad_i)
            dist.all_gather(all_v, pad_v)
            indices = torch.cat(all_i).cpu()
            values = torch.cat(all_v).cpu()
            keep = indices >= 0
            indices, values = indices[keep], values[keep]
        order = torch.argsort(indices)
        return values[order]
