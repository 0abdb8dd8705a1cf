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

DOMAIN_VERSION = 1


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
    images: Tensor, labels: Tensor, num_classes: int, epochs: int = 3, seed: int = 0
) -> DomainClassifier:
    """Train on uint8 images; deterministic on CPU for a seed."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        net = DomainClassifier(num_classes)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            order = torch.randperm(images.shape[0], generator=g)
            for start in range(0, images.shape[0], 128):
                idx = order[start : start + 128]
                loss = F.cross_entropy(net(images[idx])[1], labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return net.eval().requires_grad_(False)


def load_domain_classifier(
    num_classes: int = 10, size: int = 32, num_images: int = 10000, seed: int = 0
) -> DomainClassifier:
    """The cached classifier for the procedural dataset with these settings (trained on a miss)."""
    from srngan.data.procedural import ShapesDataset

    def train() -> dict:
        data = ShapesDataset(num_images, num_classes, size, seed)
        return train_domain_classifier(data.images, data.labels, num_classes).state_dict()

    key = cache_key(
        kind="domain",
        version=DOMAIN_VERSION,
        classes=num_classes,
        size=size,
        n=num_images,
        seed=seed,
    )
    state, _ = cached("domain-classifier", key, train)
    net = DomainClassifier(num_classes)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)
