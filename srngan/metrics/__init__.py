"""Metric math (pure torch; never imports training): IS, FID, KID, Neural Divergence, eLhist.

Names follow the data flow: ``features_to_statistics`` -> ``statistics_to_fid``; result keys are
the constants of :mod:`srngan.metrics.keys` (torch-fidelity's for IS, FID and KID).
"""

from srngan.metrics.fid import features_to_fid, frechet_distance, statistics_to_fid
from srngan.metrics.inception_score import logits_to_inception_score
from srngan.metrics.kid import features_to_kid
from srngan.metrics.statistics import FeatureStatistics, features_to_statistics

__all__ = [
    "FeatureStatistics",
    "features_to_fid",
    "features_to_kid",
    "features_to_statistics",
    "frechet_distance",
    "logits_to_inception_score",
    "statistics_to_fid",
]
