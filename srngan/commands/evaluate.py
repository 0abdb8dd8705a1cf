"""``srngan evaluate``: metrics of a checkpoint, or of two image sets (folder or .npz)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from srngan.commands.common import (
    CommandError,
    atomic_output,
    command_parser,
    load_checkpoint,
    pick_device,
)
from srngan.evaluation.settings import EXTRACTORS, EvalSettings, default, help_text
from srngan.metrics import keys

# Integer options: flag -> EvalSettings field (default and help text come from there).
_COUNT_FLAGS = {
    "--num-samples": "num_samples",
    "--num-is-samples": "num_is_samples",
    "--num-real": "num_real",
    "--intra-fid-samples-per-class": "intra_fid_samples_per_class",
    "--kid-subset-size": "kid_subset_size",
    "--kid-subsets": "kid_subsets",
    "--nd-iterations": "nd_iterations",
    "--nd-samples": "nd_eval_samples",
    "--elhist-pairs": "elhist_pairs",
    "--batch-size": "batch_size",
    "--prc-neighbours": "prc_neighbours",
    "--dc-neighbours": "dc_neighbours",
}

DESCRIPTION = """Compute IS / FID / KID / Intra-FID / precision-recall (prc) / density-coverage (dc)
/ Neural Divergence / eLhist.

  srngan evaluate --ckpt runs/x/version_0/checkpoints/last.ckpt --metrics is,fid
  srngan evaluate --ckpt best --metrics fid,prc --reference-split test    # keys end in _test
  srngan evaluate --real data/real.npz --fake samples/ --metrics fid,kid --kid-subset-size 500
  srngan evaluate --fake samples.npz --real-stats cifar10_train.npz       # FID against mu / sigma
"""


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("evaluate", DESCRIPTION)
    src = p.add_argument_group("what to evaluate (--ckpt, or --real and --fake)")
    src.add_argument(
        "--ckpt",
        help="checkpoint written by `srngan fit` (`best`: the newest checkpoints/best.ckpt under "
        "runs/, `RUN_DIR/best`: that run's)",
    )
    src.add_argument(
        "--real", help="folder of images or .npz (uint8 NHWC under 'images', optional 'labels')"
    )
    src.add_argument("--fake", help="folder of images or .npz, as --real")
    src.add_argument(
        "--real-stats",
        metavar="FILE.npz",
        help="reference statistics (mu, sigma: srngan stats, pytorch-fid, clean-fid) as FID's real "
        "side, with --ckpt or --fake; only fid (and is) then",
    )
    p.add_argument(
        "--reference-split",
        choices=keys.REFERENCE_SPLITS,
        default="train",
        help="--ckpt: the real images FID / KID / Intra-FID / prc / dc compare against: train "
        "(the paper's protocol) or test (result keys end in _test); default: train",
    )
    p.add_argument("--metrics", default=",".join(default("metrics")), help=help_text("metrics"))
    for flag, name in _COUNT_FLAGS.items():
        p.add_argument(flag, dest=name, type=int, default=default(name), help=help_text(name))
    p.add_argument("--extractor", choices=EXTRACTORS, default=default("extractor"),
                   help=help_text("extractor"))  # fmt: skip
    p.add_argument("--inception-weights", help=help_text("inception_weights"))
    p.add_argument("--vgg16-weights", help=help_text("vgg16_weights"))
    p.add_argument(
        "--domain-classes",
        type=int,
        default=10,
        help="procedural classes the domain extractor knows (--real/--fake)",
    )
    p.add_argument(
        "--download", action="store_true", help="allow downloading Inception weights and datasets"
    )
    p.add_argument("--data-root", help="override the dataset folder stored in the checkpoint")
    p.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="use the EMA generator when present",
    )
    p.add_argument(
        "--elhist-png", help="write the eLhist plot here (default: beside --json, or elhist.png)"
    )
    p.add_argument(
        "--elhist-overlay",
        nargs="+",
        metavar="NPZ",
        help="only plot: overlay the eLhist .npz files of earlier evaluations into --elhist-png",
    )
    p.add_argument("--seed", type=int, default=default("seed"), help=help_text("seed"))
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--json", help="also write the results as JSON here")
    return p


def _parse_metrics(text: str) -> tuple[str, ...]:
    chosen = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in chosen if m not in keys.METRICS]
    if unknown or not chosen:
        raise CommandError(
            f"unknown metric(s) {', '.join(unknown) or '(none)'}; allowed: {', '.join(keys.METRICS)}"
        )
    return chosen


def _overlay(args) -> None:
    from srngan.metrics.elhist import plot_elhist

    runs = {}
    for name in args.elhist_overlay:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{path} not found")
        with np.load(path) as npz:
            runs[path.stem.removesuffix(".elhist")] = {
                k: torch.from_numpy(npz[k]) for k in npz.files
            }
    png = plot_elhist(runs, args.elhist_png or "elhist_overlay.png")
    print(f"eLhist overlay of {len(runs)} runs: {png}")


def main(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    if args.elhist_overlay:
        return _overlay(args)
    metrics = _parse_metrics(args.metrics)
    for flag in ("--num-samples", "--num-is-samples", "--num-real", "--intra-fid-samples-per-class",
                 "--kid-subset-size", "--kid-subsets", "--batch-size", "--elhist-pairs",
                 "--prc-neighbours", "--dc-neighbours"):  # fmt: skip
        value = getattr(args, _COUNT_FLAGS[flag])
        if value < 1:
            raise CommandError(f"{flag} must be >= 1, got {value}")
    with_stats = bool(args.real_stats)
    if bool(args.ckpt) == bool(args.real or args.fake) or (
        not args.ckpt and not ((args.real or with_stats) and args.fake)
    ):
        raise CommandError(
            "pass either --ckpt CKPT, or --fake PATH with --real PATH or --real-stats FILE.npz"
        )
    if with_stats and args.real:
        raise CommandError("pass --real PATH or --real-stats FILE.npz, not both")
    if with_stats and set(metrics) - {"is", "fid"}:
        raise CommandError(
            f"--real-stats holds a mean and a covariance only: it gives fid (and is needs no "
            f"reference), not {', '.join(m for m in metrics if m not in ('is', 'fid'))}"
        )
    device = pick_device(args.device)
    if args.ckpt:
        results, arrays = _evaluate_checkpoint(args, metrics, device)
    else:
        results, arrays = _evaluate_folders(args, metrics, device), {}
    _print_table(results)
    if arrays:
        from srngan.metrics.elhist import plot_elhist, save_elhist

        png = Path(
            args.elhist_png
            or (Path(args.json).with_suffix(".elhist.png") if args.json else "elhist.png")
        )
        plot_elhist({Path(args.ckpt).stem: arrays}, png)
        # The raw values too, so several runs can be overlaid later (--elhist-overlay).
        save_elhist(arrays, png.with_suffix(".npz"))
        print(f"eLhist plot: {png} (values: {png.with_suffix('.npz')})")
    if args.json:
        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")


def _settings(args, metrics) -> EvalSettings:
    counts = {name: getattr(args, name) for name in _COUNT_FLAGS.values()}
    return EvalSettings(
        metrics=metrics, seed=args.seed, extractor=args.extractor,
        inception_weights=args.inception_weights, vgg16_weights=args.vgg16_weights,
        download_weights=args.download, **counts,
    )  # fmt: skip


def _reference_statistics(args):
    from srngan.evaluation.reference import Reference
    from srngan.metrics.stats_file import load_statistics

    if args.extractor != "inception":
        raise CommandError("--real-stats holds Inception statistics; use --extractor inception")
    return Reference.from_statistics(load_statistics(args.real_stats))


def _evaluate_checkpoint(args, metrics, device):
    from srngan.data.datamodule import GANDataModule
    from srngan.evaluation import DatasetImages, Evaluator, GeneratorImages

    model, raw = load_checkpoint(args.ckpt)
    model.to(device)
    data_cfg = dict(raw.get("srngan_data") or {})
    if not data_cfg:
        raise CommandError(
            f"checkpoint {args.ckpt} does not record its dataset; evaluate with --real/--fake instead"
        )
    if args.data_root:
        data_cfg["root"] = args.data_root
    data_cfg["download"] = args.download or data_cfg.get("download", False)
    dm = GANDataModule(**data_cfg)
    split = args.reference_split
    fake = GeneratorImages(lambda z, y: model.generate(z, y, args.ema), model.generator.z_dim,
                           model.num_conditional_classes, device)  # fmt: skip
    if args.real_stats:  # the reference is the file, not a split of the dataset: no suffix
        evaluator = Evaluator(_settings(args, metrics), device)
        return evaluator.evaluate(fake, _reference_statistics(args))
    data = dm.make_dataset(split)
    # The domain classifier knows the data's classes, whether or not G uses them.
    domain_classes = model.num_conditional_classes or getattr(data, "num_classes", 0)
    evaluator = Evaluator(_settings(args, metrics), device, domain_classes=domain_classes,
                          resolution=dm.resolution)  # fmt: skip
    real = {split: DatasetImages(data, dm.reference_key(split))}
    heldout = dm.nd_dataset() if "nd" in metrics else None
    return evaluator.evaluate(fake, real, heldout=heldout, discriminator=model.discriminator)


def _evaluate_folders(args, metrics, device):
    from srngan.evaluation import Evaluator, ImageSet

    unsupported = set(metrics) - {"is", "fid", "kid", "intra_fid", "prc", "dc"}
    if unsupported:
        raise CommandError(
            f"{', '.join(sorted(unsupported))} need a checkpoint (--ckpt); with --real/--fake use is, fid, kid, intra_fid, prc, dc"
        )
    fake = ImageSet.from_path(args.fake)
    real = _reference_statistics(args) if args.real_stats else ImageSet.from_path(args.real)
    if "intra_fid" in metrics:
        if getattr(real, "labels", None) is None or fake.labels is None:
            raise CommandError("intra_fid needs labels in both .npz files ('labels' arrays)")
        classes = max(real.num_classes, fake.num_classes)
        real.num_classes = fake.num_classes = classes
    evaluator = Evaluator(_settings(args, metrics), device, domain_classes=args.domain_classes,
                          resolution=fake.images.shape[-1])  # fmt: skip
    results, _ = evaluator.evaluate(fake, real)
    return results


def _print_table(results: dict[str, float]) -> None:
    width = max((len(k) for k in results), default=6)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v:.6g}")
