"""Every shipped config parses and builds the model it promises, without training or downloading."""

import pytest
import yaml
from conftest import CONFIGS

from srngan.cli import instantiate
from srngan.losses import Hinge, Wasserstein
from srngan.nn._srn import _StableRankNorm
from srngan.regularizers import GradientPenalty, Orthonormal, SpectralNorm, StableRankNorm
from srngan.training.module import GANModule

ALL = sorted(p.name for p in CONFIGS.glob("*.yaml"))
PAPER = [
    "cifar10_uncond_srn70", "cifar10_uncond_srn50", "cifar10_uncond_sn", "cifar10_uncond_wgangp",
    "cifar10_uncond_ortho", "cifar10_uncond_vanilla", "cifar10_cond_srn70", "cifar10_cond_srn50",
    "cifar10_cond_sn", "cifar100_uncond_srn70", "cifar100_uncond_sn", "celeba_srn70", "celeba_sn",
]  # fmt: skip


FAST = ["cifar10_uncond_srn70_fast", "cifar10_uncond_sn_fast", "cifar10_cond_srn70_fast"]


def test_all_paper_configs_exist():
    names = {f"{n}.yaml" for n in [*PAPER, *FAST]} | {"quickstart.yaml"}
    assert names == set(ALL)


# (generator, discriminator) parameter counts of torch-mimicry's SN-GAN / cGAN-PD reference nets.
_REFERENCE = {(32, 0): (4_276_739, 1_053_825), (32, 10): (4_304_387, 1_055_105),
              (64, 0): (12_220_675, 10_141_441)}  # fmt: skip
_REGULARIZERS = {"srn": StableRankNorm, "sn": SpectralNorm, "wgangp": GradientPenalty,
                 "ortho": Orthonormal, "vanilla": type(None)}  # fmt: skip


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", ALL)
def test_config_instantiates(name):
    cfg = yaml.safe_load((CONFIGS / name).read_text())
    model, data = instantiate("--config", str(CONFIGS / name))
    assert isinstance(model, GANModule)
    assert data.dataset_name == cfg["data"]["init_args"]["dataset"]
    assert (
        model.generator.resolution
        == data.resolution
        == (64 if data.dataset_name == "celeba" else 32)
    )
    conditional = "_cond_" in name or name == "quickstart.yaml"
    assert model.num_conditional_classes == (data.num_classes if conditional else 0)
    # SN is the same parametrization with rank_ratio 1: SRN proper has a ratio below 1.
    srn = [m for m in model.discriminator.modules()
           if isinstance(m, _StableRankNorm) and m.rank_ratio < 1]  # fmt: skip
    assert bool(srn) == isinstance(model.regularizer, StableRankNorm)
    if srn:
        assert all(m.rank_ratio == model.regularizer.rank_ratio for m in srn)
    if name in (f"{n}.yaml" for n in PAPER):
        hp = model.hparams
        # Appendix E.1 hyperparameters.
        assert (hp.lr_g, hp.lr_d, tuple(hp.betas), hp.n_dis, model.z_dim) == (
            2e-4,
            2e-4,
            (0.0, 0.999),
            5,
            128,
        )
        expected = Wasserstein if "wgangp" in name else Hinge
        assert type(model.loss_fn) is expected
        kind = name.removesuffix(".yaml").split("_")[-1]
        regularizer = None if kind == "vanilla" else model.regularizer
        assert type(regularizer) is _REGULARIZERS[kind.rstrip("0123456789")]
        if kind.startswith("srn"):
            assert model.regularizer.rank_ratio == int(kind[3:]) / 100
        # The paper's networks: SN-GAN's ResNets with the reference parameter counts.
        key = (data.resolution, model.num_conditional_classes)
        assert (_count(model.generator), _count(model.discriminator)) == _REFERENCE[key]


@pytest.mark.parametrize("name", [n for n in PAPER if n.startswith(("cifar10_", "celeba_"))])
def test_paper_configs_compute_nd_and_elhist_at_the_end(name):
    # Table 4 (ND) and Figure 5 (eLhist) from the paper's own runs, with Appendix E's settings.
    cfg = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    (metrics,) = [
        c["init_args"] for c in cfg["trainer"]["callbacks"] if "MetricsCallback" in c["class_path"]
    ]
    assert set(metrics["final_metrics"]) == {"nd", "elhist"}
    assert metrics.get("nd_iterations", 100_000) == 100_000
    assert metrics.get("nd_eval_samples", 1_000_000) == 1_000_000
    assert metrics.get("elhist_pairs", 2000) == 2000
    if "intra_fid" in metrics["metrics"]:
        assert metrics["intra_fid_samples_per_class"] == 5000
