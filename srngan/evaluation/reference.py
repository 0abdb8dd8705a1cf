"""The real side of every metric: accumulated in one pass over real images, then cached.

A :class:`Reference` holds what the metrics compare generated images against, in parts:

============  ======================================================  ====================
part          what                                                    metrics
============  ======================================================  ====================
``stats``     float64 mean / covariance sums of ``num_real`` images,  FID
              and the covariance factor ``L`` (``L L^T = Sigma``)
``features``  their float64 features in sample order                  KID
``set``       their set-extractor features and k-NN radii             precision / recall,
                                                                      density / coverage
``classes``   per-class sums of *every* image, and factors            Intra-FID
============  ======================================================  ====================

:class:`RealFeatures` accumulates all missing parts from one pass (positions ``< num_real``
feed the first three; every position feeds ``classes``) and syncs across processes through
torchmetrics. The metrics then receive the parts as fixed references (``reference=``): no
metric's real states are read back to seed another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from srngan.metrics.base import FeatureMetric
from srngan.metrics.functional.fid import covariance_factor
from srngan.metrics.functional.knn import knn_radii
from srngan.metrics.functional.statistics import FeatureStatistics

PARTS = ("stats", "features", "set", "classes")
PART_OF_METRIC = {
    "fid": "stats",
    "kid": "features",
    "prc": "set",
    "dc": "set",
    "intra_fid": "classes",
}


@dataclass
class Reference:
    """Real-side statistics (any subset of :data:`PARTS`; ``None`` / empty where not computed).

    Attributes:
        stats, factor: FID's real statistics and the factor of their covariance.
        features: KID's float64 real features ``(num_real, d)`` in sample order.
        set_features, radii: the set extractor's float32 features ``(num_real, d_set)`` and,
            per ``k``, the float64 distance of each to its ``k``-th nearest other row.
        per_class, class_factors: Intra-FID's statistics of every real image per class, and
            their covariance factors (classes with >= 2 images).
        cache_hits: per part computed here, whether it came from the on-disk cache.
    """

    stats: FeatureStatistics | None = None
    factor: Tensor | None = None
    features: Tensor | None = None
    set_features: Tensor | None = None
    radii: dict[int, Tensor] = field(default_factory=dict)
    per_class: dict[int, FeatureStatistics] | None = None
    class_factors: dict[int, Tensor] = field(default_factory=dict)
    cache_hits: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_statistics(cls, stats: FeatureStatistics) -> Reference:
        """Fixed real statistics (e.g. a ``mu`` / ``sigma`` file) as FID's real side."""
        return cls(stats=stats, factor=covariance_factor(stats.covariance))

    def parts(self) -> set[str]:
        """The parts this reference holds."""
        held = {"stats": self.stats, "features": self.features, "set": self.set_features,
                "classes": self.per_class}  # fmt: skip
        return {name for name, value in held.items() if value is not None}


class RealFeatures(FeatureMetric):
    """The sums and rows of :class:`Reference`'s parts, synced across processes.

    Args:
        parts: which of ``stats``, ``features``, ``set``, ``classes`` to accumulate.
        feature_dim: the main extractor's feature size.
        set_dim: the set extractor's feature size (``set``).
        num_classes: classes of the labels (``classes``).
    """

    def __init__(
        self, parts: set[str], feature_dim: int, set_dim: int = 1, num_classes: int = 0
    ) -> None:
        super().__init__(feature_extractor=_no_images, feature_dim=feature_dim)
        self.parts, self.num_classes = set(parts), num_classes
        z = dict(dtype=torch.float64)
        if "stats" in parts:
            self.add_state("count", torch.zeros((), **z), "sum")
            self.add_state("total", torch.zeros(feature_dim, **z), "sum")
            self.add_state("outer", torch.zeros(feature_dim, feature_dim, **z), "sum")
        if "features" in parts:
            self._add_rows_state("rows", (feature_dim,), torch.float64)
            self._add_rows_state("row_indices", (), torch.int64)
        if "set" in parts:
            # float32, the extractors' output type: nothing lost, half the memory of float64.
            self._add_rows_state("set_rows", (set_dim,), torch.float32)
        if "classes" in parts:
            if num_classes < 1:
                raise ValueError("intra_fid needs a conditional generator (num_classes >= 1)")
            self.add_state("class_count", torch.zeros(num_classes, **z), "sum")
            self.add_state("class_total", torch.zeros(num_classes, feature_dim, **z), "sum")
            self.add_state(
                "class_outer", torch.zeros(num_classes, feature_dim, feature_dim, **z), "sum"
            )

    def update(
        self,
        indices: Tensor,
        features: Tensor | None,
        subset: Tensor,
        labels: Tensor | None = None,
        set_features: Tensor | None = None,
    ) -> None:
        """Add one batch: ``subset`` marks the rows of the ``num_real`` subset (``stats``,
        ``features``; ``set_features`` holds those rows only); every row feeds ``classes``."""
        if features is not None and self.parts & {"stats", "features", "classes"}:
            f = self._inputs(None, features, None, "features")
            sub = subset.to(f.device)
            if "stats" in self.parts:
                rows = f[sub]
                self.count += rows.shape[0]
                self.total.add_(rows.sum(0))
                self.outer.addmm_(rows.T, rows)
            if "features" in self.parts:
                self.rows.append(f[sub])
                self.row_indices.append(indices[subset.cpu()].to(self.device))
            if "classes" in self.parts:
                self._add_classes(f, labels)
        if "set" in self.parts and set_features is not None:
            self.set_rows.append(set_features.detach().to(self.device, torch.float32))

    def _add_classes(self, f: Tensor, labels: Tensor | None) -> None:
        if labels is None:
            raise ValueError("intra_fid needs class labels of the real images")
        labels = labels.to(self.device).long()
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(
                f"real labels must lie in [0, {self.num_classes}), got "
                f"[{int(labels.min())}, {int(labels.max())}]"
            )
        self.class_count.index_add_(0, labels, torch.ones_like(labels, dtype=f.dtype))
        self.class_total.index_add_(0, labels, f)
        for c in labels.unique().tolist():
            rows = f[labels == c]
            self.class_outer[c].addmm_(rows.T, rows)

    def compute(self) -> Reference:
        """The synced parts as a :class:`Reference` (on the CPU; radii and factors not yet)."""
        ref = Reference()
        if "stats" in self.parts:
            ref.stats = FeatureStatistics(self.count.cpu(), self.total.cpu(), self.outer.cpu())
        if "features" in self.parts:
            ref.features = self._ordered(self.rows, self.row_indices).cpu()
        if "set" in self.parts:
            rows = self.set_rows
            ref.set_features = torch.cat(rows) if isinstance(rows, list) else rows
        if "classes" in self.parts:
            count, total, outer = self.class_count, self.class_total, self.class_outer
            ref.per_class = {
                c: FeatureStatistics(count[c].cpu().clone(), total[c].cpu().clone(),
                                     outer[c].cpu().clone())
                for c in range(self.num_classes)
            }  # fmt: skip
        return ref


def _no_images(images: Tensor) -> tuple[Tensor, Tensor]:
    raise TypeError("RealFeatures takes the extractors' features, not images")


def finish(ref: Reference, ks: list[int]) -> Reference:
    """Add what follows from the sums: FID's and Intra-FID's covariance factors, the set
    features' k-NN radii for every ``k`` in ``ks`` (on the features' device), all on the CPU."""
    if ref.stats is not None and ref.factor is None:
        if ref.stats.count < 2:
            raise ValueError(f"FID needs at least 2 real images, got {int(ref.stats.count)}")
        ref.factor = covariance_factor(ref.stats.covariance)
    if ref.per_class is not None and not ref.class_factors:
        ref.class_factors = {
            c: covariance_factor(s.covariance) for c, s in ref.per_class.items() if s.count >= 2
        }
    if ref.set_features is not None:
        for k in ks:
            if k not in ref.radii:
                ref.radii[k] = knn_radii(ref.set_features, k).cpu()
        ref.set_features = ref.set_features.cpu()
    return ref
