r"""k-nearest-neighbour balls of feature sets, computed in blocks (pure torch, float64 distances).

Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020) describe
each feature set as the union of balls around its points, the radius of a point being the
distance to its ``k``-th nearest *other* point of the same set. Everything they need comes from
two kinds of pass over pairwise Euclidean distances:

- :func:`knn_radii`: the radii of one set (``n x n`` distances);
- :func:`cross_ball_counts`: one pass over the ``n_fake x n_real`` distances that gives, per
  generated point, whether any real ball holds it (``<=``, as torch-fidelity) and how many real
  balls hold it (``<``, as the ``prdc`` package); per real point, whether any generated ball
  holds it and its distance to the nearest generated point.

No pass materialises a full distance matrix: rows are taken in blocks sized so that one block of
distances stays under ``block_bytes``, so 50 000 x 50 000 features need a block, not 20 GB. Memory
beyond the blocks: one float64 copy of the set whose distances are taken (50 000 x 4096: 1.6 GB).
Time and memory against torch-fidelity and prdc: ``benchmarks/knn_metrics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

DEFAULT_BLOCK_BYTES = 128 << 20
"""Memory of one block: its float64 distances and what is computed from them, 128 MiB."""

BYTES_PER_DISTANCE = 24
"""Per distance of a block: the float64 value, the copy ``kthvalue`` sorts, the float64 copy of
the block's rows and the boolean masks (measured peak / block size on CPU, rounded up)."""


def _check_features(name: str, features: Tensor) -> None:
    if not isinstance(features, Tensor) or features.ndim != 2:
        shape = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
        raise ValueError(f"{name} must be a 2-d (N, D) tensor of features, got {shape}")


def block_rows(num_columns: int, block_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    """Rows per block so that ``rows x num_columns`` distances, with what is computed from them
    (:data:`BYTES_PER_DISTANCE` each), fit in ``block_bytes``; at least 1."""
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be >= 1, got {block_bytes}")
    return max(1, int(block_bytes // (BYTES_PER_DISTANCE * max(1, num_columns))))


class _Columns:
    """The set distances are taken to: float64 once, with its squared norms."""

    def __init__(self, features: Tensor) -> None:
        self.rows = features.to(torch.float64)
        self.squared_norms = self.rows.pow(2).sum(1)

    def distances(self, block: Tensor) -> Tensor:
        """Euclidean distances ``(len(block), n)`` in float64: ``|a|^2 + |b|^2 - 2 a.b`` by one
        matrix product (the route ``torch.cdist`` takes, which would copy the whole column set
        on every call), clamped at 0 against round-off, in place."""
        a = block.to(self.rows.device, torch.float64)
        d = torch.addmm(self.squared_norms.unsqueeze(0), a, self.rows.T, alpha=-2)
        return d.add_(a.pow(2).sum(1, keepdim=True)).clamp_(min=0).sqrt_()


def knn_radii(features: Tensor, k: int, block_bytes: int = DEFAULT_BLOCK_BYTES) -> Tensor:
    """Distance of every row to its ``k``-th nearest other row, float64 ``(n,)``.

    The row itself (distance 0) is the first neighbour and is skipped, as ``kthvalue(k + 1)``
    in torch-fidelity and ``prdc``; a duplicate row counts as a neighbour at distance 0.

    Raises:
        ValueError: ``k < 1``, or fewer than ``k + 1`` rows.
    """
    _check_features("features", features)
    n = features.shape[0]
    if k < 1:
        raise ValueError(f"k (nearest neighbours) must be >= 1, got {k}")
    if n < k + 1:
        raise ValueError(f"k = {k} nearest neighbours need at least {k + 1} feature rows, got {n}")
    step = block_rows(n, block_bytes)
    radii = torch.empty(n, dtype=torch.float64, device=features.device)
    columns = _Columns(features)
    for start in range(0, n, step):
        block = columns.distances(features[start : start + step])
        radii[start : start + step] = block.kthvalue(k + 1, dim=1).values
    return radii


@dataclass
class BallCounts:
    """What one pass over the generated x real distances gives (see :func:`cross_ball_counts`)."""

    fake_in_real: Tensor  # (n_fake,) bool: some real ball holds it (distance <= radius)
    fake_real_balls: Tensor  # (n_fake,) int64: how many real balls hold it (distance < radius)
    real_in_fake: Tensor  # (n_real,) bool: some generated ball holds it (distance <= radius)
    real_nearest_fake: Tensor  # (n_real,) float64: distance to the nearest generated point


def cross_ball_counts(
    fake: Tensor,
    real: Tensor,
    real_radii: Tensor,
    fake_radii: Tensor | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> BallCounts:
    """Ball memberships between the generated and the real features, one blocked pass.

    Args:
        fake, real: ``(n_fake, d)`` and ``(n_real, d)`` features.
        real_radii: :func:`knn_radii` of ``real``.
        fake_radii: :func:`knn_radii` of ``fake``; ``None`` skips ``real_in_fake`` (all False).
        block_bytes: memory of one block of distances.
    """
    _check_features("fake features", fake)
    _check_features("real features", real)
    if fake.shape[1] != real.shape[1]:
        raise ValueError(
            f"fake and real features differ in dimension: {fake.shape[1]} and {real.shape[1]}"
        )
    n_fake, n_real = fake.shape[0], real.shape[0]
    if real_radii.shape != (n_real,):
        raise ValueError(f"real_radii must have shape ({n_real},), got {tuple(real_radii.shape)}")
    if fake_radii is not None and fake_radii.shape != (n_fake,):
        raise ValueError(f"fake_radii must have shape ({n_fake},), got {tuple(fake_radii.shape)}")
    device = fake.device
    real_radii = real_radii.to(device, torch.float64)
    fake_in_real = torch.zeros(n_fake, dtype=torch.bool, device=device)
    fake_real_balls = torch.zeros(n_fake, dtype=torch.int64, device=device)
    real_in_fake = torch.zeros(n_real, dtype=torch.bool, device=device)
    nearest = torch.full((n_real,), float("inf"), dtype=torch.float64, device=device)
    step = block_rows(n_real, block_bytes)
    columns = _Columns(real.to(device))
    for start in range(0, n_fake, step):
        stop = min(start + step, n_fake)
        d = columns.distances(fake[start:stop])  # (block, n_real)
        fake_in_real[start:stop] = (d <= real_radii).any(1)
        fake_real_balls[start:stop] = (d < real_radii).sum(1)
        if fake_radii is not None:
            radius = fake_radii[start:stop].to(device, torch.float64).unsqueeze(1)
            real_in_fake |= (d <= radius).any(0)
        torch.minimum(nearest, d.min(0).values, out=nearest)
    return BallCounts(fake_in_real, fake_real_balls, real_in_fake, nearest)
