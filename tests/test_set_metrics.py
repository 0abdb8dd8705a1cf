"""Precision / recall and density / coverage against torch-fidelity's prc and the prdc package."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch_fidelity.metric_prc import prc_features_to_metric

from srngan.metrics import (
    DensityCoverage,
    PrecisionRecall,
    features_to_density_coverage,
    features_to_precision_recall,
    keys,
)
from srngan.metrics.functional.knn import block_rows, cross_ball_counts, knn_radii
from srngan.metrics.keys import KEY_COVERAGE, KEY_DENSITY, KEY_F_SCORE, KEY_PRECISION, KEY_RECALL


def _features(n, d, seed, shift=0.0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g) * scale + shift).float()


# Generated: shifted and narrower, so precision, recall, density and coverage are all away from
# 0 and 1 and a wrong membership rule, radius or normalisation changes them.
REAL, FAKE = _features(300, 12, 0), _features(250, 12, 1, shift=0.3, scale=0.8)


def _torch_fidelity_prc(fake, real, k=3, save_cpu_ram=False):
    return prc_features_to_metric(
        fake, real, prc_neighborhood=k, prc_batch_size=64, save_cpu_ram=save_cpu_ram, verbose=False
    )


@pytest.mark.parametrize("k", [1, 3, 7])
@pytest.mark.parametrize("save_cpu_ram", [False, True])
def test_precision_recall_equal_torch_fidelity(k, save_cpu_ram):
    ours = features_to_precision_recall(FAKE, REAL, k, block_bytes=50_000)  # ~16 rows per block
    ref = _torch_fidelity_prc(FAKE, REAL, k, save_cpu_ram)
    assert 0.05 < ours[KEY_PRECISION] < 0.999 and 0.05 < ours[KEY_RECALL] < 0.999  # not 0 or all
    # torch-fidelity's distances are float32, ours float64: a point could flip only if its
    # distance to a ball's edge is below float32 round-off (~1e-6 relative); none is here, so the
    # counts are equal. torch-fidelity averages in float32 (0.72 is 0.7200000286): abs 1e-6 is
    # that round-off and 4000x below one point (1/250), so it still demands equal counts.
    assert ours[KEY_PRECISION] * 250 == round(ours[KEY_PRECISION] * 250)  # a count / 250
    assert ours[KEY_PRECISION] == pytest.approx(ref["precision"], abs=1e-6)
    assert ours[KEY_RECALL] == pytest.approx(ref["recall"], abs=1e-6)
    assert ours[KEY_F_SCORE] == pytest.approx(ref["f_score"], abs=1e-6)


@pytest.mark.parametrize("k", [2, 5])
def test_density_coverage_equal_prdc(k, capsys):
    from prdc import compute_prdc

    ours = features_to_density_coverage(FAKE, REAL, k, block_bytes=50_000)
    ref = compute_prdc(REAL.numpy(), FAKE.numpy(), nearest_k=k)
    assert 0.05 < ours[KEY_COVERAGE] < 0.95 and 0.05 < ours[KEY_DENSITY]
    # prdc's distances are float32 (scikit-learn), ours float64; no point lies within float32
    # round-off of a ball's edge here, so the counts behind both values are equal: density is
    # a count / (k * 250), coverage a count / 300, equal to float64 round-off (1e-12).
    assert ours[KEY_DENSITY] == pytest.approx(float(ref["density"]), rel=1e-12)
    assert ours[KEY_COVERAGE] == pytest.approx(float(ref["coverage"]), rel=1e-12)


def test_block_size_does_not_change_anything():
    radii = knn_radii(REAL, 3)
    b = cross_ball_counts(FAKE, REAL, radii, knn_radii(FAKE, 3))
    for block_bytes in (1, 10_000, 1 << 30):  # one row per block ... everything in one block
        # Another block shape may round the matrix product differently: float64 round-off only.
        assert torch.allclose(knn_radii(REAL, 3, block_bytes), radii, rtol=1e-12, atol=0)
        a = cross_ball_counts(FAKE, REAL, radii, knn_radii(FAKE, 3), block_bytes)
        for name in ("fake_in_real", "fake_real_balls", "real_in_fake"):
            assert torch.equal(getattr(a, name), getattr(b, name)), (block_bytes, name)
        assert torch.allclose(a.real_nearest_fake, b.real_nearest_fake, rtol=1e-12, atol=0)
    assert block_rows(50_000, 128 << 20) == 111  # 111 x 50 000 x 24 bytes < 128 MiB < 112 x ...


def test_radii_skip_the_point_itself_against_a_loop():
    x = _features(40, 5, 3).double()
    d = torch.cdist(x, x)
    expected = torch.stack([d[i][torch.arange(40) != i].sort().values[2] for i in range(40)])
    assert torch.allclose(knn_radii(x, 3), expected, rtol=1e-12, atol=0)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ValueError, match="k \\(nearest neighbours\\) must be >= 1, got 0"):
        knn_radii(REAL, 0)
    with pytest.raises(ValueError, match="need at least 4 feature rows, got 3"):
        knn_radii(REAL[:3], 3)
    with pytest.raises(ValueError, match="differ in dimension: 12 and 5"):
        cross_ball_counts(FAKE, REAL[:, :5], knn_radii(REAL[:, :5], 3))
    with pytest.raises(ValueError, match="must be a 2-d"):
        knn_radii(REAL[0], 3)
    with pytest.raises(ValueError, match="block_bytes must be >= 1, got 0"):
        block_rows(10, 0)


class _Extractor(nn.Module):
    """uint8 -> (8-d features, no logits): a fixed random projection of pooled pixels, float64
    per image (features independent of the batch and of thread counts)."""

    def __init__(self):
        super().__init__()
        self.proj = torch.randn(3 * 4 * 4, 8, generator=torch.Generator().manual_seed(0))

    def forward(self, images):
        x = nn.functional.avg_pool2d(images.double() / 255, 4).flatten(1)
        return torch.tanh(x @ self.proj.double()), x.new_empty(x.shape[0], 0)


EX = _Extractor()
IMG_R = torch.randint(0, 256, (60, 3, 16, 16), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(1))  # fmt: skip
IMG_F = IMG_R[:50] // 2 + 40  # darker, lower-contrast copies


def _fed(cls, rank=0, world=1, **kwargs):
    metric = cls(EX, feature_dim=8, **kwargs)
    for chunk in torch.arange(rank, 60, world).split(7):
        metric.update(IMG_R[chunk], real=True)
    for chunk in torch.arange(rank, 50, world).split(7):
        metric(IMG_F[chunk], real=False)  # calling the metric updates it
    return metric


def test_metric_classes_equal_the_functions():
    fr, ff = EX(IMG_R)[0], EX(IMG_F)[0]
    prc = _fed(PrecisionRecall).compute()
    expected = features_to_precision_recall(ff, fr)
    assert {k: float(v) for k, v in prc.items()} == pytest.approx(expected, rel=1e-12)
    assert all(v.dtype == torch.float64 for v in prc.values())
    dc = _fed(DensityCoverage).compute()
    assert {k: float(v) for k, v in dc.items()} == pytest.approx(
        features_to_density_coverage(ff, fr), rel=1e-12
    )
    # A fixed reference with cached radii gives the same values, and refuses real updates.
    cached = PrecisionRecall(EX, feature_dim=8, reference=fr.float(),
                             reference_radii=knn_radii(fr.float(), 3))  # fmt: skip
    cached.update(IMG_F, real=False)
    assert {k: float(v) for k, v in cached.compute().items()} == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="fixed reference features; update\\(real=False\\) only"):
        cached.update(IMG_R, real=True)


def test_metric_classes_refuse_bad_arguments():
    with pytest.raises(ValueError, match="k \\(nearest neighbours\\) must be >= 1, got 0"):
        PrecisionRecall(EX, feature_dim=8, k=0)
    with pytest.raises(ValueError, match="reference features must have shape \\(n, 8\\)"):
        DensityCoverage(EX, feature_dim=8, reference=torch.zeros(5, 3))
    few = DensityCoverage(EX, feature_dim=8)
    few.update(IMG_R[:10], real=True)
    few.update(IMG_F[:5], real=False)
    with pytest.raises(ValueError, match="k = 5 needs at least 6 generated images, got 5"):
        few.compute()
    with pytest.raises(ValueError, match="features have dimension 3"):
        few.update(None, real=True, features=torch.zeros(4, 3))


def test_missing_vgg_weights_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("SRNGAN_VGG16_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError, match=r"vgg16-397923af.pth not found \(not downloaded\)"):
        PrecisionRecall()


def _values(rank, world):
    prc, dc = _fed(PrecisionRecall, rank, world), _fed(DensityCoverage, rank, world)
    return {**{k: float(v) for k, v in prc.compute().items()},
            **{k: float(v) for k, v in dc.compute().items()}}  # fmt: skip


def _ddp_worker(rank, world, out_dir):
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29561")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        Path(out_dir, f"rank{rank}.json").write_text(json.dumps(_values(rank, world)))
    finally:
        dist.destroy_process_group()


def test_states_sync_across_processes(tmp_path):
    import torch.multiprocessing as mp

    one = _values(0, 1)
    mp.spawn(_ddp_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        # The same rows gathered in another order; the metrics are set functions of them, and
        # the distances are computed row by row, so the values are equal.
        assert json.loads((tmp_path / f"rank{rank}.json").read_text()) == one


@pytest.fixture(scope="module")
def vgg16_home(tmp_path_factory):
    """A torch home whose hub cache holds seeded random VGG-16 weights under the real name."""
    import torchvision

    home = tmp_path_factory.mktemp("torch_home")
    folder = home / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torchvision.models.vgg16()
    torch.save(net.state_dict(), folder / "vgg16-397923af.pth")
    return home


def test_precision_recall_equal_torch_fidelity_end_to_end(vgg16_home, monkeypatch):
    """The same images through torch-fidelity's whole ``prc`` and through PrecisionRecall."""
    import torch_fidelity

    monkeypatch.setenv("TORCH_HOME", str(vgg16_home))
    monkeypatch.delenv("SRNGAN_VGG16_WEIGHTS", raising=False)
    torch.set_num_threads(1)  # one thread: float32 VGG features equal in both runs
    # Two draws of one distribution (smooth random colour fields), so the sets overlap.
    g = torch.Generator().manual_seed(5)
    smooth = nn.functional.interpolate(
        torch.rand(11, 3, 4, 4, generator=g), size=16, mode="bilinear"
    )
    images = (smooth * 255).round().to(torch.uint8)
    real, fake = images[:6], images[6:]  # few: VGG-16 at 224 px on a CPU

    class _Images(torch.utils.data.Dataset):
        def __init__(self, images):
            self.images = images

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i]

    ref = torch_fidelity.calculate_metrics(
        input1=_Images(fake), input2=_Images(real), prc=True, cuda=False, cache=False,
        verbose=False, batch_size=8, save_cpu_ram=True,  # no loader workers
    )  # fmt: skip
    prc = PrecisionRecall()  # finds the weights in $TORCH_HOME/hub/checkpoints, as torchvision
    prc.update(real, real=True)
    prc.update(fake.float() / 127.5 - 1, real=False)  # floats in [-1, 1] quantize back exactly
    ours = {k: float(v) for k, v in prc.compute().items()}
    assert 0 < ours[KEY_PRECISION] < 1 or 0 < ours[KEY_RECALL] < 1
    # Same weights, same resizing and features (torch-fidelity's own extractor), float32
    # distances there and float64 here: equal unless a point lies within float32 round-off of
    # a ball's edge; with 5 and 6 images one such flip would change a value by 1/5 or 1/6.
    # abs 1e-6: torch-fidelity's float32 mean of the counts.
    assert ours[KEY_PRECISION] == pytest.approx(ref["precision"], abs=1e-6)
    assert ours[KEY_RECALL] == pytest.approx(ref["recall"], abs=1e-6)
    assert np.isclose(ours[KEY_F_SCORE], ref["f_score"], rtol=0, atol=1e-6)


def test_evaluator_feeds_set_metrics_from_their_own_extractor_and_caches_radii():
    """Evaluator: prc / dc on the set extractor's features of the same samples, the real side
    (features and radii) cached; Intra-FID's per-class values beside the mean."""
    from srngan.data import ShapesDataset
    from srngan.evaluation import DatasetImages, EvalSettings, Evaluator, GeneratorImages
    from srngan.evaluation.extractors import Extractor

    def generate(z, labels):
        base = torch.tanh(z[:, :3, None, None].repeat(1, 1, 16, 16))
        return (base + 0.05 * labels.view(-1, 1, 1, 1)).clamp(-1, 1)

    def main_extractor(images):  # 10 logits (IS / accuracy), 4-d features (FID)
        x = nn.functional.avg_pool2d(images.double() / 255, 4).flatten(1)  # 48 values
        return x[:, :4], x[:, :10]

    set_extractor = EX  # 8-d features
    real = DatasetImages(ShapesDataset(60, 3, 16, seed=5), {"d": "set-test"})  # 16 px, as EX takes
    settings = EvalSettings(metrics=("fid", "prc", "dc", "intra_fid"), num_samples=40,
                            num_real=50, batch_size=16, intra_fid_samples_per_class=6)  # fmt: skip

    def evaluator():
        return Evaluator(settings, extractor=Extractor(main_extractor, 4, 10),
                         set_extractor=Extractor(set_extractor, 8, 0, {"set": "EX"}))  # fmt: skip

    ev = evaluator()
    fake = GeneratorImages(generate, 5, 3)
    found, _ = ev.evaluate(fake, real)
    fake_images = torch.cat([b.images for b in fake.batches(40, 16)])
    real_images = torch.cat([b.images for b in real.batches(50, 16)])
    ff, fr = set_extractor(fake_images)[0], set_extractor(real_images)[0]
    expected = {**features_to_precision_recall(ff, fr), **features_to_density_coverage(ff, fr)}
    assert {k: found[k] for k in expected} == pytest.approx(expected, rel=1e-12)
    per_class = [found[f"intra_frechet_inception_distance_class_{c}"] for c in range(3)]
    assert found["intra_frechet_inception_distance"] == pytest.approx(sum(per_class) / 3)
    # The set reference is cached: a second evaluator gets the same radii without a real pass.
    a = ev.reference(real, ("prc", "dc"))
    b = evaluator().reference(real, ("prc", "dc"))
    assert b.cache_hits == {"set": True}
    assert torch.equal(a.set_features, b.set_features) and torch.equal(a.radii[3], b.radii[3])
    assert set(a.radii) == {3, 5}


@pytest.mark.slow  # Inception and VGG-16 forwards on CPU: ~40 s on the 2-core machine
def test_evaluator_uses_torch_fidelity_vgg16_beside_inception(
    vgg16_home, inception_weights, monkeypatch
):
    """The Evaluator with the Inception extractor: FID on Inception, prc on VGG-16 (weights
    found in the hub cache), from one pass over the samples."""
    from srngan.data import ShapesDataset
    from srngan.evaluation import DatasetImages, EvalSettings, Evaluator, GeneratorImages
    from srngan.metrics.vgg import load_vgg16

    monkeypatch.setenv("TORCH_HOME", str(vgg16_home))
    torch.set_num_threads(1)
    real = DatasetImages(ShapesDataset(8, 2, 16, seed=3))
    settings = EvalSettings(metrics=("fid", "prc"), num_samples=6, num_real=8, batch_size=8,
                            inception_weights=str(inception_weights))  # fmt: skip

    def generate(z, labels):
        return torch.tanh(z[:, :3, None, None].repeat(1, 1, 16, 16))

    fake = GeneratorImages(generate, 4)
    found, _ = Evaluator(settings).evaluate(fake, real)
    assert {keys.KEY_FID, KEY_PRECISION, KEY_RECALL, KEY_F_SCORE} <= set(found)
    vgg = load_vgg16()
    fake_images = torch.cat([b.images for b in fake.batches(6, 8)])
    real_images = torch.cat([b.images for b in real.batches(8, 8)])
    expected = features_to_precision_recall(vgg(fake_images)[0], vgg(real_images)[0])
    assert {k: found[k] for k in expected} == pytest.approx(expected, rel=1e-12)


def test_metrics_callback_wants_the_vgg_weights_at_the_start(tmp_path, inception_weights, capsys):
    from conftest import TINY

    from srngan.cli import main

    cfg = tmp_path / "m.yaml"
    cfg.write_text(
        "trainer:\n  callbacks:\n    - class_path: srngan.MetricsCallback\n"
        f"      init_args: {{metrics: [prc], inception_weights: {inception_weights}}}\n"
    )
    with pytest.raises(SystemExit):
        main(["fit", *TINY, "--config", str(cfg), "--trainer.default_root_dir", str(tmp_path),
              "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    assert "vgg16-397923af.pth not found (not downloaded)" in capsys.readouterr().err
