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
    from srngan.metrics.stats_file import load_statistics

    if args.extractor != "inception":
        raise CommandError("--real-stats holds Inception statistics; use --extractor inception")
    return load_statistics(args.real_stats)


def _evaluate_checkpoint(args, metrics, device):
    from srngan.data.datamodule import GANDataModule
    from srngan.evaluation.runner import MetricRunner

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
    heldout = dm.nd_dataset() if "nd" in metrics else None
    split = args.reference_split
    runner = MetricRunner(_settings(args, metrics), dm.make_dataset(split), heldout,
                          model.num_conditional_classes, model.generator.z_dim, dm.resolution, device,
                          dm.reference_key(split))  # fmt: skip
    if args.real_stats:
        runner.evaluator_for(metrics).use_reference_statistics(_reference_statistics(args))
    results, arrays = runner.run(lambda z, y: model.generate(z, y, args.ema), model.discriminator)
    if args.real_stats:
        return results, arrays  # the reference is the file, not a split of the dataset
    return keys.with_split(results, split), arrays


def load_images(path: str | Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """uint8 NCHW images (and labels, if an .npz has them) from a folder of images or an .npz."""
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path} not found")
    if path.suffix == ".npz":
        with np.load(path) as npz:
            name = "images" if "images" in npz.files else npz.files[0]
            images = npz[name]
            labels = torch.from_numpy(npz["labels"]).long() if "labels" in npz.files else None
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise CommandError(
                f"{path}: expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}"
            )
        return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels
    from PIL import Image

    files = sorted(
        p for p in path.rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
    )
    if not files:
        raise CommandError(f"no images (.png, .jpg, ...) found in {path}")
    arrays = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    if len({a.shape for a in arrays}) != 1:
        raise CommandError(f"images in {path} have different sizes")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous(), None


def _evaluate_folders(args, metrics, device):
    from srngan.evaluation.evaluator import results_of
    from srngan.evaluation.runner import build_extractor, build_set_extractor
    from srngan.metrics import (
        DensityCoverage,
        FrechetInceptionDistance,
        InceptionScore,
        IntraFID,
        KernelInceptionDistance,
        PrecisionRecall,
    )

    unsupported = set(metrics) - {"is", "fid", "kid", "intra_fid", "prc", "dc"}
    if unsupported:
        raise CommandError(
            f"{', '.join(sorted(unsupported))} need a checkpoint (--ckpt); with --real/--fake use is, fid, kid, intra_fid, prc, dc"
        )
    fake, fake_labels = load_images(args.fake)
    if args.real_stats:
        reference = _reference_statistics(args)
        real, real_labels = fake[:0], None
    else:
        reference = None
        real, real_labels = load_images(args.real)
    classes = 0
    if "intra_fid" in metrics:
        if real_labels is None or fake_labels is None:
            raise CommandError("intra_fid needs labels in both .npz files ('labels' arrays)")
        classes = int(max(real_labels.max(), fake_labels.max())) + 1
    settings = _settings(args, metrics)
    extractor, dim, logit_dim, _ = build_extractor(
        settings, args.domain_classes, fake.shape[-1], device
    )
    shared = dict(feature_extractor=extractor)
    found = {}
    if "is" in metrics:
        found["is"] = InceptionScore(**shared, num_samples=fake.shape[0], num_logits=logit_dim)
    if "fid" in metrics:
        if reference is not None and reference.total.shape != (dim,):
            raise CommandError(
                f"{args.real_stats} has {reference.total.shape[0]}-d statistics, the extractor "
                f"gives {dim}-d features"
            )
        found["fid"] = FrechetInceptionDistance(**shared, feature_dim=dim, reference=reference)
    if "kid" in metrics:
        found["kid"] = KernelInceptionDistance(**shared, feature_dim=dim, subsets=args.kid_subsets,
                                               subset_size=args.kid_subset_size)  # fmt: skip
    if classes:
        found["intra_fid"] = IntraFID(classes, **shared, feature_dim=dim)
    set_extractor, set_dim = extractor, dim
    if {"prc", "dc"} & set(metrics):
        if args.extractor == "inception":
            set_extractor, set_dim, _ = build_set_extractor(settings, device)
        k = dict(feature_extractor=set_extractor, feature_dim=set_dim)
        if "prc" in metrics:
            found["prc"] = PrecisionRecall(**k, k=args.prc_neighbours)
        if "dc" in metrics:
            found["dc"] = DensityCoverage(**k, k=args.dc_neighbours)
    found = {k: m.to(device) for k, m in found.items()}
    # One feature pass per image set feeds every metric.
    for images, labels, is_real in ((fake, fake_labels, False), (real, real_labels, True)):
        for start in range(0, images.shape[0], args.batch_size):
            idx = torch.arange(start, min(start + args.batch_size, images.shape[0]))
            with torch.no_grad():
                features, logits = extractor(images[idx].to(device))
            if "is" in found and not is_real:
                found["is"].update(indices=idx, logits=logits)
            for name in ("fid", "kid"):
                if name in found:
                    found[name].update(None, real=is_real, features=features)
            if "intra_fid" in found:
                found["intra_fid"].update(None, labels[idx], real=is_real, features=features)
            if {"prc", "dc"} & set(found):
                if set_extractor is not extractor:
                    with torch.no_grad():
                        features, _ = set_extractor(images[idx].to(device))
                for name in ("prc", "dc"):
                    if name in found:
                        found[name].update(None, real=is_real, features=features)
    return results_of(found)


def _print_table(results: dict[str, float]) -> None:
    width = max((len(k) for k in results), default=6)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v:.6g}")
