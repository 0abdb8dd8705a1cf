r"""Inception Score as a torchmetrics ``Metric``, with torch-fidelity's split rule."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import INCEPTION_LOGITS, Extractor, FeatureMetric
from srngan.metrics.functional.inception_score import InceptionScoreState, split_assignment


class InceptionScore(FeatureMetric):
    r"""Inception Score (Salimans et al. 2016) of generated images, mean and std over splits.

    .. math:: \mathrm{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y|x) \,\|\, p(y))\big)

    on each of ``splits`` parts, exactly as torch-fidelity cuts them: sample ``j`` of ``N`` goes
    to the part of its position in ``RandomState(seed).permutation(N)``. Samples are numbered by
    the ``indices`` given to :meth:`update` (default: arrival order; under DDP, pass the global
    sample indices, else processes are ordered rank by rank).

    States: with ``num_samples`` known ahead, per part float64 sums (count,
    :math:`\sum_x p(\cdot|x)`, :math:`\sum_x \sum_y p \log p`) summed across processes; without
    it, the float64 logits and their indices, gathered (``dist_reduce_fx="cat"``) and sorted by
    index at :meth:`compute`. Both give the same value.

    Args:
        feature_extractor, inception_weights, download: see
            :class:`~srngan.metrics.base.FeatureMetric`; IS uses the extractor's logits.
        num_samples: the exact number of samples (constant memory); ``None`` keeps the logits.
        splits: number of parts (torch-fidelity and the paper: 10).
        shuffle, seed: torch-fidelity's ``isc_splits`` shuffle and ``rng_seed`` (True, 2020).
        num_logits: the extractor's number of classes (Inception: 1008).

    Example:
        >>> inception_score = InceptionScore(inception_weights=path)
        >>> inception_score.update(fake)            # uint8, or floats in [-1, 1]
        >>> mean, std = inception_score.compute()
    """

    higher_is_better = True

    def __init__(
        self,
        feature_extractor: Extractor | None = None,
        inception_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        num_samples: int | None = None,
        splits: int = 10,
        shuffle: bool = True,
        seed: int = 2020,
        num_logits: int = INCEPTION_LOGITS,
        **kwargs,
    ) -> None:
        super().__init__(feature_extractor, inception_weights, download, **kwargs)
        if splits < 1:
            raise ValueError(f"splits must be >= 1, got {splits}")
        self.splits, self.shuffle, self.seed = splits, shuffle, seed
        self.num_logits = num_logits
        self.num_samples = num_samples
        if num_samples is not None:
            self.register_buffer(
                "part_of", split_assignment(num_samples, splits, shuffle, seed), persistent=False
            )
            z = dict(dtype=torch.float64)
            self.add_state("count", torch.zeros(splits, **z), "sum")
            self.add_state("sum_p", torch.zeros(splits, num_logits, **z), "sum")
            self.add_state("sum_plogp", torch.zeros(splits, **z), "sum")
        else:
            self._add_rows_state("logits", (num_logits,), torch.float64)
            self._add_rows_state("indices", (), torch.int64)

    def update(
        self,
        images: Tensor | None = None,
        *,
        indices: Tensor | None = None,
        logits: Tensor | None = None,
    ) -> None:
        """Add generated images (uint8 or floats in [-1, 1]), or the extractor's ``logits=``.

        ``indices``: the global sample index of each image (the split rule depends on it).
        """
        logits = self._inputs(images, None, logits, "logits")
        if logits.shape[1] != self.num_logits:
            raise ValueError(
                f"logits have {logits.shape[1]} classes, but the metric was built with "
                f"num_logits={self.num_logits}"
            )
        n = logits.shape[0]
        if self.num_samples is None:
            idx = self._auto_indices(n, self.logits) if indices is None else indices
            self.indices.append(self._check_indices(idx, n).to(self.device))
            self.logits.append(logits)
            return
        if indices is None:
            start = int(self.count.sum())
            indices = torch.arange(start, start + n)
        indices = self._check_indices(indices, n).to(self.part_of.device)
        if n and (int(indices.min()) < 0 or int(indices.max()) >= self.num_samples):
            raise ValueError(
                f"sample indices must lie in [0, {self.num_samples}), got "
                f"[{int(indices.min())}, {int(indices.max())}]"
            )
        state = self._state()
        state.part_of = self.part_of
        state.update(logits, indices)

    def _state(self) -> InceptionScoreState:
        """An :class:`InceptionScoreState` view of the sums (shares their memory)."""
        state = InceptionScoreState.__new__(InceptionScoreState)
        state.num_samples, state.splits, state.part_of = self.num_samples, self.splits, self.part_of
        state.count, state.sum_p, state.sum_plogp = self.count, self.sum_p, self.sum_plogp
        return state

    def compute(self) -> tuple[Tensor, Tensor]:
        """``(mean, std)`` float64 tensors over the splits (std: population, as torch-fidelity)."""
        if self.num_samples is None:
            logits = self._ordered(self.logits, self.indices)
            state = InceptionScoreState(
                logits.shape[0], self.num_logits, self.splits, self.shuffle, self.seed
            )
            state.update(logits, torch.arange(logits.shape[0]))
        else:
            state = self._state()
            expected = torch.bincount(self.part_of, minlength=self.splits).to(state.count)
            if not torch.equal(state.count, expected):
                raise ValueError(
                    f"Inception Score expected each of the {self.num_samples} samples once "
                    f"(indices 0..{self.num_samples - 1}), got {int(state.count.sum())} samples "
                    "in other parts; under DDP pass the global sample indices"
                )
        result = state.compute()
        return tuple(torch.tensor(v, dtype=torch.float64) for v in result.values())
