"""``srngan sample``: a checkpoint's generator to PNG files, an .npz, or a grid image."""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid
from tqdm import tqdm

from srngan.commands.common import (
    CommandError,
    atomic_output,
    command_parser,
    load_checkpoint,
    pick_device,
)
from srngan.evaluation.sampling import generate_samples
from srngan.metrics.inception import quantize_images

DESCRIPTION = """Generate images from a checkpoint.

  srngan sample --ckpt last.ckpt --num-samples 50000 --out samples/              # PNG folder
  srngan sample --ckpt last.ckpt --num-samples 50000 --out samples.npz --format npz
  srngan sample --ckpt last.ckpt --num-samples 100 --out grid.png --format grid   # a row per class

Sample i uses a latent (and label) fixed by --seed and i alone, so outputs are identical for any
--batch-size or --device. PNGs are named NNNNN.png, or NNNNN_classK.png for conditional models;
the .npz holds 'images' (uint8, N x H x W x 3) and, when conditional, 'labels' (int64).
"""


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("sample", DESCRIPTION)
    p.add_argument(
        "--ckpt",
        required=True,
        help="checkpoint written by `srngan fit`; `best`: the newest checkpoints/best.ckpt under "
        "runs/, `RUN_DIR/best`: that run's",
    )
    p.add_argument("--num-samples", type=int, required=True)
    p.add_argument("--out", required=True, help="folder (png), file .npz (npz) or file .png (grid)")
    p.add_argument("--format", choices=("png", "npz", "grid"), default="png")
    p.add_argument(
        "--class",
        dest="class_",
        metavar="K|all",
        default=None,
        help="conditional models: K for class K only, 'all' for balanced classes (i mod C); default: uniform random",
    )
    p.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="use the EMA generator when present",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    return p


def _class_selection(value: str | None, num_classes: int, fmt: str) -> int | str | None:
    if fmt == "grid" and num_classes:
        if value not in (None, "all"):
            raise CommandError(
                "--format grid shows one row per class; leave out --class or pass --class all"
            )
        return "balanced"
    if value is None:
        return None
    if not num_classes:
        raise CommandError("--class needs a conditional model; this checkpoint is unconditional")
    if value == "all":
        return "balanced"
    try:
        k = int(value)
    except ValueError:
        raise CommandError(
            f"--class must be an integer class index or 'all', got {value!r}"
        ) from None
    if not 0 <= k < num_classes:
        raise CommandError(
            f"class index {k} out of range; the model has classes 0..{num_classes - 1}"
        )
    return k


def main(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    if args.num_samples < 1:
        raise CommandError(f"--num-samples must be >= 1, got {args.num_samples}")
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be >= 1, got {args.batch_size}")
    device = pick_device(args.device)
    model, _ = load_checkpoint(args.ckpt)
    model.to(device)
    num_classes = model.num_conditional_classes
    selection = _class_selection(args.class_, num_classes, args.format)
    n = args.num_samples
    columns = math.ceil(n / num_classes) if args.format == "grid" and num_classes else None
    if columns:
        n = columns * num_classes  # a full grid: the same number of samples in every class row
    batches = generate_samples(
        lambda z, y: model.generate(z, y, args.ema), n, model.z_dim, num_classes,
        args.seed, args.batch_size, device, class_index=selection,
    )  # fmt: skip
    width = len(str(n - 1))
    # The output is created (aside) first: an unwritable path fails before any sampling.
    with atomic_output(args.out, is_dir=args.format == "png") as tmp:
        bar = tqdm(total=n, desc="sampling", unit="img")
        if args.format == "png":
            for batch in batches:
                for i, img, y in zip(
                    batch.indices.tolist(), quantize_images(batch.images).cpu(), _labels(batch)
                ):
                    name = f"{i:0{width}d}.png" if y is None else f"{i:0{width}d}_class{y}.png"
                    Image.fromarray(img.permute(1, 2, 0).numpy()).save(tmp / name)
                bar.update(batch.indices.shape[0])
        else:
            images, labels = [], []
            for batch in batches:
                images.append(quantize_images(batch.images).cpu())
                if batch.labels is not None:
                    labels.append(batch.labels)
                bar.update(batch.indices.shape[0])
            _write_array_output(
                args.format, tmp, torch.cat(images), labels, columns, num_classes, n
            )
        bar.close()
    print(f"wrote {n} samples to {args.out}")


def _write_array_output(fmt, path, images, labels, columns, num_classes, n) -> None:
    if fmt == "npz":
        arrays = {"images": images.permute(0, 2, 3, 1).numpy()}
        if labels:
            arrays["labels"] = torch.cat(labels).numpy()
        with open(path, "wb") as f:
            np.savez(f, **arrays)
        return
    if columns:
        # Balanced labels run 0..C-1 repeatedly; reorder so each row is one class.
        images = (
            images.view(columns, num_classes, *images.shape[1:])
            .transpose(0, 1)
            .reshape(images.shape)
        )
    grid = make_grid(images, nrow=columns or math.ceil(math.sqrt(n)), padding=1)
    Image.fromarray(grid.permute(1, 2, 0).numpy()).save(path, format="PNG")


def _labels(batch):
    return [None] * batch.indices.shape[0] if batch.labels is None else batch.labels.tolist()
