"""Where a trained quickstart D puts real and generated images under every class label.

Loads a module saved by ``compare.py ... --save FILE`` and prints two 10 x 10 tables of mean
D logits (eval mode, so no translation): real images of class j under label c (does D bind
each class to its shape, i.e. is the diagonal highest in its row?) and G's samples of class c
under label j. Also writes 16 real and 16 generated images of the square classes to
``/tmp/qs/<name>_cls<c>.png``.

    OMP_NUM_THREADS=1 python experiments/quickstart/compare.py final --seed 2 --save /tmp/s2.pt
    python experiments/quickstart/d_scores.py /tmp/s2.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from saved_runs import load_saved, real_of_class
from torchvision.utils import make_grid, save_image

from srngan.data.procedural import ShapesDataset
from srngan.nn.modes import eval_mode


def mean_scores(d, images: dict[int, torch.Tensor], k: int) -> torch.Tensor:
    """``(k, k)``: entry ``[c, j]`` is D's mean logit of ``images[j]`` under label ``c``."""
    out = torch.empty(k, k)
    for c in range(k):
        for j in range(k):
            x = images[j]
            out[c, j] = d(x, torch.full((x.shape[0],), c)).mean()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("saved", type=Path)
    p.add_argument("--per-class", type=int, default=100)
    a = p.parse_args()
    module = load_saved(a.saved)
    data = ShapesDataset(10000, module.num_conditional_classes)
    k, names = data.num_classes, data.classes
    real = {c: real_of_class(data, c, a.per_class) for c in range(k)}
    g, d = module.sampling_generator(), module.discriminator
    torch.manual_seed(0)
    with torch.no_grad(), eval_mode(g), eval_mode(d):
        fake = {c: g(torch.randn(a.per_class, module.z_dim), torch.full((a.per_class,), c))
                for c in range(k)}  # fmt: skip
        tables = {
            "real images of class j (columns) under label c (rows)": mean_scores(d, real, k),
            "G's class c (rows) under label j (columns)": mean_scores(d, fake, k).T,
        }
    for title, table in tables.items():
        print(f"\nmean D logit: {title}")
        print(" " * 14 + " ".join(f"{n[:9]:>9}" for n in names))
        for c in range(k):
            print(f"{names[c]:>14}" + " ".join(f"{v:9.2f}" for v in table[c].tolist()))
    for c in (i for i, n in enumerate(names) if n.endswith("square")):
        grid = make_grid(torch.cat([real[c][:16], fake[c][:16]]) * 0.5 + 0.5, nrow=16, padding=1)
        save_image(grid, Path("/tmp/qs") / f"{a.saved.stem}_cls{c}.png")


if __name__ == "__main__":
    main()
