"""`srngan evaluate` and the metrics callback during `fit`, end to end on CPU."""

import json

import numpy as np
import pytest
from PIL import Image

from srngan.cli import main
from srngan.data import ShapesDataset
from srngan.metrics import keys


@pytest.fixture(scope="module")
def cond_ckpt(tmp_path_factory):
    from conftest import fit_tiny

    # 10 classes, as every other domain-metric test: one domain classifier per session (41 s).
    run = fit_tiny(tmp_path_factory.mktemp("cond"))
    return run / "checkpoints" / "last.ckpt"


def test_evaluate_real_vs_fake_files(tmp_path, inception_weights, capsys):
    real = ShapesDataset(60, 10, seed=1).images.permute(0, 2, 3, 1).numpy()
    np.savez(tmp_path / "real.npz", images=real)
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()
    for i, img in enumerate(ShapesDataset(50, 10, seed=2).images.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(img).save(fake_dir / f"{i:03d}.png")
    out = tmp_path / "r.json"
    main(["evaluate", "--real", str(tmp_path / "real.npz"), "--fake", str(fake_dir), "--metrics", "is,fid,kid",
          "--kid-subset-size", "20", "--kid-subsets", "5", "--inception-weights", str(inception_weights),
          "--device", "cpu", "--json", str(out)])  # fmt: skip
    results = json.loads(out.read_text())
    assert set(results) == {
        keys.KEY_IS_MEAN,
        keys.KEY_IS_STD,
        keys.KEY_FID,
        keys.KEY_KID_MEAN,
        keys.KEY_KID_STD,
    }
    assert results[keys.KEY_FID] > 0
    printed = capsys.readouterr().out
    assert "frechet_inception_distance" in printed and "metric" in printed


def test_evaluate_checkpoint_all_metrics_domain(cond_ckpt, tmp_path):
    out = tmp_path / "r.json"
    main(["evaluate", "--ckpt", str(cond_ckpt), "--extractor", "domain",
          "--metrics", "is,fid,kid,intra_fid,nd,elhist", "--num-samples", "80", "--num-is-samples", "40",
          "--num-real", "64", "--kid-subset-size", "20", "--kid-subsets", "3", "--nd-iterations", "3",
          "--nd-samples", "64", "--elhist-pairs", "40", "--device", "cpu", "--json", str(out)])  # fmt: skip
    results = json.loads(out.read_text())
    for key in (keys.KEY_DOMAIN_FID, keys.KEY_DOMAIN_IS, keys.KEY_DOMAIN_ACCURACY, "domain_intra_fid", "domain_kid_mean",
                keys.KEY_ND, keys.KEY_ELHIST_P95, "elhist_grad_fake_p95"):  # fmt: skip
        assert key in results, key
    assert keys.KEY_FID not in results and keys.KEY_IS_MEAN not in results  # never called Inception
    assert 0 <= results[keys.KEY_DOMAIN_ACCURACY] <= 1
    assert (tmp_path / "r.elhist.png").stat().st_size > 1000
    # Overlay two runs' eLhist values in one plot.
    second = tmp_path / "b.elhist.npz"
    second.write_bytes((tmp_path / "r.elhist.npz").read_bytes())
    main(["evaluate", "--elhist-overlay", str(tmp_path / "r.elhist.npz"), str(second),
          "--elhist-png", str(tmp_path / "both.png")])  # fmt: skip
    assert (tmp_path / "both.png").stat().st_size > 1000


def test_evaluate_without_weights_is_one_line(cond_ckpt, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "evaluate",
                "--ckpt",
                str(cond_ckpt),
                "--metrics",
                "fid",
                "--num-samples",
                "10",
                "--device",
                "cpu",
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "weights-inception-2015-12-05-6726825d.pth" in err[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--metrics", "fid,bogus"],
            "unknown metric(s) bogus; allowed: is, fid, kid, intra_fid, prc, dc, nd, elhist",
        ),
        (["--num-samples", "0"], "--num-samples must be >= 1, got 0"),
        ([], "pass either --ckpt CKPT, or --fake PATH with --real PATH or --real-stats FILE.npz"),
    ],
)
def test_evaluate_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit):
        main(["evaluate", *argv])
    assert message in capsys.readouterr().err


def test_metrics_callback_during_fit(tmp_path, tiny_fit):
    extra = tmp_path / "metrics.yaml"
    extra.write_text(
        "trainer:\n  callbacks:\n    - class_path: srngan.MetricsCallback\n"
        "      init_args: {every_n_g_steps: 2, extractor: domain, metrics: [is, fid, elhist],\n"
        "                  final_metrics: [nd], nd_iterations: 2, nd_eval_samples: 16,\n"
        "                  num_samples: 40, num_is_samples: 40, num_real: 48, elhist_pairs: 20}\n"
    )
    run = tiny_fit(tmp_path, "--config", str(extra))
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["g_step"] for r in lines] == [2, 3]  # every 2 G-steps, and at the end
    assert all(keys.KEY_DOMAIN_FID in r and keys.KEY_DOMAIN_ACCURACY in r for r in lines)
    # final_metrics run once, at the end only.
    assert [keys.KEY_ND in r for r in lines] == [False, True]
    assert sorted(p.name for p in (run / "elhist").iterdir()) == [
        "gstep_0000002.npz",
        "gstep_0000002.png",
        "gstep_0000003.npz",
        "gstep_0000003.png",
    ]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"histograms": 0, "scalars": 0})
    acc.Reload()
    assert "metrics/domain_fid" in acc.Tags()["scalars"]
    assert "elhist/real_fake" in acc.Tags()["histograms"]


def test_domain_metrics_of_an_unconditional_generator(tmp_path, tiny_fit):
    # The domain classifier knows the procedural data's classes even when G ignores them.
    run = tiny_fit(
        tmp_path, "--model.generator.num_classes", "0", "--model.discriminator.num_classes", "0"
    )  # fmt: skip
    out = tmp_path / "r.json"
    main(["evaluate", "--ckpt", str(run / "checkpoints" / "last.ckpt"), "--extractor", "domain",
          "--metrics", "fid", "--num-samples", "40", "--num-real", "40", "--device", "cpu",
          "--json", str(out)])  # fmt: skip
    results = json.loads(out.read_text())
    assert results[keys.KEY_DOMAIN_FID] > 0 and keys.KEY_DOMAIN_ACCURACY not in results


def _callback_setup(tmp_path, callback_args, dataset="procedural", conditional=4, **data):
    """``MetricsCallback.setup`` for ``fit`` against a data module, without a Trainer."""
    from types import SimpleNamespace

    import torch

    from srngan.data.datamodule import GANDataModule
    from srngan.training.metrics_callback import MetricsCallback

    data.setdefault("num_images", 64)
    dm = GANDataModule(dataset, root=str(tmp_path), num_workers=0, **data)
    module = SimpleNamespace(
        num_conditional_classes=conditional, generator=SimpleNamespace(z_dim=4),
        device=torch.device("cpu"), discriminator=None,
        generate=lambda z, y, ema: pytest.fail("setup generated images"),
    )  # fmt: skip
    callback = MetricsCallback(**callback_args)
    callback.setup(SimpleNamespace(datamodule=dm), module, "fit")
    return callback


DOMAIN = {"extractor": "domain", "num_samples": 40, "num_is_samples": 40, "num_real": 40}


@pytest.mark.parametrize(
    ("callback_args", "kwargs", "message"),
    [
        ({**DOMAIN, "metrics": ["is"]}, {"dataset": "imagefolder"},
         "MetricsCallback(extractor: domain) is a classifier of the procedural shapes only, but "
         "the data is imagefolder; use extractor: inception"),
        ({**DOMAIN, "metrics": ["fid", "intra_fid"]}, {"conditional": 0},
         "intra_fid needs a conditional generator (num_classes >= 1)"),
        ({**DOMAIN, "metrics": ["fid"], "num_real": 48}, {"num_images": 40},
         "num_real=48 but the train split has 40 images; set num_real <= 40"),
        ({**DOMAIN, "metrics": ["fid"], "reference_splits": ["train", "test"]},
         {"num_images": 64, "num_heldout_images": 30},
         "num_real=40 but the test split has 30 images"),
        ({**DOMAIN, "metrics": ["kid"]}, {"num_images": 64},
         "KID subset size 1000 exceeds the images available (40 generated, 40 real)"),
        ({**DOMAIN, "metrics": ["is"], "num_is_samples": 8}, {},
         "Inception Score needs at least 10 images for its 10 splits, got 8"),
        ({**DOMAIN, "metrics": ["is"], "final_metrics": ["prc"], "num_samples": 3}, {},
         "prc with k = 3 needs at least 4 generated images, got 3"),
    ],
)  # fmt: skip
def test_metrics_callback_reports_misconfiguration_at_setup(
    tmp_path, callback_args, kwargs, message
):
    # Each of these would otherwise train the whole interval and fail at the first evaluation.
    with pytest.raises(ValueError) as err:
        _callback_setup(tmp_path, callback_args, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_metrics_callback_setup_accepts_a_fitting_configuration(tmp_path):
    callback = _callback_setup(tmp_path, {**DOMAIN, "metrics": ["is", "fid", "intra_fid"]},
                               num_images=64)  # fmt: skip
    assert set(callback._real) == {"train"} and callback._real["train"].size == 64


def test_fit_with_mismatched_metrics_stops_before_the_first_step(tmp_path, capsys):
    """The issue's case: the quickstart's domain metrics with an image folder as the data."""
    from conftest import TINY

    folder = tmp_path / "images" / "only_class"
    folder.mkdir(parents=True)
    for i, img in enumerate(ShapesDataset(8, 2, seed=0).images.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(img).save(folder / f"{i}.png")
    cfg = tmp_path / "metrics.yaml"
    cfg.write_text(
        "trainer:\n  callbacks:\n    - class_path: srngan.training.metrics_callback.MetricsCallback\n"
        "      init_args: {every_n_g_steps: 1000, extractor: domain, metrics: [is, fid, intra_fid],\n"
        "                  num_samples: 40, num_is_samples: 40, num_real: 40}\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *TINY, "--config", str(cfg), "--data.dataset", "imagefolder",
              "--data.root", str(tmp_path / "images"), "--trainer.default_root_dir", str(tmp_path),
              "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "classifier of the procedural shapes only, but the data is imagefolder" in err[-1]
    assert not list(tmp_path.rglob("*.ckpt"))  # no step was trained
