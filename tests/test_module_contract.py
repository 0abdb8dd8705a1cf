"""GANModule from Python: the network contract, injected loss and regularizer, hyperparameters."""

import pytest
import torch
from torch import nn

from srngan.losses import Hinge, NonSaturating
from srngan.models import ResNetDiscriminator, ResNetGenerator
from srngan.nn._srn import _StableRankNorm
from srngan.regularizers import StableRankNorm
from srngan.training.module import GANModule


def _pair(classes=0):
    return (
        ResNetGenerator(z_dim=8, num_classes=classes, base_channels=4),
        ResNetDiscriminator(num_classes=classes, base_channels=4),
    )


def test_injected_parts_are_used_and_not_hyperparameters():
    g, d = _pair(3)
    model = GANModule(g, d, loss=NonSaturating(), regularizer=StableRankNorm(0.5), n_dis=2)
    assert model.generator is g and model.num_conditional_classes == 3 and model.z_dim == 8
    assert isinstance(model.loss_fn, NonSaturating)
    srn = [m for m in model.discriminator.modules() if isinstance(m, _StableRankNorm)]
    assert srn and all(m.rank_ratio == 0.5 for m in srn)
    # Module instances are not pickled into hparams (their state is in the state_dict).
    assert set(model.hparams) >= {"n_dis", "max_g_steps"}
    assert not {"generator", "discriminator", "loss", "regularizer"} & set(model.hparams)


def test_defaults_are_hinge_and_no_regularizer():
    model = GANModule(*_pair())
    assert isinstance(model.loss_fn, Hinge)
    assert not any(isinstance(m, _StableRankNorm) for m in model.discriminator.modules())
    assert model.regularizer.penalty(model.discriminator, None, None, None) is None


class _NoLatent(nn.Module):
    num_classes = 0

    def forward(self, z, y=None):
        return z


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: GANModule(_NoLatent(), _pair()[1]), "needs an int attribute z_dim"),
        (
            lambda: GANModule(_pair(3)[0], _pair(4)[1]),
            "generator has num_classes=3 but discriminator has num_classes=4",
        ),
        (lambda: GANModule("G", _pair()[1]), "generator must be a torch.nn.Module, got str"),
        (
            lambda: GANModule(*_pair(), loss="hinge"),
            "loss must be an srngan.losses.AdversarialLoss",
        ),
        (
            lambda: GANModule(*_pair(), regularizer="srn"),
            "regularizer must be an srngan.regularizers",
        ),
        (lambda: GANModule(*_pair(), n_dis=0), "n_dis must be >= 1, got 0"),
    ],
)
def test_contract_errors_are_one_line(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_generate_uses_eval_mode_and_restores_training():
    model = GANModule(*_pair(2))
    model.train()
    images = model.generate(torch.randn(4, 8), torch.tensor([0, 1, 0, 1]))
    assert images.shape == (4, 3, 32, 32) and model.generator.training
