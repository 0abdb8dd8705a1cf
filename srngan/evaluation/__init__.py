"""Evaluation (pure torch + torchmetrics): one :class:`Evaluator` for every image source.

- :mod:`~srngan.evaluation.settings`: :class:`EvalSettings`, every setting and default once;
- :mod:`~srngan.evaluation.sources`: what is evaluated or compared against
  (:class:`DatasetImages`, :class:`ImageSet`, :class:`GeneratorImages`);
- :mod:`~srngan.evaluation.extractors`: the feature networks, built from the settings;
- :mod:`~srngan.evaluation.reference`: the real side (:class:`Reference`), one pass, cached;
- :mod:`~srngan.evaluation.evaluator`: checks, the one feature pass, results;
- :mod:`~srngan.evaluation.protocols`: Neural Divergence and eLhist, which sample on their own;
- :mod:`~srngan.evaluation.sampling`: deterministic, shardable generator sampling.
"""

from srngan.evaluation.evaluator import Evaluator
from srngan.evaluation.reference import Reference
from srngan.evaluation.sampling import generate_samples
from srngan.evaluation.settings import EvalSettings
from srngan.evaluation.sources import DatasetImages, GeneratorImages, ImageSet, ImageSource

__all__ = [
    "DatasetImages",
    "EvalSettings",
    "Evaluator",
    "GeneratorImages",
    "ImageSet",
    "ImageSource",
    "Reference",
    "generate_samples",
]
