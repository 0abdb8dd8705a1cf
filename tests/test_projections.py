"""Exact projections (Theorem 1, Algorithms 1 and 3) against float64 SVD references."""

import math

import pytest
import torch

from srngan.nn import project_spectral_norm, project_stable_rank, stable_rank

# float64 SVD of well-conditioned random matrices is accurate to ~1e-14 relative; 1e-10 leaves
# four orders of margin for the sums of squares in the stable rank.
REL = 1e-10

SHAPES = [(8, 8), (12, 5), (5, 12), (64, 27), (3, 3, 3, 3)]


def _random_weight(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _singular_values(w):
    return torch.linalg.svdvals(w.reshape(w.shape[0], -1))


def _with_singular_values(w, s):
    """A matrix with the singular vectors of w and singular values s."""
    m = w.reshape(w.shape[0], -1)
    u, _, vh = torch.linalg.svd(m, full_matrices=False)
    return ((u * s) @ vh).reshape(w.shape)


def test_worked_example_equation_5():
    # Identity 3x3 to stable rank 2 (equation 5). Exact arithmetic on an identity: 1e-12 absolute.
    eye = torch.eye(3, dtype=torch.float64)
    w1 = torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64))  # Eckart-Young rank 2
    w2 = project_stable_rank(eye, 2, k=1)
    w3 = project_stable_rank(eye, 2, k=0)
    r2 = 1 / math.sqrt(2)
    a = (math.sqrt(2) + 1) / 2
    b = (math.sqrt(2) + 1) / (2 * math.sqrt(2))
    torch.testing.assert_close(
        w2, torch.diag(torch.tensor([1.0, r2, r2], dtype=torch.float64)), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        w3, torch.diag(torch.tensor([a, b, b], dtype=torch.float64)), rtol=0, atol=1e-12
    )
    for w in (w1, w2, w3):
        assert stable_rank(w) == pytest.approx(2.0, rel=1e-12)
    d1, d2, d3 = (torch.linalg.matrix_norm(eye - w) for w in (w1, w2, w3))
    assert d1 > d2 > d3


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [0, 1, 2])
def test_projection_hits_target_and_keeps_top_k(shape, k):
    w = _random_weight(shape, seed=sum(shape) + k)
    s = _singular_values(w)
    floor = float(s[: max(k, 1)].pow(2).sum() / s[0] ** 2)  # smallest target keeping k values
    target = floor + 0.5 * (stable_rank(w) - floor)
    out = project_stable_rank(w, target, k=k)
    assert out.shape == w.shape
    assert stable_rank(out) == pytest.approx(target, rel=REL)
    s_in, s_out = _singular_values(w), _singular_values(out)
    torch.testing.assert_close(s_out[:k], s_in[:k], rtol=REL, atol=0)
    # Theorem 1: singular vectors are kept, so out and w commute in the SVD basis.
    torch.testing.assert_close(_with_singular_values(w, s_out), out, rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [0, 1])
def test_no_feasible_perturbation_is_closer(shape, k):
    w = _random_weight(shape, seed=7 * sum(shape) + k)
    target = 1.0 + 0.4 * (stable_rank(w) - 1.0)
    best = project_stable_rank(w, target, k=k)
    best_dist = torch.linalg.vector_norm(w - best)
    s_best = _singular_values(best)
    g = torch.Generator().manual_seed(123)
    for trial in range(200):
        # Perturb the optimal spectrum, then restore feasibility exactly: rescale the tail so
        # srank = target and, for k = 1, sigma_1 is the original one.
        s = s_best * (1 + 0.05 * torch.randn(s_best.shape, generator=g, dtype=torch.float64)).abs()
        s, _ = torch.sort(s, descending=True)
        if k == 1:
            s[0] = _singular_values(w)[0]
        tail = (target * s[0] ** 2 - s[0] ** 2) / s[1:].pow(2).sum()
        s[1:] = s[1:] * tail.sqrt()
        if s[1] > s[0]:
            continue
        candidate = _with_singular_values(w, s)
        if trial % 2:  # also off the singular basis of w: a random rotation on the left
            q, _ = torch.linalg.qr(
                torch.randn(w.shape[0], w.shape[0], generator=g, dtype=torch.float64)
            )
            candidate = (q @ candidate.reshape(w.shape[0], -1)).reshape(w.shape)
        assert stable_rank(candidate) == pytest.approx(target, rel=1e-9)
        assert torch.linalg.vector_norm(w - candidate) >= best_dist - 1e-12


def test_k0_is_closer_than_k1():
    w = _random_weight((20, 10), seed=3)
    target = 2.5
    d0 = torch.linalg.vector_norm(w - project_stable_rank(w, target, k=0))
    d1 = torch.linalg.vector_norm(w - project_stable_rank(w, target, k=1))
    d2 = torch.linalg.vector_norm(w - project_stable_rank(w, target, k=2))
    assert d0 < d1 < d2  # Theorem 1: distance increases with k >= 1; k = 0 is the global optimum


def test_already_low_stable_rank_is_unchanged():
    w = _random_weight((10, 6), seed=4)
    out = project_stable_rank(w, stable_rank(w) + 0.1, k=1)
    assert torch.equal(out, w) and out is not w


def test_infeasible_k_keeps_largest_feasible_and_warns():
    s = torch.tensor([1.0, 0.9, 0.8, 0.5, 0.4], dtype=torch.float64)
    w = torch.diag(s)
    target = 2.0  # 1 + 0.81 fits in 2 * 1^2 = 2; adding 0.64 does not: l = 2
    with pytest.warns(RuntimeWarning, match="kept the top 2"):
        out = project_stable_rank(w, target, k=4)
    s_out = torch.linalg.svdvals(out)
    torch.testing.assert_close(s_out[:2], s[:2], rtol=1e-12, atol=0)
    assert stable_rank(out) == pytest.approx(target, rel=REL)


def test_rank_one_target_k0():
    w = _random_weight((6, 4), seed=5)
    out = project_stable_rank(w, 1.0, k=0)
    s = _singular_values(w)
    assert torch.linalg.matrix_rank(out) == 1
    assert _singular_values(out)[0] == pytest.approx(float(s[0]), rel=1e-12)


@pytest.mark.parametrize("bad", [0.5, -1.0, float("nan"), float("inf")])
def test_bad_rank_is_rejected(bad):
    with pytest.raises(ValueError, match="rank must be"):
        project_stable_rank(torch.eye(3), bad)


def test_bad_k_is_rejected():
    with pytest.raises(ValueError, match="k must be"):
        project_stable_rank(torch.eye(3), 2.0, k=-1)


@pytest.mark.parametrize("shape", SHAPES)
def test_spectral_projection_clips_and_is_optimal(shape):
    w = _random_weight(shape, seed=11 + sum(shape))
    s_in = _singular_values(w)
    bound = float(s_in[len(s_in) // 2])
    out = project_spectral_norm(w, bound)
    torch.testing.assert_close(_singular_values(out), s_in.clamp(max=bound), rtol=1e-12, atol=1e-12)
    # Spectral normalization (scaling to sigma_1 = bound) is feasible but farther (Appendix A.2).
    scaled = w * (bound / s_in[0])
    assert torch.linalg.vector_norm(w - out) < torch.linalg.vector_norm(w - scaled)


def test_spectral_projection_rejects_bad_bound():
    with pytest.raises(ValueError, match="s must be"):
        project_spectral_norm(torch.eye(2), 0.0)
