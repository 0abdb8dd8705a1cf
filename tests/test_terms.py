"""The training terms (``srngan.terms``): each on its own without a Trainer, then joined to
``GANModule``'s phases through a spy D that records what it is shown."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import Logger
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from srngan.losses import Hinge, class_feature_matching, colour_statistics, mode_seeking_term
from srngan.models import SmallGenerator
from srngan.terms import (
    ClassMatching,
    DStep,
    DTerm,
    GStep,
    MatchingAwareD,
    ModeSeeking,
    wrong_labels,
)
from srngan.training.module import GANModule


def test_wrong_labels_are_wrong_and_uniform_over_the_others():
    torch.manual_seed(0)
    labels = torch.arange(5).repeat(1800)
    wrong = wrong_labels(labels, 5)
    assert not (wrong == labels).any() and wrong.min() >= 0 and wrong.max() <= 4
    for c in range(5):
        counts = torch.bincount(wrong[labels == c], minlength=5).float()
        assert counts[c] == 0
        # 1800 draws over 4 classes: 450 expected, binomial sd ~18; 10 % is > 2.5 sd.
        others = counts[torch.arange(5) != c]
        assert ((others - 450).abs() < 45).all(), counts


class _SpyD(nn.Module):
    """A conditional D that records what it is shown; its logit is a class-wise affine map."""

    num_classes = 4

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x, y=None):
        self.seen.append((x.detach().clone(), y.clone()))
        return self.scale[y] * x.mean(dim=(1, 2, 3))


def _one_g_step(
    terms=(), logger=False, real=None, scale=None, d=None, **kwargs
) -> tuple[_SpyD, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    real = torch.rand(8, 3, 8, 8) * 2 - 1 if real is None else real
    labels = torch.arange(8) % 4
    d = _SpyD() if d is None else d
    if scale is not None:
        d.scale.data.copy_(scale)
    module = GANModule(SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2), d,
                       n_dis=1, max_g_steps=1, terms=list(terms), log_every_n_g_steps=1,
                       **kwargs)  # fmt: skip
    trainer = L.Trainer(accelerator="cpu", logger=logger, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1)  # fmt: skip
    trainer.fit(module, DataLoader(TensorDataset(real, labels), batch_size=8))
    return d, real, labels


def test_d_step_shows_real_images_with_wrong_classes_as_fakes():
    d, real, labels = _one_g_step([MatchingAwareD(1.0)])
    x, y = d.seen[0]  # the D step: real, fake, then the real images again
    assert x.shape[0] == 24 and torch.equal(x[:8], real) and torch.equal(x[16:], real)
    assert torch.equal(y[:8], labels) and not (y[16:] == labels).any()
    assert d.seen[1][0].shape[0] == 8  # the G step sees fakes only
    plain, _, _ = _one_g_step()
    assert plain.seen[0][0].shape[0] == 16


def test_mismatch_term_is_the_weighted_loss_on_wrongly_labelled_reals():
    """The logged D losses, recomputed from what the spy D saw (its logits are closed-form at
    its initial scale 1): ``loss/d = d_real + d_fake + 0.5 * d_fake(D(real, wrong))``."""
    logger = _Recorder()
    d, _, _ = _one_g_step([MatchingAwareD(0.5)], logger)
    x, _ = d.seen[0]
    logits = x.mean(dim=(1, 2, 3))
    hinge, m = Hinge(), logger.metrics
    expected = hinge.d_fake(logits[16:])
    assert m["loss/d_mismatch"] == pytest.approx(float(expected), abs=1e-6)
    assert float(expected) > 0.1  # not vacuous on this batch
    total = hinge.d_real(logits[:8]) + hinge.d_fake(logits[8:16]) + 0.5 * expected
    assert m["loss/d"] == pytest.approx(float(total), abs=1e-6)


class _Recorder(Logger):
    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, float] = {}

    name = "recorder"
    version = 0

    def log_metrics(self, metrics, step=None) -> None:
        self.metrics.update(metrics)

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass


def test_hard_wrong_labels_are_the_ones_d_scores_highest():
    """With 40 candidates all 3 wrong classes are drawn (miss probability ~1e-7 per image),
    and the spy D scores class c as ``(c + 1) * mean(x)`` on these positive images: the hard
    wrong class is 3, or 2 for images of class 3."""
    real = torch.rand(8, 3, 8, 8) * 0.9 + 0.1
    d, _, labels = _one_g_step([MatchingAwareD(1.0, candidates=40)], real=real,
                               scale=torch.arange(1.0, 5.0))  # fmt: skip
    scored_x, scored_y = d.seen[0]  # the scoring pass: 40 candidates per real image
    assert scored_x.shape[0] == 40 * 8 and not (scored_y == labels.repeat(40)).any()
    x, y = d.seen[1]  # the D step
    assert x.shape[0] == 24 and torch.equal(y[16:], torch.where(labels == 3, 2, 3))


def test_terms_validate_their_settings_and_their_networks():
    g = SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2)
    unconditional = SmallGenerator(8, z_dim=4, num_classes=0, base_channels=2)
    for bad in (-1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match=r"ModeSeeking weight must be"):
            ModeSeeking(bad)
    for bad in (0, 1.5, True):
        with pytest.raises(
            ValueError, match=rf"MatchingAwareD candidates must be an int >= 1, got {bad}"
        ):
            MatchingAwareD(1.0, candidates=bad)
    with pytest.raises(
        ValueError, match="statistics must be 'discriminator' or 'colour', got 'rgb'"
    ):
        ClassMatching(statistics="rgb")
    # What the networks lack is a one-line error when the GAN is built, before any step.
    with pytest.raises(
        ValueError, match=r"MatchingAwareD needs a conditional generator \(num_classes >= 2\)"
    ):
        GANModule(unconditional, nn.Identity(), terms=[MatchingAwareD()])
    with pytest.raises(ValueError, match=r"needs a discriminator with features\(x, y\); _SpyD"):
        GANModule(g, _SpyD(), terms=[ClassMatching(statistics="discriminator")])
    GANModule(g, _SpyD(), terms=[ClassMatching(statistics="colour")])  # needs no features
    with pytest.raises(
        ValueError, match=r"terms must be srngan.terms.DTerm / GTerm objects .* got Hinge"
    ):
        GANModule(g, _SpyD(), terms=[Hinge()])
    keys = [
        t.key
        for t in (
            MatchingAwareD(),
            ModeSeeking(),
            ClassMatching(),
            ClassMatching(statistics="colour"),
        )
    ]
    assert keys == ["loss/d_mismatch", "loss/g_mode_seeking", "loss/g_feature_matching",
                    "loss/g_colour_matching"]  # fmt: skip


def _d_step(real, labels, d, num_classes=4) -> DStep:
    return DStep(real, labels, torch.zeros_like(real), labels, d, Hinge(), num_classes)


def _g_step(fake, labels, real, real_labels, d, z=None) -> GStep:
    z = torch.randn(fake.shape[0], 4) if z is None else z
    return GStep(z, labels, fake, d(fake, labels), d, Hinge(), 4, real, real_labels)


def test_matching_aware_d_alone_rows_and_loss():
    """Without a Trainer: the rows are the reals with wrong labels, the loss is the adversarial
    loss's fake side on their logits."""
    torch.manual_seed(0)
    real, labels = torch.rand(8, 3, 4, 4), torch.arange(8) % 4
    term = MatchingAwareD(2.0)
    step = _d_step(real, labels, _SpyD())
    images, wrong = term.rows(step)
    assert torch.equal(images, real) and not (wrong == labels).any()
    logits = torch.linspace(-2, 2, 8)
    assert torch.equal(term.loss(step, logits), Hinge().d_fake(logits))


def test_mode_seeking_alone_pairs_labels_and_matches_the_function():
    term = ModeSeeking(0.25)
    z, labels = torch.randn(7, 4), torch.tensor([0, 1, 2, 3, 0, 1, 2])
    z2, paired = term.inputs(z, labels)
    assert z2 is z and torch.equal(paired[:3], paired[3:6]) and paired[6] == 2
    assert term.inputs(z, None) == (z, None)  # unconditional: nothing to pair
    fake = torch.randn(7, 3, 4, 4)
    step = _g_step(fake, paired, fake, paired, _SpyD(), z=z)
    assert torch.equal(term.loss(step), mode_seeking_term(fake, z))
    one = _g_step(fake[:1], paired[:1], fake, paired, _SpyD(), z=z[:1])
    assert float(term.loss(one)) == 0.0  # a batch of one holds no pair


@pytest.mark.parametrize("statistics", ["discriminator", "colour"])
def test_class_matching_alone_matches_the_function_on_its_statistics(statistics):
    torch.manual_seed(0)
    d = _FeatureSpyD()
    fake, real = torch.rand(6, 3, 4, 4), torch.rand(5, 3, 4, 4)
    fy, ry = torch.tensor([0, 1, 1, 2, 3, 0]), torch.tensor([0, 1, 2, 2, 3])
    step = _g_step(fake, fy, real, ry, d)
    both = torch.cat([fake, real])
    if statistics == "discriminator":
        stats = both.mean(dim=(2, 3)) * d.scale[torch.cat([fy, ry])][:, None]
    else:
        stats = colour_statistics(both)
    expected = class_feature_matching(stats[:6], stats[6:], fy, ry)
    got = ClassMatching(statistics=statistics).loss(step)
    assert float(expected.detach()) > 1e-3  # not vacuous
    torch.testing.assert_close(got, expected, rtol=0, atol=0)  # the same ops in the same order


class _WeightDecayOnRealLogits(DTerm):
    """A user's own D term with rows of its own: the squared logits of the reals, flipped."""

    name = "flipped"

    def rows(self, step):
        return step.real.flip(-1), step.real_labels

    def loss(self, step, logits):
        return logits.pow(2).mean()


def test_a_users_d_term_gets_its_own_rows_in_the_one_forward():
    logger = _Recorder()
    d, real, _ = _one_g_step([MatchingAwareD(1.0), _WeightDecayOnRealLogits(0.1)], logger)
    x, _ = d.seen[0]  # one forward: real, fake, mismatched reals, the user's rows
    assert x.shape[0] == 32 and torch.equal(x[24:], real.flip(-1))
    expected = x[24:].mean(dim=(1, 2, 3)).pow(2).mean()  # spy D at scale 1
    assert logger.metrics["loss/d_flipped"] == pytest.approx(float(expected), rel=1e-6)


def test_mode_seeking_term_matches_a_float64_loop():
    torch.manual_seed(0)
    fake, z = torch.randn(6, 3, 4, 4, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    ratios = []
    for i in range(3):
        ratios.append((fake[i] - fake[i + 3]).abs().mean() / (z[i] - z[i + 3]).abs().mean())
    expected = 1.0 / (sum(ratios) / 3 + 1e-5)
    assert float(mode_seeking_term(fake, z)) == pytest.approx(float(expected), rel=1e-12)
    # Identical images for different latents (collapse) is what the term penalises most.
    assert mode_seeking_term(fake[:3].repeat(2, 1, 1, 1), z) > 1e4


def test_g_step_pairs_share_a_class_under_mode_seeking():
    d, _, _ = _one_g_step([ModeSeeking(0.25)])
    _, y = d.seen[-1]  # the G step: 8 fakes, pairs (i, i + 4)
    assert y.shape[0] == 8 and torch.equal(y[:4], y[4:])
    d, _, _ = _one_g_step([ModeSeeking(0.25)], g_batch_size=7)
    _, y = d.seen[-1]  # an odd batch: pairs (i, i + 3), the last one unpaired
    assert y.shape[0] == 7 and torch.equal(y[:3], y[3:6])


def test_d_warmup_takes_ordinary_d_steps_before_g_moves():
    """Two warm-up D steps (real, fake, mismatched reals), then the D and G steps of G-step 1.
    The warm-up loss logged at G-step 0 is the D loss of what D saw (one warm-up step: spy D
    at its initial scale 1)."""
    d, real, labels = _one_g_step([MatchingAwareD(1.0)], d_warmup_steps=2)
    assert [x.shape[0] for x, _ in d.seen] == [24, 24, 24, 8]
    for x, y in d.seen[:2]:
        assert torch.equal(x[:8], real) and torch.equal(x[16:], real)
        assert torch.equal(y[:8], labels) and not (y[16:] == labels).any()
    logger = _Recorder()
    d, _, _ = _one_g_step([MatchingAwareD(0.5)], logger, d_warmup_steps=1)
    x, _ = d.seen[0]
    logits, hinge = x.mean(dim=(1, 2, 3)), Hinge()
    expected = (hinge.d_real(logits[:8]) + hinge.d_fake(logits[8:16])
                + 0.5 * hinge.d_fake(logits[16:]))  # fmt: skip
    assert float(expected) > 0.1  # not vacuous on this batch
    assert logger.metrics["loss/d_warmup"] == pytest.approx(float(expected), abs=1e-6)


def test_d_warmup_counts_in_the_data_position_and_the_checkpoint():
    torch.manual_seed(0)
    g = SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2)
    module = GANModule(g, _SpyD(), n_dis=1, max_g_steps=2, terms=[MatchingAwareD()],
                       d_warmup_steps=3)  # fmt: skip
    g_before = [p.detach().clone() for p in g.parameters()]
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1)  # fmt: skip
    data = TensorDataset(torch.rand(8, 3, 8, 8) * 2 - 1, torch.arange(8) % 4)
    trainer.fit(module, DataLoader(data, batch_size=8))
    assert module.g_step == 2 and module.total_d_steps() == 5  # 3 warm-up + 2 D steps
    opt_g, opt_d = module.optimizers()
    steps = [int(o.optimizer.state[next(iter(o.optimizer.state))]["step"]) for o in (opt_g, opt_d)]
    assert steps == [2, 5]  # G stepped only after the warm-up
    assert any(not torch.equal(a, b) for a, b in zip(g_before, g.parameters()))
    checkpoint: dict = {}
    module.on_save_checkpoint(checkpoint)
    assert checkpoint["srngan"]["d_warmup_done"] == 3
    restored = GANModule(g, _SpyD(), n_dis=1, terms=[MatchingAwareD()], d_warmup_steps=3)
    restored.on_load_checkpoint(checkpoint)
    assert restored.total_d_steps() == 5  # a resumed run does not warm up again


def test_d_warmup_steps_is_validated():
    g = SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match=rf"d_warmup_steps must be an int >= 0, got {bad}"):
            GANModule(g, _SpyD(), d_warmup_steps=bad)


def test_class_feature_matching_matches_a_float64_loop():
    """Against a loop over the classes present in both batches; classes 3 (fake only) and 4
    (real only) are skipped. float64 both ways: equal to 1e-12."""
    g = torch.Generator().manual_seed(0)
    fake, real = (
        torch.randn(12, 5, generator=g, dtype=torch.float64),
        torch.randn(9, 5, generator=g, dtype=torch.float64),
    )
    fy = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 0, 1, 2, 3])
    ry = torch.tensor([0, 1, 1, 2, 4, 4, 0, 2, 1])
    terms = [((fake[fy == c].mean(0) - real[ry == c].mean(0)) ** 2).sum() for c in (0, 1, 2)]
    expected = sum(terms) / 3 / 5 / (real**2).mean()
    assert float(class_feature_matching(fake, real, fy, ry)) == pytest.approx(
        float(expected), rel=1e-12
    )
    # Without labels: one class, the plain feature matching of Salimans et al. (2016).
    plain = ((fake.mean(0) - real.mean(0)) ** 2).mean() / (real**2).mean()
    assert float(class_feature_matching(fake, real)) == pytest.approx(float(plain), rel=1e-12)
    # No class in common: zero, and still a graph node of the fakes.
    none = class_feature_matching(fake.requires_grad_(), real, fy, torch.full((9,), 4))
    assert float(none) == 0.0 and none.requires_grad


def test_class_feature_matching_pulls_fakes_only():
    fake, real = torch.randn(6, 3, requires_grad=True), torch.randn(6, 3, requires_grad=True)
    y = torch.arange(6) % 2
    class_feature_matching(fake, real, y, y).backward()
    assert real.grad is None and fake.grad.abs().sum() > 0


class _FeatureSpyD(_SpyD):
    """The spy D with ``features(x, y)``: per-channel image means, recorded too."""

    def features(self, x, y=None):
        self.seen.append((x.detach().clone(), y.clone()))
        return x.mean(dim=(2, 3)) * self.scale[y][:, None]


def test_feature_matching_term_joins_g_loss_with_the_last_real_batch():
    """G's logged loss = hinge G loss + 0.7 * class feature matching of G's samples against
    the real batch of the D step just before, both recomputed from what the spy D saw."""
    torch.manual_seed(0)
    real, labels = torch.rand(8, 3, 8, 8) * 2 - 1, torch.arange(8) % 4
    d, logger = _FeatureSpyD(), _Recorder()
    module = GANModule(SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2), d, n_dis=1,
                       max_g_steps=1, terms=[ClassMatching(0.7)], log_every_n_g_steps=1)  # fmt: skip
    trainer = L.Trainer(accelerator="cpu", logger=logger, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1)  # fmt: skip
    trainer.fit(module, DataLoader(TensorDataset(real, labels), batch_size=8))
    (x_d, _), (fake, y), (both, y_both) = d.seen  # D step, G step's logits, G step's features
    assert (
        torch.equal(x_d[:8], real) and torch.equal(both[:8], fake) and torch.equal(both[8:], real)
    )
    assert torch.equal(y_both, torch.cat([y, labels]))
    scale = d.scale.detach()  # after the D step's update
    f = both.mean(dim=(2, 3)) * scale[y_both][:, None]
    term = class_feature_matching(f[:8], f[8:], y, labels)
    assert float(term) > 1e-3  # not vacuous
    expected = Hinge().g(scale[y] * fake.mean(dim=(1, 2, 3))) + 0.7 * term
    # float32 means and a division by the real features' small mean square: rel 1e-6.
    assert logger.metrics["loss/g"] == pytest.approx(float(expected), rel=1e-6)
    assert logger.metrics["loss/g_feature_matching"] == pytest.approx(float(term), rel=1e-6)


@pytest.mark.parametrize("num_classes", [0, 4])
def test_feature_matching_trains_the_resnets_conditional_or_not(num_classes):
    """The ResNet D's features take (x, y) too; unconditional: one class. One G-step with
    SRN moves G and leaves finite weights."""
    from srngan.models import ResNetDiscriminator, ResNetGenerator
    from srngan.regularizers import StableRankNorm

    torch.manual_seed(0)
    g = ResNetGenerator(32, z_dim=8, num_classes=num_classes, base_channels=8)
    d = ResNetDiscriminator(32, num_classes=num_classes, base_channels=8)
    module = GANModule(g, d, regularizer=StableRankNorm(0.7), n_dis=1, max_g_steps=1,
                       terms=[ClassMatching(1.0)])  # fmt: skip
    before = [p.detach().clone() for p in g.parameters()]
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1)  # fmt: skip
    data = TensorDataset(torch.rand(8, 3, 32, 32) * 2 - 1, torch.arange(8) % max(num_classes, 1))
    trainer.fit(module, DataLoader(data, batch_size=8))
    assert module.g_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))
    assert all(torch.isfinite(p).all() for p in g.parameters())


def test_colour_statistics_match_sorted_pixels_in_float64():
    x = torch.randn(3, 2, 5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    stats = colour_statistics(x, top=0.1)  # 20 pixels: the brightest 2
    for i in range(3):
        for c in range(2):
            pixels = sorted(x[i, c].flatten().tolist(), reverse=True)
            expected = [
                sum(pixels) / 20,
                sum(p * p for p in pixels) / 20,
                (pixels[0] + pixels[1]) / 2,
            ]
            got = [float(stats[i, c + 2 * j]) for j in range(3)]
            assert got == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match=r"top must be in \(0, 1\], got 0"):
        colour_statistics(x, top=0.0)


def test_colour_matching_term_joins_g_loss_without_a_d_pass():
    """G's logged loss = hinge G loss + 0.5 * class matching of colour statistics against the
    last real batch; D sees the G step's fakes once (no features needed)."""
    logger = _Recorder()
    d, real, labels = _one_g_step([ClassMatching(0.5, statistics="colour")], logger)
    assert len(d.seen) == 2  # the D step and the G step's logits
    fake, y = d.seen[1]
    term = class_feature_matching(colour_statistics(fake), colour_statistics(real), y, labels)
    assert float(term) > 1e-3  # not vacuous
    scale = d.scale.detach()  # after the D step's update
    expected = Hinge().g(scale[y] * fake.mean(dim=(1, 2, 3))) + 0.5 * term
    assert logger.metrics["loss/g"] == pytest.approx(float(expected), rel=1e-6)  # float32
    assert logger.metrics["loss/g_colour_matching"] == pytest.approx(float(term), rel=1e-6)
    assert "loss/g_feature_matching" not in logger.metrics


def test_a_0_2_checkpoint_loads_its_flags_as_terms():
    """GANModule.load_from_checkpoint itself upgrades srngan 0.2's seven flags (the committed
    tiny 0.2 quickstart checkpoint: mismatch, feature and colour matching, mode seeking)."""
    from conftest import REPO

    model = GANModule.load_from_checkpoint(REPO / "tests" / "data" / "v0_2_gan.ckpt",
                                           map_location="cpu")  # fmt: skip
    assert [t.key for t in model.terms] == ["loss/d_mismatch", "loss/g_feature_matching",
                                            "loss/g_colour_matching", "loss/g_mode_seeking"]  # fmt: skip
    assert model.terms[0].candidates == 3 and model.terms[3].weight == 0.25
