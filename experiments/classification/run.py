"""Small-scale CPU evidence for the paper's classification claims (docs/results_classification.md).

On the procedural shapes (10 classes, 32x32), a SmallCNN (3 conv + 1 linear, no BatchNorm) is
trained with Vanilla / SN / SRN-50 / SRN-30 for several seeds:

  clean:   2000 train images (augmented), 400 test images, SGD lr 0.05, momentum 0.9, wd 5e-4,
           --epochs epochs (lr x0.1 at 60 % and 80 %); test accuracy, first epoch with train
           accuracy >= 99 % and the test accuracy there, and the 90th percentiles of the log
           Spec-Fro / Spec-L1 / Jac-Norm over 1000 correctly classified train images, plus the
           median noise sensitivity.
  shatter: 1000 train images with fixed random labels, no augmentation, SGD lr 0.01 (the paper's
           low-lr shattering setting), wd 5e-4, --shatter-epochs epochs; train accuracy at the
           end (whole train set, eval mode).

Rerun everything (about 20 minutes on one core):

    OMP_NUM_THREADS=1 python experiments/classification/run.py

Each finished run is a JSON file in --out, so an interrupted run resumes; --summary only prints
the tables from the existing files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightning as L
import numpy as np
import torch

from srngan.classification import ClassificationDataModule, ClassifierModule, TrainAccuracyStop
from srngan.classification.measures import complexity_measures
from srngan.classification.networks import SmallCNN
from srngan.classification.noise import noise_sensitivity

METHODS = {
    "vanilla": ("none", 1.0),
    "sn": ("sn", 1.0),
    "srn50": ("srn", 0.5),
    "srn30": ("srn", 0.3),
}
CLEAN_IMAGES = 1000
HERE = Path(__file__).resolve().parent


def train(method: str, seed: int, epochs: int, lr: float, data: ClassificationDataModule, stop):
    kind, ratio = METHODS[method]
    L.seed_everything(seed, verbose=False)
    milestones = [max(1, int(0.6 * epochs)), max(1, int(0.8 * epochs))]
    module = ClassifierModule(
        SmallCNN(num_classes=20, width=16), normalization=kind, rank_ratio=ratio, lr=lr,
        momentum=0.9, weight_decay=5e-4, lr_milestones=milestones, spectra_every_n_epochs=0,
    )  # fmt: skip
    trainer = L.Trainer(
        max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        callbacks=[stop] if stop else [], deterministic=True,
    )  # fmt: skip
    trainer.fit(module, datamodule=data)
    return module.eval()


@torch.no_grad()
def accuracy(model, dataset) -> float:
    images, labels = _stack(dataset, len(dataset))
    return float((model(images).argmax(1) == labels).float().mean())


def _stack(dataset, n: int):
    items = [dataset[i] for i in range(n)]
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])


def run_clean(method: str, seed: int, epochs: int) -> dict:
    data = ClassificationDataModule(
        "procedural", batch_size=64, num_workers=0, augment=True, procedural_images=CLEAN_IMAGES,
        procedural_classes=20, procedural_seed=100 + seed, procedural_test_images=2000,
    )  # fmt: skip
    stop = TrainAccuracyStop(threshold=0.99, stop=False)
    model = train(method, seed, epochs, 0.05, data, stop)
    train_plain = data.dataset("train", augment=False)
    images, labels = _stack(train_plain, 1000)
    measures = complexity_measures(model, images, labels)
    ok = measures["margin"] > 0
    phi = noise_sensitivity(
        model, images, num_draws=8, generator=torch.Generator().manual_seed(seed)
    )
    out = {
        "test_acc": accuracy(model, data.test_set),
        "train_acc": accuracy(model, train_plain),
        "criterion": stop.result,
        "positive_margin_fraction": float(ok.float().mean()),
        "noise_sensitivity_median": float(phi.median()),
    }
    for key in ("spec_fro", "spec_l1", "jac_norm"):
        out[f"p90_log_{key}"] = float(np.percentile(measures[f"log_{key}"][ok].numpy(), 90))
    return out


def run_shatter(method: str, seed: int, epochs: int) -> dict:
    data = ClassificationDataModule(
        "procedural", batch_size=64, num_workers=0, augment=False, procedural_images=1000,
        procedural_classes=20, procedural_seed=100 + seed, random_labels=True, label_seed=seed,
    )  # fmt: skip
    model = train(method, seed, epochs, 0.01, data, None)
    return {
        "train_acc": accuracy(model, data.train_set),
        "test_acc": accuracy(model, data.test_set),
    }


def summarize(out: Path, seeds: list[int]) -> str:
    rows = {}
    for method in METHODS:
        runs = {}
        for kind in ("clean", "shatter"):
            runs[kind] = [json.loads(p.read_text()) for s in seeds
                          if (p := out / f"{kind}_{method}_seed{s}.json").exists()]  # fmt: skip
        rows[method] = runs

    def cell(values):
        values = [v for v in values if v is not None and not math.isnan(v)]
        if not values:
            return "n/a"
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.3f} ± {sd:.3f} (n={len(values)})"

    lines = ["| method | clean test acc | clean train acc | test acc at train acc ≥ 99 % (epoch) "
             "| random-label train acc | p90 log Spec-Fro | p90 log Spec-L1 | p90 log Jac-Norm "
             "| noise sens. (median) |", "|" + "---|" * 9]  # fmt: skip
    for method, runs in rows.items():
        c, s = runs["clean"], runs["shatter"]
        crit = [r["criterion"] for r in c]
        met = [r for r in crit if r]
        crit_cell = (f"{cell([r['test_acc'] for r in met])}, epoch {cell([r['epoch'] for r in met])}"
                     f" [{len(met)}/{len(crit)} met]") if met else f"never met [0/{len(crit)}]"  # fmt: skip
        lines.append("| " + " | ".join([
            method, cell([r["test_acc"] for r in c]), cell([r["train_acc"] for r in c]), crit_cell,
            cell([r["train_acc"] for r in s]), cell([r["p90_log_spec_fro"] for r in c]),
            cell([r["p90_log_spec_l1"] for r in c]), cell([r["p90_log_jac_norm"] for r in c]),
            cell([r["noise_sensitivity_median"] for r in c]),
        ]) + " |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--shatter-epochs", type=int, default=60)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--summary", action="store_true", help="only print the tables")
    args = p.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.summary:
        for seed in args.seeds:
            for method in args.methods:
                for kind, fn, epochs in (("clean", run_clean, args.epochs),
                                         ("shatter", run_shatter, args.shatter_epochs)):  # fmt: skip
                    path = args.out / f"{kind}_{method}_seed{seed}.json"
                    if path.exists():
                        continue
                    start = time.perf_counter()
                    result = fn(method, seed, epochs)
                    result["seconds"] = round(time.perf_counter() - start, 1)
                    result["config"] = {"method": method, "seed": seed, "epochs": epochs}
                    path.write_text(json.dumps(result, indent=2))
                    print(f"{kind} {method} seed {seed}: {json.dumps(result)}", flush=True)
    print(summarize(args.out, args.seeds))


if __name__ == "__main__":
    main()
