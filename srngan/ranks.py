"""The one "which process am I" helper of srngan (pure torch)."""

from __future__ import annotations

import os

import torch.distributed as dist

# What launchers (torchrun, Lightning's DDP launcher, SLURM) set before a process group exists.
_RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK")
_WORLD_VARIABLES = ("WORLD_SIZE", "SLURM_NTASKS")


def process_rank(from_environment: bool = True) -> int:
    """This process's global rank: torch.distributed's when its process group is up; else, with
    ``from_environment``, the launcher's variable (``RANK``, ``SLURM_PROCID``, ``LOCAL_RANK``),
    which a process has before the group starts and after it ends; else 0.

    Pass ``from_environment=False`` where the rank decides what data a process takes (the data
    stream): without a process group, a process trains alone, whatever its environment says.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    if from_environment:
        for key in _RANK_VARIABLES:
            if os.environ.get(key, "").isdigit():
                return int(os.environ[key])
    return 0


def world_size(from_environment: bool = True) -> int:
    """The number of processes (see :func:`process_rank` for ``from_environment``)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    if from_environment:
        for key in _WORLD_VARIABLES:
            if os.environ.get(key, "").isdigit():
                return int(os.environ[key])
    return 1


def is_rank_zero() -> bool:
    """Whether this process is rank 0 (the one that prints and writes shared files)."""
    return process_rank() == 0


__all__ = ["is_rank_zero", "process_rank", "world_size"]
