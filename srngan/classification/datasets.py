"""Classification datasets: CIFAR-10/100 (torchvision, never downloaded unless asked) and the
procedural shapes, with the standard CIFAR augmentation."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from torch import Tensor
from torch.utils.data import Dataset
from torchvision import datasets, transforms

from srngan.data.procedural import ShapesDataset
from srngan.data.real import DatasetNotFoundError

__all__ = ["ClassificationDatasetName", "load_classification_dataset", "num_classes_of"]

ClassificationDatasetName = Literal["procedural", "cifar10", "cifar100"]

# Per-channel statistics of the CIFAR training sets (images in [0, 1]).
_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def check_dataset(name: str) -> str:
    allowed = get_args(ClassificationDatasetName)
    if name not in allowed:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(allowed)}")
    return name


def num_classes_of(name: str, procedural_classes: int) -> int:
    return {"cifar10": 10, "cifar100": 100}.get(check_dataset(name), procedural_classes)


def augmentation() -> list:
    """Random 32x32 crop of the 4-pixel zero-padded image and a random horizontal flip."""
    return [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]


class _Transformed(Dataset):
    def __init__(self, dataset: Dataset, transform) -> None:
        self.dataset, self.transform = dataset, transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, label = self.dataset[index]
        return self.transform(image), label


def load_classification_dataset(
    name: str,
    split: Literal["train", "test"],
    augment: bool,
    root: str | Path = "data",
    download: bool = False,
    procedural_images: int = 2000,
    procedural_classes: int = 10,
    procedural_seed: int = 0,
    procedural_test_images: int | None = None,
) -> Dataset:
    """``split`` of dataset ``name`` as ``(image tensor 3 x 32 x 32, label)`` pairs.

    CIFAR images are standardized per channel; procedural images are in [-1, 1]. ``augment``
    applies :func:`augmentation` (meant for the train split). The procedural test split is
    ``procedural_test_images`` (default ``procedural_images // 5``) images drawn with a
    different seed from the train split's.

    Raises:
        DatasetNotFoundError: CIFAR not under ``root`` and ``download`` false (or offline).
    """
    check_dataset(name)
    if name == "procedural":
        seed = procedural_seed if split == "train" else procedural_seed + 1_000_003
        count = procedural_images
        if split == "test":
            count = procedural_test_images or max(1, procedural_images // 5)
        data = ShapesDataset(count, procedural_classes, size=32, seed=seed)
        return _Transformed(data, transforms.Compose(augmentation())) if augment else data
    mean, std = _STATS[name]
    steps = [*augmentation()] if augment else []
    steps += [transforms.ToTensor(), transforms.Normalize(mean, std)]
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    root = Path(root).expanduser()
    try:
        return cls(
            str(root),
            train=split == "train",
            transform=transforms.Compose(steps),
            download=download,
        )
    except (RuntimeError, OSError) as err:  # not found / corrupt, or the download failed
        raise DatasetNotFoundError(
            f"{name} not found at {root / _FOLDERS[name]} ({type(err).__name__}: {err}); pass "
            "--data.init_args.download true (needs internet) or extract the python version "
            f"from https://www.cs.toronto.edu/~kriz/cifar.html under {root}"
        ) from None
