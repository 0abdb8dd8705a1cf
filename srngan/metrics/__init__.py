"""Metrics (pure torch + torchmetrics; never imports training): IS, FID, KID, Intra-FID,
precision / recall, density / coverage, ND, eLhist.

The torchmetrics ``Metric`` classes :class:`InceptionScore`, :class:`FrechetInceptionDistance`,
:class:`KernelInceptionDistance`, :class:`IntraFID`, :class:`PrecisionRecall` and
:class:`DensityCoverage` take uint8 ``(N, 3, H, W)`` images or floats
in [-1, 1] and sync their float64 states across processes. Underneath, the math follows the data
flow: ``features_to_statistics`` -> ``statistics_to_fid``; result keys are the constants of
:mod:`srngan.metrics.keys` (torch-fidelity's for IS, FID and KID).
"""

from srngan.metrics.density_coverage import features_to_density_coverage
from srngan.metrics.fid import features_to_fid, frechet_distance, statistics_to_fid
from srngan.metrics.inception_score import logits_to_inception_score
from srngan.metrics.kid import features_to_kid
from srngan.metrics.metric_density_coverage import DensityCoverage
from srngan.metrics.metric_fid import FrechetInceptionDistance
from srngan.metrics.metric_intra_fid import IntraFID
from srngan.metrics.metric_is import InceptionScore
from srngan.metrics.metric_kid import KernelInceptionDistance
from srngan.metrics.metric_precision_recall import PrecisionRecall
from srngan.metrics.precision_recall import features_to_precision_recall
from srngan.metrics.statistics import FeatureStatistics, features_to_statistics

__all__ = [
    "DensityCoverage",
    "FeatureStatistics",
    "FrechetInceptionDistance",
    "InceptionScore",
    "IntraFID",
    "KernelInceptionDistance",
    "PrecisionRecall",
    "features_to_density_coverage",
    "features_to_fid",
    "features_to_kid",
    "features_to_precision_recall",
    "features_to_statistics",
    "frechet_distance",
    "logits_to_inception_score",
    "statistics_to_fid",
]
