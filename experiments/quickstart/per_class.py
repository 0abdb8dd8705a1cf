"""Per-class accuracy of a quickstart run's last checkpoint (EMA G, 200 samples per class),
by the domain classifier and by the stronger second opinion (strong_classifier.py), and the
fraction of samples of a real shape size (shape_sizes.py).

    python experiments/quickstart/per_class.py RUN_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from shape_sizes import real_area_bounds, sample_sizes_ok
from strong_classifier import load_strong_classifier

from srngan.metrics.domain import load_domain_classifier
from srngan.metrics.images import images_to_uint8
from srngan.training.module import GANModule


def main(run: Path, per_class: int = 200) -> None:
    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    k = model.num_conditional_classes
    labels = torch.arange(k).repeat_interleave(per_class)
    z = torch.randn(len(labels), model.z_dim, generator=torch.Generator().manual_seed(99))
    images = images_to_uint8(model.generate(z, labels))
    for name, net in (
        ("domain", load_domain_classifier(k, 32)),
        ("strong", load_strong_classifier(k)),
    ):
        hit = (net(images)[1].argmax(1) == labels).float().view(k, per_class).mean(1)
        print(f"{name}: {hit.mean():.3f}  per class", " ".join(f"{a:.2f}" for a in hit.tolist()))
    sizes = sample_sizes_ok(model, labels, z, real_area_bounds())
    print(f"sizes: {sum(sizes) / k:.3f}  per class", " ".join(f"{a:.2f}" for a in sizes))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
