"""The metrics' math as plain functions of features and logits (pure torch, no state, no sync).

Each module here is the math of one metric, named as the torchmetrics class that wraps it one
level up: ``srngan.metrics.functional.fid`` computes what ``srngan.metrics.fid``'s
:class:`~srngan.metrics.FrechetInceptionDistance` reports, and so on; ``statistics`` (streamed
float64 sums) and ``knn`` (blocked k-nearest-neighbour balls) are shared by several of them.
"""

from srngan.metrics.functional.density_coverage import features_to_density_coverage
from srngan.metrics.functional.fid import features_to_fid, frechet_distance, statistics_to_fid
from srngan.metrics.functional.inception_score import logits_to_inception_score
from srngan.metrics.functional.kid import features_to_kid
from srngan.metrics.functional.knn import cross_ball_counts, knn_radii
from srngan.metrics.functional.precision_recall import features_to_precision_recall
from srngan.metrics.functional.statistics import FeatureStatistics, features_to_statistics

__all__ = [
    "FeatureStatistics",
    "cross_ball_counts",
    "features_to_density_coverage",
    "features_to_fid",
    "features_to_kid",
    "features_to_precision_recall",
    "features_to_statistics",
    "frechet_distance",
    "knn_radii",
    "logits_to_inception_score",
    "statistics_to_fid",
]
