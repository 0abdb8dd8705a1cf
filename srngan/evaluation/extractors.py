"""The feature extractors of an evaluation, built once from its settings (pure torch).

``inception``: torch-fidelity's Inception-v3 (2048-d pool features, 1008 logits) for IS, FID,
KID and Intra-FID, and its VGG-16 (``fc2_relu``, 4096-d) for precision / recall and density /
coverage (the *set* metrics). ``domain``: the procedural data's classifier
(:mod:`srngan.metrics.domain`, 128-d features and one logit per class) for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from srngan.evaluation.settings import EvalSettings
from srngan.metrics.inception import extract_features, load_inception


@dataclass
class Extractor:
    """``uint8 images -> (features, logits)`` with its sizes and what identifies its weights.

    Attributes:
        net: the network call (batched, no grad needed).
        feature_dim, num_logits: sizes of its two outputs.
        key: fields that identify the network (weights digest...), part of cache keys.
    """

    net: Callable[[Tensor], tuple[Tensor, Tensor]]
    feature_dim: int
    num_logits: int
    key: dict = field(default_factory=dict)

    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            return self.net(images)


def build_extractor(
    settings: EvalSettings, domain_classes: int, resolution: int, device
) -> Extractor:
    """The settings' main extractor on ``device``.

    Args:
        domain_classes, resolution: the procedural data the domain classifier is trained on
            (unused by ``inception``).
    """
    if settings.extractor == "inception":
        net = load_inception(settings.inception_weights, settings.download_weights).to(device)
        key = {"extractor": "inception-v3-compat", "weights": net.weights_digest}
        return Extractor(lambda x: extract_features(net, x), 2048, 1008, key)
    if settings.extractor == "domain":
        from srngan.metrics.domain import load_domain_classifier

        if domain_classes < 2:
            raise ValueError("the domain extractor needs the labelled procedural dataset")
        net = load_domain_classifier(domain_classes, resolution).to(device)
        key = {"extractor": "domain", "classes": domain_classes, "size": resolution}
        return Extractor(net, 128, domain_classes, key)
    raise ValueError(f"unknown extractor {settings.extractor!r}; allowed: inception, domain")


def build_set_extractor(settings: EvalSettings, device) -> Extractor:
    """torch-fidelity's VGG-16 (``fc2_relu``, 4096-d, no logits): the set metrics' extractor
    beside Inception."""
    from srngan.metrics.vgg import VGG16_FEATURE_DIM, load_vgg16

    net = load_vgg16(settings.vgg16_weights, settings.download_weights).to(device)
    key = {"set_extractor": "vgg16-fc2_relu", "weights": net.weights_digest}
    return Extractor(net, VGG16_FEATURE_DIM, 0, key)
