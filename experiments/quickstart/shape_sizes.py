"""A third judge that classifiers miss: is each sample's shape whole and of a real size?

Both classifiers accept some degenerate samples (an empty background as a circle, a shape
zoomed until it fills the frame as a triangle). This check measures the *foreground area*
of every image, the fraction of pixels whose colour saturation (max - min over RGB) exceeds
0.4 (the shapes' colours have ~0.8, backgrounds at most ~0.3), and calls a sample plausible
when its area lies within the 1st-99th percentile of the real images' areas of its class.

    python experiments/quickstart/shape_sizes.py /tmp/m/run.pt [more saved runs...]

(``compare.py ... --save FILE`` writes the saved runs.) Prints per class the plausible
fraction of 100 EMA samples per class (the latents of ``compare.py``'s evaluation) and of
1000 held-out real images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from saved_runs import load_saved

from srngan.data.procedural import ShapesDataset

THRESHOLD = 0.4


def foreground_area(images: torch.Tensor) -> torch.Tensor:
    """Fraction of saturated pixels per image; ``images`` in [-1, 1], shape (N, 3, H, W)."""
    rgb = (images.clamp(-1, 1) + 1) / 2
    saturation = rgb.amax(dim=1) - rgb.amin(dim=1)
    return (saturation > THRESHOLD).float().mean(dim=(1, 2))


def plausible(area: torch.Tensor, labels: torch.Tensor, bounds: torch.Tensor) -> list[float]:
    """Per class, the fraction of ``area`` inside that class's ``bounds`` (K, 2)."""
    lo, hi = bounds[labels, 0], bounds[labels, 1]
    ok = ((area >= lo) & (area <= hi)).float()
    return [round(float(ok[labels == c].mean()), 2) for c in range(bounds.shape[0])]


def real_area_bounds() -> torch.Tensor:
    """``(10, 2)``: per class, the 1st and 99th percentile of the real training images' areas."""
    data = ShapesDataset(10000, 10)
    area = foreground_area(data.images[:9000].float() / 127.5 - 1)
    q = torch.tensor([0.01, 0.99])
    return torch.stack([torch.quantile(area[data.labels[:9000] == c], q) for c in range(10)])


def sample_sizes_ok(module, labels: torch.Tensor, z: torch.Tensor, bounds) -> list[float]:
    """Per class, the plausible fraction of the module's EMA samples ``G(z, labels)``."""
    fake = torch.cat([module.generate(z[i : i + 500], labels[i : i + 500])
                      for i in range(0, len(labels), 500)])  # fmt: skip
    return plausible(foreground_area(fake), labels, bounds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("saved", type=Path, nargs="+")
    a = p.parse_args()
    bounds = real_area_bounds()
    data = ShapesDataset(10000, 10)
    held_out = data.images[9000:].float() / 127.5 - 1
    held = plausible(foreground_area(held_out), data.labels[9000:], bounds)
    print(f"{'real (held out)':40} {sum(held) / 10:.3f} {held}")
    labels = torch.arange(10).repeat_interleave(100)
    for path in a.saved:
        module = load_saved(path)
        z = torch.randn(len(labels), module.z_dim, generator=torch.Generator().manual_seed(1234))
        per = sample_sizes_ok(module, labels, z, bounds)
        print(f"{path.stem:40} {sum(per) / 10:.3f} {per}")


if __name__ == "__main__":
    main()
