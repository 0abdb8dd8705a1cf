"""Small-scale CPU evidence for the paper's classification claims (docs/results_classification.md).

On the procedural shapes (20 classes = 5 shapes x 4 colours, 32x32), a SmallCNN (3 conv + 1
linear, width 16; "plain": no BatchNorm, "bn": BatchNorm after each conv) is trained with
Vanilla / SN / SRN-50 / SRN-30 for several seeds (a seed fixes the data, the random labels and
the initial weights, identical across the four methods):

  clean:   1000 train images (augmented), 2000 test images, SGD lr 0.05, momentum 0.9, wd 5e-4,
           --epochs epochs (lr x0.1 at 60 % and 80 %); test accuracy, first epoch with train
           accuracy >= 99 % and the test accuracy there, the 90th percentiles of the log
           Spec-Fro / Spec-L1 / Jac-Norm over the correctly classified among 1000 train images,
           and the median noise sensitivity (relative noise 0.1, 8 draws).
  shatter: 1000 train images with fixed random labels, no augmentation, SGD lr 0.01 (the paper's
           low-lr shattering setting), wd 5e-4, --shatter-epochs epochs; train accuracy at the
           end (whole train set, eval mode). "shatter_short": the same for --short-shatter-epochs
           epochs (its own schedule), added because with BatchNorm every method fits all random
           labels within the long budget.

Rerun everything (about 40 minutes on one core):

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

from srngan import ClassificationDataModule, ClassifierModule
from srngan.classification import TrainAccuracyStop
from srngan.classification.measures import complexity_measures
from srngan.classification.networks import SmallCNN
from srngan.classification.noise import noise_sensitivity
from srngan.regularizers import SpectralNorm, StableRankNorm

METHODS = {  # method -> the classifier's regularizer
    "vanilla": lambda: None,
    "sn": lambda: SpectralNorm(),
    "srn50": lambda: StableRankNorm(0.5),
    "srn30": lambda: StableRankNorm(0.3),
}
CLEAN_IMAGES = 1000
HERE = Path(__file__).resolve().parent


def train(
    method: str, seed: int, epochs: int, lr: float, data: ClassificationDataModule, stop, bn=False
):
    L.seed_everything(seed, verbose=False)
    milestones = [max(1, int(0.6 * epochs)), max(1, int(0.8 * epochs))]
    module = ClassifierModule(
        SmallCNN(num_classes=20, width=16, batchnorm=bn), regularizer=METHODS[method](), lr=lr,
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


def run_clean(method: str, seed: int, epochs: int, bn: bool = False) -> dict:
    data = ClassificationDataModule(
        "procedural", batch_size=64, num_workers=0, augment=True, procedural_images=CLEAN_IMAGES,
        procedural_classes=20, procedural_seed=100 + seed, procedural_test_images=2000,
    )  # fmt: skip
    stop = TrainAccuracyStop(threshold=0.99, stop=False)
    model = train(method, seed, epochs, 0.05, data, stop, bn)
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


def run_shatter(method: str, seed: int, epochs: int, bn: bool = False) -> dict:
    data = ClassificationDataModule(
        "procedural", batch_size=64, num_workers=0, augment=False, procedural_images=1000,
        procedural_classes=20, procedural_seed=100 + seed, random_labels=True, label_seed=seed,
    )  # fmt: skip
    model = train(method, seed, epochs, 0.01, data, None, bn)
    return {
        "train_acc": accuracy(model, data.train_set),
        "test_acc": accuracy(model, data.test_set),
    }


NETS = {"plain": False, "bn": True}  # SmallCNN without / with BatchNorm


def _load(out: Path, kind: str, net: str, method: str, seeds: list[int]) -> dict[int, dict]:
    paths = {s: out / f"{kind}_{net}_{method}_seed{s}.json" for s in seeds}
    return {s: json.loads(p.read_text()) for s, p in paths.items() if p.exists()}


def _cell(values, fmt=".3f") -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "n/a"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{fmt}} ± {sd:{fmt.lstrip('+')}} (n={len(values)})"


def _t_statistic(diffs: list[float]) -> str:
    """Paired t = mean / (sd / sqrt(n)); |t| > 2.78 is p < 0.05 two-sided at n = 5."""
    if len(diffs) < 2 or statistics.stdev(diffs) == 0:
        return ""
    return f", t={statistics.mean(diffs) / (statistics.stdev(diffs) / len(diffs) ** 0.5):+.1f}"


def summarize(out: Path, seeds: list[int], net: str) -> str:
    """Mean ± sample standard deviation over seeds, then paired (same seed) differences."""
    lines = ["| method | clean test acc | clean train acc | test acc at train acc ≥ 99 % "
             "| random-label train acc | random-label train acc, short budget | p90 log Spec-Fro | p90 log Spec-L1 | p90 log Jac-Norm "
             "| noise sensitivity (median) |", "|" + "---|" * 10]  # fmt: skip
    data = {
        m: (
            _load(out, "clean", net, m, seeds),
            _load(out, "shatter", net, m, seeds),
            _load(out, "shatter_short", net, m, seeds),
        )
        for m in METHODS
    }
    for method, (clean, shatter, short) in data.items():
        c, s, s2 = list(clean.values()), list(shatter.values()), list(short.values())
        met = [r["criterion"] for r in c if r["criterion"]]
        crit = (f"{_cell([r['test_acc'] for r in met])} at epoch {_cell([r['epoch'] for r in met], '.1f')}"
                f" [met {len(met)}/{len(c)}]") if met else f"never met [0/{len(c)}]"  # fmt: skip
        lines.append("| " + " | ".join([
            method, _cell([r["test_acc"] for r in c]), _cell([r["train_acc"] for r in c]), crit,
            _cell([r["train_acc"] for r in s]), _cell([r["train_acc"] for r in s2]),
            _cell([r["p90_log_spec_fro"] for r in c]),
            _cell([r["p90_log_spec_l1"] for r in c]), _cell([r["p90_log_jac_norm"] for r in c]),
            _cell([r["noise_sensitivity_median"] for r in c], ".2e"),
        ]) + " |")  # fmt: skip
    lines += ["", "Paired differences (same seed: same data, same initial weights), mean ± sd, paired t:", "",
              "| comparison | clean test acc | random-label train acc | same, short budget | p90 log Spec-Fro "
              "| p90 log Spec-L1 | p90 log Jac-Norm | log noise sensitivity (median) |", "|" + "---|" * 8]  # fmt: skip
    keys = [("clean", "test_acc"), ("shatter", "train_acc"), ("shatter_short", "train_acc"),
            ("clean", "p90_log_spec_fro"),
            ("clean", "p90_log_spec_l1"), ("clean", "p90_log_jac_norm"),
            ("clean", "log_noise_sensitivity_median")]  # fmt: skip
    for a, b in (("srn50", "sn"), ("srn30", "sn"), ("srn50", "vanilla"), ("srn30", "vanilla"),
                 ("sn", "vanilla")):  # fmt: skip
        cells = []
        for kind, key in keys:
            i = ("clean", "shatter", "shatter_short").index(kind)
            da, db = data[a][i], data[b][i]
            for runs in (da, db):
                for r in runs.values():
                    if "noise_sensitivity_median" in r:
                        r["log_noise_sensitivity_median"] = math.log(r["noise_sensitivity_median"])
            diffs = [da[s][key] - db[s][key] for s in seeds if s in da and s in db]
            cells.append(_cell(diffs, "+.3f") + _t_statistic(diffs))
        lines.append(f"| {a} - {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--shatter-epochs", type=int, default=60)
    p.add_argument("--short-shatter-epochs", type=int, default=15)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--summary", action="store_true", help="only print the tables")
    args = p.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    for net in args.nets if not args.summary else ():
        for seed in args.seeds:
            for method in args.methods:
                for kind, fn, epochs in (("clean", run_clean, args.epochs),
                                         ("shatter", run_shatter, args.shatter_epochs),
                                         ("shatter_short", run_shatter, args.short_shatter_epochs)):  # fmt: skip
                    path = args.out / f"{kind}_{net}_{method}_seed{seed}.json"
                    if path.exists():
                        continue
                    start = time.perf_counter()
                    result = fn(method, seed, epochs, NETS[net])
                    result["seconds"] = round(time.perf_counter() - start, 1)
                    result["config"] = {
                        "net": net,
                        "method": method,
                        "seed": seed,
                        "epochs": epochs,
                    }
                    path.write_text(json.dumps(result, indent=2))
                    print(f"{kind} {net} {method} seed {seed}: {json.dumps(result)}", flush=True)
    for net in args.nets:
        print(f"\n### SmallCNN, {net}\n")
        print(summarize(args.out, args.seeds, net))


if __name__ == "__main__":
    main()
