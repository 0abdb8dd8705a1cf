"""Issue 21, stage without GAN dynamics: D alone learns to tell 256 reals from a frozen G's samples.

A fresh ``SmallDiscriminator`` (base 16, as in the GAN runs) per normalization and seed is trained
with the hinge loss (Adam 2e-4, betas (0, 0.999), batches of 32 reals + 32 fresh fakes) against a
*frozen* generator (the final EMA G of the SN run of seed 0, or ``--ckpt``). Then its accuracy on
the 256 training reals, on 256 held-out reals (another seed) and on fresh fakes. A D that
generalizes has held-out accuracy close to its training accuracy.

    python experiments/generalization/d_alone.py [--steps 1500] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import mean, stdev

import torch

from srngan.commands.common import load_checkpoint
from srngan.data.datamodule import GANDataModule
from srngan.models import SmallDiscriminator
from srngan.nn.diagnostics import srn_shrink_factors
from srngan.nn.modes import eval_mode
from srngan.regularizers import SpectralNorm, StableRankNorm

ROOT = Path(__file__).resolve().parents[2]
ARMS = {
    "sn": (SpectralNorm(), "xavier"),
    "srn70_inert": (StableRankNorm(0.7), "xavier"),
    "srn70_ortho": (StableRankNorm(0.7), "orthogonal"),
    "srn50": (StableRankNorm(0.5), "xavier"),
    "srn30": (StableRankNorm(0.3), "xavier"),
}


def train_d(arm: str, seed: int, reals, heldout, fake, steps: int) -> dict:
    regularizer, init = ARMS[arm]
    torch.manual_seed(seed)
    d = regularizer.apply(SmallDiscriminator(num_classes=0, base_channels=16, weight_init=init))
    opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.0, 0.999))
    g = torch.Generator().manual_seed(seed)
    binding = []
    for step in range(steps):
        x = reals[torch.randint(len(reals), (32,), generator=g)]
        loss = torch.relu(1 - d(x)).mean() + torch.relu(1 + d(fake(32, g))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            factors = srn_shrink_factors(d)
            binding.append(sum(s < 1 for s in factors.values()) / len(factors) if factors else 0.0)
    with torch.no_grad(), eval_mode(d):
        acc_train = float((d(reals) > 0).float().mean())
        acc_held = float((d(heldout) > 0).float().mean())
        acc_fake = float((d(fake(len(heldout), g)) < 0).float().mean())
    return {"arm": arm, "seed": seed, "acc_train": acc_train, "acc_heldout": acc_held,
            "acc_fake": acc_fake, "gap": acc_train - acc_held, "binding": mean(binding)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ckpt", default="runs/generalization/sn/seed0/checkpoints/last.ckpt")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", default="docs/results/generalization/d_alone.md")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # two threads beside other jobs crawl (README)
    module, _ = load_checkpoint(ROOT / args.ckpt)
    dm = GANDataModule(num_images=256, num_heldout_images=256, num_workers=0)
    stack = lambda data: torch.stack([data[i][0] for i in range(len(data))])  # noqa: E731
    reals, heldout = stack(dm.make_dataset("train")), stack(dm.make_dataset("test"))

    def fake(n: int, g: torch.Generator) -> torch.Tensor:
        return module.generate(torch.randn(n, module.z_dim, generator=g))

    rows = [train_d(a, s, reals, heldout, fake, args.steps) for s in args.seeds for a in ARMS]
    lines = ["| D (alone, frozen G) | seeds | binding (mean) | train reals acc | held-out reals acc | "
             "fakes acc | train - held-out |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for arm in ARMS:
        r = [x for x in rows if x["arm"] == arm]

        def cell(k: str, r: list[dict] = r) -> str:
            return f"{mean(x[k] for x in r):.3f} ± {stdev(x[k] for x in r):.3f}"

        lines.append(f"| {arm} | {len(r)} | {cell('binding')} | {cell('acc_train')} | "
                     f"{cell('acc_heldout')} | {cell('acc_fake')} | {cell('gap')} |")  # fmt: skip
    text = "\n".join(lines)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
