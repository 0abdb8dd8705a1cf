"""Real image datasets (CIFAR-10/100, CelebA, any ImageFolder) with offline-safe errors.

Nothing here downloads unless asked to; a dataset that is missing gives a one-line
:class:`DatasetNotFoundError` naming the path and how to get the data.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, get_args

from torch.utils.data import Dataset
from torchvision import datasets, transforms
from torchvision.datasets.folder import IMG_EXTENSIONS, default_loader

DatasetName = Literal["procedural", "cifar10", "cifar100", "celeba", "imagefolder"]
DATASETS: tuple[str, ...] = get_args(DatasetName)
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "celeba": 0}
DEFAULT_RESOLUTION = {
    "procedural": 32,
    "cifar10": 32,
    "cifar100": 32,
    "celeba": 64,
    "imagefolder": 32,
}

_HOW_TO_GET = {
    "cifar10": (
        "cifar-10-batches-py",
        "https://www.cs.toronto.edu/~kriz/cifar.html (cifar-10-python.tar.gz)",
    ),
    "cifar100": (
        "cifar-100-python",
        "https://www.cs.toronto.edu/~kriz/cifar.html (cifar-100-python.tar.gz)",
    ),
    "celeba": (
        "celeba/img_align_celeba",
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (img_align_celeba.zip and list_eval_partition.txt)",
    ),
}


# Neural Divergence trains its critic on the test split, except for CelebA where the paper used
# the training set (Appendix E.1, footnote 13).
_ND_SPLIT = {"celeba": "train"}

NO_LABEL = -1


def nd_split(name: str) -> Literal["train", "test"]:
    """The split whose real images Neural Divergence's critic sees (paper: test; CelebA: train)."""
    return _ND_SPLIT.get(check_dataset_name(name), "test")


class Unlabelled(Dataset):
    """``(image, NO_LABEL)`` items from a dataset without labels (torchvision's CelebA with
    ``target_type=[]`` returns ``None``, which neither the default collate nor ``int`` takes)."""

    def __init__(self, images: Dataset) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index][0], NO_LABEL


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk (and was not, or could not be, downloaded)."""


def check_dataset_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    return name


def image_transform(resolution: int, center_crop: int | None = None) -> transforms.Compose:
    """PIL image -> float tensor in [-1, 1]: optional center crop, resize to ``resolution``."""
    steps: list = []
    if center_crop:
        steps.append(transforms.CenterCrop(center_crop))
    steps += [
        transforms.Resize(resolution, antialias=True),
        transforms.CenterCrop(resolution),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ]
    return transforms.Compose(steps)


def _missing(name: str, root: Path, reason: str = "") -> DatasetNotFoundError:
    sub, url = _HOW_TO_GET[name]
    extra = f" ({reason})" if reason else ""
    return DatasetNotFoundError(
        f"{name} not found at {root / sub}{extra}; pass --data.download true (needs internet) "
        f"or get it from {url} and extract it under {root}"
    )


def load_real_dataset(
    name: str,
    root: str | Path,
    split: Literal["train", "test"],
    resolution: int,
    download: bool = False,
) -> Dataset:
    """The torchvision dataset ``name`` at ``root``, images in [-1, 1], labels as class indices
    (:data:`NO_LABEL` for CelebA, which GANs train on unconditionally).

    ``imagefolder`` reads ``root`` itself (``root/<class>/<image>``, or ``root/<split>/<class>/``
    when such a split folder exists). CelebA images are center-cropped to 140 x 140 (the face)
    before resizing, the common protocol for 64 x 64 CelebA GANs.
    """
    root = Path(root).expanduser()
    check_dataset_name(name)
    train = split == "train"
    try:
        if name == "cifar10":
            return datasets.CIFAR10(
                str(root), train=train, transform=image_transform(resolution), download=download
            )
        if name == "cifar100":
            return datasets.CIFAR100(
                str(root), train=train, transform=image_transform(resolution), download=download
            )
        if name == "celeba":
            faces = datasets.CelebA(
                str(root),
                split="train" if train else "test",
                target_type=[],
                transform=image_transform(resolution, center_crop=140),
                download=download,
            )
            return Unlabelled(faces)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        raise _missing(name, root) from err
    except OSError as err:  # download failed: offline, DNS, refused
        raise _missing(name, root, f"download failed: {err}") from err
    if name == "imagefolder":
        folder = root / split if (root / split).is_dir() else root
        if not folder.is_dir():
            raise DatasetNotFoundError(
                f"image folder {folder} not found; pass --data.root DIR with one sub-folder of images per class"
            )
        return checked_image_folder(folder, resolution)
    raise ValueError(f"{name!r} is not a real dataset")


class BadImageFolderError(ValueError):
    """An image folder that cannot train: no class folders, an empty class, unreadable images."""


# Files listed by name in an error before "... and N more".
_LIST_AT_MOST = 10


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_AT_MOST])
    more = len(items) - _LIST_AT_MOST
    return shown + (f" ... and {more} more" if more > 0 else "")


def checked_image_folder(folder: Path, resolution: int) -> datasets.ImageFolder:
    """``root/<class>/<image>`` as an ImageFolder whose every image is known to load.

    Every image is decoded once here, before training, with the loader training uses (in
    threads: decoding releases the GIL), so a truncated or unreadable file is a one-line
    :class:`BadImageFolderError` naming it, never a crash hours into a run. Images of any size
    and mode (grayscale, RGBA, palette, CMYK, 16-bit) are converted to RGB and resized.
    """
    classes = sorted(e.name for e in os.scandir(folder) if e.is_dir())
    if not classes:
        loose = [p for p in folder.iterdir() if p.suffix.lower() in IMG_EXTENSIONS]
        hint = (
            f"its {len(loose)} images lie directly in it: move them into {folder}/<class>/ "
            "(one sub-folder trains unconditionally)"
            if loose
            else f"expected {folder}/<class>/<image> with extensions {', '.join(IMG_EXTENSIONS)}"
        )
        raise BadImageFolderError(f"image folder {folder} has no class sub-folders; {hint}")
    dataset = datasets.ImageFolder(
        str(folder), transform=image_transform(resolution), allow_empty=True
    )
    counts = Counter(dataset.targets)
    empty = [c for i, c in enumerate(dataset.classes) if counts[i] == 0]
    if len(empty) == len(dataset.classes):
        raise BadImageFolderError(
            f"image folder {folder} has no images (extensions {', '.join(IMG_EXTENSIONS)}) in its "
            f"class folders {_listing(empty)}"
        )
    if empty:
        raise BadImageFolderError(
            f"image folder {folder}: class folder(s) with no images: {_listing(empty)}; add "
            "images or remove the folder(s) (each class folder is a class of a conditional GAN)"
        )
    bad = find_unreadable_images([path for path, _ in dataset.samples], dataset.loader)
    if bad:
        named = [f"{Path(path).relative_to(folder)} ({reason})" for path, reason in bad]
        raise BadImageFolderError(
            f"{len(bad)} unreadable image(s) in {folder}: {_listing(named)}; remove or replace "
            "them (each image is checked before training)"
        )
    return dataset


def find_unreadable_images(paths: list[str], loader=default_loader) -> list[tuple[str, str]]:
    """``(path, reason)`` for each image that ``loader`` cannot fully decode, in ``paths`` order."""

    def check(path: str) -> str | None:
        try:
            image = loader(path)
            image.load()
        except Exception as err:  # any failure here would be a crash mid-run
            return " ".join(str(err).split()) or type(err).__name__
        return None

    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        reasons = list(pool.map(check, paths, chunksize=64))
    return [(p, r) for p, r in zip(paths, reasons) if r is not None]


def imagefolder_num_classes(root: str | Path) -> int:
    """Classes to condition on in an ImageFolder root: its class sub-folders, or 0 when it has a
    single one (nothing to condition on: unconditional) or does not exist yet."""
    root = Path(root).expanduser()
    folder = root / "train" if (root / "train").is_dir() else root
    if not folder.is_dir():
        return 0
    count = sum(1 for p in folder.iterdir() if p.is_dir())
    return count if count > 1 else 0
