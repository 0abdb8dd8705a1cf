"""Complexity measures and noise sensitivity against independent float64 computations.

The references never use the implementation's hooks or batched autograd: spectral quantities
come from numpy SVDs, the MLP's Jacobians from the chain rule written out by hand, the CNN's from
``torch.func.jacrev`` of the network's tail after layer i, one sample at a time.

Tolerance ``RTOL = 1e-9``: both sides are float64 with different operation orders and LAPACK
drivers, which agree to ~1e-13 relative here; any formula error (a missing square, a wrong norm,
a wrong layer) changes results by O(1), so 1e-9 separates the two by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from srngan.classification.measures import complexity_measures, margins, weight_terms
from srngan.classification.networks import MLP, SmallCNN
from srngan.classification.noise import noise_sensitivity
from srngan.nn import normalize_modules

RTOL = 1e-9


def _reference_weight_terms(matrices: list[np.ndarray]) -> tuple[float, float, float]:
    """prod sigma_1^2, sum srank, (sum (||W^T||_{2,1} / sigma_1)^(2/3))^3 from numpy SVDs."""
    prod, srank, l1 = 1.0, 0.0, 0.0
    for w in matrices:
        s = np.linalg.svd(w, compute_uv=False)
        prod *= s[0] ** 2
        srank += (s**2).sum() / s[0] ** 2
        l1 += (np.linalg.norm(w, axis=1).sum() / s[0]) ** (2 / 3)
    return prod, srank, l1**3


def _expected(matrices, margin, jac_sum):
    prod, srank, l1 = _reference_weight_terms(matrices)
    return {
        "spec_fro": prod * srank / margin**2,
        "spec_l1": prod * l1 / margin**2,
        "jac_norm": jac_sum / margin,
    }


def _labels_with_both_signs(logits: np.ndarray) -> torch.Tensor:
    # Half the samples labelled by their argmax (margin > 0), half by their argmin (margin < 0).
    pred, worst = logits.argmax(1), logits.argmin(1)
    return torch.from_numpy(np.where(np.arange(len(pred)) % 2 == 0, pred, worst))


def test_mlp_against_hand_written_chain_rule():
    torch.manual_seed(0)
    net = MLP(in_features=6, hidden=(9, 7), num_classes=4).double()
    x = torch.randn(12, 6, dtype=torch.float64)
    (w1, b1), (w2, b2), (w3, b3) = [
        (m.weight.detach().numpy(), m.bias.detach().numpy())
        for m in net.modules() if isinstance(m, nn.Linear)
    ]  # fmt: skip
    xn = x.numpy()
    h1 = xn @ w1.T + b1
    h2 = np.maximum(h1, 0) @ w2.T + b2
    logits = np.maximum(h2, 0) @ w3.T + b3
    labels = _labels_with_both_signs(logits)
    y = labels.numpy()
    others = logits.copy()
    others[np.arange(len(y)), y] = -np.inf
    j = others.argmax(1)
    margin = logits[np.arange(len(y)), y] - logits[np.arange(len(y)), j]
    e = np.eye(4)[y] - np.eye(4)[j]  # d margin / d logits
    g2 = (h2 > 0) * (e @ w3)  # d margin / d h2
    g1 = (h1 > 0) * (g2 @ w2)  # d margin / d h1
    jac_sum = np.linalg.norm(h1, axis=1) * np.linalg.norm(g1, axis=1) + np.linalg.norm(
        h2, axis=1
    ) * np.linalg.norm(g2, axis=1)

    got = complexity_measures(net, x, labels)
    np.testing.assert_allclose(got["margin"].numpy(), margin, rtol=RTOL)
    for key, value in _expected([w1, w2, w3], margin, jac_sum).items():
        np.testing.assert_allclose(got[key].numpy(), value, rtol=RTOL, err_msg=key)
    positive = margin > 0
    assert positive.any() and (~positive).any()
    np.testing.assert_allclose(
        got["log_jac_norm"].numpy()[positive],
        np.log(jac_sum[positive] / margin[positive]),
        rtol=RTOL,
    )
    assert np.isnan(got["log_spec_fro"].numpy()[~positive]).all()


def _cnn_stages(net: SmallCNN):
    """The SmallCNN as explicit functions from each conv/linear output h_i to the next one."""
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]

    def after_conv(i):
        def stage(h):
            a = F.max_pool2d(F.relu(h), 2)
            if i + 1 < len(convs):
                return F.conv2d(a, convs[i + 1].weight, convs[i + 1].bias, padding=1)
            return F.linear(a.flatten(), net.fc.weight, net.fc.bias)

        return stage

    return convs, [after_conv(i) for i in range(len(convs))]


def test_cnn_against_per_sample_jacrev_of_the_network_tail():
    torch.manual_seed(1)
    net = SmallCNN(num_classes=5, width=2, image_size=8).double()
    x = torch.randn(6, 3, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        logits = net(x)
    labels = _labels_with_both_signs(logits.numpy())
    convs, stages = _cnn_stages(net)

    margin, jac_sum = [], []
    for n in range(x.shape[0]):
        y = int(labels[n])
        h = F.conv2d(x[n : n + 1], convs[0].weight, convs[0].bias, padding=1)[0]
        hs = [h]
        for stage in stages[:-1]:
            hs.append(stage(hs[-1][None])[0])
        out = stages[-1](hs[-1][None])
        j = int(
            torch.cat([out[:y], torch.tensor([-torch.inf], dtype=out.dtype), out[y + 1 :]]).argmax()
        )
        margin.append(float((out[y] - out[j]).detach()))
        total = 0.0
        for i, h_i in enumerate(hs):

            def tail(h, i=i, y=y, j=j):
                z = h[None]
                for stage in stages[i:-1]:
                    z = stage(z)
                z = stages[-1](z)
                return z[y] - z[j]

            grad = torch.func.jacrev(tail)(h_i)
            total += float(h_i.norm() * grad.norm())
        jac_sum.append(total)
    margin, jac_sum = np.array(margin), np.array(jac_sum)
    matrices = [c.weight.detach().numpy().reshape(c.out_channels, -1) for c in convs]
    matrices.append(net.fc.weight.detach().numpy())

    got = complexity_measures(net, x, labels)
    np.testing.assert_allclose(got["margin"].numpy(), margin, rtol=RTOL)
    for key, value in _expected(matrices, margin, jac_sum).items():
        np.testing.assert_allclose(got[key].numpy(), value, rtol=RTOL, err_msg=key)


def test_normalized_weights_are_measured_not_the_raw_parameters():
    torch.manual_seed(2)
    net = normalize_modules(MLP(in_features=5, hidden=(8,), num_classes=3).double(), "sn")
    net.train()
    for _ in range(30):  # converge the power iterations
        net(torch.randn(4, 5, dtype=torch.float64))
    terms = weight_terms(net.eval())
    # Every layer has sigma_1 = 1 after SN, so the product of spectral norms is ~1.
    assert abs(terms["log_prod_spec2"]) < 1e-6


def test_batchnorm_include_adds_the_diagonal_scales():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    net.train()
    net(torch.randn(32, 4, dtype=torch.float64) * 3)  # non-trivial running statistics
    bn = net[1]
    scale = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach().numpy()
    base = [net[0].weight.detach().numpy(), net[3].weight.detach().numpy()]
    want = _reference_weight_terms([*base, np.diag(scale)])
    got = weight_terms(net.eval(), batchnorm="include")
    np.testing.assert_allclose(
        [np.exp(got["log_prod_spec2"]), got["sum_srank"], got["l1_term"]], want, rtol=RTOL
    )
    ignored = weight_terms(net, batchnorm="ignore")
    np.testing.assert_allclose(
        np.exp(ignored["log_prod_spec2"]), _reference_weight_terms(base)[0], rtol=RTOL
    )
    with pytest.raises(ValueError, match="unknown batchnorm mode 'fold'; allowed: ignore, include"):
        weight_terms(net, batchnorm="fold")


def test_margins_exclude_the_true_class():
    logits = torch.tensor([[3.0, 1.0, 2.0], [3.0, 1.0, 2.0]])
    assert margins(logits, torch.tensor([0, 1])).tolist() == [1.0, -2.0]


def test_training_flag_is_restored_and_overflow_is_inf_not_nan():
    net = MLP(in_features=4, hidden=(4,) * 40, num_classes=3).double()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(1e9)  # prod of sigma_1^2 ~ 1e720 overflows float64
    net.train()
    x = torch.randn(3, 4, dtype=torch.float64)
    got = complexity_measures(net, x, torch.zeros(3, dtype=torch.long))
    assert net.training
    positive = got["margin"] > 0
    assert torch.isfinite(got["log_spec_fro"][positive]).all()
    assert (got["log_spec_fro"][positive] > 709).all()
    assert torch.isinf(got["spec_fro"][positive]).all()


def test_noise_sensitivity_of_a_linear_map_matches_its_closed_form():
    # With relative_noise = sqrt(d), eta ~ N(0, I) (the paper's statement) and for f(x) = Wx
    # Phi(x) = ||W||_F^2 ||x||^2 / ||Wx||^2 >= srank(W) exactly (Arora et al., Prop. 3.1).
    torch.manual_seed(4)
    d = 6
    f = nn.Linear(d, 4, bias=False).double()
    x = torch.randn(5, d, dtype=torch.float64)
    w = f.weight.detach()
    want = w.pow(2).sum() * x.pow(2).sum(1) / (x @ w.T).pow(2).sum(1)
    got = noise_sensitivity(f, x, num_draws=4000, relative_noise=d**0.5,
                            generator=torch.Generator().manual_seed(0))  # fmt: skip
    # Monte Carlo: each draw's ||W eta||^2 has relative std <= sqrt(2), so 4000 draws give
    # <= 2.2 % relative error; 10 % is > 4 standard errors.
    torch.testing.assert_close(got, want, rtol=0.1, atol=0)
    srank = float(w.pow(2).sum() / torch.linalg.matrix_norm(w, 2) ** 2)
    assert (want >= srank - 1e-12).all()


def test_noise_sensitivity_rejects_bad_arguments():
    f = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="num_draws must be >= 1, got 0"):
        noise_sensitivity(f, torch.randn(2, 3), num_draws=0)
    with pytest.raises(ValueError, match="relative_noise must be > 0, got -1"):
        noise_sensitivity(f, torch.randn(2, 3), relative_noise=-1)
