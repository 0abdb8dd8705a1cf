"""Metrics (pure torch + torchmetrics; never imports training): IS, FID, KID, Intra-FID,
precision / recall, density / coverage, ND, eLhist.

Layout: ``srngan.metrics.functional.<metric>`` is a metric's math (plain functions of features
or logits); ``srngan.metrics.<metric>`` is its torchmetrics ``Metric`` class (states, DDP sync,
input checks), with :mod:`~srngan.metrics.base` and :mod:`~srngan.metrics.manifold` the shared
bases. Beside them: the feature extractors (:mod:`~srngan.metrics.inception`,
:mod:`~srngan.metrics.vgg`, :mod:`~srngan.metrics.domain`), the protocol metrics that have no
``Metric`` class (:mod:`~srngan.metrics.neural_divergence`, :mod:`~srngan.metrics.elhist`), the
result keys (:mod:`~srngan.metrics.keys`), statistics files and the on-disk cache.

The classes :class:`InceptionScore`, :class:`FrechetInceptionDistance`,
:class:`KernelInceptionDistance`, :class:`IntraFID`, :class:`PrecisionRecall` and
:class:`DensityCoverage` take uint8 ``(N, 3, H, W)`` images or floats in [-1, 1] and sync their
float64 states across processes. Underneath, the math follows the data flow:
``features_to_statistics`` -> ``statistics_to_fid``; result keys are the constants of
:mod:`srngan.metrics.keys` (torch-fidelity's for IS, FID and KID).
"""

from srngan.metrics.density_coverage import DensityCoverage
from srngan.metrics.fid import FrechetInceptionDistance
from srngan.metrics.functional.density_coverage import features_to_density_coverage
from srngan.metrics.functional.fid import features_to_fid, frechet_distance, statistics_to_fid
from srngan.metrics.functional.inception_score import logits_to_inception_score
from srngan.metrics.functional.kid import features_to_kid
from srngan.metrics.functional.precision_recall import features_to_precision_recall
from srngan.metrics.functional.statistics import FeatureStatistics, features_to_statistics
from srngan.metrics.inception_score import InceptionScore
from srngan.metrics.intra_fid import IntraFID
from srngan.metrics.kid import KernelInceptionDistance
from srngan.metrics.precision_recall import PrecisionRecall

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
