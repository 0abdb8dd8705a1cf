"""``srngan stats``: Inception reference statistics (``mu``, ``sigma``) of a dataset split or an
image folder, as the ``.npz`` that pytorch-fid and clean-fid read."""

from __future__ import annotations

import argparse
import typing

import torch

from srngan.commands.common import CommandError, atomic_output, command_parser, pick_device
from srngan.evaluation.settings import EvalSettings, help_text
from srngan.metrics.keys import REFERENCE_SPLITS

DESCRIPTION = """Write the Inception-v3 (torch-fidelity's, 2048-d pool) mean and covariance of
a set of real images to an .npz with the keys mu and sigma (pytorch-fid / clean-fid format; also
count and protocol). FID against it: srngan evaluate --real-stats FILE.npz.

  srngan stats --dataset cifar10 --split train --data-root data --out cifar10_train_srngan.npz
  srngan stats --images my_folder/ --out my_folder.npz          # a folder of images or an .npz

Images are resized to 299 x 299 inside the network by torch-fidelity's TF1-compatible bilinear
interpolation; statistics of other tools differ in that step (docs/evaluation.md).
"""


def build_parser() -> argparse.ArgumentParser:
    from srngan.data.datamodule import DatasetName

    p = command_parser("stats", DESCRIPTION)
    src = p.add_argument_group("which images (--dataset or --images)")
    src.add_argument(
        "--dataset", choices=typing.get_args(DatasetName), help="a dataset of srngan fit"
    )
    src.add_argument("--split", choices=REFERENCE_SPLITS, default="train",
                     help="the dataset's split (default: train)")  # fmt: skip
    src.add_argument("--data-root", default="data", help="the dataset's folder (default: data)")
    src.add_argument("--resolution", type=int, help="image side (default: the dataset's own)")
    src.add_argument(
        "--download", action="store_true", help="allow downloading the dataset / weights"
    )
    src.add_argument("--images", help="a folder of images or an .npz (uint8 NHWC under 'images')")
    p.add_argument("--num-images", type=int,
                   help="use this many images (a fixed random subset by --seed; default: all)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the --num-images subset")
    p.add_argument("--out", required=True, help="the .npz to write")
    p.add_argument("--inception-weights", help=help_text("inception_weights"))
    p.add_argument("--batch-size", type=int, default=100, help="images per Inception batch")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    return p


def _dataset_images(args):
    """``(source, description)`` of --dataset."""
    from srngan.data.datamodule import GANDataModule
    from srngan.evaluation import DatasetImages

    try:
        dm = GANDataModule(dataset=args.dataset, root=args.data_root, download=args.download,
                           resolution=args.resolution)  # fmt: skip
        data = dm.make_dataset(args.split)
    except (OSError, RuntimeError) as err:
        raise CommandError(
            f"cannot load {args.dataset} ({args.split}) from {args.data_root}: {err}"
        ) from err
    return DatasetImages(data), f"{args.dataset} {args.split} split at {dm.resolution} px"


def _image_set(args):
    """``(source, description)`` of --images (a fixed random subset of --num-images)."""
    from srngan.evaluation import ImageSet

    images = ImageSet.from_path(args.images)
    num = args.num_images or images.size
    if num > images.size:
        raise CommandError(f"--num-images {num} but {args.images} holds {images.size} images")
    if num < images.size:
        g = torch.Generator().manual_seed(args.seed)
        images = ImageSet(images.images[torch.randperm(images.size, generator=g)[:num]])
    return images, f"{args.images}"


def main(argv: list[str]) -> None:
    from srngan.evaluation import DatasetImages, Evaluator
    from srngan.metrics.stats_file import save_statistics

    args = build_parser().parse_args(argv)
    if bool(args.dataset) == bool(args.images):
        raise CommandError("pass either --dataset NAME (with --split) or --images PATH")
    if not str(args.out).endswith(".npz"):
        raise CommandError(f"--out must end in .npz, got {args.out}")
    for flag, value in (("--batch-size", args.batch_size), ("--num-images", args.num_images)):
        if value is not None and value < 1:
            raise CommandError(f"{flag} must be >= 1, got {value}")
    source, what = _dataset_images(args) if args.dataset else _image_set(args)
    # A dataset: a fixed random subset of --num-images (all by default), by --seed.
    num = (args.num_images or source.size) if isinstance(source, DatasetImages) else source.size
    if num > source.size:
        raise CommandError(f"--num-images {num} but the {args.split} split holds {source.size}")
    if num < 2:
        raise CommandError(f"statistics need at least 2 images, got {num}")
    settings = EvalSettings(
        metrics=("fid",), num_real=num, batch_size=args.batch_size, seed=args.seed,
        inception_weights=args.inception_weights, download_weights=args.download,
    )  # fmt: skip
    # The same real-side pass as FID's in srngan evaluate (no cache: the file is the result).
    stats = Evaluator(settings, pick_device(args.device)).reference(source).stats
    protocol = (f"srngan stats: {int(stats.count)} images of {what}; torch-fidelity "
                "inception-v3-compat pool features (2048), TF1-compatible bilinear resize to 299")  # fmt: skip
    with atomic_output(args.out) as tmp, open(tmp, "wb") as f:
        save_statistics(f, stats, protocol)
    print(f"wrote {args.out}: mu, sigma of {int(stats.count)} images ({what})")
