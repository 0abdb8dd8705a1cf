r"""Inception Score (Salimans et al. 2016) from streamed logits, with torch-fidelity's split rule.

.. math:: \mathrm{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y|x) \,\|\, p(y))\big)

computed on each of ``splits`` parts and reported as mean and (population) std over parts.
torch-fidelity shuffles the ``N`` samples with ``numpy.random.RandomState(2020).permutation(N)``
and cuts the shuffled order into parts ``[i N // s, (i + 1) N // s)``. Knowing ``N`` ahead, the
part of sample ``j`` is fixed, so each part keeps three float64 sums that batches and processes add:
its count, :math:`\sum_x p(\cdot|x)` and :math:`\sum_x \sum_y p \log p`; then
:math:`\mathbb{E}\,\mathrm{KL} = (\sum p\log p - \sum_y (\sum_x p)\log \bar p) / n`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from srngan.metrics.keys import KEY_IS_MEAN, KEY_IS_STD


def split_assignment(
    num_samples: int, splits: int = 10, shuffle: bool = True, seed: int = 2020
) -> Tensor:
    """Part index of every sample under torch-fidelity's rule (int64, shape ``(N,)``)."""
    if num_samples < splits:
        raise ValueError(
            f"Inception Score needs at least {splits} samples for {splits} splits, got {num_samples}"
        )
    order = (
        np.random.RandomState(seed).permutation(num_samples) if shuffle else np.arange(num_samples)
    )
    position = np.empty(num_samples, dtype=np.int64)
    position[order] = np.arange(num_samples)
    bounds = np.array([(i + 1) * num_samples // splits for i in range(splits)])
    return torch.from_numpy(np.searchsorted(bounds, position, side="right"))


class InceptionScoreState:
    """Per-part sums for the Inception Score of exactly ``num_samples`` samples."""

    def __init__(
        self,
        num_samples: int,
        num_classes: int,
        splits: int = 10,
        shuffle: bool = True,
        seed: int = 2020,
    ):
        self.num_samples = num_samples
        self.splits = splits
        self.part_of = split_assignment(num_samples, splits, shuffle, seed)
        self.count = torch.zeros(splits, dtype=torch.float64)
        self.sum_p = torch.zeros(splits, num_classes, dtype=torch.float64)
        self.sum_plogp = torch.zeros(splits, dtype=torch.float64)

    def update(self, logits: Tensor, indices: Tensor) -> None:
        """Add the logits of the samples with global indices ``indices`` (each exactly once)."""
        device = self.count.device  # the sums' device (a Metric's states may live on a GPU)
        logits = logits.detach().to(device, torch.float64)
        parts = self.part_of[indices.to(self.part_of.device)].to(device)
        log_p = logits.log_softmax(dim=1)
        p = log_p.exp()
        self.count.index_add_(0, parts, torch.ones_like(parts, dtype=torch.float64))
        self.sum_p.index_add_(0, parts, p)
        self.sum_plogp.index_add_(0, parts, torch.xlogy(p, p).sum(1))

    def tensors(self) -> list[Tensor]:
        """The sums, for an all-reduce (sum) across processes."""
        return [self.count, self.sum_p, self.sum_plogp]

    def compute(self) -> dict[str, float]:
        if int(self.count.sum()) != self.num_samples:
            raise ValueError(
                f"Inception Score expected {self.num_samples} samples, got {int(self.count.sum())}"
            )
        # sum_y S_y log(S_y / n) with S = sum_x p(y|x), written so that a class no sample predicts
        # (S_y = 0, or S_y denormal with S_y / n underflowing to 0) contributes 0, never NaN or -inf.
        cross = torch.xlogy(self.sum_p, self.sum_p).sum(1) - self.sum_p.sum(1) * torch.log(
            self.count
        )
        kl = (self.sum_plogp - cross) / self.count
        scores = kl.exp()
        return {KEY_IS_MEAN: float(scores.mean()), KEY_IS_STD: float(scores.std(unbiased=False))}


def logits_to_inception_score(
    logits: Tensor, splits: int = 10, shuffle: bool = True, seed: int = 2020
) -> dict[str, float]:
    """IS of a full ``(N, K)`` logits matrix."""
    state = InceptionScoreState(logits.shape[0], logits.shape[1], splits, shuffle, seed)
    state.update(logits, torch.arange(logits.shape[0]))
    return state.compute()
