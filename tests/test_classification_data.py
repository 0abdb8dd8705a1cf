"""Classification data: seeded random labels, the procedural datamodule, offline CIFAR errors."""

from __future__ import annotations

import pytest
import torch

from srngan.classification.datamodule import ClassificationDataModule
from srngan.classification.datasets import load_classification_dataset
from srngan.classification.random_labels import RandomLabels, random_labels
from srngan.data.real import DatasetNotFoundError


def _labels(dataset) -> list[int]:
    return [dataset[i][1] for i in range(len(dataset))]


def test_random_labels_are_fixed_by_seed_and_per_image():
    a = random_labels(500, 10, seed=3)
    assert torch.equal(a, random_labels(500, 10, seed=3))
    assert not torch.equal(a, random_labels(500, 10, seed=4))
    assert a.min() >= 0 and a.max() <= 9
    assert len(a.unique()) == 10  # all classes occur among 500 draws


def test_random_label_dataset_keeps_images_and_replaces_labels():
    dm = ClassificationDataModule("procedural", procedural_images=200, augment=False)
    clean = dm.dataset("train")
    dm_random = ClassificationDataModule(
        "procedural", procedural_images=200, augment=False, random_labels=True, label_seed=7
    )
    noisy = dm_random.dataset("train")
    assert isinstance(noisy, RandomLabels)
    assert torch.equal(noisy[5][0], clean[5][0])
    # The same labels on every access and in a freshly built dataset (every epoch and process).
    assert _labels(noisy) == _labels(noisy) == _labels(dm_random.dataset("train"))
    assert _labels(noisy) == random_labels(200, 10, seed=7).tolist()
    # Random labels agree with the true ones about 1/10 of the time, not always.
    agree = sum(a == b for a, b in zip(_labels(noisy), _labels(clean))) / 200
    assert 0.02 < agree < 0.25
    # The test split keeps true labels.
    assert _labels(dm_random.dataset("test")) == _labels(dm.dataset("test"))


def test_procedural_datamodule_splits_and_loaders():
    dm = ClassificationDataModule(
        "procedural", procedural_images=64, procedural_test_images=32, batch_size=16,
        num_workers=0, procedural_classes=5,
    )  # fmt: skip
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.test_set), dm.num_classes) == (64, 32, 5)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (16, 3, 32, 32) and labels.max() < 5
    # Train and test images differ (different seeds).
    assert not torch.equal(dm.train_set[0][0], dm.test_set[0][0])


def test_augmentation_changes_train_images_only():
    torch.manual_seed(0)
    plain = load_classification_dataset("procedural", "train", augment=False, procedural_images=20)
    aug = load_classification_dataset("procedural", "train", augment=True, procedural_images=20)
    assert any(not torch.equal(aug[i][0], plain[i][0]) for i in range(20))
    assert aug[0][0].shape == plain[0][0].shape == (3, 32, 32)


def test_missing_cifar_is_a_one_line_error(tmp_path):
    for name in ("cifar10", "cifar100"):
        dm = ClassificationDataModule(name, root=str(tmp_path))
        assert dm.num_classes == {"cifar10": 10, "cifar100": 100}[name]
        with pytest.raises(DatasetNotFoundError) as err:
            dm.setup("fit")
        message = str(err.value)
        assert "\n" not in message
        assert str(tmp_path) in message and "download true" in message


def test_bad_arguments():
    with pytest.raises(
        ValueError, match="unknown dataset 'mnist'; allowed: procedural, cifar10, cifar100"
    ):
        ClassificationDataModule("mnist")
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        ClassificationDataModule(batch_size=0)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        random_labels(3, 1, seed=0)
