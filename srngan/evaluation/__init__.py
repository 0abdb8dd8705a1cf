"""Evaluation orchestration (pure torch): deterministic sharded sampling, feature passes, metrics."""

from srngan.evaluation.evaluator import EvalSettings, Evaluator, intra_fid
from srngan.evaluation.sampling import generate_samples

__all__ = ["EvalSettings", "Evaluator", "generate_samples", "intra_fid"]
