"""Metric math against independent references: scipy sqrtm, closed forms, torch-fidelity's own."""

import numpy as np
import pytest
import scipy.linalg
import torch
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric

from srngan.metrics import (
    FeatureStatistics,
    features_to_fid,
    features_to_kid,
    features_to_statistics,
    frechet_distance,
    logits_to_inception_score,
)
from srngan.metrics.keys import KEY_IS_MEAN, KEY_IS_STD, KEY_KID_MEAN, KEY_KID_STD


def _random_stats(d, seed, n=None):
    g = torch.Generator().manual_seed(seed)
    n = n or 3 * d
    feats = torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.randn(
        d, d, generator=g, dtype=torch.float64
    )
    feats += torch.randn(d, generator=g, dtype=torch.float64)
    return feats


def _scipy_fid(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("d", [8, 64, 200])
def test_fid_matches_scipy_sqrtm(d):
    a, b = features_to_statistics(_random_stats(d, 1)), features_to_statistics(_random_stats(d, 2))
    ours = frechet_distance(a.mean, a.covariance, b.mean, b.covariance)
    ref = _scipy_fid(*(t.numpy() for t in (a.mean, a.covariance, b.mean, b.covariance)))
    # Both float64; sqrtm's Schur iteration and our eigvalsh each lose ~1e-13 relative on these
    # well-conditioned matrices, so 1e-9 is a safe bound that still catches any formula error.
    assert ours == pytest.approx(ref, rel=1e-9)


def test_fid_closed_forms():
    s = features_to_statistics(_random_stats(32, 3))
    scale = float(s.covariance.trace())
    # Identical statistics: 0 up to float64 cancellation of terms of size tr(sigma).
    assert abs(frechet_distance(s.mean, s.covariance, s.mean, s.covariance)) < 1e-10 * scale
    shift = torch.linspace(-1, 1, 32, dtype=torch.float64)
    # Equal covariances: exactly ||mu1 - mu2||^2 (again up to cancellation at the tr(sigma) scale).
    got = frechet_distance(s.mean, s.covariance, s.mean + shift, s.covariance)
    assert got == pytest.approx(float(shift @ shift), abs=1e-10 * scale)


def test_fid_accepts_numpy_and_rejects_shape_mismatch():
    s = features_to_statistics(_random_stats(4, 5))
    assert frechet_distance(
        s.mean.numpy(), s.covariance.numpy(), s.mean, s.covariance
    ) == pytest.approx(0, abs=1e-10)
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(s.mean, s.covariance, s.mean[:3], s.covariance[:3, :3])


def test_gram_route_matches_statistics_route_when_n_below_d():
    f1, f2 = _random_stats(64, 6, n=40), _random_stats(64, 7, n=30)
    gram = features_to_fid(f1, f2)  # n < d: SVD of a 40 x 30 matrix
    a, b = features_to_statistics(f1), features_to_statistics(f2)
    stats = frechet_distance(a.mean, a.covariance, b.mean, b.covariance)  # singular: eigh factor
    assert gram == pytest.approx(stats, rel=1e-8)  # rank-deficient eigh loses a few more digits
    assert gram == pytest.approx(
        _scipy_fid(*(t.numpy() for t in (a.mean, a.covariance, b.mean, b.covariance))), rel=1e-6
    )


def test_statistics_match_numpy_and_merge_exactly():
    feats = _random_stats(16, 8, n=100)
    whole = features_to_statistics(feats)
    np.testing.assert_allclose(
        whole.covariance.numpy(), np.cov(feats.numpy(), rowvar=False), rtol=1e-10, atol=1e-10
    )
    parts = FeatureStatistics.empty(16)
    for chunk in feats.split(7):
        parts.merge(features_to_statistics(chunk))
    torch.testing.assert_close(parts.covariance, whole.covariance, rtol=1e-12, atol=1e-12)


def test_inception_score_closed_forms():
    uniform = torch.zeros(1000, 10)
    assert logits_to_inception_score(uniform)[KEY_IS_MEAN] == pytest.approx(1.0, abs=1e-12)
    k = 7
    one_hot = torch.full((700, k), -1e4, dtype=torch.float64)
    one_hot[torch.arange(700), torch.arange(700) % k] = 0.0
    # Unshuffled, each of the 10 splits holds 70 consecutive samples: 10 of each of the K classes,
    # so p(y) is uniform over K and every p(y|x) one-hot: IS = exp(log K) = K in every split.
    result = logits_to_inception_score(one_hot, shuffle=False)
    assert result[KEY_IS_MEAN] == pytest.approx(k, rel=1e-12)
    assert result[KEY_IS_STD] == pytest.approx(0.0, abs=1e-9)


def test_inception_score_matches_torch_fidelity():
    logits = torch.randn(1003, 1008, generator=torch.Generator().manual_seed(0)) * 3
    ours = logits_to_inception_score(logits)
    ref = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    # Same float64 quantities summed in a different order: 1e-10 relative.
    assert ours[KEY_IS_MEAN] == pytest.approx(ref[KEY_IS_MEAN], rel=1e-10)
    assert ours[KEY_IS_STD] == pytest.approx(ref[KEY_IS_STD], rel=1e-8)


def test_inception_score_is_split_assignment_independent_of_batching():
    from srngan.metrics.functional.inception_score import InceptionScoreState

    logits = torch.randn(500, 20, generator=torch.Generator().manual_seed(1))
    state = InceptionScoreState(500, 20)
    order = torch.randperm(500, generator=torch.Generator().manual_seed(2))
    for chunk in order.split(33):  # any order, any batch size
        state.update(logits[chunk], chunk)
    assert state.compute()[KEY_IS_MEAN] == pytest.approx(
        logits_to_inception_score(logits)[KEY_IS_MEAN], rel=1e-12
    )


def test_kid_matches_torch_fidelity():
    g = torch.Generator().manual_seed(3)
    f1 = torch.rand(300, 64, generator=g)
    f2 = torch.rand(250, 64, generator=g) * 1.1
    ours = features_to_kid(f1, f2, subsets=20, subset_size=100)
    ref = kid_features_to_metric(
        f1, f2, kid_subsets=20, kid_subset_size=100, kid_degree=3, kid_gamma=None, kid_coef0=1, rng_seed=2020,
        kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, verbose=False,
    )  # fmt: skip
    # Same subsets (same RandomState draws); torch-fidelity forms the kernels in float32 (features
    # are float32 numpy arrays), we in float64: 1e-5 relative covers float32 kernel round-off.
    assert ours[KEY_KID_MEAN] == pytest.approx(ref[KEY_KID_MEAN], rel=1e-5)
    assert ours[KEY_KID_STD] == pytest.approx(ref[KEY_KID_STD], rel=1e-4)


def test_kid_subset_size_error():
    with pytest.raises(ValueError, match="KID subset size 50 exceeds"):
        features_to_kid(torch.rand(10, 4), torch.rand(10, 4), subset_size=50)
