"""SN-GAN ResNet G and D: parameter counts, shapes, conditioning, injected normalization."""

import pytest
import torch
from torch.nn.utils import parametrize

from srngan.models import ResNetDiscriminator, ResNetGenerator
from srngan.regularizers import (
    GradientPenalty,
    Orthonormal,
    Regularizer,
    SpectralNorm,
    StableRankNorm,
)


def _count(module):
    return sum(p.numel() for p in module.parameters())


# Parameter counts of the reference implementation, torch-mimicry 0.1.16 (SNGANGenerator32/48/64,
# SNGANDiscriminator32/48/64, CGANPDGenerator32/CGANPDDiscriminator32 with 10 classes), counted
# with its own classes. Exact equality: the layer lists must be the same, not merely close.
REFERENCE_COUNTS = {
    (32, 0): (4_276_739, 1_053_825),
    (48, 0): (4_878_083, 10_141_441),
    (64, 0): (12_220_675, 10_141_441),
    (32, 10): (4_304_387, 1_055_105),
}


@pytest.mark.parametrize(("resolution", "num_classes"), sorted(REFERENCE_COUNTS))
def test_parameter_counts_match_reference(resolution, num_classes):
    g = ResNetGenerator(resolution, num_classes=num_classes)
    d = ResNetDiscriminator(resolution, num_classes=num_classes)
    assert (_count(g), _count(d)) == REFERENCE_COUNTS[resolution, num_classes]


def test_dblock_hidden_width_is_input_width():
    # Miyato et al.'s DBlock: conv1 in -> in, conv2 in -> out (not out -> out).
    from srngan.models.blocks import DBlock

    block = DBlock(64, 128, downsample=True)
    assert block.conv1.weight.shape[:2] == (64, 64)
    assert block.conv2.weight.shape[:2] == (128, 64)


@pytest.mark.parametrize("resolution", [32, 48, 64])
@pytest.mark.parametrize("num_classes", [0, 5])
def test_shapes_and_range(resolution, num_classes):
    torch.manual_seed(0)
    g = ResNetGenerator(resolution, z_dim=16, num_classes=num_classes, base_channels=8)
    d = ResNetDiscriminator(resolution, num_classes=num_classes, base_channels=8)
    y = torch.tensor([0, 3]) if num_classes else None
    x = g(torch.randn(2, 16), y)
    assert x.shape == (2, 3, resolution, resolution)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x, y).shape == (2,)


def test_conditioning_changes_output():
    torch.manual_seed(0)
    g = ResNetGenerator(32, z_dim=16, num_classes=4, base_channels=8).eval()
    d = ResNetDiscriminator(32, num_classes=4, base_channels=8)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.1 * torch.randn_like(p))  # CBN starts at identity; make classes differ
    z = torch.randn(1, 16).repeat(2, 1)
    x = g(z, torch.tensor([0, 1]))
    assert not torch.allclose(x[0], x[1])
    x = torch.randn(1, 3, 32, 32).repeat(2, 1, 1, 1)
    out = d(x, torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])  # the projection term depends on y


def test_conditional_nets_require_labels():
    with pytest.raises(ValueError, match="needs class labels"):
        ResNetGenerator(32, z_dim=4, num_classes=3, base_channels=4)(torch.randn(1, 4))
    with pytest.raises(ValueError, match="needs class labels"):
        ResNetDiscriminator(32, num_classes=3, base_channels=4)(torch.randn(1, 3, 32, 32))


def test_unsupported_resolution_lists_allowed():
    with pytest.raises(ValueError, match=r"unsupported resolution 128; allowed: 32, 48, 64"):
        ResNetGenerator(128)


@pytest.mark.parametrize("regularizer", [SpectralNorm(), StableRankNorm(0.5)])
def test_regularizer_injected_into_every_layer(regularizer):
    d = regularizer.apply(ResNetDiscriminator(32, num_classes=3, base_channels=8))
    layers = [
        m
        for m in d.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.Embedding))
    ]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)


@pytest.mark.parametrize("regularizer", [Regularizer(), GradientPenalty(10.0), Orthonormal(1e-4)])
def test_penalty_regularizers_leave_weights_plain(regularizer):
    d = regularizer.apply(ResNetDiscriminator(32, base_channels=8))
    assert not any(parametrize.is_parametrized(m) for m in d.modules())


def test_penalties_match_their_functions():
    from srngan.losses import gradient_penalty
    from srngan.nn import orthonormal_penalty

    d = ResNetDiscriminator(32, base_channels=4)
    real, fake = torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32)
    torch.manual_seed(0)
    got = GradientPenalty(5.0).penalty(d, real, fake, None)
    torch.manual_seed(0)
    assert torch.equal(got, gradient_penalty(d, real, fake, weight=5.0))
    assert torch.equal(Orthonormal(1e-3).penalty(d, real, fake, None), orthonormal_penalty(d, 1e-3))
    assert SpectralNorm().penalty(d, real, fake, None) is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StableRankNorm(1.5), r"rank_ratio must be in \(0, 1\]"),
        (lambda: GradientPenalty(0), "GradientPenalty weight must be > 0, got 0"),
        (lambda: Orthonormal(-1), "Orthonormal strength must be > 0, got -1"),
    ],
)
def test_bad_regularizer_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
