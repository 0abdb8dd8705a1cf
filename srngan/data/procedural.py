"""A procedural labelled image dataset that needs no download: coloured shapes on backgrounds.

Class = (shape, colour). Position, size, rotation and the background (tinted, with a gradient)
vary per image. Every image is a pure function of ``(seed, index)``, generated in vectorized
batches, so the dataset is identical on every machine and process.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

SHAPES = ("circle", "square", "triangle", "cross", "ring")
COLOURS = {
    "red": (0.92, 0.16, 0.14),
    "blue": (0.15, 0.35, 0.95),
    "green": (0.15, 0.80, 0.25),
    "yellow": (0.98, 0.85, 0.12),
}
MAX_CLASSES = len(SHAPES) * len(COLOURS)
_SUPERSAMPLE = 2  # 2x2 supersampling gives anti-aliased edges
_RENDER_SLICE = 256  # images whose supersampled geometry is computed at once


def class_names(num_classes: int) -> list[str]:
    """Names ``"<colour> <shape>"`` of the first ``num_classes`` classes."""
    colours = list(COLOURS)[: _num_colours(num_classes)]
    return [f"{c} {s}" for s in SHAPES for c in colours][:num_classes]


def _num_colours(num_classes: int) -> int:
    return max(1, math.ceil(num_classes / len(SHAPES)))


def _shape_masks(x: Tensor, y: Tensor, shape_idx: Tensor) -> Tensor:
    """Coverage in {0, 1} of each shape at local coordinates (x, y), unit radius."""
    r = torch.sqrt(x**2 + y**2)
    circle = r <= 1.0
    square = torch.maximum(x.abs(), y.abs()) <= 0.8
    # Equilateral triangle inscribed in the unit circle, pointing up (y down in images).
    s3 = math.sqrt(3.0)
    triangle = (y <= 0.5) & (s3 * x - y >= -1.0) & (-s3 * x - y >= -1.0)
    cross = ((x.abs() <= 0.3) & (y.abs() <= 1.0)) | ((y.abs() <= 0.3) & (x.abs() <= 1.0))
    ring = (r <= 1.0) & (r >= 0.55)
    all_masks = torch.stack([circle, square, triangle, cross, ring], dim=1)
    return all_masks.gather(1, shape_idx[:, None, None, None].expand(-1, 1, *x.shape[1:])).float()


def render_shapes(
    labels: Tensor, generator: torch.Generator, num_classes: int, size: int = 32
) -> Tensor:
    """Render one image per label, as float in [-1, 1] of shape ``(N, 3, size, size)``."""
    n = labels.shape[0]
    n_col = _num_colours(num_classes)
    shape_idx, colour_idx = labels // n_col, labels % n_col

    def u(lo: float, hi: float, *shape: int) -> Tensor:
        return lo + (hi - lo) * torch.rand(n, *shape, generator=generator)

    radius = u(0.22, 0.34)
    # Centres keep the whole shape inside the frame.
    cx, cy = radius + u(0.0, 1.0) * (1 - 2 * radius), radius + u(0.0, 1.0) * (1 - 2 * radius)
    angle = u(0.0, 2 * math.pi)
    bg_base = u(0.05, 0.45, 1) + 0.12 * (u(0.0, 1.0, 3) - 0.5)  # grey level plus a tint
    bg_grad = 0.25 * (u(0.0, 1.0, 2) - 0.5)  # linear gradient direction and strength
    colour_jitter = 0.08 * (u(0.0, 1.0, 3) - 0.5)

    hi = size * _SUPERSAMPLE
    coords = (torch.arange(hi, dtype=torch.float32) + 0.5) / hi
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")
    palette = torch.tensor(list(COLOURS.values()))[:n_col]
    colour = (palette[colour_idx] + colour_jitter).clamp(0, 1)[:, :, None, None]
    lo = coords[::_SUPERSAMPLE][None, None, :] - 0.5
    ramp = bg_grad[:, 0, None, None] * lo.transpose(1, 2) + bg_grad[:, 1, None, None] * lo
    background = (bg_base[:, :, None, None] + ramp[:, None]).clamp(0, 1)
    image = torch.empty(n, 3, size, size)
    # The supersampled geometry holds tens of floats per output pixel: done a slice at a time, so
    # its memory is bounded (every step is per image, so slicing does not change a value).
    for a in range(0, n, _RENDER_SLICE):
        b = min(n, a + _RENDER_SLICE)
        r = radius[a:b, None, None]
        dx, dy = (gx[None] - cx[a:b, None, None]) / r, (gy[None] - cy[a:b, None, None]) / r
        cos, sin = torch.cos(angle[a:b])[:, None, None], torch.sin(angle[a:b])[:, None, None]
        lx, ly = cos * dx + sin * dy, -sin * dx + cos * dy
        mask = F.avg_pool2d(_shape_masks(lx, ly, shape_idx[a:b]), _SUPERSAMPLE)
        image[a:b] = mask * colour[a:b] + (1 - mask) * background[a:b]
    return image * 2 - 1


@functools.lru_cache(maxsize=4)
def _generate(num_images: int, num_classes: int, size: int, seed: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_images) % num_classes
    labels = labels[torch.randperm(num_images, generator=g)]
    chunks = []
    for start in range(0, num_images, 2048):  # bounded memory for large datasets
        chunk = render_shapes(labels[start : start + 2048], g, num_classes, size)
        chunks.append(((chunk + 1) * 127.5).round().to(torch.uint8))
    # uint8 storage (3 KiB per 32x32 image); cached so repeated construction is free.
    return torch.cat(chunks), labels


class ShapesDataset(Dataset):
    """``num_images`` labelled 3 x ``size`` x ``size`` images in [-1, 1], classes balanced.

    Args:
        num_images: dataset length.
        num_classes: 2..20; class ``c`` is shape ``c // n_colours`` in colour ``c % n_colours``.
        size: image side in pixels.
        seed: the dataset is a pure function of ``seed`` (and the arguments above).
    """

    def __init__(
        self, num_images: int = 10000, num_classes: int = 10, size: int = 32, seed: int = 0
    ) -> None:
        if not 2 <= num_classes <= MAX_CLASSES:
            raise ValueError(f"num_classes must be in [2, {MAX_CLASSES}], got {num_classes}")
        if num_images < 1:
            raise ValueError(f"num_images must be >= 1, got {num_images}")
        self.num_classes = num_classes
        self.classes = class_names(num_classes)
        self.images, self.labels = _generate(num_images, num_classes, size, seed)

    def __len__(self) -> int:
        return self.labels.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.images[index].float() / 127.5 - 1.0, int(self.labels[index])
