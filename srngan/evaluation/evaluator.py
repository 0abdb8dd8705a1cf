"""Evaluate a generator against reference data: IS, FID, KID, Intra-FID, precision / recall and
density / coverage from one pass over the samples.

Pure torch + torchmetrics (no Lightning): the training callback and ``srngan evaluate`` both call
:class:`Evaluator`, which feeds the metric classes of :mod:`srngan.metrics`. Under
``torch.distributed`` each process generates its share of the samples (see
:mod:`srngan.evaluation.sampling`) and torchmetrics syncs the float64 states, so the result equals
that of one process up to float64 summation order.

Precision / recall and density / coverage (the *set* metrics) use their own extractor when one
is given (torch-fidelity's VGG-16 for ``prc``; :class:`srngan.evaluation.runner.MetricRunner`
passes it with the Inception extractor), else the main one; each sample batch goes through both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy

from srngan.evaluation.distributed import rank_and_world
from srngan.evaluation.features import dataset_batches
from srngan.evaluation.sampling import generate_samples
from srngan.evaluation.settings import EvalSettings
from srngan.metrics import keys
from srngan.metrics.cache import cache_key, cached
from srngan.metrics.fid import covariance_factor
from srngan.metrics.images import images_to_uint8
from srngan.metrics.knn import knn_radii
from srngan.metrics.metric_base import Extractor
from srngan.metrics.metric_density_coverage import DensityCoverage
from srngan.metrics.metric_fid import FrechetInceptionDistance
from srngan.metrics.metric_intra_fid import IntraFID
from srngan.metrics.metric_is import InceptionScore
from srngan.metrics.metric_kid import KernelInceptionDistance
from srngan.metrics.metric_precision_recall import PrecisionRecall
from srngan.metrics.statistics import FeatureStatistics

FEATURE_METRICS = ("is", "fid", "kid", "intra_fid", "prc", "dc")
SET_METRICS = ("prc", "dc")  # k-NN set metrics, on the set extractor's features
REAL_METRICS = ("fid", "kid", "prc", "dc")  # generated samples against num_real real images
CACHE_VERSION = 2  # bump when the cached objects change
Generate = Callable[[Tensor, Tensor | None], Tensor]


@dataclass
class Reference:
    """The real side of FID and KID, as cached on disk."""

    stats: FeatureStatistics
    factor: Tensor  # covariance factor L (L L^T = stats.covariance), speeds up every FID
    features: Tensor | None = None  # float64, in sample order (KID only)


@dataclass
class SetReference:
    """The real side of precision / recall and density / coverage, as cached on disk."""

    features: Tensor  # float32 (num_real, d): the set extractor's features of the real images
    radii: dict[int, Tensor]  # k -> float64 (num_real,): distance to the k-th nearest real row


@dataclass
class ClassReference:
    """Intra-FID's real side: statistics of every reference image, per class, as cached."""

    per_class: dict[int, FeatureStatistics]
    factors: dict[int, Tensor]


class Evaluator:
    """Reference statistics (computed once, cached on disk) and metrics of generators against them.

    Args:
        extractor: ``uint8 images -> (features, logits)``, e.g. Inception or the domain classifier.
        feature_dim / num_logit_classes: sizes of the extractor's two outputs.
        reference: the real dataset (images in [-1, 1], labels).
        settings: which metrics, how many samples.
        reference_key: everything the reference statistics depend on besides the settings
            (dataset, split, resolution, extractor weights digest); ``None`` disables the cache.
        num_classes: classes for Intra-FID and conditional sampling (0: unconditional).
        class_accuracy: also report how often the extractor classifies conditional samples as
            their class (``domain_class_accuracy``; meaningful for the domain classifier only).
        set_extractor: ``(extractor, feature_dim, cache key fields)`` of precision / recall and
            density / coverage (e.g. torch-fidelity's VGG-16); ``None``: the main extractor.
    """

    def __init__(
        self,
        extractor: Extractor,
        feature_dim: int,
        num_logit_classes: int,
        reference: Dataset | None,
        settings: EvalSettings,
        reference_key: dict | None = None,
        num_classes: int = 0,
        device: torch.device | str = "cpu",
        class_accuracy: bool = False,
        set_extractor: tuple[Extractor, int, dict] | None = None,
    ) -> None:
        self.extractor = extractor
        self.feature_dim = feature_dim
        self.num_logit_classes = num_logit_classes
        self.reference_dataset = reference
        self.settings = settings
        self.reference_key = reference_key
        self.num_classes = num_classes
        self.device = torch.device(device)
        self.class_accuracy = class_accuracy and num_classes > 0
        self._reference: Reference | None = None
        self._class_reference: ClassReference | None = None
        self._set_reference: SetReference | None = None
        self.reference_cache_hit: bool | None = None
        if set_extractor is None:
            set_extractor = (extractor, feature_dim, {})
        self.set_extractor, self.set_feature_dim, self.set_key = set_extractor

    @property
    def wants(self) -> set[str]:
        return set(self.settings.metrics) & set(FEATURE_METRICS)

    def _extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            return self.extractor(images.to(self.device))

    def _metric(self, cls, *args, **kwargs) -> Metric:
        """A metric class sharing this evaluator's extractor, on its device."""
        return cls(*args, feature_extractor=self.extractor, **kwargs).to(self.device)

    # ------------------------------------------------------------------ reference side
    def reference(self) -> Reference:
        """FID / KID's real side: from memory, the disk cache, or one pass over the real data."""
        if self._reference is None:
            s = self.settings
            keep = "kid" in self.wants
            settings = {"num_real": s.num_real, "seed": s.seed, "classes": 0, "kept": keep}
            self._reference, self.reference_cache_hit = self._cached(
                "reference-stats", settings, lambda: self._compute_reference(keep)
            )
        return self._reference

    def use_reference_statistics(self, stats: FeatureStatistics) -> None:
        """Use fixed real statistics (e.g. read from an ``.npz``) as FID's real side."""
        if stats.total.shape != (self.feature_dim,):
            raise ValueError(
                f"reference statistics have dimension {stats.total.shape[0]}, but the extractor's "
                f"features have {self.feature_dim}"
            )
        self._reference = Reference(stats, covariance_factor(stats.covariance))
        self.reference_cache_hit = None

    def class_reference(self) -> ClassReference:
        """Per-class statistics of *every* reference image (Intra-FID's real side), cached."""
        if self._class_reference is None:
            self._require_classes()
            n = len(self.reference_dataset)
            settings = {"num_real": "all", "count": n, "classes": self.num_classes}
            self._class_reference, _ = self._cached(
                "class-reference-stats", settings, self._compute_class_reference
            )
        return self._class_reference

    def set_reference(self) -> SetReference:
        """Precision / recall and density / coverage's real side: the set extractor's features of
        the ``num_real`` reference images and their k-NN radii for the settings' ``k``, cached."""
        if self._set_reference is None:
            s = self.settings
            ks = sorted({s.prc_neighbours, s.dc_neighbours})
            settings = {"num_real": s.num_real, "seed": s.seed, "ks": ks, "set": self.set_key}
            self._set_reference, _ = self._cached(
                "set-reference", settings, lambda: self._compute_set_reference(ks)
            )
        return self._set_reference

    def _compute_set_reference(self, ks: list[int]) -> SetReference:
        rows = self._set_metric(PrecisionRecall)
        for _, images, _ in self._real_batches(self.settings.num_real):
            with torch.no_grad():
                features, _ = self.set_extractor(images.to(self.device))
            rows.update(None, real=True, features=features)
        features = rows.features(real=True)  # on the device: the radii are computed there
        radii = {k: knn_radii(features, k).cpu() for k in ks}
        return SetReference(features.cpu(), radii)

    def _set_metric(self, cls, **kwargs) -> Metric:
        """A set metric on the set extractor, on this evaluator's device."""
        return cls(
            feature_extractor=self.set_extractor, feature_dim=self.set_feature_dim, **kwargs
        ).to(self.device)

    def _cached(self, name: str, settings: dict, compute: Callable):
        if self.reference_key is None:
            return compute(), False
        key = cache_key(reference=self.reference_key, settings=settings, version=CACHE_VERSION)
        return cached(name, key, compute)

    def _real_batches(self, num: int) -> Iterable[tuple[Tensor, Tensor, Tensor]]:
        rank, world = rank_and_world()
        s = self.settings
        return dataset_batches(self.reference_dataset, num, s.batch_size, s.seed, rank, world)

    def _compute_reference(self, keep_features: bool) -> Reference:
        fid = self._metric(FrechetInceptionDistance, feature_dim=self.feature_dim)
        kid = self._metric(KernelInceptionDistance, feature_dim=self.feature_dim)
        for idx, images, _ in self._real_batches(self.settings.num_real):
            features, _ = self._extract(images)
            fid.update(None, real=True, features=features)
            if keep_features:
                kid.update(None, real=True, indices=idx, features=features)
        stats = fid.statistics(real=True)
        features = kid.features(real=True).cpu() if keep_features else None
        return Reference(stats, covariance_factor(stats.covariance), features)

    def _compute_class_reference(self) -> ClassReference:
        intra = self._metric(IntraFID, self.num_classes, feature_dim=self.feature_dim)
        for _, images, labels in self._real_batches(len(self.reference_dataset)):
            features, _ = self._extract(images)
            intra.update(None, labels, real=True, features=features)
        per_class = intra.class_statistics(real=True)
        factors = {c: covariance_factor(s.covariance) for c, s in per_class.items() if s.count >= 2}
        return ClassReference(per_class, factors)

    def _require_classes(self) -> None:
        if self.num_classes < 1:
            raise ValueError("intra_fid needs a conditional generator (num_classes >= 1)")

    # ------------------------------------------------------------------ generated side
    def generated_metrics(self) -> dict[str, Metric]:
        """Fresh metrics of the generated pass (IS, FID, KID, class accuracy) against the reference."""
        s, wants, out = self.settings, self.wants, {}
        if "is" in wants:
            out["is"] = self._metric(
                InceptionScore, num_samples=s.num_is_samples, num_logits=self.num_logit_classes
            )
        if "fid" in wants:
            ref = self.reference()
            out["fid"] = self._metric(
                FrechetInceptionDistance, feature_dim=self.feature_dim, reference=ref.stats,
                reference_factor=ref.factor,
            )  # fmt: skip
        if "kid" in wants:
            out["kid"] = self._metric(
                KernelInceptionDistance, feature_dim=self.feature_dim, subsets=s.kid_subsets,
                subset_size=s.kid_subset_size, reference=self.reference().features,
            )  # fmt: skip
        if "prc" in wants:
            ref, k = self.set_reference(), s.prc_neighbours
            out["prc"] = self._set_metric(
                PrecisionRecall, k=k, reference=ref.features, reference_radii=ref.radii[k]
            )
        if "dc" in wants:
            ref, k = self.set_reference(), s.dc_neighbours
            out["dc"] = self._set_metric(
                DensityCoverage, k=k, reference=ref.features, reference_radii=ref.radii[k]
            )
        if self.class_accuracy:
            out["accuracy"] = MulticlassAccuracy(
                self.num_logit_classes, average="micro", validate_args=False
            ).to(self.device)
        return out

    def evaluate_generated(self, generate: Generate, z_dim: int) -> dict[str, float]:
        """IS / FID / KID (and class accuracy) of ``generate`` from one pass over its samples."""
        s, wants = self.settings, self.wants
        metrics = self.generated_metrics()
        if not metrics:
            return {}
        num_stats = s.num_samples if wants & set(REAL_METRICS) else 0
        num_is = s.num_is_samples if "is" in wants else 0
        rank, world = rank_and_world()
        samples = generate_samples(
            generate, max(num_stats, num_is), z_dim, self.num_classes, s.seed, s.batch_size,
            self.device, rank, world,
        )  # fmt: skip
        for batch in samples:
            images = images_to_uint8(batch.images)
            features, logits = self._extract(images)
            idx = batch.indices
            if "is" in metrics:
                m = idx < num_is
                metrics["is"].update(indices=idx[m], logits=logits[m.to(logits.device)])
            m = (idx < num_stats).to(features.device)
            if "fid" in metrics:
                metrics["fid"].update(None, real=False, features=features[m])
            if "kid" in metrics:
                metrics["kid"].update(None, real=False, indices=idx[m.cpu()], features=features[m])
            if wants & set(SET_METRICS):
                if self.set_extractor is self.extractor:
                    set_features = features
                else:
                    with torch.no_grad():
                        set_features, _ = self.set_extractor(images.to(self.device))
                ms = m.to(set_features.device)
                for name in SET_METRICS:
                    if name in metrics:
                        metrics[name].update(None, real=False, features=set_features[ms])
            if "accuracy" in metrics and batch.labels is not None:
                metrics["accuracy"].update(logits, batch.labels.to(logits.device))
        return results_of(metrics)

    def intra_fid_metric(self, generate: Generate, z_dim: int) -> IntraFID:
        """Intra-FID fed with ``intra_fid_samples_per_class`` images conditioned on each class in
        turn (sample ``i`` of every class shares latent ``i``), against :meth:`class_reference`."""
        self._require_classes()
        s, n = self.settings, self.settings.intra_fid_samples_per_class
        ref = self.class_reference()
        intra = self._metric(
            IntraFID, self.num_classes, feature_dim=self.feature_dim, reference=ref.per_class,
            reference_factors=ref.factors,
        )  # fmt: skip
        rank, world = rank_and_world()
        for c in range(self.num_classes):
            samples = generate_samples(
                generate, n, z_dim, self.num_classes, s.seed, s.batch_size, self.device, rank,
                world, class_index=c,
            )  # fmt: skip
            for batch in samples:
                features, _ = self._extract(images_to_uint8(batch.images))
                labels = torch.full((features.shape[0],), c, dtype=torch.int64)
                intra.update(None, labels, real=False, features=features)
        return intra

    def evaluate(self, generate: Generate, z_dim: int) -> dict[str, float]:
        """All requested feature metrics of ``generate`` (images in [-1, 1] from ``(z, labels)``)."""
        if "intra_fid" in self.wants:
            self._require_classes()
        out = self.evaluate_generated(generate, z_dim)
        if "intra_fid" in self.wants:
            per_class = self.intra_fid_metric(generate, z_dim).compute_per_class()
            out.update(intra_fid_results(per_class))
        return out


def intra_fid_results(per_class: dict[int, float]) -> dict[str, float]:
    """Intra-FID (the mean) and each class's FID under their keys (``..._class_<c>``)."""
    out = {keys.KEY_INTRA_FID: sum(per_class.values()) / len(per_class)}
    out.update({f"{keys.KEY_INTRA_FID_CLASS}{c}": v for c, v in sorted(per_class.items())})
    return out


def results_of(metrics: dict[str, Metric]) -> dict[str, float]:
    """The computed metrics under their result keys (:mod:`srngan.metrics.keys`)."""
    out: dict[str, float] = {}
    for name, metric in metrics.items():
        value = metric.compute()
        if name == "is":
            out[keys.KEY_IS_MEAN], out[keys.KEY_IS_STD] = (float(v) for v in value)
        elif name == "kid":
            out[keys.KEY_KID_MEAN], out[keys.KEY_KID_STD] = (float(v) for v in value)
        elif name == "fid":
            out[keys.KEY_FID] = float(value)
        elif name == "intra_fid":
            out.update(intra_fid_results(metric.compute_per_class()))
        elif name in SET_METRICS:
            out.update({key: float(v) for key, v in value.items()})
        elif name == "accuracy":
            out[keys.KEY_DOMAIN_ACCURACY] = float(value)
    return out
