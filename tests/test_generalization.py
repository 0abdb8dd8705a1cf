"""Issue 21's instruments: SRN binding factor, D's generalization gap, held-out split sizes,
orthogonal initialization, metrics against held-out reals."""

import json
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from srngan.data.datamodule import GANDataModule
from srngan.models import ResNetDiscriminator, SmallDiscriminator
from srngan.nn import stable_rank, stable_rank_norm
from srngan.nn._matrix import output_dim, weight_to_matrix
from srngan.nn.diagnostics import binding_scalars, srn_shrink_factors
from srngan.regularizers import StableRankNorm
from srngan.training.generalization import KEY_GAP, GeneralizationGap, generalization_gap


def _svd_shrink(weight: torch.Tensor, rank_ratio: float, dim: int) -> float:
    """Independent reference: s from the exact float64 singular values of W."""
    w = weight_to_matrix(weight.detach(), dim).double()
    s = torch.linalg.svdvals(w)
    r = max(1.0, rank_ratio * min(w.shape))
    residual = math.sqrt(float((s**2).sum() / s[0] ** 2) - 1.0)  # ||W/sigma_1 - u_1 v_1^T||_F
    return min(1.0, math.sqrt(r - 1.0) / residual)


@pytest.mark.parametrize("rank_ratio", [0.1, 0.3, 0.7, 0.95])
@pytest.mark.parametrize(
    "make", [lambda: nn.Linear(48, 24), lambda: nn.Conv2d(6, 12, 3), lambda: nn.Embedding(10, 30)]
)
def test_shrink_factor_matches_float64_svd(make, rank_ratio):
    torch.manual_seed(0)
    layer = stable_rank_norm(make().double(), rank_ratio=rank_ratio)
    p = layer.parametrizations.weight[0]
    with torch.no_grad():  # converge the power iteration (random matrices: slow spectral gap)
        p._power_method(weight_to_matrix(layer.parametrizations.weight.original, p.dim), 2000)
    net = nn.Sequential(layer)
    found = srn_shrink_factors(net)["0"]
    expected = _svd_shrink(layer.parametrizations.weight.original, rank_ratio, output_dim(layer))
    # 1e-6: the converged power iteration gives sigma_1 to ~1e-12 relative; s depends on it smoothly.
    assert found == pytest.approx(expected, rel=1e-6, abs=1e-9)
    # And it is what the layer applies: the stable rank of the effective weight is min(r, srank).
    effective = stable_rank(layer.weight, output_dim(layer))
    r = max(1.0, rank_ratio * min(weight_to_matrix(layer.weight).shape))
    original = stable_rank(layer.parametrizations.weight.original, output_dim(layer))
    assert effective == pytest.approx(min(r, original), rel=1e-6)
    assert (found < 1.0) == (original > r)


def test_binding_fraction_counts_only_layers_that_can_bind():
    torch.manual_seed(0)
    d = StableRankNorm(0.1).apply(SmallDiscriminator(num_classes=0, base_channels=8))
    factors = srn_shrink_factors(d)
    assert "linear" not in factors  # a C x 1 head: target >= min(m, n), never binds
    scalars = binding_scalars(factors)
    assert scalars["spectra/srn_binding_fraction"] == 1.0  # c = 0.1 binds every conv
    assert binding_scalars({}) == {}
    sn = StableRankNorm(1.0).apply(SmallDiscriminator(num_classes=0, base_channels=8))
    assert srn_shrink_factors(sn) == {}


@pytest.mark.parametrize("make", [
    lambda init: SmallDiscriminator(num_classes=3, base_channels=8, weight_init=init),
    lambda init: ResNetDiscriminator(num_classes=3, base_channels=16, weight_init=init),
])  # fmt: skip
def test_orthogonal_init_puts_stable_rank_above_srn70_target(make):
    torch.manual_seed(0)
    xavier = make("xavier")
    torch.manual_seed(0)  # the same default weights, then re-initialized
    ortho = make("orthogonal")
    for (name, a), (_, b) in zip(xavier.named_modules(), ortho.named_modules()):
        if not isinstance(getattr(a, "weight", None), torch.Tensor) or a.weight.ndim < 2:
            continue
        m = min(weight_to_matrix(b.weight).shape)
        assert stable_rank(b.weight) == pytest.approx(m, rel=1e-5), (
            name
        )  # all singular values equal
        # the scale of the default initialization is kept
        assert float(b.weight.norm()) == pytest.approx(float(a.weight.norm()), rel=1e-5), name
    d = StableRankNorm(0.7).apply(ortho)
    assert binding_scalars(srn_shrink_factors(d))["spectra/srn_binding_fraction"] == 1.0
    with pytest.raises(ValueError, match="weight_init must be one of xavier, orthogonal, got 'he'"):
        make("he")


def test_xavier_3x3_convs_start_below_the_srn70_target():
    # Why SRN-70 is inert at the paper's initialization (README, docs/results.md).
    torch.manual_seed(0)
    d = ResNetDiscriminator(num_classes=0)
    for name, m in d.named_modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
            assert stable_rank(m.weight) / min(weight_to_matrix(m.weight).shape) < 0.7, name


def test_heldout_split_has_its_own_size():
    dm = GANDataModule(num_images=64, num_heldout_images=24, num_workers=0)
    assert len(dm.make_dataset("train")) == 64 and len(dm.make_dataset("test")) == 24
    assert dm.reference_key("test")["num_images"] == 24
    assert dm.reference_key("train")["num_images"] == 64
    assert GANDataModule(**dm.config()).num_heldout_images == 24  # survives the checkpoint
    same = GANDataModule(num_images=40, num_workers=0)
    assert len(same.make_dataset("test")) == 40  # default: as large as the training split
    a, b = dm.make_dataset("train"), dm.make_dataset("test")
    assert not torch.equal(a[0][0], b[0][0])  # another seed: other images
    with pytest.raises(ValueError, match="num_heldout_images must be >= 1 or null, got 0"):
        GANDataModule(num_heldout_images=0)


class _MeanPixelD(nn.Module):
    """D(x) = mean pixel value: its output on any set is known in closed form."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x, y=None):
        return x.mean(dim=(1, 2, 3)) + 0 * self.unused


class _ConstantData:
    def __init__(self, train_value, test_value, n=20):
        self.values = {"train": train_value, "test": test_value}
        self.n = n

    def make_dataset(self, split):
        return TensorDataset(torch.full((self.n, 3, 4, 4), self.values[split]), torch.zeros(self.n))


def _stand_ins(tmp_path, train_value, test_value, fake_value):
    module = SimpleNamespace(
        discriminator=_MeanPixelD(), z_dim=2, num_conditional_classes=0, device=torch.device("cpu"),
        g_step=0, generate=lambda z, y, ema: torch.full((z.shape[0], 3, 4, 4), fake_value),
    )  # fmt: skip
    logged = []
    logger = SimpleNamespace(
        log_dir=str(tmp_path), log_metrics=lambda m, step: logged.append((step, m))
    )
    trainer = SimpleNamespace(is_global_zero=True, loggers=[logger], logger=logger,
                              datamodule=_ConstantData(train_value, test_value))  # fmt: skip
    return trainer, module, logged


def test_gap_of_a_discriminator_with_known_outputs(tmp_path):
    trainer, module, logged = _stand_ins(tmp_path, 0.8, 0.2, -0.4)
    gap = GeneralizationGap(every_n_g_steps=5, num_images=16)
    gap.setup(trainer, module, "fit")
    gap.on_train_start(trainer, module)  # G-step 0
    module.g_step = 5
    gap.on_g_step_end(trainer, module)
    module.g_step = 7
    gap.on_g_step_end(trainer, module)  # not an interval
    gap.on_train_end(trainer, module)  # the end is measured
    records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["g_step"] for r in records] == [0, 5, 7]
    r = records[0]
    assert r["d_real_train"] == pytest.approx(0.8) and r["d_real_heldout"] == pytest.approx(0.2)
    assert r["d_fake"] == pytest.approx(-0.4)
    assert r[KEY_GAP] == pytest.approx((0.8 - 0.2) / (0.8 + 0.4))  # 0.5
    assert logged[0][1]["gap/d_generalization_gap"] == pytest.approx(0.5)
    assert generalization_gap(1.0, 1.0, -1.0) == 0.0 and generalization_gap(1.0, -1.0, -1.0) == 1.0
    assert math.isnan(generalization_gap(0.3, 0.1, 0.3))


def test_gap_callback_errors_before_training(tmp_path):
    trainer, module, _ = _stand_ins(tmp_path, 1.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="num_images=32 but the split has 20 images"):
        GeneralizationGap(num_images=32).setup(trainer, module, "fit")
    with pytest.raises(ValueError, match="num_images must be >= 1, got 0"):
        GeneralizationGap(num_images=0)


def test_fit_logs_binding_gap_and_heldout_metrics(tmp_path, tiny_fit):
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "trainer:\n  callbacks:\n"
        "    - class_path: srngan.MetricsCallback\n"
        "      init_args: {every_n_g_steps: 0, extractor: domain, metrics: [fid, kid],\n"
        "                  reference_splits: [train, test], num_samples: 32, num_real: 32,\n"
        "                  kid_subsets: 2, kid_subset_size: 16}\n"
        "    - class_path: srngan.training.generalization.GeneralizationGap\n"
        "      init_args: {every_n_g_steps: 2, num_images: 16}\n"
    )
    run = tiny_fit(tmp_path, "--config", str(extra), "--data.num_heldout_images", "40",
                   "--model.discriminator.weight_init", "orthogonal")  # fmt: skip
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    gaps = [r for r in records if KEY_GAP in r]
    assert [r["g_step"] for r in gaps] == [0, 2, 3]
    final = [r for r in records if "domain_fid" in r][-1]
    assert final["domain_fid_test"] > 0 and final["domain_fid_test"] != final["domain_fid"]
    assert "domain_kid_mean_test" in final and "domain_class_accuracy_test" not in final
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"scalars": 0})
    acc.Reload()
    binding = acc.Scalars("spectra/srn_binding_fraction")
    assert binding[0].step == 0 and binding[0].value == 1.0  # orthogonal init: binds at step 0
    assert "gap/d_generalization_gap" in acc.Tags()["scalars"]


def test_reference_splits_error_names_the_value(tmp_path):
    from srngan.training.metrics_callback import MetricsCallback

    with pytest.raises(ValueError, match=r"reference_splits: got \['train', 'val'\]"):
        MetricsCallback(reference_splits=["train", "val"])
