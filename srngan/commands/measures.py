"""``srngan measures``: Spec-Fro / Spec-L1 / Jac-Norm histograms and 90th percentiles of a
classifier checkpoint (paper, Fig. 4 and Table 5)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from srngan.commands.common import atomic_output, command_parser, pick_device
from srngan.errors import CommandError
from srngan.training.checkpoint_io import read_checkpoint

DESCRIPTION = """Sample-complexity measures of a classifier checkpoint from `srngan fit`.

  srngan measures --ckpt last.ckpt --out measures/                  # 10,000 train images
  srngan measures --ckpt last.ckpt --out measures/ --split test --noise-draws 10

Writes to the --out folder: spec_fro.png, spec_l1.png, jac_norm.png (histograms of the natural
log of each per-sample measure; noise_sensitivity.png with --noise-draws), summary.json (90th
percentiles of the logs, as in the paper's Table 5, with sample counts) and measures.npz (every
per-sample value and margin). Only correctly classified samples (margin > 0) enter histograms
and percentiles; summary.json counts the others. The images are a --seed-fixed random subset of
the split the checkpoint's data module defines (its random labels included), without
augmentation. Formulas: srngan.classification.measures.
"""


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("measures", DESCRIPTION)
    p.add_argument("--ckpt", required=True, help="classifier checkpoint written by `srngan fit`")
    p.add_argument("--out", required=True, help="output folder (replaced atomically)")
    p.add_argument("--split", choices=("train", "test"), default="train")
    p.add_argument("--num-samples", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--batchnorm", choices=("ignore", "include"), default="ignore",
                   help="BatchNorm as part of the nonlinearity (ignore) or as a diagonal layer")  # fmt: skip
    p.add_argument("--noise-draws", type=int, default=0,
                   help="noise-sensitivity draws per image (0: skip)")  # fmt: skip
    p.add_argument("--relative-noise", type=float, default=0.1)
    p.add_argument("--data-root", default=None, help="override the data module's root folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    return p


def load_classifier(path: str | Path):
    """``(ClassifierModule in eval mode on CPU, raw checkpoint)``; one-line errors."""
    from srngan.classification.module import ClassifierModule

    path = Path(path)
    raw = read_checkpoint(path)
    hparams = raw.get("hyper_parameters", {})
    if "network" not in hparams:
        raise CommandError(f"{path} is not a classifier checkpoint (no ClassifierModule network)")
    try:
        model = ClassifierModule.load_from_checkpoint(path, map_location="cpu")  # 0.2's too
    except (TypeError, RuntimeError, ValueError, KeyError) as err:
        raise CommandError(f"checkpoint {path} does not match this srngan version: {err}") from err
    return model.eval(), raw


def _dataset(raw: dict, split: str, root: str | None):
    from srngan.classification.datamodule import ClassificationDataModule

    hp = {
        k: v for k, v in raw.get("datamodule_hyper_parameters", {}).items() if not k.startswith("_")
    }
    if not hp:
        raise CommandError(
            "the checkpoint stores no ClassificationDataModule settings (not from `srngan fit`?)"
        )
    if root is not None:
        hp["root"] = root
    try:
        return ClassificationDataModule(**hp).dataset(split, augment=False)
    except TypeError as err:
        raise CommandError(
            f"the checkpoint's data settings do not match this srngan version: {err}"
        ) from err


def main(argv: list[str]) -> None:
    from srngan.classification.measures import complexity_measures
    from srngan.classification.noise import noise_sensitivity
    from srngan.classification.report import summarize_measures, write_histograms

    args = build_parser().parse_args(argv)
    if args.num_samples < 1 or args.batch_size < 1:
        raise CommandError(
            f"--num-samples and --batch-size must be >= 1, got {args.num_samples}, {args.batch_size}"
        )
    if args.noise_draws < 0 or not args.relative_noise > 0:
        raise CommandError("--noise-draws must be >= 0 and --relative-noise > 0")
    device = pick_device(args.device)
    model, raw = load_classifier(args.ckpt)
    model.to(device)
    dataset = _dataset(raw, args.split, args.data_root)  # DatasetNotFoundError is one line
    n = min(args.num_samples, len(dataset))
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(args.seed))[:n]
    noise_gen = torch.Generator(device=device).manual_seed(args.seed)
    parts: dict[str, list] = {}
    with atomic_output(args.out, is_dir=True) as tmp:
        for start in range(0, n, args.batch_size):
            items = [dataset[int(i)] for i in order[start : start + args.batch_size]]
            images = torch.stack([x for x, _ in items]).to(device)
            labels = torch.tensor([y for _, y in items], device=device)
            batch = complexity_measures(model.network, images, labels, batchnorm=args.batchnorm)
            if args.noise_draws:
                phi = noise_sensitivity(
                    model.network, images, args.noise_draws, args.relative_noise, noise_gen
                )
                batch["noise_sensitivity"] = phi
                batch["log_noise_sensitivity"] = phi.log()
            for key, value in batch.items():
                parts.setdefault(key, []).append(value.numpy())
        arrays = {key: np.concatenate(v) for key, v in parts.items()}
        arrays["index"] = order.numpy()
        names = [k for k in ("spec_fro", "spec_l1", "jac_norm", "noise_sensitivity") if k in arrays]
        logs = {k: arrays[f"log_{k}"] for k in names}
        summary = {
            "checkpoint": str(args.ckpt),
            "split": args.split,
            "num_samples": n,
            "batchnorm": args.batchnorm,
            "log": "natural",
            "correctly_classified_fraction": float((arrays["margin"] > 0).mean()),
            "measures": summarize_measures(logs),
        }
        np.savez(tmp / "measures.npz", **arrays)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
        write_histograms(logs, tmp, title=Path(args.ckpt).stem)
    for name, s in summary["measures"].items():
        print(
            f"{name}: 90th percentile of log = {s['p90']:.3f} ({s['n_used']} samples, {s['n_excluded']} excluded)"
        )
    print(f"wrote histograms and summary.json to {args.out}")
