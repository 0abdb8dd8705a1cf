"""Evaluation orchestration (pure torch + torchmetrics): settings, deterministic sharded sampling,
the metric classes fed from one feature pass, ND and eLhist."""

from srngan.evaluation.evaluator import Evaluator
from srngan.evaluation.sampling import generate_samples
from srngan.evaluation.settings import EvalSettings

__all__ = ["EvalSettings", "Evaluator", "generate_samples"]
