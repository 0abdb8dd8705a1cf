"""Image sources of an evaluation: a dataset split, a set of images (a folder or ``.npz``), a
generator. Pure torch.

Every source yields :class:`Batch` es of uint8 images with their *global* index in the source's
order, process ``rank`` of ``world_size`` taking its own share, so a metric summed or gathered over
the processes equals the one-process value:

- :class:`DatasetImages`: a fixed random subset of a dataset (the first ``num`` images of a
  permutation seeded by the evaluation's seed), e.g. the ``num_real`` reference images;
- :class:`ImageSet`: images in memory, all of them in their given order (what torch-fidelity
  reads from the same folder), e.g. :meth:`ImageSet.from_path`;
- :class:`GeneratorImages`: ``num`` samples of a generator, sample ``i`` always from the same
  latent and label (:mod:`srngan.evaluation.sampling`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from srngan.evaluation.sampling import generate_samples
from srngan.metrics.images import images_to_uint8
from srngan.metrics.inception import quantize_images

Generate = Callable[[Tensor, Tensor | None], Tensor]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass
class Batch:
    """Images of one batch of a source."""

    indices: Tensor  # int64 global positions in the source's order
    images: Tensor  # uint8 (n, 3, H, W)
    labels: Tensor | None  # int64 class labels (None: the source has none)


class ImageSource:
    """What an evaluation reads images from (see the module docstring for the three kinds).

    Attributes:
        size: how many images the source holds (``None``: a generator, any number).
        num_classes: classes of its labels (0: unlabelled / unconditional).
        key: what the images are (dataset, split, resolution...), for the on-disk cache of
            reference statistics; ``None`` never caches.
    """

    size: int | None = None
    num_classes: int = 0
    key: dict | None = None

    def batches(
        self,
        num: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        class_index: int | None = None,
    ) -> Iterator[Batch]:
        """This process's share of the first ``num`` images, ``batch_size`` at a time."""
        raise NotImplementedError


def _check_count(num: int, size: int, holder: str) -> None:
    if num > size:
        raise ValueError(f"asked for {num} images but the {holder} has {size}")


class DatasetImages(ImageSource):
    """A dataset of ``(image in [-1, 1], label)`` items, read as a fixed random subset.

    Position ``i`` is ``dataset[perm[i]]`` for the permutation ``randperm(len(dataset))`` seeded
    by ``seed``, so the first ``n`` positions are the same images for any ``n`` (a pass over all
    images also gives the ``num_real`` subset); process ``rank`` takes batches
    ``rank, rank + world_size, ...``.

    Args:
        dataset: the images (and labels).
        key: cache identity (e.g. ``GANDataModule.reference_key(split)``); ``None``: no cache.
        num_classes: classes of the labels; ``None``: the dataset's ``num_classes`` attribute
            (0 when it has none).
    """

    def __init__(
        self, dataset: Dataset, key: dict | None = None, num_classes: int | None = None
    ) -> None:
        self.dataset = dataset
        self.size = len(dataset)
        self.key = key
        self.num_classes = (
            int(getattr(dataset, "num_classes", 0) or 0) if num_classes is None else num_classes
        )

    def batches(self, num, batch_size, seed=0, rank=0, world_size=1, class_index=None):
        _check_count(num, self.size, "dataset")
        perm = torch.randperm(self.size, generator=torch.Generator().manual_seed(seed))[:num]
        for start in range(rank * batch_size, num, world_size * batch_size):
            idx = torch.arange(start, min(start + batch_size, num))
            items = [self.dataset[int(perm[i])] for i in idx]
            images = quantize_images(torch.stack([x for x, _ in items]))
            labels = torch.tensor([int(y) for _, y in items], dtype=torch.int64)
            yield Batch(idx, images, labels)


class ImageSet(ImageSource):
    """uint8 images ``(N, 3, H, W)`` in memory (and their labels), read in their order, all of
    them: the same numbering torch-fidelity gives a folder, so IS splits and KID subsets match.

    Args:
        images: uint8 ``(N, 3, H, W)``.
        labels: int64 ``(N,)`` class labels, or ``None``.
        num_classes: classes of ``labels``; ``None``: ``max(labels) + 1``.
    """

    def __init__(
        self, images: Tensor, labels: Tensor | None = None, num_classes: int | None = None
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f"images must be uint8 (N, 3, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if labels is not None and labels.shape != (images.shape[0],):
            raise ValueError(
                f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}"
            )
        self.images, self.labels = images, labels
        self.size = images.shape[0]
        if num_classes is None:
            num_classes = int(labels.max()) + 1 if labels is not None and labels.numel() else 0
        self.num_classes = num_classes

    @classmethod
    def from_path(cls, path: str | Path) -> ImageSet:
        """The images of a folder (``.png``, ``.jpg``, ... found recursively, sorted by path) or
        of an ``.npz`` (uint8 ``(N, H, W, 3)`` under ``images``, optional ``labels``)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} not found")
        if path.suffix == ".npz":
            with np.load(path) as npz:
                name = "images" if "images" in npz.files else npz.files[0]
                images = npz[name]
                labels = torch.from_numpy(npz["labels"]).long() if "labels" in npz.files else None
            if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
                raise ValueError(
                    f"{path}: expected uint8 images of shape (N, H, W, 3), got {images.dtype} "
                    f"{images.shape}"
                )
            return cls(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels)
        from PIL import Image

        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images (.png, .jpg, ...) found in {path}")
        arrays = [np.asarray(Image.open(f).convert("RGB")) for f in files]
        if len({a.shape for a in arrays}) != 1:
            raise ValueError(f"images in {path} have different sizes")
        return cls(torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous())

    def batches(self, num, batch_size, seed=0, rank=0, world_size=1, class_index=None):
        _check_count(num, self.size, "image set")
        for start in range(rank * batch_size, num, world_size * batch_size):
            idx = torch.arange(start, min(start + batch_size, num))
            labels = None if self.labels is None else self.labels[idx]
            yield Batch(idx, self.images[idx], labels)


class GeneratorImages(ImageSource):
    """Samples of a generator, quantized to uint8 as ``srngan sample`` writes them.

    Args:
        generate: ``(z, labels) -> images in [-1, 1]`` (G in eval mode; called without grad).
        z_dim: latent size.
        num_classes: classes of a conditional generator (0: unconditional, labels ``None``).
        device: where latents and labels are put for ``generate``.
    """

    def __init__(
        self,
        generate: Generate,
        z_dim: int,
        num_classes: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.generate, self.z_dim, self.num_classes = generate, z_dim, num_classes
        self.device = torch.device(device)

    def batches(self, num, batch_size, seed=0, rank=0, world_size=1, class_index=None):
        """Samples ``0..num-1`` (labels uniform at random, or all ``class_index``)."""
        samples = generate_samples(
            self.generate, num, self.z_dim, self.num_classes, seed, batch_size, self.device,
            rank, world_size, class_index=class_index,
        )  # fmt: skip
        for batch in samples:
            yield Batch(batch.indices, images_to_uint8(batch.images), batch.labels)
