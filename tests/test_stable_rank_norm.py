"""The SRN parametrization (Algorithm 2) against exact float64 SVD references."""

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from srngan.nn import project_stable_rank, spectral_norm_value, stable_rank, stable_rank_norm
from srngan.nn._matrix import matrix_to_weight, output_dim, weight_to_matrix

LAYERS = [
    lambda: nn.Linear(40, 24),
    lambda: nn.Conv1d(6, 10, 3),
    lambda: nn.Conv2d(8, 16, 3),
    lambda: nn.Conv3d(3, 6, 2),
    lambda: nn.ConvTranspose1d(10, 6, 3),
    lambda: nn.ConvTranspose2d(16, 8, 3),
    lambda: nn.ConvTranspose3d(6, 3, 2),
    lambda: nn.Embedding(12, 20),
]


def _layer(make, seed=0):
    torch.manual_seed(seed)
    layer = make().double()
    # A clear spectral gap makes 300 power iterations converge to machine precision.
    with torch.no_grad():
        dim = output_dim(layer)
        u, s, vh = torch.linalg.svd(weight_to_matrix(layer.weight, dim), full_matrices=False)
        s = torch.linspace(1.0, 0.3, s.numel(), dtype=torch.float64) * 2.0
        s[0] = 4.0
        layer.weight.copy_(matrix_to_weight((u * s) @ vh, layer.weight, dim))
    return layer


def _converge(layer, steps=300):
    layer.train()
    for _ in range(steps):
        _ = layer.weight
    return layer.weight.detach()


def _original(layer):
    return layer.parametrizations.weight.original.detach()


@pytest.mark.parametrize("make", LAYERS)
def test_converged_layer_has_unit_sigma_and_target_stable_rank(make):
    layer = _layer(make)
    dim = output_dim(layer)
    w0 = layer.weight.detach().clone()
    # Half the weight's own stable rank (as a fraction of min(m, n)): SRN must act.
    ratio = 0.5 * stable_rank(w0, dim) / min(weight_to_matrix(w0, dim).shape)
    stable_rank_norm(layer, rank_ratio=ratio)
    srn = layer.parametrizations.weight[0]
    out = _converge(layer)
    assert stable_rank(w0, dim) > srn.rank  # the case where SRN acts
    # After convergence sigma is exact to float64 round-off; 1e-9 allows the power-iteration
    # residual (gap 4 -> ~3.7 gives 0.85^600 ~ 1e-42 error in the vectors).
    assert spectral_norm_value(out, dim) == pytest.approx(1.0, rel=1e-9)
    assert stable_rank(out, dim) == pytest.approx(srn.rank, rel=1e-9)
    sigma = spectral_norm_value(w0, dim)
    ref = project_stable_rank((w0 / sigma).movedim(dim, 0), srn.rank, k=1).movedim(0, dim)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("make", LAYERS)
def test_low_stable_rank_weight_is_only_spectrally_normalized(make):
    layer = _layer(make, seed=1)
    dim = output_dim(layer)
    w0 = layer.weight.detach().clone()
    # A target above the weight's own stable rank: only the spectral normalization acts.
    ratio = min(1.0, 1.5 * stable_rank(w0, dim) / min(weight_to_matrix(w0, dim).shape))
    stable_rank_norm(layer, rank_ratio=ratio)
    assert stable_rank(w0, dim) < layer.parametrizations.weight[0].rank
    out = _converge(layer)
    # Same tolerance reasoning as above: converged power iteration, float64.
    torch.testing.assert_close(out, w0 / spectral_norm_value(w0, dim), rtol=0, atol=1e-9)


def test_rank_ratio_one_is_plain_spectral_norm():
    layer = _layer(lambda: nn.Linear(30, 20), seed=2)
    w0 = layer.weight.detach().clone()
    stable_rank_norm(layer, rank_ratio=1.0)
    assert not layer.parametrizations.weight[0].srn_active
    torch.testing.assert_close(_converge(layer), w0 / spectral_norm_value(w0), rtol=0, atol=1e-9)


def test_final_linear_layer_one_row_has_no_nan():
    torch.manual_seed(0)
    layer = stable_rank_norm(nn.Linear(128, 1), rank_ratio=0.7)
    x = torch.randn(4, 128)
    out = layer(x).sum()
    out.backward()
    grad = layer.parametrizations.weight.original.grad
    assert torch.isfinite(out) and torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert spectral_norm_value(layer.weight) == pytest.approx(1.0, rel=1e-5)  # float32 round-off


def test_rank_one_matrix_has_finite_gradients():
    # A rank-one weight gives a (numerically) zero residual: the guard must avoid 0/0.
    layer = nn.Linear(6, 5, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.outer(torch.arange(1.0, 6.0), torch.ones(6)).double())
    stable_rank_norm(layer, rank_ratio=0.5)
    layer(torch.randn(3, 6, dtype=torch.float64)).pow(2).sum().backward()
    assert torch.isfinite(layer.parametrizations.weight.original.grad).all()


@pytest.mark.parametrize("make", [LAYERS[0], LAYERS[2], LAYERS[5]])
def test_gradcheck_two_forwards_in_one_graph(make):
    layer = stable_rank_norm(_layer(make, seed=3), rank_ratio=0.3)
    srn = layer.parametrizations.weight[0]
    u0, v0 = srn._u.clone(), srn._v.clone()
    in_features = {nn.Linear: (2, 40), nn.Conv2d: (2, 8, 5, 5), nn.ConvTranspose2d: (2, 16, 3, 3)}
    x = torch.randn(*in_features[type(make())], dtype=torch.float64, requires_grad=True)
    w = _original(layer).clone().requires_grad_(True)

    def two_forwards(x, w):
        # Restore the buffers so every gradcheck evaluation starts from the same u, v; the two
        # forwards then update them in place inside one graph.
        srn._u.copy_(u0)
        srn._v.copy_(v0)
        params = {"parametrizations.weight.original": w}
        a = torch.func.functional_call(layer, params, (x,))
        b = torch.func.functional_call(layer, params, (x,))
        return a + b

    assert torch.autograd.gradcheck(two_forwards, (x, w), check_batched_grad=False)


def test_eval_mode_changes_no_buffer_and_train_mode_does():
    layer = stable_rank_norm(nn.Conv2d(4, 8, 3), rank_ratio=0.5)
    srn = layer.parametrizations.weight[0]
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    layer.eval()
    for _ in range(3):
        layer(torch.randn(2, 4, 6, 6))
    after = layer.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    layer.train()
    # Re-randomize u so one power step must move it (a warm-started u is already a fixed point).
    srn._u.copy_(torch.nn.functional.normalize(torch.randn_like(srn._u), dim=0))
    u = srn._u.clone()
    layer(torch.randn(2, 4, 6, 6))
    assert not torch.equal(u, srn._u)


def test_state_dict_round_trip():
    torch.manual_seed(0)
    a = stable_rank_norm(nn.Linear(10, 7), rank_ratio=0.5)
    _converge(a, steps=5)
    torch.manual_seed(1)
    b = stable_rank_norm(nn.Linear(10, 7), rank_ratio=0.5)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    assert set(a.state_dict()) >= {
        "parametrizations.weight.original",
        "parametrizations.weight.0._u",
        "parametrizations.weight.0._v",
    }
    assert torch.equal(a.weight, b.weight)


def test_remove_parametrizations_keeps_normalized_weight():
    layer = _layer(lambda: nn.Linear(20, 16), seed=4)
    stable_rank_norm(layer, rank_ratio=0.4)
    out = _converge(layer).clone()
    layer.eval()
    expected = layer.weight.detach().clone()
    parametrize.remove_parametrizations(layer, "weight")
    assert isinstance(layer.weight, nn.Parameter)
    assert torch.equal(layer.weight.detach(), expected)
    torch.testing.assert_close(layer.weight.detach(), out)


def test_one_dimensional_parameter_is_unit_normalized():
    module = nn.Module()
    module.scale = nn.Parameter(torch.tensor([3.0, 4.0]))
    stable_rank_norm(module, name="scale")
    torch.testing.assert_close(module.scale, torch.tensor([0.6, 0.8]))


def test_autocast_keeps_math_in_float32():
    layer = stable_rank_norm(nn.Linear(16, 8), rank_ratio=0.5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        w = layer.weight
    assert w.dtype == torch.float32


@pytest.mark.parametrize("make", [LAYERS[2], LAYERS[5]])
def test_channels_last_weight_keeps_its_layout_and_value(make):
    # A conv weight in channels_last comes out in channels_last (a contiguous one would make
    # every convolution copy it back), with the value of the same layer in contiguous format.
    torch.manual_seed(0)
    layer = stable_rank_norm(make(), rank_ratio=0.3, n_power_iterations=50)
    _ = layer.weight  # converge u, v
    assert layer.parametrizations.weight[0].shrink_factor(_original(layer)) < 1.0  # SRN binds
    layer.eval()
    expected = layer.weight.detach()
    layer.to(memory_format=torch.channels_last)
    weight = layer.weight.detach()
    assert _original(layer).is_contiguous(memory_format=torch.channels_last)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    # float32, same u, v: only ||W||_F sums its squares in another order (memory order).
    torch.testing.assert_close(weight, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5, math.nan, "0.7", True])
def test_bad_rank_ratio_names_the_value(bad):
    with pytest.raises(ValueError, match="rank_ratio must be") as err:
        stable_rank_norm(nn.Linear(3, 3), rank_ratio=bad)
    assert str(bad) in str(err.value) and "(0, 1]" in str(err.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_power_iterations"):
        stable_rank_norm(nn.Linear(3, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter named 'kernel'"):
        stable_rank_norm(nn.Linear(3, 3), name="kernel")
    with pytest.raises(ValueError, match="dim=4"):
        stable_rank_norm(nn.Conv2d(3, 3, 3), dim=4)


def test_rank_target_rule():
    layer = stable_rank_norm(nn.Conv2d(16, 32, 3), rank_ratio=0.7)  # matrix 32 x 144
    assert layer.parametrizations.weight[0].rank == pytest.approx(0.7 * 32)
    layer = stable_rank_norm(nn.Linear(4, 2), rank_ratio=0.1)  # 0.2 < 1: clamped to 1
    assert layer.parametrizations.weight[0].rank == 1.0
