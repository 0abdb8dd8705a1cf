r"""Density and coverage (Naeem et al. 2020), pure torch.

With :math:`B_k(x_i)` the ball around real :math:`x_i` reaching its :math:`k`-th nearest real
neighbour,

.. math:: \mathrm{density} = \frac{1}{kM} \sum_{j} \sum_{i} \big[\, y_j \in B_k(x_i) \big],
          \qquad
          \mathrm{coverage} = \frac{1}{N} \sum_{i} \big[\, \exists j : y_j \in B_k(x_i) \big]

for real :math:`x_1..x_N` and generated :math:`y_1..y_M`; membership is ``distance < radius``
and ``k = 5``, as the ``prdc`` package (its ``compute_prdc``). Only real balls are used, so the
real radii can be cached once per reference set. Density is not bounded by 1.
"""

from __future__ import annotations

from torch import Tensor

from srngan.metrics.functional.knn import DEFAULT_BLOCK_BYTES, cross_ball_counts, knn_radii
from srngan.metrics.keys import KEY_COVERAGE, KEY_DENSITY

DC_NEIGHBOURS = 5


def features_to_density_coverage(
    fake: Tensor,
    real: Tensor,
    k: int = DC_NEIGHBOURS,
    real_radii: Tensor | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> dict[str, float]:
    """``{density, coverage}`` of generated ``fake`` against ``real`` features.

    Args:
        fake, real: ``(M, d)`` and ``(N, d)`` features (any float dtype; distances in float64).
        k: neighbourhood size (Naeem et al.: 5).
        real_radii: cached :func:`~srngan.metrics.functional.knn.knn_radii` of ``real`` for this ``k``.
        block_bytes: memory of one block of distances (see :mod:`srngan.metrics.functional.knn`).
    """
    if real_radii is None:
        real_radii = knn_radii(real, k, block_bytes)
    counts = cross_ball_counts(fake, real, real_radii, None, block_bytes)
    density = float(counts.fake_real_balls.double().sum()) / (k * fake.shape[0])
    coverage = float((counts.real_nearest_fake < real_radii.to(fake.device)).double().mean())
    return {KEY_DENSITY: density, KEY_COVERAGE: coverage}
