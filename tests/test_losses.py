"""Adversarial losses and the gradient penalty against hand computations."""

import pytest
import torch
from helpers import LinearD

from srngan.losses import AdversarialLoss, Hinge, NonSaturating, Wasserstein, gradient_penalty

REAL = torch.tensor([2.0, 0.5, -1.0])
FAKE = torch.tensor([-2.0, 0.0, 1.5])


def test_hinge():
    loss = Hinge()
    assert float(loss.d_real(REAL)) == pytest.approx((0 + 0.5 + 2.0) / 3)
    assert float(loss.d_fake(FAKE)) == pytest.approx((0 + 1.0 + 2.5) / 3)
    assert float(loss.g(FAKE)) == pytest.approx(-(-2.0 + 0 + 1.5) / 3)


def test_non_saturating():
    loss = NonSaturating()
    sp = torch.nn.functional.softplus
    assert float(loss.d_real(REAL)) == pytest.approx(float(sp(-REAL).mean()))
    assert float(loss.d_fake(FAKE)) == pytest.approx(float(torch.log1p(torch.exp(FAKE)).mean()))
    assert float(loss.g(FAKE)) == pytest.approx(
        float(-torch.log(torch.sigmoid(FAKE)).mean()), rel=1e-6
    )


def test_wasserstein():
    loss = Wasserstein()
    assert float(loss.d_real(REAL) + loss.d_fake(FAKE)) == pytest.approx(
        float(FAKE.mean() - REAL.mean())
    )


def test_own_loss_is_a_small_subclass():
    class LeastSquares(AdversarialLoss):
        def d_real(self, logits):
            return (logits - 1).pow(2).mean()

        def d_fake(self, logits):
            return logits.pow(2).mean()

        def g(self, logits):
            return (logits - 1).pow(2).mean()

    assert float(LeastSquares().d_fake(FAKE)) == pytest.approx(float(FAKE.pow(2).mean()))
    with pytest.raises(NotImplementedError):
        AdversarialLoss().g(FAKE)


def test_gradient_penalty_of_linear_critic():
    # grad_x <w, x> = w everywhere, so the penalty is weight * (||w|| - 1)^2 exactly.
    w = torch.full((12,), 0.5, dtype=torch.float64)  # ||w|| = sqrt(3)
    critic = LinearD(w)
    real = torch.randn(5, 3, 2, 2, dtype=torch.float64)
    fake = torch.randn(5, 3, 2, 2, dtype=torch.float64)
    gp = gradient_penalty(critic, real, fake, weight=10.0)
    assert float(gp.detach()) == pytest.approx(10 * (3**0.5 - 1) ** 2, rel=1e-12)
    gp.backward()  # differentiable w.r.t. the critic's weights (create_graph)
    expected = 10 * 2 * (3**0.5 - 1) * w / 3**0.5
    torch.testing.assert_close(critic.w.grad, expected)
