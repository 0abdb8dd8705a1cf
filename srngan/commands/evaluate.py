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
from srngan.metrics import keys

DESCRIPTION = """Compute IS / FID / KID / Intra-FID / Neural Divergence / eLhist.

  srngan evaluate --ckpt runs/x/version_0/checkpoints/last.ckpt --metrics is,fid
  srngan evaluate --real data/real.npz --fake samples/ --metrics fid,kid --kid-subset-size 500
"""


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("evaluate", DESCRIPTION)
    src = p.add_argument_group("what to evaluate (--ckpt, or --real and --fake)")
    src.add_argument("--ckpt", help="checkpoint written by `srngan fit`")
    src.add_argument(
        "--real", help="folder of images or .npz (uint8 NHWC under 'images', optional 'labels')"
    )
    src.add_argument("--fake", help="folder of images or .npz, as --real")
    p.add_argument(
        "--metrics",
        default="is,fid",
        help=f"comma-separated, from: {','.join(keys.METRICS)} (default: is,fid)",
    )
    p.add_argument(
        "--num-samples",
        type=int,
        default=5000,
        help="generated images for FID/KID/Intra-FID (paper: 5000)",
    )
    p.add_argument(
        "--num-is-samples", type=int, default=50000, help="generated images for IS (paper: 50000)"
    )
    p.add_argument(
        "--num-real",
        type=int,
        default=10000,
        help="real reference images (paper: 10000 training images)",
    )
    p.add_argument(
        "--intra-fid-samples-per-class",
        type=int,
        default=5000,
        help="Intra-FID: images generated conditioned on each class, compared with all training "
        "images of that class (Miyato & Koyama 2018: 5000)",
    )
    p.add_argument("--kid-subset-size", type=int, default=1000)
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument(
        "--extractor",
        choices=("inception", "domain"),
        default="inception",
        help="inception (torch-fidelity's Inception-v3) or domain (procedural-data classifier)",
    )
    p.add_argument("--inception-weights", help="path of weights-inception-2015-12-05-6726825d.pth")
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
        "--nd-iterations",
        type=int,
        default=100_000,
        help="Neural Divergence critic steps (paper: 100000)",
    )
    p.add_argument(
        "--nd-samples",
        type=int,
        default=1_000_000,
        help="Neural Divergence scored samples (paper: 1M)",
    )
    p.add_argument("--elhist-pairs", type=int, default=2000)
    p.add_argument(
        "--elhist-png", help="write the eLhist plot here (default: beside --json, or elhist.png)"
    )
    p.add_argument(
        "--elhist-overlay",
        nargs="+",
        metavar="NPZ",
        help="only plot: overlay the eLhist .npz files of earlier evaluations into --elhist-png",
    )
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
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
    for flag in (
        "num_samples",
        "num_is_samples",
        "num_real",
        "intra_fid_samples_per_class",
        "kid_subset_size",
        "kid_subsets",
        "batch_size",
        "elhist_pairs",
    ):
        if getattr(args, flag) < 1:
            raise CommandError(
                f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}"
            )
    if bool(args.ckpt) == bool(args.real or args.fake) or (
        not args.ckpt and not (args.real and args.fake)
    ):
        raise CommandError("pass either --ckpt CKPT, or both --real PATH and --fake PATH")
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


def _settings(args, metrics):
    from srngan.evaluation.runner import RunSettings

    return RunSettings(
        metrics=metrics, num_samples=args.num_samples, num_is_samples=args.num_is_samples,
        num_real=args.num_real, kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size,
        intra_fid_samples_per_class=args.intra_fid_samples_per_class,
        batch_size=args.batch_size, seed=args.seed, extractor=args.extractor,
        inception_weights=args.inception_weights, download_weights=args.download,
        nd_iterations=args.nd_iterations, nd_eval_samples=args.nd_samples, elhist_pairs=args.elhist_pairs,
    )  # fmt: skip


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
    settings = _settings(args, metrics)
    settings.dataset_key = dm.reference_key("train")
    heldout = dm.nd_dataset() if "nd" in metrics else None
    runner = MetricRunner(settings, dm.make_dataset("train"), heldout, model.num_conditional_classes,
                          model.hparams.z_dim, model.hparams.resolution, device)  # fmt: skip
    return runner.run(lambda z, y: model.generate(z, y, args.ema), model.discriminator)


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
    from srngan.evaluation.evaluator import summaries_to_metrics
    from srngan.evaluation.features import summarize
    from srngan.evaluation.runner import build_extractor

    unsupported = set(metrics) - {"is", "fid", "kid", "intra_fid"}
    if unsupported:
        raise CommandError(
            f"{', '.join(sorted(unsupported))} need a checkpoint (--ckpt); with --real/--fake use is, fid, kid, intra_fid"
        )
    real, real_labels = load_images(args.real)
    fake, fake_labels = load_images(args.fake)
    classes = 0
    if "intra_fid" in metrics:
        if real_labels is None or fake_labels is None:
            raise CommandError("intra_fid needs labels in both .npz files ('labels' arrays)")
        classes = int(max(real_labels.max(), fake_labels.max())) + 1
    settings = _settings(args, metrics)
    extractor, dim, logit_dim, _ = build_extractor(
        settings, args.domain_classes, fake.shape[-1], device
    )

    def batches(images, labels):
        for s in range(0, images.shape[0], args.batch_size):
            idx = torch.arange(s, min(s + args.batch_size, images.shape[0]))
            yield idx, images[idx], None if labels is None else labels[idx]

    n_real, n_fake = real.shape[0], fake.shape[0]
    keep = "kid" in metrics
    gen = summarize(batches(fake, fake_labels), extractor, dim, n_fake, n_fake if "is" in metrics else 0,
                    n_fake if keep else 0, logit_dim, classes, device)  # fmt: skip

    def reference():
        return summarize(batches(real, real_labels), extractor, dim, n_real, 0, n_real if keep else 0,
                         logit_dim, classes, device).with_factors()  # fmt: skip

    return summaries_to_metrics(
        set(metrics), gen, reference, args.kid_subsets, args.kid_subset_size
    )


def _print_table(results: dict[str, float]) -> None:
    width = max((len(k) for k in results), default=6)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v:.6g}")
