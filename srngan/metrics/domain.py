"""A small classifier of the procedural shapes dataset, used as an offline feature extractor.

Inception features need downloaded weights and mean little on synthetic shapes; this network,
trained once (deterministically, then cached) on the procedural training set, gives a labelled
"domain FID" / "domain IS" and the class accuracy of conditional samples. These are not
Inception scores and are never reported as such.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.metrics.cache import cache_key, cached

# 2: 8 epochs with a one-cycle schedule (1.00 on held-out real images; v1, 3 epochs: 0.92-0.95).
DOMAIN_VERSION = 2


class DomainClassifier(nn.Module):
    """conv-pool x3 -> 128-d features -> class logits; input uint8 images like the Inception net."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(4), nn.Flatten(),
            nn.Linear(64 * 16, 128), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(128, num_classes)

    def forward(self, images_uint8: Tensor) -> tuple[Tensor, Tensor]:
        x = images_uint8.float() / 127.5 - 1.0
        features = self.body(x)
        return features, self.head(features)


def train_domain_classifier(
    images: Tensor, labels: Tensor, num_classes: int, epochs: int = 8, seed: int = 0
) -> DomainClassifier:
    """Train on uint8 images with Adam and a one-cycle schedule; deterministic on CPU for a seed.

    A judge of class accuracy must itself recognise real images: with the defaults it is right on
    all of 2000 held-out procedural images (3 epochs without the schedule: 0.92-0.95, squares
    taken for circles), which ``tests/test_evaluation.py`` checks.
    """
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        net = DomainClassifier(num_classes)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        batches = -(-images.shape[0] // 128)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=epochs * batches)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            order = torch.randperm(images.shape[0], generator=g)
            for start in range(0, images.shape[0], 128):
                idx = order[start : start + 128]
                loss = F.cross_entropy(net(images[idx])[1], labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                schedule.step()
    return net.eval().requires_grad_(False)


def domain_classifier_key(
    num_classes: int = 10, size: int = 32, num_images: int = 10000, seed: int = 0
) -> str:
    """The cache key of :func:`load_domain_classifier`'s classifier for these settings (the
    entry ``domain-classifier-<key>`` of :mod:`srngan.metrics.cache`)."""
    return cache_key(
        kind="domain", version=DOMAIN_VERSION, classes=num_classes, size=size, n=num_images,
        seed=seed,
    )  # fmt: skip


def load_domain_classifier(
    num_classes: int = 10, size: int = 32, num_images: int = 10000, seed: int = 0
) -> DomainClassifier:
    """The cached classifier for the procedural dataset with these settings (trained on a miss)."""
    from srngan.data.procedural import ShapesDataset

    def train() -> dict:
        data = ShapesDataset(num_images, num_classes, size, seed)
        return train_domain_classifier(data.images, data.labels, num_classes).state_dict()

    state, _ = cached(
        "domain-classifier", domain_classifier_key(num_classes, size, num_images, seed), train
    )
    net = DomainClassifier(num_classes)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)
