"""The classification LightningDataModule: CIFAR-10/100 or procedural shapes, optional random labels."""

from __future__ import annotations

import lightning as L
from torch.utils.data import DataLoader, Dataset

from srngan.classification.datasets import (
    ClassificationDatasetName,
    check_dataset,
    load_classification_dataset,
    num_classes_of,
)
from srngan.classification.random_labels import RandomLabels

__all__ = ["ClassificationDataModule"]


class ClassificationDataModule(L.LightningDataModule):
    """Train and test loaders of a classification dataset; the test set is the validation set.

    Args:
        dataset: ``"cifar10"``, ``"cifar100"`` or ``"procedural"`` (the no-download shapes of
            :class:`srngan.data.procedural.ShapesDataset`, for CPU runs and tests).
        root: folder holding ``cifar-10-batches-py`` / ``cifar-100-python``.
        download: let torchvision download CIFAR (needs internet).
        batch_size: the paper uses 128.
        num_workers: loader processes.
        augment: random crop (4-pixel padding) and horizontal flip on the train split.
        random_labels: shattering experiments: replace every train label by a random one fixed
            by ``label_seed`` (the test split keeps its true labels, so test accuracy is chance).
        label_seed: seed of the random labels.
        procedural_images / procedural_classes / procedural_seed: size, classes (2..20) and
            seed of the procedural train split.
        procedural_test_images: size of the procedural test split (default: a fifth of the
            train split), drawn with another seed.

    Example::

        >>> dm = ClassificationDataModule("procedural", procedural_images=50, random_labels=True)
        >>> dm.setup("fit")
        >>> len(dm.train_set), dm.num_classes
        (50, 10)
    """

    def __init__(
        self,
        dataset: ClassificationDatasetName = "procedural",
        root: str = "data",
        download: bool = False,
        batch_size: int = 128,
        num_workers: int = 4,
        augment: bool = True,
        random_labels: bool = False,
        label_seed: int = 0,
        procedural_images: int = 2000,
        procedural_classes: int = 10,
        procedural_seed: int = 0,
        procedural_test_images: int | None = None,
    ) -> None:
        super().__init__()
        check_dataset(dataset)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.save_hyperparameters()
        self.num_classes = num_classes_of(dataset, procedural_classes)
        self.train_set: Dataset | None = None
        self.test_set: Dataset | None = None

    def dataset(self, split: str, augment: bool | None = None) -> Dataset:
        """The ``"train"`` (random labels applied if set) or ``"test"`` split.

        ``augment`` defaults to the ``augment`` argument for train and to False for test.
        """
        hp = self.hparams
        data = load_classification_dataset(
            hp.dataset, split, hp.augment if augment is None and split == "train" else bool(augment),
            hp.root, hp.download, hp.procedural_images, hp.procedural_classes, hp.procedural_seed,
            hp.procedural_test_images,
        )  # fmt: skip
        if split == "train" and hp.random_labels:
            data = RandomLabels(data, self.num_classes, hp.label_seed)
        return data

    def prepare_data(self) -> None:
        if self.hparams.download and self.hparams.dataset != "procedural":
            for split in ("train", "test"):
                self.dataset(split)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set = self.dataset("train")
            self.test_set = self.dataset("test")

    def _loader(self, data: Dataset, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            data, self.hparams.batch_size, shuffle=shuffle, num_workers=workers,
            persistent_workers=workers > 0, pin_memory=False, drop_last=False,
        )  # fmt: skip

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
