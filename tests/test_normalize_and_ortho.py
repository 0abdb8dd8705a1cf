"""normalize_modules and the orthonormal penalty."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from srngan.nn import normalize_modules, orthonormal_penalty
from srngan.nn._srn import _StableRankNorm


def _model():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 4, 3),
        nn.BatchNorm2d(4),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 1),
    )


def _parametrized(model):
    return [m for m in model.modules() if parametrize.is_parametrized(m, "weight")]


@pytest.mark.parametrize(("kind", "ratio"), [("sn", 1.0), ("srn", 0.5)])
def test_every_weight_layer_is_normalized(kind, ratio):
    model = normalize_modules(_model(), kind, rank_ratio=0.5)
    layers = _parametrized(model)
    assert len(layers) == 3  # conv, conv-transpose, linear; BatchNorm is left alone
    assert all(isinstance(m.parametrizations.weight[0], _StableRankNorm) for m in layers)
    assert all(m.parametrizations.weight[0].rank_ratio == ratio for m in layers)
    assert model(torch.randn(2, 3, 6, 6)).shape == (2, 1)


def test_sn_equals_torch_spectral_norm_bitwise_conv_transpose_included():
    torch.manual_seed(0)
    ours, theirs = _model(), _model()
    theirs.load_state_dict(ours.state_dict())
    torch.manual_seed(1)
    normalize_modules(ours, "sn")
    torch.manual_seed(1)
    for i in (0, 2, 5):  # ConvTranspose normalized along dim 1, as torch's own does
        spectral_norm(theirs[i], dim=1 if i == 2 else 0)
    x = torch.randn(2, 3, 6, 6)
    for _ in range(3):
        assert torch.equal(ours(x), theirs(x))


def test_none_leaves_model_alone():
    assert _parametrized(normalize_modules(_model(), "none")) == []


def test_embedding_is_normalized():
    emb = normalize_modules(nn.Sequential(nn.Embedding(10, 16)), "srn")
    assert len(_parametrized(emb)) == 1


def test_unknown_kind_lists_allowed():
    with pytest.raises(
        ValueError, match=r"unknown normalization 'spectral'; allowed: none, sn, srn"
    ):
        normalize_modules(_model(), "spectral")


def test_ortho_penalty_matches_hand_computation():
    torch.manual_seed(0)
    model = _model().double()
    expected = 0.0
    for m in (model[0], model[2], model[5]):
        w = m.weight.detach()
        w = (w.transpose(0, 1) if isinstance(m, nn.ConvTranspose2d) else w).reshape(
            w.shape[1] if isinstance(m, nn.ConvTranspose2d) else w.shape[0], -1
        )
        g = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        expected += float(((g - torch.eye(g.shape[0], dtype=g.dtype)) ** 2).sum())
    got = orthonormal_penalty(model, strength=0.5)
    assert float(got) == pytest.approx(0.5 * expected, rel=1e-12)  # same float64 sums, reordered


def test_ortho_penalty_is_zero_on_orthonormal_rows_and_descends():
    layer = nn.Linear(6, 4, bias=False).double()
    q, _ = torch.linalg.qr(torch.randn(6, 4, dtype=torch.float64))
    with torch.no_grad():
        layer.weight.copy_(q.T)  # orthonormal rows
    assert float(orthonormal_penalty(layer, 1.0)) == pytest.approx(0.0, abs=1e-24)
    with torch.no_grad():
        layer.weight.mul_(1.5)
    before = orthonormal_penalty(layer, 1.0)
    before.backward()
    with torch.no_grad():
        layer.weight.sub_(1e-3 * layer.weight.grad)
    assert orthonormal_penalty(layer, 1.0) < before


def test_ortho_penalty_rejects_negative_strength():
    with pytest.raises(ValueError, match="strength must be >= 0, got -1"):
        orthonormal_penalty(_model(), strength=-1)


def test_layer_spectra_never_steps_a_power_iteration():
    # A rank-0-only monitor that stepped SN / SRN power iterations would desynchronize DDP ranks.
    from srngan.nn import layer_spectra

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))
    normalize_modules(net, "srn", rank_ratio=0.5)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    spectra = layer_spectra(net)
    assert set(spectra) == {"0", "3"} and net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    net.eval()  # reading the weight in training mode would itself step the iteration
    with torch.no_grad():
        expected = torch.linalg.matrix_norm(net[0].weight.flatten(1).double(), ord=2)
    assert spectra["0"][0] == pytest.approx(float(expected), rel=1e-9)  # float64 SVD both sides
