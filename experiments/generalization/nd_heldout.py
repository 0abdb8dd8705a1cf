"""Issue 21, secondary outcome (amendment 2): Neural Divergence of each run's final G against
*held-out* reals, and for comparison against the *training* reals.

For every finished run in ``runs/generalization/<arm>/seed<S>/`` this loads the final checkpoint
(``last.ckpt``, G-step 1500; ``srngan.commands.common.load_checkpoint``, the sampling G: the EMA
copy where the run has one), rebuilds the run's data module from its ``config.yaml`` (as
``srngan fit`` does) and calls ``srngan.metrics.neural_divergence.neural_divergence`` twice:
with the 256 held-out reals (the ``test`` split, another procedural seed) and with 256 of the
training reals (all of them for the 256-image arms; the first 256 for the 10 000-image controls,
so that both critics see real pools of one size). Both calls use the same critic seed and the
same fake stream, so the two numbers differ only by the real pool. Higher ND: the critic cannot
tell G's samples from those reals (better). ``nd_train - nd_heldout`` > 0: G is closer to its
training reals than to held-out ones (memorization).

Small settings (the paper: 100k critic steps, 1M scored samples): ``--iterations`` critic steps
of ``--batch-size`` fakes + reals, ``--eval-samples`` scored fakes. One thread. Results are
cached per run in ``nd_heldout.json`` (delete it to recompute); ``analyze.py`` reads them.

    python experiments/generalization/nd_heldout.py [--iterations 300] [--eval-samples 2048]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import yaml

from srngan.commands.common import load_checkpoint
from srngan.data.datamodule import GANDataModule
from srngan.metrics.neural_divergence import neural_divergence

ROOT = Path(__file__).resolve().parents[2]
POOL = 256  # real images per pool (train and held-out alike)


def finished(folder: Path) -> bool:
    path = folder / "metrics.jsonl"
    return path.is_file() and "elhist_real_real_p95" in path.read_text()


def data_module(folder: Path) -> GANDataModule:
    """The run's data module, from the ``data`` section of its saved ``config.yaml``."""
    config = yaml.safe_load((folder / "config.yaml").read_text())["data"]
    if not config["class_path"].endswith("GANDataModule"):
        raise SystemExit(f"{folder}: unexpected data module {config['class_path']}")
    return GANDataModule(**config["init_args"])


def stack(data, n: int) -> torch.Tensor:
    return torch.stack([data[i][0] for i in range(min(n, len(data)))])


def nd_for_run(folder: Path, iterations: int, batch_size: int, eval_samples: int, seed: int):
    module, _ = load_checkpoint(folder / "checkpoints" / "last.ckpt")
    dm = data_module(folder)
    pools = {"train": stack(dm.make_dataset("train"), POOL),
             "heldout": stack(dm.make_dataset("test"), POOL)}  # fmt: skip
    out = {"g_step": int(module.g_step) if hasattr(module, "g_step") else None,
           "iterations": iterations, "batch_size": batch_size, "eval_samples": eval_samples,
           "seed": seed, "pool": {k: len(v) for k, v in pools.items()}}  # fmt: skip
    start = time.process_time()
    for name, reals in pools.items():
        g_fake = torch.Generator().manual_seed(seed + 2)  # the same fakes for both pools
        g_real = torch.Generator().manual_seed(seed + 1)

        def fake(n: int, g: torch.Generator = g_fake) -> torch.Tensor:
            with torch.no_grad():
                return module.generate(torch.randn(n, module.z_dim, generator=g))

        def real(n: int, pool: torch.Tensor = reals, g: torch.Generator = g_real) -> torch.Tensor:
            return pool[torch.randint(len(pool), (n,), generator=g)]

        out[f"nd_{name}"] = neural_divergence(
            fake, real, resolution=dm.resolution, iterations=iterations, batch_size=batch_size,
            eval_samples=eval_samples, device="cpu", seed=seed,
        )  # fmt: skip
    out["nd_train_minus_heldout"] = out["nd_train"] - out["nd_heldout"]
    out["cpu_seconds"] = round(time.process_time() - start, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs-dir", default="runs/generalization")
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--eval-samples", type=int, default=2048)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="recompute cached results")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    for folder in sorted((ROOT / args.runs_dir).glob("*/seed*")):
        target = folder / "nd_heldout.json"
        if not finished(folder) or (target.is_file() and not args.force):
            continue
        result = nd_for_run(folder, args.iterations, args.batch_size, args.eval_samples, args.seed)
        target.write_text(json.dumps(result, indent=1) + "\n")
        print(f"{folder.parent.name}/{folder.name}: ND held-out {result['nd_heldout']:.4f}, "
              f"train {result['nd_train']:.4f} ({result['cpu_seconds']} CPU-s)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
