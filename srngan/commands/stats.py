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
    """``(dataset, description)`` of --dataset."""
    from srngan.data.datamodule import GANDataModule

    try:
        dm = GANDataModule(dataset=args.dataset, root=args.data_root, download=args.download,
                           resolution=args.resolution)  # fmt: skip
        data = dm.make_dataset(args.split)
    except (OSError, RuntimeError) as err:
        raise CommandError(
            f"cannot load {args.dataset} ({args.split}) from {args.data_root}: {err}"
        ) from err
    return data, f"{args.dataset} {args.split} split at {dm.resolution} px"


def main(argv: list[str]) -> None:
    from srngan.evaluation.features import dataset_batches
    from srngan.evaluation.runner import build_extractor
    from srngan.metrics.statistics import FeatureStatistics
    from srngan.metrics.stats_file import save_statistics

    args = build_parser().parse_args(argv)
    if bool(args.dataset) == bool(args.images):
        raise CommandError("pass either --dataset NAME (with --split) or --images PATH")
    if not str(args.out).endswith(".npz"):
        raise CommandError(f"--out must end in .npz, got {args.out}")
    for flag, value in (("--batch-size", args.batch_size), ("--num-images", args.num_images)):
        if value is not None and value < 1:
            raise CommandError(f"{flag} must be >= 1, got {value}")
    device = pick_device(args.device)
    settings = EvalSettings(
        inception_weights=args.inception_weights, download_weights=args.download
    )
    extractor, dim, _, _ = build_extractor(settings, 0, 0, device)
    stats = FeatureStatistics.empty(dim)
    if args.dataset:
        data, what = _dataset_images(args)
        num = args.num_images or len(data)
        batches = (
            images for _, images, _ in dataset_batches(data, num, args.batch_size, args.seed)
        )
    else:
        from srngan.commands.evaluate import load_images

        images, _ = load_images(args.images)
        num = args.num_images or images.shape[0]
        if num > images.shape[0]:
            raise CommandError(
                f"--num-images {num} but {args.images} holds {images.shape[0]} images"
            )
        if num < images.shape[0]:
            g = torch.Generator().manual_seed(args.seed)
            images = images[torch.randperm(images.shape[0], generator=g)[:num]]
        what = f"{args.images}"
        batches = images.split(args.batch_size)
    with torch.no_grad():
        for batch in batches:
            stats.update(extractor(batch.to(device))[0])
    if stats.count < 2:
        raise CommandError(f"statistics need at least 2 images, got {int(stats.count)}")
    protocol = (f"srngan stats: {int(stats.count)} images of {what}; torch-fidelity "
                "inception-v3-compat pool features (2048), TF1-compatible bilinear resize to 299")  # fmt: skip
    with atomic_output(args.out) as tmp, open(tmp, "wb") as f:
        save_statistics(f, stats, protocol)
    print(f"wrote {args.out}: mu, sigma of {int(stats.count)} images ({what})")
