"""Mode-seeking regularization of G (Mao et al. 2019)."""

from __future__ import annotations

import torch
from torch import Tensor

from srngan.losses import mode_seeking_term
from srngan.terms.base import GStep, GTerm


class ModeSeeking(GTerm):
    """Penalises G when different latents give similar images (against mode collapse).

    G's batch is drawn as pairs ``(i, i + N // 2)`` (with the same class when G is
    conditional) and the term is :func:`srngan.losses.mode_seeking_term` of the pairs. A batch
    of one image carries no pair: the term is 0 then. Logged as ``loss/g_mode_seeking``.

    Example (YAML)::

        terms: [{class_path: srngan.terms.ModeSeeking, init_args: {weight: 0.25}}]
    """

    name = "mode_seeking"

    def inputs(self, z: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        if labels is None or labels.shape[0] < 2:
            return z, labels
        h = labels.shape[0] // 2
        return z, torch.cat([labels[:h], labels[:h], labels[2 * h :]])

    def loss(self, step: GStep) -> Tensor:
        if step.fake.shape[0] < 2:
            return step.fake.sum() * 0.0
        return mode_seeking_term(step.fake, step.z)
