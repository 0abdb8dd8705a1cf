"""Why a class collapses to empty backgrounds, and why it stays there (docs/quickstart.md section 8).

Loads modules saved by ``compare.py ... --save FILE`` and prints, per class label:

- ``real``: D's mean logit (eval mode) for 50 real images of that class under their label;
- ``empty``: the same for 50 *clean backgrounds* (the procedural renderer with every shape mask
  set to zero) under that label: how real D finds an image with no shape at all;
- ``fm``: the class-wise feature-matching term (:func:`srngan.losses.class_feature_matching`)
  of 64 of G's samples of the class against 64 real ones, and the mean norm of its gradient
  with respect to the samples (``d img``) and to G's weights (``d G``): a collapsed class has
  the largest term but the flattest features around its samples.

    python experiments/quickstart/empty_probe.py /tmp/m/run.pt [more saved runs...]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import torch
from saved_runs import load_saved, real_of_class

import srngan.data.procedural as procedural
from srngan.data.procedural import ShapesDataset
from srngan.losses import class_feature_matching
from srngan.nn.modes import eval_mode


def clean_backgrounds(n: int, seed: int = 6) -> torch.Tensor:
    """``n`` procedural images with their shape masks zeroed: background, tint and gradient only."""
    masks = procedural._shape_masks
    with mock.patch.object(procedural, "_shape_masks", lambda *a: torch.zeros_like(masks(*a))):
        labels = torch.zeros(n, dtype=torch.long)
        return procedural.render_shapes(labels, torch.Generator().manual_seed(seed), 10)


def probe(module, data: ShapesDataset, empty: torch.Tensor) -> list[str]:
    g, d = module.generator, module.discriminator
    rows = []
    for c in range(data.num_classes):
        real = real_of_class(data, c, 64)
        y = torch.full((64,), c)
        with torch.no_grad(), eval_mode(d):
            real_logit = float(d(real[:50], y[:50]).mean())
            empty_logit = float(d(empty, y[: empty.shape[0]]).mean())
        torch.manual_seed(0)
        with eval_mode(d):
            fake = g(torch.randn(64, g.z_dim), y)
            fake.retain_grad()
            term = class_feature_matching(d.features(fake, y), d.features(real, y), y, y)
            g.zero_grad()
            term.backward()
        d_img = float(fake.grad.flatten(1).norm(dim=1).mean())
        d_g = float(sum(p.grad.pow(2).sum() for p in g.parameters() if p.grad is not None) ** 0.5)
        rows.append(
            f"{data.classes[c]:>14} {real_logit:6.2f} {empty_logit:6.2f} "
            f"{float(term.detach()):7.3f} {d_img:9.2e} {d_g:8.2e}"
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("saved", type=Path, nargs="+")
    a = p.parse_args()
    data, empty = ShapesDataset(10000, 10), clean_backgrounds(50)
    for path in a.saved:
        module = load_saved(path)
        print(
            f"\n{path.stem}\n{'label':>14} {'real':>6} {'empty':>6} {'fm':>7} {'d img':>9} {'d G':>8}"
        )
        print("\n".join(probe(module, data, empty)))


if __name__ == "__main__":
    main()
