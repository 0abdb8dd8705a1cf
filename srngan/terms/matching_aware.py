"""A matching-aware discriminator term (Reed et al. 2016)."""

from __future__ import annotations

import torch
from torch import Tensor

from srngan.nn.modes import eval_mode
from srngan.terms.base import DStep, DTerm, Rows, conditional_only


class MatchingAwareD(DTerm):
    """D also sees real images paired with a wrong class, and learns to call them fake.

    So D must bind each class to its look, not only tell real from fake. Costs one more real
    batch through D's forward (and, with ``candidates > 1``, one no-gradient scoring pass).
    Needs a conditional G. Logged as ``loss/d_mismatch``.

    Args:
        weight: factor in D's loss.
        candidates: wrong classes drawn per real image; D is shown the one it scores highest
            (a hard negative, scored without a gradient in eval mode, so the normalizers'
            state is not stepped). 1: uniform over the other classes.

    Example (YAML, under ``model.init_args``)::

        terms:
          - {class_path: srngan.terms.MatchingAwareD, init_args: {weight: 1.0, candidates: 3}}
    """

    name = "mismatch"

    def __init__(self, weight: float = 1.0, candidates: int = 1) -> None:
        super().__init__(weight)
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ValueError(f"MatchingAwareD candidates must be an int >= 1, got {candidates!r}")
        self.candidates = candidates

    def check(self, generator, discriminator) -> None:
        conditional_only(self, generator)

    def rows(self, step: DStep) -> Rows:
        return step.real, self._hard_wrong_labels(step)

    def loss(self, step: DStep, logits: Tensor | None) -> Tensor:
        return step.loss.d_fake(logits)

    def _hard_wrong_labels(self, step: DStep) -> Tensor:
        k, m = step.num_classes, self.candidates
        candidates = torch.stack([wrong_labels(step.real_labels, k) for _ in range(m)])  # (m, n)
        if m == 1:
            return candidates[0]
        with torch.no_grad(), eval_mode(step.discriminator):
            scores = step.discriminator(step.real.repeat(m, 1, 1, 1), candidates.flatten())
        best = scores.view(m, -1).argmax(dim=0)
        return candidates.gather(0, best[None]).squeeze(0)

    def __repr__(self) -> str:
        return f"MatchingAwareD(weight={self.weight:g}, candidates={self.candidates})"


def wrong_labels(labels: Tensor, num_classes: int) -> Tensor:
    """For every label, another class drawn uniformly from the ``num_classes - 1`` others."""
    shift = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + shift) % num_classes
