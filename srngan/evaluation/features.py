"""One feature pass over images feeds IS, FID, KID and Intra-FID (generated or real images)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.utils.data import Dataset

from srngan.evaluation.distributed import Collective
from srngan.metrics.fid import covariance_factor
from srngan.metrics.inception import quantize_images
from srngan.metrics.inception_score import InceptionScoreState
from srngan.metrics.statistics import FeatureStatistics

Extractor = Callable[[Tensor], tuple[Tensor, Tensor]]  # uint8 images -> (features, logits)


@dataclass
class FeatureSummary:
    """What the metrics need from one set of images."""

    stats: FeatureStatistics
    per_class: dict[int, FeatureStatistics] = field(default_factory=dict)
    inception_score: InceptionScoreState | None = None
    features: Tensor | None = None  # float32, ordered by sample index (KID)
    factor: Tensor | None = None  # cached covariance factor (reference side)
    class_factors: dict[int, Tensor] = field(default_factory=dict)
    correct: Tensor | None = None  # (2,) float64: correct class predictions, count (domain acc.)

    def with_factors(self) -> FeatureSummary:
        """Add the covariance factors (Cholesky) used to speed up every later FID."""
        self.factor = covariance_factor(self.stats.covariance)
        self.class_factors = {
            c: covariance_factor(s.covariance) for c, s in self.per_class.items() if s.count >= 2
        }
        return self


def summarize(
    batches: Iterable[tuple[Tensor, Tensor, Tensor | None]],
    extractor: Extractor,
    feature_dim: int,
    num_stats: int,
    num_is: int = 0,
    num_features: int = 0,
    num_logit_classes: int = 1008,
    classes: int = 0,
    device: torch.device | str = "cpu",
    collective: Collective | None = None,
    accuracy: bool = False,
) -> FeatureSummary:
    """Run ``extractor`` over ``(indices, uint8 images, labels)`` batches once and summarize.

    Samples with index ``< num_stats`` enter the mean/covariance (and per class when ``classes``),
    ``< num_is`` the Inception Score, ``< num_features`` the kept feature matrix (KID).
    ``accuracy`` counts how often the extractor's argmax equals the label.
    """
    collective = collective or Collective(device)
    stats = FeatureStatistics.empty(feature_dim)
    per_class = {c: FeatureStatistics.empty(feature_dim) for c in range(classes)}
    is_state = InceptionScoreState(num_is, num_logit_classes) if num_is else None
    correct = torch.zeros(2, dtype=torch.float64)
    kept_i, kept_f = [], []
    for indices, images, labels in batches:
        feats, logits = extractor(images.to(device))
        feats, logits = feats.cpu(), logits.cpu()
        in_stats = indices < num_stats
        stats.update(feats[in_stats])
        if classes and labels is not None:
            for c in labels[in_stats].unique().tolist():
                per_class[c].update(feats[in_stats & (labels == c)])
        if is_state is not None:
            m = indices < num_is
            is_state.update(logits[m], indices[m])
        if num_features:
            m = indices < num_features
            kept_i.append(indices[m])
            kept_f.append(feats[m].float())
        if accuracy and labels is not None:
            correct += torch.tensor(
                [float((logits.argmax(1) == labels).sum()), float(labels.shape[0])],
                dtype=torch.float64,
            )
    collective.sum_(stats.count, stats.total, stats.outer, correct)
    for s in per_class.values():
        collective.sum_(s.count, s.total, s.outer)
    if is_state is not None:
        collective.sum_(*is_state.tensors())
    features = None
    if num_features:
        # A process may hold no samples (fewer sample blocks than processes).
        indices = torch.cat(kept_i) if kept_i else torch.empty(0, dtype=torch.int64)
        values = torch.cat(kept_f) if kept_f else torch.empty(0, feature_dim)
        features = collective.gather_by_index(indices, values)
    return FeatureSummary(
        stats, per_class, is_state, features, correct=correct if accuracy else None
    )


def dataset_batches(
    dataset: Dataset, num: int, batch_size: int, seed: int = 0, collective: Collective | None = None
) -> Iterable[tuple[Tensor, Tensor, Tensor]]:
    """``num`` images of ``dataset`` (a fixed random subset for ``seed``), as uint8 batches.

    Index ``i`` of the result is ``dataset[perm[i]]``; processes take interleaved batches.
    """
    collective = collective or Collective()
    if num > len(dataset):
        raise ValueError(f"asked for {num} real images but the dataset has {len(dataset)}")
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:num]
    starts = range(collective.rank * batch_size, num, collective.world_size * batch_size)
    for start in starts:
        idx = torch.arange(start, min(start + batch_size, num))
        items = [dataset[int(perm[i])] for i in idx]
        images = quantize_images(torch.stack([x for x, _ in items]))
        labels = torch.tensor([int(y) for _, y in items], dtype=torch.int64)
        yield idx, images, labels
