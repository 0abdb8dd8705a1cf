"""Write an image folder of glyphs (one sub-folder per class) to try ``--data.dataset imagefolder``.

Letters rendered with Pillow's built-in font (no download, no system fonts) at a random stroke
width, under a random affine transform (rotation, scale, shear, shift), with random background
and ink levels, blur and pixel noise. Grayscale PNGs, 40 x 40 by default (the data module resizes
them to the model's 32 x 32). Deterministic for a seed.

    python examples/make_glyph_folder.py /tmp/glyphs            # 10 classes x 500 images
    srngan fit --config configs/quickstart.yaml --data.dataset imagefolder --data.root /tmp/glyphs
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

GLYPHS = "AEFGKMRSWZ"


def render_glyph(char: str, rng: random.Random, size: int = 40) -> Image.Image:
    """One grayscale ``size`` x ``size`` image of ``char`` under a random affine transform."""
    big = 4 * size
    font = ImageFont.load_default(size=int(big * rng.uniform(0.55, 0.7)))
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    stroke = rng.randint(0, max(1, big // 40))
    draw.text((big / 2, big / 2), char, fill=255, font=font, anchor="mm", stroke_width=stroke,
              stroke_fill=255)  # fmt: skip
    # Inverse affine map (output -> input pixel) about the centre: rotation, scale, shear, shift.
    angle = math.radians(rng.uniform(-20, 20))
    scale = rng.uniform(0.8, 1.15)
    shear = rng.uniform(-0.25, 0.25)
    tx, ty = (rng.uniform(-0.1, 0.1) * big for _ in range(2))
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    a, b = cos, sin + shear * cos
    d, e = -sin, cos - shear * sin
    c = big / 2 - a * (big / 2 + tx) - b * (big / 2 + ty)
    f = big / 2 - d * (big / 2 + tx) - e * (big / 2 + ty)
    canvas = canvas.transform((big, big), Image.AFFINE, (a, b, c, d, e, f), Image.BILINEAR)
    glyph = np.asarray(canvas.resize((size, size), Image.LANCZOS), dtype=np.float32) / 255.0
    background, ink = rng.uniform(0.0, 0.35), rng.uniform(0.7, 1.0)
    image = background + (ink - background) * glyph
    image = Image.fromarray((image * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(rng.uniform(0.0, 0.6))
    )
    noise = np.random.default_rng(rng.getrandbits(32)).normal(
        0, rng.uniform(0.01, 0.06), image.size
    )
    pixels = np.clip(np.asarray(image, dtype=np.float32) / 255.0 + noise, 0, 1)
    return Image.fromarray((pixels * 255).round().astype(np.uint8), mode="L")


def make_folder(root: Path, per_class: int = 500, size: int = 40, seed: int = 0) -> None:
    """``root/<glyph>/<index>.png`` for every glyph of :data:`GLYPHS`."""
    for k, char in enumerate(GLYPHS):
        folder = root / f"{k}_{char}"
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(seed * 1000 + k)
        for i in range(per_class):
            render_glyph(char, rng, size).save(folder / f"{i:05d}.png")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("root", type=Path)
    p.add_argument("--per-class", type=int, default=500)
    p.add_argument("--size", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    make_folder(a.root, a.per_class, a.size, a.seed)
    print(f"wrote {len(GLYPHS)} classes x {a.per_class} images of {a.size} px to {a.root}")


if __name__ == "__main__":
    main()
