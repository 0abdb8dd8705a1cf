r"""Improved precision and recall (Kynkäänniemi et al. 2019), pure torch.

With :math:`B_k(x)` the ball around :math:`x` whose radius is the distance to its :math:`k`-th
nearest neighbour in its own set,

.. math:: \mathrm{precision} = \frac{1}{M} \sum_{j} \big[\, y_j \in \textstyle\bigcup_i B_k(x_i) \big],
          \qquad
          \mathrm{recall} = \frac{1}{N} \sum_{i} \big[\, x_i \in \textstyle\bigcup_j B_k(y_j) \big]

for real :math:`x_1..x_N` and generated :math:`y_1..y_M`; membership is ``distance <= radius``
and ``k = 3``, as torch-fidelity 0.4's ``prc`` (on VGG-16 ``fc2_relu`` features there).
"""

from __future__ import annotations

from torch import Tensor

from srngan.metrics.functional.knn import DEFAULT_BLOCK_BYTES, cross_ball_counts, knn_radii
from srngan.metrics.keys import KEY_F_SCORE, KEY_PRECISION, KEY_RECALL

PRC_NEIGHBOURS = 3


def f_score(precision: float, recall: float) -> float:
    """Harmonic mean of precision and recall, with torch-fidelity's floor of 1e-5 on the sum."""
    return 2 * precision * recall / max(1e-5, precision + recall)


def features_to_precision_recall(
    fake: Tensor,
    real: Tensor,
    k: int = PRC_NEIGHBOURS,
    real_radii: Tensor | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> dict[str, float]:
    """``{precision, recall, f_score}`` of generated ``fake`` against ``real`` features.

    Args:
        fake, real: ``(M, d)`` and ``(N, d)`` features (any float dtype; distances in float64).
        k: neighbourhood size (torch-fidelity's ``prc_neighborhood``, 3).
        real_radii: cached :func:`~srngan.metrics.functional.knn.knn_radii` of ``real`` for this ``k``.
        block_bytes: memory of one block of distances (see :mod:`srngan.metrics.functional.knn`).
    """
    if real_radii is None:
        real_radii = knn_radii(real, k, block_bytes)
    fake_radii = knn_radii(fake, k, block_bytes)
    counts = cross_ball_counts(fake, real, real_radii, fake_radii, block_bytes)
    precision = float(counts.fake_in_real.double().mean())
    recall = float(counts.real_in_fake.double().mean())
    return {KEY_PRECISION: precision, KEY_RECALL: recall, KEY_F_SCORE: f_score(precision, recall)}
