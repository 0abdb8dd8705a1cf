"""The training-term interface: what a term sees in each phase, and what it may add.

A term is one idea that joins one phase of :class:`srngan.GANModule`'s step beside the
adversarial loss and the regularizer: the D phase (:class:`DTerm`) or the G phase
(:class:`GTerm`). The module sums ``weight * term.loss(...)`` into that phase's loss and logs the
unweighted value as ``loss/<phase>_<name>``. A term holds settings, not state: everything it
needs arrives in a :class:`DStep` / :class:`GStep`, so exact resume needs nothing from it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from srngan.losses import AdversarialLoss

Rows = tuple[Tensor, "Tensor | None"]


@dataclass
class DStep:
    """One D step as a D-phase term sees it (no gradient flows into ``fake``)."""

    real: Tensor
    real_labels: Tensor | None
    fake: Tensor
    fake_labels: Tensor | None
    discriminator: nn.Module
    loss: AdversarialLoss
    num_classes: int


@dataclass
class GStep:
    """One G step as a G-phase term sees it. ``real`` / ``real_labels`` are the real batch of
    the D step just before (no gradient); ``logits`` are D's on ``fake``."""

    z: Tensor
    labels: Tensor | None
    fake: Tensor
    logits: Tensor
    discriminator: nn.Module
    loss: AdversarialLoss
    num_classes: int
    real: Tensor
    real_labels: Tensor | None

    @cached_property
    def fake_and_real(self) -> Tensor:
        """``cat([fake, real])``, built once per step and shared by the terms that compare
        the two (one node in the graph, so their gradients meet there)."""
        return torch.cat([self.fake, self.real])


class Term:
    """Base class of training terms; subclass :class:`DTerm` or :class:`GTerm`.

    Args:
        weight: the factor of the term in its phase's loss (>= 0; 0 keeps it logged only).
    """

    phase: ClassVar[Literal["d", "g"]]

    def __init__(self, weight: float = 1.0) -> None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ValueError(f"{type(self).__name__} weight must be a number >= 0, got {weight!r}")
        if math.isinf(weight):
            raise ValueError(f"{type(self).__name__} weight must be finite, got {weight}")
        self.weight = float(weight)

    @property
    def name(self) -> str:
        """The log-key suffix: ``loss/<phase>_<name>``; by default the class name in
        snake_case."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    @property
    def key(self) -> str:
        return f"loss/{self.phase}_{self.name}"

    def check(self, generator: nn.Module, discriminator: nn.Module) -> None:
        """Raise a one-line ``ValueError`` when these networks cannot carry the term (called
        when the GAN is built, before training)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight:g})"


class DTerm(Term):
    """A term of D's loss. It may add rows to D's one forward of the step (real and fake
    rows come first), so a normalized D still takes one power iteration per D step."""

    phase = "d"

    def rows(self, step: DStep) -> Rows | None:
        """Extra ``(images, labels)`` for D's forward, or ``None`` for none."""
        return None

    def loss(self, step: DStep, logits: Tensor | None) -> Tensor:
        """The unweighted term; ``logits`` are D's on this term's rows (``None`` without)."""
        raise NotImplementedError


class GTerm(Term):
    """A term of G's loss. It may reshape G's inputs (e.g. draw the batch as pairs)."""

    phase = "g"

    def inputs(self, z: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """G's latents and labels for this step, shaped as the term needs."""
        return z, labels

    def loss(self, step: GStep) -> Tensor:
        """The unweighted term."""
        raise NotImplementedError


def conditional_only(term: Term, generator: nn.Module) -> None:
    """The one-line error of a term that needs a class-conditional generator."""
    if not getattr(generator, "num_classes", 0):
        raise ValueError(
            f"{type(term).__name__} needs a conditional generator (num_classes >= 2), got "
            f"{type(generator).__name__} with num_classes={getattr(generator, 'num_classes', None)}"
        )
