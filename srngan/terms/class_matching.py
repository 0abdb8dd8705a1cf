"""Class-wise matching of G's samples to the reals, on D's features or on colour statistics."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from srngan.losses import class_feature_matching, colour_statistics
from srngan.terms.base import GStep, GTerm


class ClassMatching(GTerm):
    """Pulls the mean statistics of G's samples of each class to those of that class's reals.

    The reals are the D step's batch just before this G step;
    :func:`srngan.losses.class_feature_matching` compares the class means (unconditional: one
    class). It gives G a direction where D's logit may give none, e.g. for a class whose
    samples collapsed to something D scores as plausible.

    Args:
        weight: factor in G's loss.
        statistics: ``"discriminator"``: D's features (``discriminator.features(x, y)``,
            one more D pass over fakes and reals; logged ``loss/g_feature_matching``);
            ``"colour"``: fixed pixel statistics (:func:`srngan.losses.colour_statistics`:
            per channel the mean, the mean square, the mean of the brightest 10 %), whose
            gradient does not depend on D and needs no D pass (``loss/g_colour_matching``).

    Example (YAML)::

        terms:
          - {class_path: srngan.terms.ClassMatching, init_args: {statistics: discriminator}}
          - {class_path: srngan.terms.ClassMatching, init_args: {statistics: colour}}
    """

    def __init__(
        self, weight: float = 1.0, statistics: Literal["discriminator", "colour"] = "discriminator"
    ) -> None:
        super().__init__(weight)
        if statistics not in ("discriminator", "colour"):
            raise ValueError(
                f"ClassMatching statistics must be 'discriminator' or 'colour', got {statistics!r}"
            )
        self.statistics = statistics

    @property
    def name(self) -> str:
        return "feature_matching" if self.statistics == "discriminator" else "colour_matching"

    def check(self, generator, discriminator) -> None:
        if self.statistics == "discriminator" and not callable(
            getattr(discriminator, "features", None)
        ):
            raise ValueError(
                "ClassMatching(statistics='discriminator') needs a discriminator with "
                f"features(x, y); {type(discriminator).__name__} has none "
                "(use statistics='colour', or add features to your D)"
            )

    def loss(self, step: GStep) -> Tensor:
        n = step.fake.shape[0]
        images = step.fake_and_real
        if self.statistics == "discriminator":  # one D pass; the real rows carry no gradient
            labels = None if step.labels is None else torch.cat([step.labels, step.real_labels])
            stats = step.discriminator.features(images, labels)
        else:
            stats = colour_statistics(images)
        return class_feature_matching(stats[:n], stats[n:], step.labels, step.real_labels)

    def __repr__(self) -> str:
        return f"ClassMatching(weight={self.weight:g}, statistics={self.statistics!r})"
