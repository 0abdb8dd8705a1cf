"""srngan stats (mu / sigma .npz), evaluate --real-stats / --reference-split / prc, dc on folders."""

import json

import numpy as np
import pytest
import scipy.linalg
import torch

from srngan.cli import main
from srngan.data import ShapesDataset
from srngan.metrics import keys
from srngan.metrics.inception import quantize_images


def _npz(path, dataset_seed, n, brighter=0):
    images = quantize_images(ShapesDataset(n, 10, 32, seed=dataset_seed).images)
    images = images.clamp(0, 255 - brighter) + brighter
    np.savez(path, images=images.permute(0, 2, 3, 1).numpy())
    return path, images


def _scipy_fid(mu1, sigma1, mu2, sigma2):
    """FID as pytorch-fid writes it: scipy's sqrtm of the product, in float64."""
    covmean, _ = scipy.linalg.sqrtm(sigma1 @ sigma2, disp=False)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean.real))


def _json(path):
    return json.loads(path.read_text())


def test_stats_file_and_fid_against_it_match_an_independent_fid(tmp_path, inception_weights):
    from srngan.metrics.inception import extract_features, load_inception

    real_npz, real = _npz(tmp_path / "real.npz", 1, 12)  # few: Inception at 299 px on a CPU
    fake_npz, _ = _npz(tmp_path / "fake.npz", 2, 8, brighter=40)
    w = ["--inception-weights", str(inception_weights), "--device", "cpu", "--batch-size", "20"]
    main(["stats", "--images", str(real_npz), "--out", str(tmp_path / "real_stats.npz"), *w])
    with np.load(tmp_path / "real_stats.npz") as f:  # as pytorch-fid / clean-fid read it
        mu, sigma, count = f["mu"], f["sigma"], int(f["count"])
    assert mu.shape == (2048,) and sigma.shape == (2048, 2048) and mu.dtype == np.float64
    assert count == 12

    # The same images through the same extractor (torch-fidelity's network, channels_last as
    # srngan runs it: float32 features bit for bit), in the same batches; numpy's mean and
    # covariance in float64. srngan sums x and x x^T in float64: equal to round-off.
    net = load_inception(inception_weights)

    def features(images):
        return torch.cat([extract_features(net, b)[0] for b in images.split(20)]).double().numpy()

    feats = features(real)
    assert np.allclose(mu, feats.mean(0), rtol=1e-9, atol=1e-12)
    # sigma = (sum x x^T - n mu mu^T) / (n - 1) cancels: these features are ~100 with variances
    # ~1, so entries carry ~1e-11 of max|x|^2 in round-off; atol 1e-9 of max|sigma| covers it.
    assert np.allclose(sigma, np.cov(feats, rowvar=False), rtol=1e-7, atol=1e-9 * abs(sigma).max())

    main(["evaluate", "--fake", str(fake_npz), "--real-stats", str(tmp_path / "real_stats.npz"),
          "--metrics", "fid", "--json", str(tmp_path / "a.json"), *w])  # fmt: skip
    main(["evaluate", "--fake", str(fake_npz), "--real", str(real_npz), "--metrics", "fid",
          "--json", str(tmp_path / "b.json"), *w])  # fmt: skip
    with_stats = _json(tmp_path / "a.json")[keys.KEY_FID]
    # The file holds what the images give: the same FID. Not to 1e-12: with 12 images in 2048-d
    # the covariance is singular, and the float64 round-off of the file's round trip (sums ->
    # mu, sigma -> sums) makes ~1e-16-sized eigenvalues whose square roots move the FID by ~1e-8
    # relative (4e-9 measured); 1e-7 allows that and is far below one image's effect.
    assert with_stats == pytest.approx(_json(tmp_path / "b.json")[keys.KEY_FID], rel=1e-7)
    fake_feats = features(torch.from_numpy(np.load(fake_npz)["images"]).permute(0, 3, 1, 2))
    independent = _scipy_fid(mu, sigma, fake_feats.mean(0), np.cov(fake_feats, rowvar=False))
    # 12 and 8 images in 2048-d: both covariances are singular, where scipy's sqrtm of the
    # product is accurate to ~1e-6 of the trace (its zero eigenvalues come out as +-1e-8 roots);
    # srngan's eigenvalue route needs no sqrtm. rel 1e-5 is that sqrtm accuracy, well below the
    # FID's change for one image (~1e-2).
    assert with_stats > 1 and with_stats == pytest.approx(independent, rel=1e-5)


def test_bad_stats_and_evaluate_arguments(tmp_path, capsys, inception_weights):
    np.savez(tmp_path / "bad.npz", mean=np.zeros(3))
    fake_npz, _ = _npz(tmp_path / "fake.npz", 2, 4)
    w = ["--inception-weights", str(inception_weights), "--device", "cpu"]
    cases = [
        (["stats", "--out", "x.npz"], "pass either --dataset NAME (with --split) or --images PATH"),
        (["stats", "--images", str(fake_npz), "--out", "x.pt"], "--out must end in .npz, got x.pt"),
        (["evaluate", "--fake", str(fake_npz), "--real-stats", str(tmp_path / "bad.npz"), *w],
         "bad.npz has no mu / sigma"),
        (["evaluate", "--fake", str(fake_npz), "--real-stats", "s.npz", "--metrics", "fid,kid"],
         "it gives fid (and is needs no reference), not kid"),
        (["evaluate", "--fake", str(fake_npz), "--real-stats", "s.npz", "--real", "r.npz"],
         "pass --real PATH or --real-stats FILE.npz, not both"),
    ]  # fmt: skip
    for argv, message in cases:
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err, argv


def test_checkpoint_against_a_split_or_statistics(tmp_path, tiny_fit, inception_weights):
    run = tiny_fit(tmp_path)
    ckpt = str(run / "checkpoints" / "last.ckpt")
    w = ["--inception-weights", str(inception_weights), "--device", "cpu", "--batch-size", "20"]
    n = ["--num-samples", "8", "--num-real", "10"]
    for split in ("train", "test"):
        main(["evaluate", "--ckpt", ckpt, "--metrics", "is,fid", *n, *w, "--num-is-samples", "10",
              "--reference-split", split, "--json", str(tmp_path / f"{split}.json")])  # fmt: skip
    train, test = _json(tmp_path / "train.json"), _json(tmp_path / "test.json")
    assert set(train) == {keys.KEY_FID, keys.KEY_IS_MEAN, keys.KEY_IS_STD}
    # IS does not depend on the reference: no suffix, the same value.
    assert set(test) == {f"{keys.KEY_FID}_test", keys.KEY_IS_MEAN, keys.KEY_IS_STD}
    assert test[keys.KEY_IS_MEAN] == train[keys.KEY_IS_MEAN]
    assert test[f"{keys.KEY_FID}_test"] != train[keys.KEY_FID]  # other real images

    # --ckpt --real-stats equals srngan sample's images (same seed) against the same file.
    stats = str(tmp_path / "test_stats.npz")
    main(["stats", "--dataset", "procedural", "--split", "test", "--data-root", str(tmp_path),
          "--num-images", "10", "--out", stats, *w])  # fmt: skip
    main(["evaluate", "--ckpt", ckpt, "--real-stats", stats, "--metrics", "fid", *n, *w,
          "--json", str(tmp_path / "c.json")])  # fmt: skip
    main(["sample", "--ckpt", ckpt, "--num-samples", "8", "--out", str(tmp_path / "s.npz"),
          "--format", "npz"])  # fmt: skip
    main(["evaluate", "--fake", str(tmp_path / "s.npz"), "--real-stats", stats, "--metrics",
          "fid", *w, "--json", str(tmp_path / "d.json")])  # fmt: skip
    from_ckpt = _json(tmp_path / "c.json")[keys.KEY_FID]
    assert from_ckpt > 0
    assert from_ckpt == pytest.approx(_json(tmp_path / "d.json")[keys.KEY_FID], rel=1e-9)


def test_domain_results_are_named_apart():
    from srngan.evaluation.evaluator import _domain_names

    found = {keys.KEY_PRECISION: 0.5, keys.KEY_COVERAGE: 0.25, f"{keys.KEY_INTRA_FID_CLASS}3": 7.0}
    assert _domain_names(found) == {"domain_precision": 0.5, "domain_coverage": 0.25,
                                    "domain_intra_fid_class_3": 7.0}  # fmt: skip
    assert keys.with_split({keys.KEY_PRECISION: 0.5, keys.KEY_IS_MEAN: 2.0}, "test") == {
        "precision_test": 0.5, keys.KEY_IS_MEAN: 2.0}  # fmt: skip
    with pytest.raises(ValueError, match="unknown reference split 'val'; allowed: train, test"):
        keys.with_split({}, "val")


def test_prc_and_dc_of_image_sets(tmp_path, monkeypatch):
    import srngan.evaluation.extractors as extractors

    # A small fixed extractor in place of the domain classifier (which would be trained first):
    # this checks the command's plumbing; the metrics' math is tested in test_set_metrics.py.
    proj = torch.randn(3 * 8 * 8, 6, generator=torch.Generator().manual_seed(0)).double()

    def extractor(images):
        x = torch.nn.functional.avg_pool2d(images.double() / 255, 4).flatten(1)
        return torch.tanh(x @ proj), x[:, :10]

    monkeypatch.setattr(
        extractors, "build_extractor", lambda *a: extractors.Extractor(extractor, 6, 10)
    )
    real_npz, _ = _npz(tmp_path / "real.npz", 1, 30)
    fake_npz, _ = _npz(tmp_path / "fake.npz", 2, 24, brighter=60)
    out = tmp_path / "r.json"
    main(["evaluate", "--real", str(real_npz), "--fake", str(fake_npz), "--metrics", "prc,dc",
          "--extractor", "domain", "--device", "cpu", "--json", str(out)])  # fmt: skip
    found = _json(out)
    # Domain-classifier results are named as such on every path (never as Inception metrics).
    names = (keys.KEY_PRECISION, keys.KEY_RECALL, keys.KEY_F_SCORE, keys.KEY_DENSITY,
             keys.KEY_COVERAGE)  # fmt: skip
    assert set(found) == {f"domain_{k}" for k in names}
    assert all(0 <= found[f"domain_{k}"] <= 1 for k in names if k != keys.KEY_DENSITY)
    precision = found[f"domain_{keys.KEY_PRECISION}"]
    assert precision * 24 == pytest.approx(round(precision * 24))
