"""The quickstart (issue 11): the config still trains (tiny, fast) and, whole, learns class
control: every class's conditional samples are recognised by the domain classifier (``slow``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml
from conftest import CONFIGS, REPO

from srngan.cli import main
from srngan.models import SmallDiscriminator, SmallGenerator
from srngan.training.module import GANModule

QUICKSTART = CONFIGS / "quickstart.yaml"


def test_quickstart_uses_small_nets_with_srn_in_d():
    cfg = yaml.safe_load(QUICKSTART.read_text())["model"]["init_args"]
    assert cfg["generator"]["class_path"] == "srngan.models.SmallGenerator"
    assert cfg["discriminator"]["class_path"] == "srngan.models.SmallDiscriminator"
    assert cfg["regularizer"]["class_path"] == "srngan.regularizers.StableRankNorm"


@pytest.mark.parametrize("resolution", [16, 32, 64])
@pytest.mark.parametrize("num_classes", [0, 4])
def test_small_nets_honour_the_contract(resolution, num_classes):
    g = SmallGenerator(resolution, z_dim=8, num_classes=num_classes, base_channels=4)
    d = SmallDiscriminator(resolution, num_classes=num_classes, base_channels=4)
    y = torch.arange(3) % num_classes if num_classes else None
    x = g(torch.randn(3, 8), y)
    assert x.shape == (3, 3, resolution, resolution) and x.abs().max() <= 1
    assert d(x, y).shape == (3,)
    with pytest.raises(ValueError, match="resolution"):
        SmallGenerator(24)


def test_small_discriminator_depends_on_the_class():
    d = SmallDiscriminator(32, num_classes=4, base_channels=4)
    x = torch.randn(2, 3, 32, 32)
    assert not torch.allclose(d(x, torch.tensor([0, 0])), d(x, torch.tensor([1, 1])))


def test_small_discriminator_translates_in_training_only():
    d = SmallDiscriminator(32, num_classes=4, base_channels=4, translate=0.125)
    x, y = torch.randn(6, 3, 32, 32), torch.tensor([0, 1, 2, 3, 0, 1])
    d.eval()  # no translation outside training: deterministic
    assert torch.equal(d(x, y), d(x, y))
    d.train()
    torch.manual_seed(0)
    assert not torch.equal(d(x, y), d(x, y))
    with pytest.raises(ValueError, match="translate"):
        SmallDiscriminator(32, num_classes=4, translate=0.5)


def test_small_discriminator_maxpool_downsampling():
    d = SmallDiscriminator(32, num_classes=4, base_channels=4, downsample="maxpool")
    assert [c.kernel_size + c.stride for c in d.convs] == [(3, 3, 1, 1)] * 3
    x, y = torch.randn(2, 3, 32, 32), torch.tensor([0, 3])
    # The same layers written out by hand: conv0, class map, then (LeakyReLU, 2x2 max-pool,
    # conv3x3) per level, LeakyReLU, sum over the 4x4 positions, projection.
    h = d.conv0(x) + d.class_map(y)[:, :, None, None]
    for conv in d.convs:
        h = conv(torch.nn.functional.max_pool2d(torch.nn.functional.leaky_relu(h, 0.2), 2))
    h = torch.nn.functional.leaky_relu(h, 0.2).sum(dim=(2, 3))
    expected = d.linear(h).squeeze(1) + (d.embed(y) * h).sum(1)
    torch.testing.assert_close(d(x, y), expected)  # same ops in the same order: float32 exact
    with pytest.raises(ValueError, match="downsample must be 'stride' or 'maxpool', got 'avg'"):
        SmallDiscriminator(32, num_classes=4, downsample="avg")


def test_small_generator_spatial_transform_trains():
    g = SmallGenerator(16, z_dim=8, num_classes=4, base_channels=4, spatial_transform=True)
    z, y = torch.randn(3, 8), torch.tensor([0, 1, 3])
    x = g(z, y)
    assert x.shape == (3, 3, 16, 16) and x.abs().max() <= 1
    x.mean().backward()
    assert all(p.grad is not None for p in g.parameters() if p.requires_grad)


def test_spatial_transform_starts_as_the_identity():
    torch.manual_seed(0)
    warped = SmallGenerator(16, z_dim=8, num_classes=4, base_channels=4, spatial_transform=True)
    plain = SmallGenerator(16, z_dim=8, num_classes=4, base_channels=4)
    plain.load_state_dict({k: v for k, v in warped.state_dict().items() if "to_pose" not in k})
    z, y = torch.randn(3, 8), torch.tensor([0, 1, 3])
    assert torch.allclose(warped(z, y), plain(z, y), atol=1e-5)


def test_random_translate_shifts_whole_images():
    from srngan.models.augment import random_translate

    x = torch.zeros(50, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    out = random_translate(x, 0.25, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and torch.equal(out.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    assert len({tuple(o.nonzero()[0].tolist()) for o in out}) > 1  # different offsets
    assert random_translate(x, 0.0) is x
    with pytest.raises(ValueError, match="fraction"):
        random_translate(x, 1.0)


def test_quickstart_config_trains_tiny(tmp_path):
    """The committed quickstart, terms and warm-up included, shrunk to seconds."""
    from PIL import Image

    main(["fit", "--config", str(QUICKSTART), "--model.generator.base_channels", "8",
          "--model.discriminator.base_channels", "8", "--model.max_g_steps", "3",
          "--model.d_warmup_steps", "2", "--model.g_batch_size", "8", "--data.num_images", "64",
          "--data.batch_size", "8", "--samples.every_n_g_steps", "3", "--samples.columns", "4",
          "--trainer.callbacks=[]", "--trainer.enable_model_summary", "false",
          "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    (run,) = tmp_path.glob("quickstart/version_*")
    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    assert model.g_step == 3 and model.num_conditional_classes == 10
    assert [type(t).__name__ for t in model.terms] == [
        "MatchingAwareD", "ClassMatching", "ClassMatching", "ModeSeeking"
    ]  # fmt: skip
    assert isinstance(model.generator, SmallGenerator)
    assert any("parametrizations" in name for name, _ in model.discriminator.named_modules())
    grid = Image.open(run / "samples" / "gstep_0000003.png")
    assert grid.size == (4 * 33 + 1, 10 * 33 + 1)  # a row per class, 4 columns of 32 px


@pytest.mark.slow
def test_whole_quickstart_learns_every_class(tmp_path):
    """``srngan fit --config configs/quickstart.yaml`` as the README runs it (~4 min on 2 cores):
    the issue's threshold, class accuracy >= 0.95 (``metrics.jsonl``), every class >= 0.85 by
    the domain classifier, and every class's samples of a real shape size (>= 0.8 of them,
    ``experiments/quickstart/shape_sizes.py``: an empty or overgrown class, which a classifier
    may still accept, fails). The README's run: 0.991, weakest class 0.94, sizes >= 0.88."""
    subprocess.run(
        [sys.executable, "-m", "srngan.cli", "fit", "--config", str(QUICKSTART),
         "--trainer.logger.init_args.save_dir", str(tmp_path),
         "--trainer.default_root_dir", str(tmp_path)],
        cwd=REPO, check=True,
    )  # fmt: skip
    (run,) = tmp_path.glob("quickstart/version_*")
    final = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()][-1]
    assert final["domain_class_accuracy"] >= 0.95, final

    from srngan.metrics.domain import load_domain_classifier
    from srngan.metrics.images import images_to_uint8

    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    classifier = load_domain_classifier(10, 32)
    labels = torch.arange(10).repeat_interleave(100)
    z = torch.randn(len(labels), model.z_dim, generator=torch.Generator().manual_seed(7))
    images = images_to_uint8(model.generate(z, labels))
    hits = (classifier(images)[1].argmax(1) == labels).float().view(10, 100).mean(1)
    assert hits.min() >= 0.85, hits.tolist()

    sys.path.insert(0, str(REPO / "experiments" / "quickstart"))
    from shape_sizes import real_area_bounds, sample_sizes_ok

    sizes = sample_sizes_ok(model, labels, z, real_area_bounds())
    assert min(sizes) >= 0.8, sizes
