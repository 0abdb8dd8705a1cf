"""The torchmetrics Metric classes against the functional math, torch-fidelity, and DDP sync."""

import json
import os
from pathlib import Path

import pytest
import torch
from torch import nn
from torch_fidelity.metric_isc import isc_features_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric

from srngan.metrics import (
    FrechetInceptionDistance,
    InceptionScore,
    IntraFID,
    KernelInceptionDistance,
    features_to_fid,
    features_to_kid,
    logits_to_inception_score,
)
from srngan.metrics.inception import quantize_images
from srngan.metrics.keys import KEY_IS_MEAN, KEY_IS_STD, KEY_KID_MEAN, KEY_KID_STD


class _Extractor(nn.Module):
    """Deterministic uint8 -> (16-d features, 10 logits): random projections of pooled pixels."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.proj = torch.randn(3 * 4 * 4, 16, generator=g)
        self.cls = torch.randn(16, 10, generator=g)

    def forward(self, images):
        assert images.dtype == torch.uint8  # the metrics quantize before extracting
        # One image at a time: float32 features then do not depend on the batch they came in,
        # so the tests below compare float64 math on identical features.
        rows = [self._one(images[i : i + 1]) for i in range(images.shape[0])]
        return torch.cat([f for f, _ in rows]), torch.cat([logits for _, logits in rows])

    def _one(self, image):
        # float64, so that other thread counts (spawned processes) change nothing but the last
        # float64 bits; the metrics accept any float features.
        x = nn.functional.avg_pool2d(image.double() / 255, 4).flatten(1)
        f = torch.tanh(x @ self.proj.double())
        return f, 3 * f @ self.cls.double()


def _images(n, seed):
    return torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))  # fmt: skip


EX = _Extractor()
REAL, FAKE = _images(90, 1), _images(70, 2) // 2  # fake: darker, so the metrics are not ~0
LABELS_R, LABELS_F = torch.arange(90) % 3, torch.arange(70) % 3


def _fid(batch=16):
    fid = FrechetInceptionDistance(EX, feature_dim=16)
    for chunk in REAL.split(batch):
        fid.update(chunk, real=True)
    for chunk in FAKE.split(batch):
        fid(chunk, real=False)  # calling the metric updates it, as torchmetrics' FID
    return fid


def test_fid_matches_functional_route():
    # n > d: the statistics route of the class against the functional one on the whole feature
    # matrices (same float64 sums, other batching): 1e-10 relative.
    expected = features_to_fid(EX(REAL)[0], EX(FAKE)[0])
    assert float(_fid().compute()) == pytest.approx(expected, rel=1e-10)
    assert float(_fid(batch=7).compute()) == pytest.approx(expected, rel=1e-10)


def test_fid_reset_keeps_real_side_on_request():
    fid = FrechetInceptionDistance(EX, feature_dim=16, reset_real_features=False)
    fid.update(REAL, real=True)
    fid.update(FAKE, real=False)
    first = float(fid.compute())
    fid.reset()
    assert int(fid.real_count) == 90 and int(fid.fake_count) == 0
    fid.update(FAKE, real=False)
    assert float(fid.compute()) == first
    fixed = FrechetInceptionDistance(EX, feature_dim=16, reference=_fid().statistics(real=True))
    fixed.update(FAKE, real=False)
    # rel 1e-9: a fixed reference goes through its cached Cholesky factor (trmm congruence +
    # eigvalsh), the accumulated one through the direct route; float64 rounding of the two
    # routes differs by ~1e-11 relative here (cond(sigma) * eps), and by more on other BLAS
    # builds. Any wrong statistic (one image more or less on a side) moves FID by > 1e-3.
    assert float(fixed.compute()) == pytest.approx(first, rel=1e-9)
    with pytest.raises(ValueError, match="fixed reference statistics"):
        fixed.update(REAL, real=True)


def test_float_images_equal_their_uint8_quantization():
    floats = torch.rand(70, 3, 16, 16, generator=torch.Generator().manual_seed(4)) * 2 - 1
    a, b = (
        FrechetInceptionDistance(EX, feature_dim=16),
        FrechetInceptionDistance(EX, feature_dim=16),
    )
    for m, fake in ((a, floats), (b, quantize_images(floats))):
        m.update(REAL, real=True)
        m.update(fake, real=False)
    assert float(a.compute()) == float(b.compute())  # same uint8 images: bit-identical
    isc_a, isc_b = InceptionScore(EX, num_logits=10), InceptionScore(EX, num_logits=10)
    isc_a.update(floats)
    isc_b.update(quantize_images(floats))
    assert [float(v) for v in isc_a.compute()] == [float(v) for v in isc_b.compute()]


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.zeros(4, 3, 8, 8, dtype=torch.int64), "uint8 or floats in \\[-1, 1\\], got dtype torch.int64"),
        (torch.zeros(4, 1, 8, 8), "shape \\(N, 3, H, W\\), got \\(4, 1, 8, 8\\)"),
        (torch.full((4, 3, 8, 8), 255.0), "must lie in \\[-1, 1\\], got values in \\[255, 255\\]"),
        (torch.full((4, 3, 8, 8), float("nan")), "must lie in \\[-1, 1\\], got NaN"),
    ],
)  # fmt: skip
def test_bad_images_are_one_line_errors(images, message):
    with pytest.raises(ValueError, match=message) as err:
        FrechetInceptionDistance(EX, feature_dim=16).update(images, real=False)
    assert "\n" not in str(err.value)


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match=r"features have dimension 16, .*feature_dim=2048"):
        FrechetInceptionDistance(EX).update(REAL, real=True)
    with pytest.raises(ValueError, match="labels must lie in \\[0, 3\\), got \\[0, 5\\]"):
        IntraFID(3, EX, feature_dim=16).update(REAL[:6], torch.arange(6), real=True)
    with pytest.raises(ValueError, match="sample index 0 was added twice"):
        kid = KernelInceptionDistance(EX, feature_dim=16, subset_size=2)
        kid.update(REAL[:4], real=True, indices=torch.arange(4))
        kid.update(REAL[:4], real=True, indices=torch.arange(4))
        kid.features(real=True)
    with pytest.raises(ValueError, match="feature_extractor must be callable"):
        FrechetInceptionDistance("inception")


def test_missing_weights_error_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"weights-inception-2015-12-05-6726825d\.pth"):
        FrechetInceptionDistance()


def test_weights_from_argument(inception_weights):
    fid = FrechetInceptionDistance(inception_weights=inception_weights)
    assert fid.inception.weights_digest  # the network is a submodule: .to(device) moves it


def test_inception_score_matches_torch_fidelity_and_functional():
    logits = EX(FAKE)[1]
    ref = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    kept, summed = (
        InceptionScore(EX, num_logits=10),
        InceptionScore(EX, num_logits=10, num_samples=70),
    )
    order = torch.randperm(70, generator=torch.Generator().manual_seed(5))
    for chunk in order.split(9):  # any order and batch size, given the sample indices
        kept.update(FAKE[chunk], indices=chunk)
        summed.update(FAKE[chunk], indices=chunk)
    functional = logits_to_inception_score(logits)
    for state in (kept, summed):
        mean, std = (float(v) for v in state.compute())
        # float64 sums in another order than torch-fidelity's float64 mean: 1e-10 / 1e-8 as in
        # tests/test_metrics_math.py; against our own functional route: 1e-12.
        assert mean == pytest.approx(ref[KEY_IS_MEAN], rel=1e-10)
        assert std == pytest.approx(ref[KEY_IS_STD], rel=1e-8)
        assert mean == pytest.approx(functional[KEY_IS_MEAN], rel=1e-12)
    with pytest.raises(ValueError, match="expected each of the 70 samples once"):
        partial = InceptionScore(EX, num_logits=10, num_samples=70)
        partial.update(FAKE[:60])
        partial.compute()


def test_kid_matches_torch_fidelity_and_functional():
    kid = KernelInceptionDistance(EX, feature_dim=16, subsets=20, subset_size=50)
    for chunk in REAL.split(13):
        kid.update(chunk, real=True)
    for chunk in FAKE.split(13):
        kid.update(chunk, real=False)
    mean, std = (float(v) for v in kid.compute())
    fake_f, real_f = EX(FAKE)[0], EX(REAL)[0]
    functional = features_to_kid(fake_f, real_f, subsets=20, subset_size=50)
    assert (mean, std) == (functional[KEY_KID_MEAN], functional[KEY_KID_STD])  # same float64 math
    ref = kid_features_to_metric(
        fake_f, real_f, kid_subsets=20, kid_subset_size=50, kid_degree=3, kid_gamma=None, kid_coef0=1,
        rng_seed=2020, kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1, verbose=False,
    )  # fmt: skip
    # Same subsets; torch-fidelity's float32 kernels vs our float64 (tests/test_metrics_math.py).
    assert mean == pytest.approx(ref[KEY_KID_MEAN], rel=1e-5)
    assert std == pytest.approx(ref[KEY_KID_STD], rel=1e-4)


def test_intra_fid_is_mean_of_per_class_fids():
    intra = IntraFID(3, EX, feature_dim=16)
    for chunk in torch.arange(90).split(20):
        intra.update(REAL[chunk], LABELS_R[chunk], real=True)
    intra.update(FAKE, LABELS_F, real=False)
    fr, ff = EX(REAL)[0], EX(FAKE)[0]
    # Classes of 30 / ~23 samples in d = 16: full-rank, the statistics route to 1e-9.
    expected = sum(features_to_fid(fr[LABELS_R == c], ff[LABELS_F == c]) for c in range(3)) / 3
    assert float(intra.compute()) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(
        ValueError, match="at least 2 real and 2 generated images of class 0, got 30 and 1"
    ):
        short = IntraFID(3, EX, feature_dim=16)
        short.update(REAL, LABELS_R, real=True)
        short.update(FAKE[:2], LABELS_F[:2], real=False)
        short.compute()


def _all_values(rank, world):
    """Every class's value with the samples split across ``world`` processes (interleaved)."""
    mine = torch.arange(rank, 70, world)
    mine_r = torch.arange(rank, 90, world)
    fid, kid = (
        FrechetInceptionDistance(EX, feature_dim=16),
        KernelInceptionDistance(EX, feature_dim=16, subsets=5, subset_size=30),
    )
    isc = InceptionScore(EX, num_logits=10)
    isc_sums = InceptionScore(EX, num_logits=10, num_samples=70)
    intra = IntraFID(3, EX, feature_dim=16)
    for chunk in mine_r.split(8):
        fid.update(REAL[chunk], real=True)
        kid.update(REAL[chunk], real=True, indices=chunk)
        intra.update(REAL[chunk], LABELS_R[chunk], real=True)
    for chunk in mine.split(8):
        fid.update(FAKE[chunk], real=False)
        kid.update(FAKE[chunk], real=False, indices=chunk)
        isc.update(FAKE[chunk], indices=chunk)
        isc_sums.update(FAKE[chunk], indices=chunk)
        intra.update(FAKE[chunk], LABELS_F[chunk], real=False)
    return {
        "fid": float(fid.compute()), "kid": [float(v) for v in kid.compute()],
        "is": [float(v) for v in isc.compute()], "is_sums": [float(v) for v in isc_sums.compute()],
        "intra_fid": float(intra.compute()), "states_dtype": str(fid.fake_outer.dtype),
    }  # fmt: skip


def _ddp_worker(rank, world, out_dir):
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29547")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        values = _all_values(rank, world)
        Path(out_dir, f"rank{rank}.json").write_text(json.dumps(values))
    finally:
        dist.destroy_process_group()


def test_states_sync_across_processes(tmp_path):
    import torch.multiprocessing as mp

    one = _all_values(0, 1)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):  # torchmetrics syncs on compute: every rank gets the full value
        two = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert two["states_dtype"] == "torch.float64"
        # Half the samples per process: float64 sums added in another order (1e-9 relative);
        # KID and IS see the same rows in the same order (by index): equal to 1e-12.
        assert two["fid"] == pytest.approx(one["fid"], rel=1e-9)
        assert two["intra_fid"] == pytest.approx(one["intra_fid"], rel=1e-9)
        assert two["kid"] == pytest.approx(one["kid"], rel=1e-12)
        assert two["is"] == pytest.approx(one["is"], rel=1e-12)
        assert two["is_sums"] == pytest.approx(one["is"], rel=1e-12)
