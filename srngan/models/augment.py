"""Differentiable translation of image batches (DiffAugment's ``translation``, Zhao et al. 2020).

Applied inside a discriminator to real *and* fake images alike, it keeps gradients to G and
shows D every image at several positions, so D learns shapes rather than pixel positions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def random_translate(
    x: Tensor, fraction: float, generator: torch.Generator | None = None
) -> Tensor:
    """Shift each image by its own random whole-pixel offset, edges repeated.

    Args:
        x: images ``(N, C, H, W)``.
        fraction: largest shift as a fraction of the image side (``0.125``: 4 px at 32);
            0 returns ``x`` unchanged.
        generator: random source of the offsets (default: torch's global one).
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"translation fraction must be in [0, 1), got {fraction}")
    n, _, h, w = x.shape
    p = round(fraction * max(h, w))
    if p == 0:
        return x
    shift = torch.randint(0, 2 * p + 1, (2, n, 1), device=x.device, generator=generator)
    rows = torch.arange(h, device=x.device)[None] + shift[0]  # (N, H) indices into the padded
    cols = torch.arange(w, device=x.device)[None] + shift[1]
    padded = F.pad(x, (p, p, p, p), mode="replicate")
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


__all__ = ["random_translate"]
