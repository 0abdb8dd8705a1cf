"""Lightning data module: one place that turns a dataset name into training batches."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import lightning as L
import torch
from lightning.fabric.utilities.seed import pl_worker_init_function
from torch.utils.data import DataLoader, Dataset

from srngan.data.procedural import ShapesDataset
from srngan.data.real import (
    DEFAULT_RESOLUTION,
    NUM_CLASSES,
    DatasetName,
    check_dataset_name,
    imagefolder_num_classes,
    load_real_dataset,
    nd_split,
)
from srngan.data.stream import ResumableStreamSampler


class GANDataModule(L.LightningDataModule):
    """Real images (and labels) for GAN training and evaluation.

    Args:
        dataset: ``procedural`` (no download; coloured shapes), ``cifar10``, ``cifar100``,
            ``celeba`` (64 x 64) or ``imagefolder`` (``root/<class>/<image>``, any image sizes
            and modes; a single class folder trains unconditionally; every image is decoded
            once in ``setup``, before training, and unreadable ones are a one-line error).
        root: where datasets live (or the image folder itself).
        batch_size: real images per discriminator step.
        num_workers: DataLoader worker processes.
        download: allow torchvision to download CIFAR / CelebA into ``root``.
        resolution: image side; ``None`` uses the dataset's own (32, CelebA 64).
        num_images: procedural dataset size (the training split).
        num_heldout_images: procedural held-out ("test") split size, drawn from another seed;
            ``None``: the same as ``num_images``. The held-out split is what the generalization
            callback and ``reference_splits: [test]`` metrics compare against.
        num_procedural_classes: procedural class count (2..20).
        seed: procedural dataset seed.
        pin_memory: page-locked training batches, so the copy to a GPU overlaps compute;
            ``None``: on when CUDA is available.
    """

    def __init__(
        self,
        dataset: DatasetName = "procedural",
        root: str = "data",
        batch_size: int = 64,
        num_workers: int = 2,
        download: bool = False,
        resolution: int | None = None,
        num_images: int = 10000,
        num_heldout_images: int | None = None,
        num_procedural_classes: int = 10,
        seed: int = 0,
        pin_memory: bool | None = None,
    ) -> None:
        super().__init__()
        check_dataset_name(dataset)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        # No save_hyperparameters: the model logs the run's settings (and the resolved resolution).
        self.dataset_name = dataset
        self.root = Path(root)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.download = download
        self.resolution = resolution or DEFAULT_RESOLUTION[dataset]
        if num_heldout_images is not None and num_heldout_images < 1:
            raise ValueError(f"num_heldout_images must be >= 1 or null, got {num_heldout_images}")
        self.num_images = num_images
        self.num_heldout_images = num_heldout_images
        self.num_procedural_classes = num_procedural_classes
        self.seed = seed
        self._train: Dataset | None = None
        self._sampler: ResumableStreamSampler | None = None
        self._consumed_batches = 0

    @property
    def num_classes(self) -> int:
        """Classes available for conditioning (0: the dataset has no labels to condition on)."""
        if self.dataset_name == "procedural":
            return self.num_procedural_classes
        if self.dataset_name == "imagefolder":
            return imagefolder_num_classes(self.root)
        return NUM_CLASSES[self.dataset_name]

    def config(self) -> dict:
        """The constructor arguments, stored in checkpoints so evaluation can rebuild the data."""
        return {
            "dataset": self.dataset_name, "root": str(self.root), "batch_size": self.batch_size,
            "num_workers": self.num_workers, "download": self.download, "resolution": self.resolution,
            "num_images": self.num_images, "num_heldout_images": self.num_heldout_images,
            "num_procedural_classes": self.num_procedural_classes,
            "seed": self.seed,
        }  # fmt: skip

    def reference_key(self, split: str = "train") -> dict:
        """What real images a reference statistic is computed from (the transform included)."""
        key = {"dataset": self.dataset_name, "split": split, "resolution": self.resolution,
               "transform": "resize-centercrop-[-1,1]-uint8"}  # fmt: skip
        if self.dataset_name == "procedural":
            key.update(
                num_images=self._procedural_size(split),
                classes=self.num_procedural_classes,
                seed=self.seed,
            )
        if self.dataset_name == "imagefolder":
            key.update(root=str(self.root.resolve()))
        return key

    def make_dataset(self, split: str = "train") -> Dataset:
        """The dataset for ``split`` (``train`` or ``test``); procedural test uses another seed."""
        if self.dataset_name == "procedural":
            seed = self.seed + (0 if split == "train" else 10_000)
            return ShapesDataset(
                self._procedural_size(split), self.num_procedural_classes, self.resolution, seed
            )
        return load_real_dataset(
            self.dataset_name, self.root, split, self.resolution, self.download
        )

    def _procedural_size(self, split: str) -> int:
        if split == "train" or self.num_heldout_images is None:
            return self.num_images
        return self.num_heldout_images

    def nd_dataset(self) -> Dataset:
        """Real images for Neural Divergence's critic: the test split (CelebA: the training
        split, as in the paper's footnote 13)."""
        return self.make_dataset(nd_split(self.dataset_name))

    def prepare_data(self) -> None:
        if self.download and self.dataset_name != "procedural":
            self.make_dataset("train")

    def setup(self, stage: str | None = None) -> None:
        if self._train is None:
            self._train = self.make_dataset("train")

    def resume_from(self, consumed_batches: int) -> None:
        """Continue the data stream after ``consumed_batches`` batches (per process)."""
        self._consumed_batches = consumed_batches
        if self._sampler is not None:
            self._sampler.start = consumed_batches * self.batch_size

    def train_dataloader(self) -> DataLoader:
        """An endless loader: one "epoch" is the whole run; length is set by ``max_g_steps``.

        Order comes from :class:`ResumableStreamSampler`, so a resumed run sees exactly the
        batches an uninterrupted one would, and each DDP process its own share.
        """
        self.setup()
        self._sampler = ResumableStreamSampler(
            len(self._train), self.seed, self._consumed_batches * self.batch_size
        )
        return DataLoader(
            self._train,
            batch_size=self.batch_size,
            sampler=self._sampler,
            drop_last=True,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            worker_init_fn=_loader_worker_init,
            # Page-locked batches: Lightning's copy to the GPU is then asynchronous.
            pin_memory=torch.cuda.is_available() if self.pin_memory is None else self.pin_memory,
        )


# Signals the training process handles itself (srngan.training.preemption: finish the G-step,
# checkpoint, exit 3). Schedulers such as SLURM signal every process of a job, loader workers
# included; a worker that died of it would turn a clean stop into a crash.
_MAIN_PROCESS_SIGNALS = ("SIGTERM", "SIGUSR1")


def _loader_worker_init(worker_id: int) -> None:
    for name in _MAIN_PROCESS_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    # What Lightning installs itself when a loader has no worker_init_fn (seed_everything's
    # workers=True); forked workers inherit the process rank it reads.
    if int(os.environ.get("PL_SEED_WORKERS", 0)):
        pl_worker_init_function(worker_id)
