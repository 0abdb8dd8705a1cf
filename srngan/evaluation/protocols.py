"""The paper's two protocol metrics that draw their own samples: Neural Divergence and eLhist.

Unlike the feature metrics they sample real images at random (with replacement, from a dataset)
and call the generator on the fly: ND trains a fresh critic on generated vs held-out real images
(:mod:`srngan.metrics.neural_divergence`), eLhist measures a discriminator on real / generated
pairs (:mod:`srngan.metrics.elhist`). Pure torch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from srngan.evaluation.settings import EvalSettings
from srngan.evaluation.sources import GeneratorImages
from srngan.metrics.elhist import elhist_from_samples
from srngan.metrics.neural_divergence import neural_divergence

ELHIST_CHUNK = 250  # pairs per discriminator call


def real_sampler(data: Dataset, seed: int) -> Callable[..., Tensor]:
    """``sample(n) -> images`` and ``sample.pairs(n, classes) -> (images_a, images_b)``.

    The two members of a pair are always two different images (of ``classes[i]`` when
    given): drawn with replacement, a pair could hold one image twice and give 0 / 0.
    """
    g = torch.Generator().manual_seed(seed)
    by_class: dict[int, Tensor] | None = None

    def load(idx: Tensor) -> Tensor:
        return torch.stack([data[int(i)][0] for i in idx])

    def sample(n: int) -> Tensor:
        return load(torch.randint(len(data), (n,), generator=g))

    def pairs(n: int, classes: Tensor | None = None) -> tuple[Tensor, Tensor]:
        nonlocal by_class
        if classes is None:
            a, b = distinct_pair(torch.full((n,), len(data)), g)
            return load(a), load(b)
        if by_class is None:
            labels = dataset_labels(data)
            by_class = {int(c): (labels == c).nonzero().squeeze(1) for c in labels.unique()}
        pools = [by_class.get(c, torch.empty(0, dtype=torch.int64)) for c in classes.tolist()]
        sizes = torch.tensor([p.numel() for p in pools])
        if (sizes < 2).any():
            c = int(classes[(sizes < 2).nonzero()[0, 0]])
            raise ValueError(
                f"class {c} has {int(sizes.min())} real images; eLhist real-real pairs need 2"
            )
        a, b = distinct_pair(sizes, g)
        return (
            load(torch.stack([p[i] for p, i in zip(pools, a)])),
            load(torch.stack([p[i] for p, i in zip(pools, b)])),
        )

    sample.pairs = pairs
    return sample


def fake_sampler(fake: GeneratorImages, seed: int) -> Callable[..., Tensor]:
    """``sample(n, classes=None) -> images in [-1, 1]`` of ``fake`` (labels uniform at random
    for a conditional generator when ``classes`` is not given)."""
    g = torch.Generator().manual_seed(seed)

    def sample(n: int, classes: Tensor | None = None) -> Tensor:
        z = torch.randn(n, fake.z_dim, generator=g).to(fake.device)
        if fake.num_classes and classes is None:
            classes = torch.randint(fake.num_classes, (n,), generator=g)
        y = None if classes is None or not fake.num_classes else classes.to(fake.device)
        with torch.no_grad():
            return fake.generate(z, y)

    return sample


def neural_divergence_of(
    settings: EvalSettings,
    fake: GeneratorImages,
    heldout: Dataset,
    resolution: int,
    stop_point: Callable[[], None] | None = None,
) -> float:
    """Neural Divergence of ``fake`` against the ``heldout`` real images (paper: the test set);
    ``stop_point`` is called after each critic step."""
    s = settings
    real = real_sampler(heldout, s.seed + 1)
    sample = fake_sampler(fake, s.seed + 2)
    progress = None if stop_point is None else (lambda _: stop_point())
    return neural_divergence(
        lambda n: sample(n), real, resolution, s.nd_iterations, 128, s.nd_eval_samples,
        fake.device, s.seed, progress,
    )  # fmt: skip


def elhist_of(
    settings: EvalSettings,
    fake: GeneratorImages,
    data: Dataset,
    discriminator: nn.Module,
    stop_point: Callable[[], None] | None = None,
) -> dict[str, Tensor]:
    """eLhist values of ``discriminator`` on ``elhist_pairs`` pairs per kind (real pairs from
    ``data``; a conditional generator gets one random class per pair, for both members);
    ``stop_point`` is called after each chunk of pairs."""
    s, device = settings, fake.device
    real = real_sampler(data, s.seed + 3)
    sample = fake_sampler(fake, s.seed + 4)
    g = torch.Generator().manual_seed(s.seed + 5)
    out: dict[str, list[Tensor]] = {}
    was_training = discriminator.training
    discriminator.eval()  # no power-iteration or BN updates while measuring
    try:
        for start in range(0, s.elhist_pairs, ELHIST_CHUNK):
            n = min(ELHIST_CHUNK, s.elhist_pairs - start)
            classes = (
                torch.randint(fake.num_classes, (n,), generator=g) if fake.num_classes else None
            )
            ra, rb = real.pairs(n, classes)
            fa, fb = sample(n, classes), sample(n, classes)
            labels = None if classes is None else classes.to(device)
            part = elhist_from_samples(
                discriminator, ra.to(device), rb.to(device), fa, fb, labels, s.elhist_noise_std
            )
            for k, v in part.items():
                out.setdefault(k, []).append(v.cpu())
            if stop_point is not None:
                stop_point()
    finally:
        discriminator.train(was_training)
    return {k: torch.cat(v) for k, v in out.items()}


def dataset_labels(data: Dataset) -> Tensor:
    """All labels of a dataset, from its label array when it has one (no image decoding)."""
    for name in ("labels", "targets"):  # ShapesDataset; torchvision CIFAR / ImageFolder
        array = getattr(data, name, None)
        if array is not None:
            return torch.as_tensor(array, dtype=torch.int64)
    return torch.tensor([int(data[i][1]) for i in range(len(data))])


def distinct_pair(sizes: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Per entry ``k``, two different indices uniform in ``range(sizes[k])`` (``sizes >= 2``)."""
    a = (torch.rand(sizes.shape, generator=g, dtype=torch.float64) * sizes).long()
    b = (torch.rand(sizes.shape, generator=g, dtype=torch.float64) * (sizes - 1)).long()
    return a, b + (b >= a).long()  # uniform over the other sizes - 1 indices
