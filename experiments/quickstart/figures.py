"""The README's quickstart figures: a run's final sample grid next to real images, same layout.

    python experiments/quickstart/figures.py RUN_DIR docs/images/quickstart   # procedural shapes
    python experiments/quickstart/figures.py /tmp/qs/quickstart_glyphs_s0_2000.png docs/images/glyphs \
        --folder /tmp/glyphs

Writes ``<prefix>_samples.png`` (the run's last grid: one row per class, EMA generator, the
``samples`` callback's fixed latents) and ``<prefix>_real.png`` (10 real images per class), both
at 1x (the README shows them at 2x).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image
from torchvision.utils import make_grid


def real_grid(num_classes: int, columns: int, folder: Path | None) -> torch.Tensor:
    if folder is None:
        from srngan.data.procedural import ShapesDataset

        data = ShapesDataset(10000, num_classes, 32, seed=0)
        images, labels = data.images.float() / 255.0, data.labels
    else:
        from srngan.data.real import load_real_dataset

        data = load_real_dataset("imagefolder", folder, "train", 32)
        labels = torch.tensor(data.targets)
        images = None
    rows = []
    for c in range(num_classes):
        idx = (labels == c).nonzero().flatten()[:columns]
        if images is None:
            rows.append(torch.stack([data[int(i)][0] * 0.5 + 0.5 for i in idx]))
        else:
            rows.append(images[idx])
    return make_grid(torch.cat(rows), nrow=columns, padding=1)


def save(grid: torch.Tensor | Image.Image, path: Path) -> None:
    if isinstance(grid, torch.Tensor):
        array = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        grid = Image.fromarray(array)
    grid = grid.convert("RGB")
    grid.quantize(256).save(path, optimize=True)  # 256 colours: small files
    print(path, path.stat().st_size // 1024, "KiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("prefix")
    p.add_argument("--folder", type=Path)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--columns", type=int, default=10)
    a = p.parse_args()
    # A run folder (its last grid) or a grid PNG (compare.py's, for image-folder runs).
    last = a.run if a.run.suffix == ".png" else sorted((a.run / "samples").glob("gstep_*.png"))[-1]
    Path(a.prefix).parent.mkdir(parents=True, exist_ok=True)
    save(Image.open(last), Path(f"{a.prefix}_samples.png"))
    save(real_grid(a.classes, a.columns, a.folder), Path(f"{a.prefix}_real.png"))


if __name__ == "__main__":
    main()
