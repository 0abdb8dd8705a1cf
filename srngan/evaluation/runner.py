"""Everything one evaluation computes, for the training callback and ``srngan evaluate`` alike.

Pure torch: it receives the generator, discriminator and datasets, never the training objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from srngan.data.procedural import ShapesDataset
from srngan.evaluation.evaluator import Evaluator
from srngan.evaluation.settings import EvalSettings
from srngan.metrics import keys
from srngan.metrics.elhist import elhist_from_samples, percentile_95
from srngan.metrics.inception import extract_features, load_inception
from srngan.metrics.neural_divergence import neural_divergence

Generate = Callable[[Tensor, Tensor | None], Tensor]


def build_extractor(
    settings: EvalSettings, num_classes: int, resolution: int, device
) -> tuple[Callable, int, int, dict]:
    """``(extractor, feature_dim, logit_dim, cache_key_fields)`` for the settings' extractor."""
    if settings.extractor == "inception":
        net = load_inception(settings.inception_weights, settings.download_weights).to(device)
        return (
            (lambda x: extract_features(net, x)),
            2048,
            1008,
            {"extractor": "inception-v3-compat", "weights": net.weights_digest},
        )
    if settings.extractor == "domain":
        from srngan.metrics.domain import load_domain_classifier

        if num_classes < 2:
            raise ValueError("the domain extractor needs the labelled procedural dataset")
        net = load_domain_classifier(num_classes, resolution).to(device)
        return (
            (lambda x: net(x)),
            128,
            num_classes,
            {"extractor": "domain", "classes": num_classes, "size": resolution},
        )
    raise ValueError(f"unknown extractor {settings.extractor!r}; allowed: inception, domain")


def build_set_extractor(settings: EvalSettings, device) -> tuple[Callable, int, dict]:
    """``(extractor, feature_dim, cache_key_fields)`` of precision / recall and density /
    coverage with the Inception extractor: torch-fidelity's VGG-16 (``fc2_relu``, 4096-d)."""
    from srngan.metrics.vgg import VGG16_FEATURE_DIM, load_vgg16

    net = load_vgg16(settings.vgg16_weights, settings.download_weights).to(device)
    return (
        net,
        VGG16_FEATURE_DIM,
        {"set_extractor": "vgg16-fc2_relu", "weights": net.weights_digest},
    )


class MetricRunner:
    """Computes the configured metrics of a generator (and its discriminator) against real data.

    Args:
        settings: which metrics and how many samples.
        reference_key: what the training data is (dataset, split, resolution...), for the
            reference-statistics cache; ``None`` disables the cache.
        train_data: real training images (FID / KID / Intra-FID reference, eLhist real samples).
        heldout_data: real images for Neural Divergence's critic (paper: the test set; CelebA's
            training set, footnote 13: see :func:`srngan.data.real.nd_split`).
        num_classes: classes of a conditional generator (0: unconditional).
        z_dim, resolution: the generator's latent size and image side.
    """

    def __init__(
        self,
        settings: EvalSettings,
        train_data: Dataset,
        heldout_data: Dataset | None,
        num_classes: int,
        z_dim: int,
        resolution: int,
        device: torch.device | str = "cpu",
        reference_key: dict | None = None,
    ) -> None:
        self.settings = settings
        self.reference_key = reference_key
        self.train_data = train_data
        self.heldout_data = heldout_data
        self.num_classes = num_classes
        self.z_dim = z_dim
        self.resolution = resolution
        self.device = torch.device(device)
        self._extractor: tuple | None = None
        self._set_extractor: tuple | None = None
        self._evaluators: dict[tuple[str, ...], Evaluator] = {}

    @property
    def evaluator(self) -> Evaluator:
        """The evaluator of the settings' metrics."""
        return self.evaluator_for(self.settings.metrics)

    def evaluator_for(self, metrics: Sequence[str]) -> Evaluator:
        """An evaluator of ``metrics``; all of them share one extractor (loaded once)."""
        wanted = tuple(sorted(set(metrics)))
        if wanted not in self._evaluators:
            if self._extractor is None:
                if self.settings.extractor == "domain" and not isinstance(
                    self.train_data, ShapesDataset
                ):
                    raise ValueError(
                        "the domain extractor is a classifier of the procedural shapes only, got "
                        f"{type(self.train_data).__name__} data; use extractor inception"
                    )
                # The domain classifier knows the data's classes, whether or not G uses them.
                classes = self.num_classes or getattr(self.train_data, "num_classes", 0)
                self._extractor = build_extractor(
                    self.settings, classes, self.resolution, self.device
                )
            extractor, dim, logits, extractor_key = self._extractor
            s = replace(self.settings, metrics=wanted)
            key = None if not self.reference_key else {**self.reference_key, **extractor_key}
            set_extractor = None
            if s.extractor == "inception" and set(wanted) & {"prc", "dc"}:
                if self._set_extractor is None:
                    self._set_extractor = build_set_extractor(s, self.device)
                set_extractor = self._set_extractor
            self._evaluators[wanted] = Evaluator(
                extractor, dim, logits, self.train_data, s, key, self.num_classes, self.device,
                class_accuracy=s.extractor == "domain", set_extractor=set_extractor,
            )  # fmt: skip
        return self._evaluators[wanted]

    def run(
        self,
        generate: Generate,
        discriminator: nn.Module | None = None,
        metrics: Sequence[str] | None = None,
    ) -> tuple[dict[str, float], dict[str, Tensor]]:
        """``(scalar results, eLhist arrays)``; ``generate(z, labels)`` gives images in [-1, 1].

        ``metrics`` overrides the settings' metric list for this run.
        """
        s = self.settings
        wants = set(s.metrics if metrics is None else metrics)
        results: dict[str, float] = {}
        if wants & {"is", "fid", "kid", "intra_fid", "prc", "dc"}:
            found = self.evaluator_for(wants).evaluate(generate, self.z_dim)
            results.update(_domain_names(found) if s.extractor == "domain" else found)
        arrays: dict[str, Tensor] = {}
        if "nd" in wants:
            results[keys.KEY_ND] = self.neural_divergence(generate)
        if "elhist" in wants and discriminator is not None:
            arrays = self.elhist(generate, discriminator)
            results.update({f"elhist_{k}_p95": percentile_95(v) for k, v in arrays.items()})
        return results, arrays

    # ------------------------------------------------------------------ samplers
    def _real_sampler(self, data: Dataset, seed: int) -> Callable[..., tuple[Tensor, Tensor]]:
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
                a, b = _distinct_pair(torch.full((n,), len(data)), g)
                return load(a), load(b)
            if by_class is None:
                labels = _dataset_labels(data)
                by_class = {int(c): (labels == c).nonzero().squeeze(1) for c in labels.unique()}
            pools = [by_class.get(c, torch.empty(0, dtype=torch.int64)) for c in classes.tolist()]
            sizes = torch.tensor([p.numel() for p in pools])
            if (sizes < 2).any():
                c = int(classes[(sizes < 2).nonzero()[0, 0]])
                raise ValueError(
                    f"class {c} has {int(sizes.min())} real images; eLhist real-real pairs need 2"
                )
            a, b = _distinct_pair(sizes, g)
            return (
                load(torch.stack([p[i] for p, i in zip(pools, a)])),
                load(torch.stack([p[i] for p, i in zip(pools, b)])),
            )

        sample.pairs = pairs
        return sample

    def _fake_sampler(self, generate: Generate, seed: int) -> Callable[..., Tensor]:
        g = torch.Generator().manual_seed(seed)

        def sample(n: int, classes: Tensor | None = None) -> Tensor:
            z = torch.randn(n, self.z_dim, generator=g).to(self.device)
            if self.num_classes and classes is None:
                classes = torch.randint(self.num_classes, (n,), generator=g)
            y = None if classes is None or not self.num_classes else classes.to(self.device)
            with torch.no_grad():
                return generate(z, y)

        return sample

    # ------------------------------------------------------------------ metrics
    def neural_divergence(self, generate: Generate) -> float:
        s = self.settings
        data = self.heldout_data if self.heldout_data is not None else self.train_data
        real = self._real_sampler(data, s.seed + 1)
        fake = self._fake_sampler(generate, s.seed + 2)
        return neural_divergence(
            lambda n: fake(n), real, self.resolution, s.nd_iterations,
            128, s.nd_eval_samples, self.device, s.seed,
        )  # fmt: skip

    def elhist(self, generate: Generate, discriminator: nn.Module) -> dict[str, Tensor]:
        s = self.settings
        real = self._real_sampler(self.train_data, s.seed + 3)
        fake = self._fake_sampler(generate, s.seed + 4)
        g = torch.Generator().manual_seed(s.seed + 5)
        out: dict[str, list[Tensor]] = {}
        was_training = discriminator.training
        discriminator.eval()  # no power-iteration or BN updates while measuring
        try:
            for start in range(0, s.elhist_pairs, 250):
                n = min(250, s.elhist_pairs - start)
                classes = (
                    torch.randint(self.num_classes, (n,), generator=g) if self.num_classes else None
                )
                ra, rb = real.pairs(n, classes)
                fa, fb = fake(n, classes), fake(n, classes)
                labels = None if classes is None else classes.to(self.device)
                part = elhist_from_samples(
                    discriminator,
                    ra.to(self.device),
                    rb.to(self.device),
                    fa,
                    fb,
                    labels,
                    s.elhist_noise_std,
                )
                for k, v in part.items():
                    out.setdefault(k, []).append(v.cpu())
        finally:
            discriminator.train(was_training)
        return {k: torch.cat(v) for k, v in out.items()}


def _dataset_labels(data: Dataset) -> Tensor:
    """All labels of a dataset, from its label array when it has one (no image decoding)."""
    for name in ("labels", "targets"):  # ShapesDataset; torchvision CIFAR / ImageFolder
        array = getattr(data, name, None)
        if array is not None:
            return torch.as_tensor(array, dtype=torch.int64)
    return torch.tensor([int(data[i][1]) for i in range(len(data))])


def _distinct_pair(sizes: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Per entry ``k``, two different indices uniform in ``range(sizes[k])`` (``sizes >= 2``)."""
    a = (torch.rand(sizes.shape, generator=g, dtype=torch.float64) * sizes).long()
    b = (torch.rand(sizes.shape, generator=g, dtype=torch.float64) * (sizes - 1)).long()
    return a, b + (b >= a).long()  # uniform over the other sizes - 1 indices


def _domain_names(found: dict[str, float]) -> dict[str, float]:
    """Domain-classifier results under their own names: never reported as Inception metrics."""
    renamed = {
        keys.KEY_FID: keys.KEY_DOMAIN_FID,
        keys.KEY_IS_MEAN: keys.KEY_DOMAIN_IS,
        keys.KEY_IS_STD: "domain_is_std",
        keys.KEY_KID_MEAN: "domain_kid_mean",
        keys.KEY_KID_STD: "domain_kid_std",
        keys.KEY_INTRA_FID: "domain_intra_fid",
        keys.KEY_DOMAIN_ACCURACY: keys.KEY_DOMAIN_ACCURACY,
        **{k: f"domain_{k}" for k in (keys.KEY_PRECISION, keys.KEY_RECALL, keys.KEY_F_SCORE,
                                      keys.KEY_DENSITY, keys.KEY_COVERAGE)},
    }  # fmt: skip
    per_class = keys.KEY_INTRA_FID_CLASS
    return {
        f"domain_intra_fid_class_{k.removeprefix(per_class)}"
        if k.startswith(per_class)
        else renamed[k]: v
        for k, v in found.items()
    }
