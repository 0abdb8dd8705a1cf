"""The one declaration of every evaluation setting and its default.

:class:`EvalSettings` is read by the evaluator, by ``MetricsCallback.__init__`` (its defaults are
these fields') and by ``srngan evaluate`` (its options' defaults and help text come from
:func:`default` and :func:`help_text`), so a default changes in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields

from srngan.metrics import keys

EXTRACTORS = ("inception", "domain")


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class EvalSettings:
    """Which metrics, how many samples, and the protocol settings (paper defaults, Appendix E.1)."""

    metrics: Sequence[str] = _setting(
        ("is", "fid"), f"metrics to compute, from: {', '.join(keys.METRICS)}"
    )
    num_samples: int = _setting(5000, "generated images for FID / KID (paper: 5000)")
    num_is_samples: int = _setting(50000, "generated images for IS (paper: 50000)")
    num_real: int = _setting(
        10000, "real reference images for FID / KID (paper: 10000 training images)"
    )
    kid_subsets: int = _setting(100, "KID subsets (torch-fidelity: 100)")
    kid_subset_size: int = _setting(1000, "KID subset size (torch-fidelity: 1000)")
    intra_fid_samples_per_class: int = _setting(
        5000,
        "Intra-FID: images generated conditioned on each class, compared with all training "
        "images of that class (Miyato & Koyama 2018: 5000)",
    )
    prc_neighbours: int = _setting(
        3, "precision / recall: k of the k-NN balls (Kynkäänniemi et al. 2019, torch-fidelity: 3)"
    )
    dc_neighbours: int = _setting(5, "density / coverage: k of the k-NN balls (Naeem et al.: 5)")
    batch_size: int = _setting(100, "images per generator / feature-extractor batch")
    seed: int = _setting(0, "seed of the latents, labels and real subsets")
    extractor: str = _setting(
        "inception",
        "inception (torch-fidelity's Inception-v3) or domain (the procedural data's classifier; "
        "results named domain_*)",
    )
    inception_weights: str | None = _setting(
        None, "path of weights-inception-2015-12-05-6726825d.pth"
    )
    vgg16_weights: str | None = _setting(
        None,
        "path of vgg16-397923af.pth (torchvision's ImageNet VGG-16: precision / recall and "
        "density / coverage with the inception extractor)",
    )
    download_weights: bool = _setting(False, "allow downloading the Inception / VGG-16 weights")
    nd_iterations: int = _setting(100_000, "Neural Divergence critic steps (paper: 100000)")
    nd_eval_samples: int = _setting(1_000_000, "Neural Divergence scored samples (paper: 1M)")
    elhist_pairs: int = _setting(2000, "eLhist sample pairs per kind (paper: 2000)")
    elhist_noise_std: float = _setting(
        0.01, "eLhist: noise added around samples for gradient norms"
    )

    def __post_init__(self) -> None:
        self.metrics = tuple(self.metrics)
        unknown = [m for m in self.metrics if m not in keys.METRICS]
        if unknown:
            raise ValueError(
                f"unknown metric(s) {', '.join(unknown)}; allowed: {', '.join(keys.METRICS)}"
            )
        if self.extractor not in EXTRACTORS:
            raise ValueError(
                f"unknown extractor {self.extractor!r}; allowed: {', '.join(EXTRACTORS)}"
            )
        for name in COUNTS:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


COUNTS = (
    "num_samples", "num_is_samples", "num_real", "intra_fid_samples_per_class", "kid_subset_size",
    "kid_subsets", "batch_size", "elhist_pairs", "prc_neighbours", "dc_neighbours",
)  # fmt: skip


def default(name: str):
    """The default of setting ``name``."""
    f = next(f for f in fields(EvalSettings) if f.name == name)
    return f.default if f.default is not MISSING else f.default_factory()


def help_text(name: str) -> str:
    """The help text of setting ``name``, with its default."""
    f = next(f for f in fields(EvalSettings) if f.name == name)
    value = default(name)
    shown = ",".join(value) if isinstance(value, tuple) else value
    return f"{f.metadata['help']} (default: {shown})"
