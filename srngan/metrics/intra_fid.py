r"""Intra-FID (Miyato & Koyama 2018) as a torchmetrics ``Metric``: the mean of per-class FIDs."""

from __future__ import annotations

import os

import torch
from torch import Tensor

from srngan.metrics.base import INCEPTION_FEATURE_DIM, Extractor, FeatureMetric
from srngan.metrics.functional.fid import covariance_factor, statistics_to_fid
from srngan.metrics.functional.statistics import FeatureStatistics


class IntraFID(FeatureMetric):
    r"""Mean over classes of the FID between the real and the generated images of each class.

    .. math:: \mathrm{IntraFID} = \frac{1}{C} \sum_{c=0}^{C-1}
              \mathrm{FID}(\text{real}_c, \text{generated}_c)

    The protocol of the paper (and of :class:`srngan.evaluation.Evaluator`): for each class,
    ``N`` images generated *conditioned on* it against *all* training images of it. States:
    per-class float64 sums (counts ``(C,)``, sums ``(C, d)``, outer products ``(C, d, d)``: 32 MB
    per class and side at d = 2048), summed across processes.

    Args:
        num_classes: ``C``; every class needs >= 2 real and >= 2 generated images.
        feature_extractor, inception_weights, download, feature_dim: see
            :class:`~srngan.metrics.base.FeatureMetric`.
        reference: fixed real statistics per class ``{c: FeatureStatistics}`` (e.g. cached); then
            the metric keeps no real states.
        reference_factors: cached covariance factors of ``reference`` per class.
        reset_real_features: ``False`` keeps the real statistics across :meth:`reset`.

    Example:
        >>> intra_fid = IntraFID(10, inception_weights=path)
        >>> intra_fid.update(real_uint8, real_labels, real=True)
        >>> intra_fid.update(G(z, y), y, real=False)   # floats in [-1, 1]
        >>> intra_fid.compute()
    """

    higher_is_better = False

    def __init__(
        self,
        num_classes: int,
        feature_extractor: Extractor | None = None,
        inception_weights: str | os.PathLike | None = None,
        download: bool = False,
        *,
        feature_dim: int = INCEPTION_FEATURE_DIM,
        reference: dict[int, FeatureStatistics] | None = None,
        reference_factors: dict[int, Tensor] | None = None,
        reset_real_features: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(feature_extractor, inception_weights, download, feature_dim, **kwargs)
        if num_classes < 1:
            raise ValueError(f"IntraFID needs num_classes >= 1, got {num_classes}")
        self.num_classes = num_classes
        if reference is not None and set(reference) != set(range(num_classes)):
            raise ValueError(
                f"reference has classes {sorted(reference)}, expected 0..{num_classes - 1}"
            )
        self.reference = reference
        self.reference_factors = dict(reference_factors or {})
        z = dict(dtype=torch.float64)
        for side in ("fake",) if reference is not None else ("real", "fake"):
            self.add_state(f"{side}_count", torch.zeros(num_classes, **z), "sum")
            self.add_state(f"{side}_total", torch.zeros(num_classes, feature_dim, **z), "sum")
            self.add_state(
                f"{side}_outer", torch.zeros(num_classes, feature_dim, feature_dim, **z), "sum"
            )
        if not reset_real_features and reference is None:
            self._kept_on_reset = ("real_count", "real_total", "real_outer")

    def update(
        self,
        images: Tensor | None,
        labels: Tensor,
        real: bool,
        *,
        features: Tensor | None = None,
    ) -> None:
        """Add images (uint8 or floats in [-1, 1]) or ``features=`` with their class ``labels``."""
        if real and self.reference is not None:
            raise ValueError(
                "this IntraFID has fixed reference statistics; update(real=False) only"
            )
        f = self._inputs(images, features, None, "features")
        labels = torch.as_tensor(labels)
        if labels.shape != (f.shape[0],) or labels.is_floating_point():
            raise ValueError(
                f"labels must be {f.shape[0]} integers, got {labels.dtype} {tuple(labels.shape)}"
            )
        labels = labels.to(self.device).long()
        if f.shape[0] and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes}), got "
                f"[{int(labels.min())}, {int(labels.max())}]"
            )
        side = "real" if real else "fake"
        getattr(self, f"{side}_count").index_add_(0, labels, torch.ones_like(labels, dtype=f.dtype))
        getattr(self, f"{side}_total").index_add_(0, labels, f)
        outer = getattr(self, f"{side}_outer")
        for c in labels.unique().tolist():
            rows = f[labels == c]
            outer[c].addmm_(rows.T, rows)

    def class_statistics(self, real: bool) -> dict[int, FeatureStatistics]:
        """The (synced) statistics of each class on one side (copies, on the CPU)."""
        if real and self.reference is not None:
            return self.reference
        side = "real" if real else "fake"
        with self.sync_context(should_unsync=True):
            return self._class_statistics(side)

    def _class_statistics(self, side: str) -> dict[int, FeatureStatistics]:
        count, total, outer = (getattr(self, f"{side}_{n}") for n in ("count", "total", "outer"))
        return {
            c: FeatureStatistics(
                count[c].cpu().clone(), total[c].cpu().clone(), outer[c].cpu().clone()
            )
            for c in range(self.num_classes)
        }

    def compute(self) -> Tensor:
        """Intra-FID as a float64 scalar tensor (the mean of :meth:`compute_per_class`)."""
        values = self._per_class()  # torchmetrics has synced the states for compute
        return torch.tensor(sum(values.values()) / len(values), dtype=torch.float64)

    def compute_per_class(self) -> dict[int, float]:
        """Each class's FID, ``{class index: FID}`` (what :meth:`compute` averages), from the
        states synced across processes."""
        synced = self._is_synced  # already, when called from within compute
        with self.sync_context(should_sync=not synced, should_unsync=not synced):
            return self._per_class()

    def _per_class(self) -> dict[int, float]:
        real = self.reference if self.reference is not None else self._class_statistics("real")
        fake = self._class_statistics("fake")
        values = {}
        for c in range(self.num_classes):
            if real[c].count < 2 or fake[c].count < 2:
                raise ValueError(
                    f"Intra-FID needs at least 2 real and 2 generated images of class {c}, got "
                    f"{int(real[c].count)} and {int(fake[c].count)}"
                )
            factor = self.reference_factors.get(c)
            if factor is None and self.reference is not None:
                factor = self.reference_factors[c] = covariance_factor(real[c].covariance)
            values[c] = statistics_to_fid(real[c], fake[c], factor)
        return values
