"""Evaluate a generator against reference data: IS, FID, KID, Intra-FID from one feature pass.

Pure torch (no Lightning): the training callbacks and the ``evaluate`` command both call
:class:`Evaluator`. Under ``torch.distributed`` each process generates its share of the samples
(see :mod:`srngan.evaluation.sampling`) and float64 sums are all-reduced, so the result equals
that of one process up to float64 summation order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from srngan.evaluation.distributed import Collective
from srngan.evaluation.features import Extractor, FeatureSummary, dataset_batches, summarize
from srngan.evaluation.sampling import generate_samples
from srngan.metrics import keys
from srngan.metrics.cache import cache_key, cached
from srngan.metrics.fid import statistics_to_fid
from srngan.metrics.inception import quantize_images
from srngan.metrics.kid import features_to_kid
from srngan.metrics.statistics import FeatureStatistics

FEATURE_METRICS = ("is", "fid", "kid", "intra_fid")


@dataclass
class EvalSettings:
    """Sample counts and protocol settings (paper defaults: IS on 50k, FID 10k real vs 5k fake)."""

    metrics: Sequence[str] = ("is", "fid")
    num_samples: int = 5000  # generated images for FID, KID and Intra-FID
    num_is_samples: int = 50000
    num_real: int = 10000
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    # Intra-FID (Miyato & Koyama 2018): this many images generated *conditioned on* each class,
    # compared with all training images of that class.
    intra_fid_samples_per_class: int = 5000
    batch_size: int = 100
    seed: int = 0


def intra_fid(reference: FeatureSummary, generated: FeatureSummary) -> float:
    """Mean over the reference's classes of the FID between each class's generated and real
    statistics (``per_class`` of both summaries)."""
    values = []
    for c, ref in reference.per_class.items():
        gen = generated.per_class.get(c)
        if ref.count < 2 or gen is None or gen.count < 2:
            raise ValueError(
                f"Intra-FID needs at least 2 real and 2 generated samples of class {c}"
            )
        values.append(statistics_to_fid(ref, gen, reference.class_factors.get(c)))
    return float(sum(values) / len(values))


def summaries_to_metrics(
    wants: set[str],
    generated: FeatureSummary,
    reference: Callable[[], FeatureSummary],
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
) -> dict[str, float]:
    """IS / FID / KID / Intra-FID (those in ``wants``) from feature summaries.

    ``reference`` is called only when a metric needs the real data (IS does not).
    """
    out: dict[str, float] = {}
    if "is" in wants:
        out.update(generated.inception_score.compute())
    if wants & {"fid", "kid", "intra_fid"}:
        ref = reference()
        if "fid" in wants:
            out[keys.KEY_FID] = statistics_to_fid(ref.stats, generated.stats, ref.factor)
        if "kid" in wants:
            # Generated first, as torch-fidelity (input1 = generated) draws its subsets.
            out.update(
                features_to_kid(generated.features, ref.features, kid_subsets, kid_subset_size)
            )
        if "intra_fid" in wants:
            out[keys.KEY_INTRA_FID] = intra_fid(ref, generated)
    return out


class Evaluator:
    """Reference statistics (computed once, cached on disk) and metrics of generators against them.

    Args:
        extractor: ``uint8 images -> (features, logits)``, e.g. Inception or the domain classifier.
        feature_dim / num_logit_classes: sizes of the extractor's two outputs.
        reference: the real dataset (images in [-1, 1], labels).
        reference_key: everything the reference statistics depend on besides the settings
            (dataset, split, resolution, extractor weights digest); ``None`` disables the cache.
        num_classes: classes for Intra-FID and conditional sampling (0: unconditional).
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
    ) -> None:
        unknown = set(settings.metrics) - set(keys.METRICS)
        if unknown:
            raise ValueError(
                f"unknown metric(s) {', '.join(sorted(unknown))}; allowed: {', '.join(keys.METRICS)}"
            )
        self.extractor = extractor
        self.feature_dim = feature_dim
        self.num_logit_classes = num_logit_classes
        self.reference_dataset = reference
        self.settings = settings
        self.reference_key = reference_key
        self.num_classes = num_classes
        self.device = torch.device(device)
        self._reference: FeatureSummary | None = None
        self._class_reference: FeatureSummary | None = None
        self.reference_cache_hit: bool | None = None

    @property
    def wants(self) -> set[str]:
        return set(self.settings.metrics) & set(FEATURE_METRICS)

    def reference(self) -> FeatureSummary:
        """Reference statistics: from memory, the disk cache, or one pass over the real data."""
        if self._reference is not None:
            return self._reference
        s = self.settings
        keep = s.num_real if "kid" in self.wants else 0
        settings = {"num_real": s.num_real, "seed": s.seed, "classes": 0, "kept": keep}
        self._reference, self.reference_cache_hit = self._cached_reference(
            "reference-stats", settings, s.num_real, keep, 0
        )
        return self._reference

    def class_reference(self) -> FeatureSummary:
        """Per-class statistics of *every* reference image (Intra-FID's real side), cached."""
        if self._class_reference is None:
            if self.num_classes < 1:
                raise ValueError("intra_fid needs a conditional generator (num_classes >= 1)")
            n = len(self.reference_dataset)
            settings = {"num_real": "all", "count": n, "classes": self.num_classes}
            self._class_reference, _ = self._cached_reference(
                "class-reference-stats", settings, n, 0, self.num_classes
            )
        return self._class_reference

    def _cached_reference(
        self, name: str, settings: dict, num: int, keep: int, classes: int
    ) -> tuple[FeatureSummary, bool]:
        s = self.settings

        def compute() -> FeatureSummary:
            collective = Collective(self.device)
            batches = dataset_batches(self.reference_dataset, num, s.batch_size, s.seed, collective)
            summary = summarize(
                batches, self.extractor, self.feature_dim, num, 0, keep,
                self.num_logit_classes, classes, self.device, collective,
            )  # fmt: skip
            return summary.with_factors()

        if self.reference_key is None:
            return compute(), False
        return cached(name, cache_key(reference=self.reference_key, settings=settings), compute)

    def summarize_generator(
        self, generate: Callable[[Tensor, Tensor | None], Tensor], z_dim: int
    ) -> FeatureSummary:
        """One pass over generated samples; ``generate(z, labels)`` returns images in [-1, 1]."""
        s, wants = self.settings, self.wants
        num_stats = s.num_samples if wants & {"fid", "kid"} else 0
        num_is = s.num_is_samples if "is" in wants else 0
        total = max(num_stats, num_is)
        collective = Collective(self.device)
        samples = generate_samples(
            generate, total, z_dim, self.num_classes, s.seed, s.batch_size, self.device,
            collective.rank, collective.world_size,
        )  # fmt: skip
        batches = ((b.indices, quantize_images(b.images), b.labels) for b in samples)
        return summarize(
            batches, self.extractor, self.feature_dim, num_stats, num_is,
            num_stats if "kid" in wants else 0, self.num_logit_classes, 0, self.device,
            collective, accuracy=bool(self.num_classes),
        )  # fmt: skip

    def summarize_classes(
        self, generate: Callable[[Tensor, Tensor | None], Tensor], z_dim: int
    ) -> FeatureSummary:
        """Intra-FID's generated side: ``intra_fid_samples_per_class`` images conditioned on each
        class in turn (sample ``i`` of every class shares latent ``i``), summarized per class."""
        if self.num_classes < 1:
            raise ValueError("intra_fid needs a conditional generator (num_classes >= 1)")
        s, n = self.settings, self.settings.intra_fid_samples_per_class
        collective = Collective(self.device)
        per_class = {}
        for c in range(self.num_classes):
            samples = generate_samples(
                generate, n, z_dim, self.num_classes, s.seed, s.batch_size, self.device,
                collective.rank, collective.world_size, class_index=c,
            )  # fmt: skip
            batches = ((b.indices, quantize_images(b.images), b.labels) for b in samples)
            per_class[c] = summarize(
                batches, self.extractor, self.feature_dim, n, 0, 0, self.num_logit_classes, 0,
                self.device, collective,
            ).stats  # fmt: skip
        return FeatureSummary(FeatureStatistics.empty(self.feature_dim), per_class)

    def metrics_of(
        self, generated: FeatureSummary, per_class: FeatureSummary | None = None
    ) -> dict[str, float]:
        """The requested feature metrics of a generated summary against the reference.

        ``per_class`` (from :meth:`summarize_classes`) is needed for Intra-FID.
        """
        s = self.settings
        out = summaries_to_metrics(
            self.wants - {"intra_fid"}, generated, self.reference, s.kid_subsets, s.kid_subset_size
        )
        if "intra_fid" in self.wants:
            out[keys.KEY_INTRA_FID] = intra_fid(self.class_reference(), per_class)
        return out

    def evaluate(
        self, generate: Callable[[Tensor, Tensor | None], Tensor], z_dim: int
    ) -> dict[str, float]:
        """All requested feature metrics of ``generate`` (images in [-1, 1] from ``(z, labels)``)."""
        per_class = self.summarize_classes(generate, z_dim) if "intra_fid" in self.wants else None
        return self.metrics_of(self.summarize_generator(generate, z_dim), per_class)
