"""Shattering experiments (Zhang et al., 2016): every image gets a fixed random label."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

__all__ = ["RandomLabels", "random_labels"]


def random_labels(num_items: int, num_classes: int, seed: int) -> Tensor:
    """``(num_items,)`` labels uniform in ``[0, num_classes)``, a pure function of the arguments.

    Example::

        >>> bool((random_labels(5, 3, seed=1) == random_labels(5, 3, seed=1)).all())
        True
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 for random labels, got {num_classes}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(num_classes, (num_items,), generator=generator)


class RandomLabels(Dataset):
    """``dataset`` with item ``i``'s label replaced by ``random_labels(...)[i]``.

    The label belongs to the index, not to the draw: every epoch, worker and process sees the
    same label for the same image, so a network can only fit them by memorizing.

    Args:
        dataset: yields ``(image, label)``.
        num_classes: labels are drawn from ``[0, num_classes)``.
        seed: fixes the labels.
    """

    def __init__(self, dataset: Dataset, num_classes: int, seed: int = 0) -> None:
        self.dataset = dataset
        self.labels = random_labels(len(dataset), num_classes, seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, _ = self.dataset[index]
        return image, int(self.labels[index])
