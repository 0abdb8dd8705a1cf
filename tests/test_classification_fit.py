"""End to end: the classification configs through LightningCLI (subclass mode), tiny fits per
regularizer, the train-accuracy criterion, checkpoints and ``srngan measures``."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.cli import LightningCLI
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srngan.classification import ClassificationDataModule, ClassifierModule, TrainAccuracyStop
from srngan.classification.networks import SmallCNN

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs" / "classify").glob("*.yaml"))
SMALL = REPO / "configs" / "classify" / "procedural_small_cnn.yaml"


def run_cli(*args: str, run: bool = True) -> LightningCLI:
    """``srngan fit *args`` as a plain subclass-mode LightningCLI whose model, data module and
    trainer the tests can inspect (``srngan.cli.main`` returns nothing). The one place to switch
    to ``srngan.cli``; the real command is run by ``test_srngan_fit_trains_a_classification_config``
    and ``test_every_config_instantiates``."""
    return LightningCLI(
        L.LightningModule, L.LightningDataModule, subclass_mode_model=True,
        subclass_mode_data=True, args=(["fit", *args] if run else list(args)), run=run,
        save_config_kwargs={"overwrite": True},
    )  # fmt: skip


TINY = [
    "--config", str(SMALL),
    "--model.init_args.network.init_args.width", "4",
    "--data.init_args.procedural_images", "48",
    "--data.init_args.procedural_test_images", "24",
    "--data.init_args.batch_size", "16",
    "--trainer.max_epochs", "2",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]  # fmt: skip


def fit_tiny(tmp_path: Path, *overrides: str) -> tuple[LightningCLI, Path]:
    cli = run_cli(*TINY, "--trainer.default_root_dir", str(tmp_path),
                  "--trainer.logger.init_args.save_dir", str(tmp_path), *overrides)  # fmt: skip
    (run_dir,) = sorted(tmp_path.glob("*/version_*"))
    return cli, run_dir


def _scalars(run_dir: Path) -> dict[str, list[float]]:
    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


@pytest.mark.parametrize(
    ("regularizer", "ratio", "parametrized"),
    [("null", None, None), ("SpectralNorm", None, "_StableRankNorm"),
     ("StableRankNorm", 0.5, "_StableRankNorm"), ("StableRankNorm", 0.3, "_StableRankNorm"),
     ("Orthonormal", None, None)],
)  # fmt: skip
def test_tiny_fit_per_regularizer(tmp_path, regularizer, ratio, parametrized):
    extra = ["--model.init_args.regularizer.init_args.rank_ratio", str(ratio)] if ratio else []
    cli, run_dir = fit_tiny(tmp_path, "--model.init_args.regularizer", regularizer, *extra)
    net = cli.model.network
    layers = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 4
    for layer in layers:
        registered = hasattr(layer, "parametrizations")
        assert registered == (parametrized is not None)
        if registered:
            assert type(layer.parametrizations.weight[0]).__name__ == parametrized
            if ratio:
                assert layer.parametrizations.weight[0].rank_ratio == ratio
    assert cli.trainer.current_epoch == 2
    scalars = _scalars(run_dir)
    assert ("train/penalty" in scalars) == (regularizer == "Orthonormal")
    for tag in ("train/acc", "train/loss", "test/acc", "test/loss", "lr"):
        assert len(scalars[tag]) == 2 and all(math.isfinite(v) for v in scalars[tag]), tag
    assert 0 <= scalars["test/acc"][-1] <= 1
    for name in ("features.0", "features.3", "features.6", "fc"):
        assert len(scalars[f"spectra/sigma1/{name}"]) == 2
        srank = scalars[f"spectra/stable_rank/{name}"][-1]
        assert 1 - 1e-6 <= srank <= min(layer.weight.shape[0], layer.weight[0].numel())
    assert list((run_dir / "checkpoints").glob("*.ckpt"))


def test_checkpoint_reloads_with_its_network(tmp_path):
    cli, run_dir = fit_tiny(tmp_path)  # SRN-30
    (ckpt,) = (run_dir / "checkpoints").glob("*.ckpt")
    assert torch.load(ckpt, weights_only=False)["hyper_parameters"]["regularizer"] == {
        "class_path": "srngan.regularizers.StableRankNorm",
        "init_args": {"rank_ratio": 0.3, "n_power_iterations": 1},
    }
    loaded = ClassifierModule.load_from_checkpoint(ckpt, map_location="cpu").eval()
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(loaded(x), cli.model.eval()(x))


def test_train_accuracy_criterion_reports_that_epochs_test_accuracy(tmp_path):
    # Threshold 0 < 0.01 is met at epoch 0: training stops there and the recorded test accuracy
    # must be the accuracy of the final (= epoch-0) weights on the test split.
    cli, run_dir = fit_tiny(tmp_path, "--trainer.max_epochs", "3", "--trainer.callbacks+=TrainAccuracyStop",
                            "--trainer.callbacks.threshold", "0.01")  # fmt: skip
    stops = [c for c in cli.trainer.callbacks if isinstance(c, TrainAccuracyStop)]
    stopper = next(c for c in stops if c.threshold == 0.01)
    assert stopper.result["epoch"] == 0
    assert cli.trainer.current_epoch == 1  # stopped after the first epoch
    images, labels = zip(*[cli.datamodule.test_set[i] for i in range(len(cli.datamodule.test_set))])
    with torch.no_grad():
        pred = cli.model.eval()(torch.stack(images)).argmax(1)
    want = float((pred == torch.tensor(labels)).float().mean())
    assert stopper.result["test_acc"] == pytest.approx(want, abs=1e-6)
    assert json.loads((run_dir / "criterion.json").read_text())["epoch"] == 0


def test_unmet_criterion_records_nothing_and_trains_to_max_epochs(tmp_path):
    module = ClassifierModule(SmallCNN(num_classes=10, width=2), lr=1e-4)
    data = ClassificationDataModule(procedural_images=32, procedural_test_images=16, batch_size=16,
                                    num_workers=0)  # fmt: skip
    stop = TrainAccuracyStop(threshold=1.0)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, callbacks=[stop],
                        enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(module, datamodule=data)
    assert stop.result is None and trainer.current_epoch == 2


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_config_parses(config):
    """Every classify config validates against the classes' signatures (nothing instantiated)."""
    cfg = _parser().parse_args(["--config", str(config)])
    name = config.stem
    init = cfg.model.init_args
    if name.startswith("cifar"):
        dataset, rest = name.split("_", 1)
        arch, method = rest.rsplit("_", 1)
        assert cfg.data.init_args.dataset == dataset
        assert init.network.init_args.num_classes == {"cifar10": 10, "cifar100": 100}[dataset]
        want = {
            "vanilla": (None, None),
            "sn": ("srngan.regularizers.SpectralNorm", None),
            "srn50": ("srngan.regularizers.StableRankNorm", 0.5),
            "srn30": ("srngan.regularizers.StableRankNorm", 0.3),
        }[method]
        assert (init.regularizer and init.regularizer.class_path) == want[0]
        if want[1] is not None:
            assert init.regularizer.init_args.rank_ratio == want[1]
        assert init.lr == (0.01 if arch == "alexnet" else 0.1)
        assert cfg.data.init_args.batch_size == 128 and init.momentum == 0.9


@functools.cache
def _parser():
    return run_cli("--config", str(SMALL), run=False).parser


NETWORK_CLASS = {
    "resnet110": "ResNet110",
    "wrn28_10": "WideResNet28x10",
    "densenet100": "DenseNet100",
    "vgg19": "VGG19",
    "alexnet": "AlexNet",
}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_config_instantiates(config):
    """``srngan fit`` builds every config's model and data module (no download, no data loaded)."""
    from srngan.cli import instantiate

    model, data = instantiate("--config", str(config))
    assert isinstance(model, ClassifierModule)
    assert isinstance(data, ClassificationDataModule)
    if config.stem.startswith("cifar"):
        arch = config.stem.split("_", 1)[1].rsplit("_", 1)[0]
        assert type(model.network).__name__ == NETWORK_CLASS[arch]
        assert data.num_classes == model.network.fc.out_features


def test_small_config_learns_the_shapes(tmp_path):
    # The procedural task is learnable by the pipeline (chance is 10 %).
    cli, _ = fit_tiny(tmp_path, "--data.init_args.procedural_images", "640",
                      "--data.init_args.procedural_test_images", "200",
                      "--model.init_args.network.init_args.width", "8",
                      "--data.init_args.batch_size", "32", "--trainer.max_epochs", "6")  # fmt: skip
    assert float(cli.trainer.callback_metrics["test/acc"]) > 0.5


def test_bad_module_arguments_are_one_line_value_errors():
    from srngan.regularizers import GradientPenalty, StableRankNorm

    net = SmallCNN(num_classes=3, width=2)
    with pytest.raises(
        ValueError, match=r"regularizer must be an srngan\.regularizers\.Regularizer"
    ):
        ClassifierModule(net, regularizer="srn")
    with pytest.raises(ValueError, match="GradientPenalty interpolates real and generated"):
        ClassifierModule(net, regularizer=GradientPenalty())
    for bad in (0.0, 1.5, -0.3):
        with pytest.raises(ValueError, match=rf"rank_ratio must be in \(0, 1\].*got {bad}"):
            StableRankNorm(rank_ratio=bad)
    with pytest.raises(ValueError, match="has no Linear or Conv layer"):
        ClassifierModule(torch.nn.Identity())
    with pytest.raises(
        ValueError, match="threshold must be a train accuracy in \\(0, 1\\], got 99"
    ):
        TrainAccuracyStop(threshold=99)


def test_measures_command_writes_histograms_and_percentiles(tmp_path):
    import numpy as np

    from srngan.classification.measures import complexity_measures
    from srngan.commands.measures import main as measures_main

    cli, run_dir = fit_tiny(tmp_path / "run", "--model.init_args.regularizer", "SpectralNorm")
    (ckpt,) = (run_dir / "checkpoints").glob("*.ckpt")
    out = tmp_path / "measures"
    measures_main(["--ckpt", str(ckpt), "--out", str(out), "--num-samples", "20",
                   "--batch-size", "8", "--noise-draws", "2"])  # fmt: skip
    names = ("spec_fro", "spec_l1", "jac_norm", "noise_sensitivity")
    for name in names:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    arrays = np.load(out / "measures.npz")
    summary = json.loads((out / "summary.json").read_text())
    positive = arrays["margin"] > 0
    for name in names[:3]:
        used = arrays[f"log_{name}"][positive]
        assert summary["measures"][name]["p90"] == pytest.approx(np.percentile(used, 90))
        assert summary["measures"][name]["n_used"] == positive.sum()
    # The per-sample values are those of the checkpoint's network on those train images.
    train = cli.datamodule.dataset("train", augment=False)
    images = torch.stack([train[int(i)][0] for i in arrays["index"]])
    labels = torch.tensor([train[int(i)][1] for i in arrays["index"]])
    want = complexity_measures(cli.model.network, images, labels)
    np.testing.assert_allclose(arrays["spec_fro"], want["spec_fro"].numpy(), rtol=1e-5)


def test_measures_command_errors_are_one_line(tmp_path):
    from srngan.commands.measures import main as measures_main
    from srngan.errors import CommandError

    with pytest.raises(CommandError, match="not found"):
        measures_main(["--ckpt", str(tmp_path / "missing.ckpt"), "--out", str(tmp_path / "o")])
    gan_like = tmp_path / "gan.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"z_dim": 128}}, gan_like)
    with pytest.raises(CommandError, match="is not a classifier checkpoint"):
        measures_main(["--ckpt", str(gan_like), "--out", str(tmp_path / "o")])
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(CommandError, match="unreadable"):
        measures_main(["--ckpt", str(broken), "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def test_srngan_fit_trains_a_classification_config(tmp_path):
    """The real ``srngan fit`` (srngan.cli) runs the classification config end to end."""
    from srngan.cli import main

    main(["fit", *TINY, "--trainer.default_root_dir", str(tmp_path),
          "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    (run_dir,) = sorted(tmp_path.glob("*/version_*"))
    assert list((run_dir / "checkpoints").glob("*.ckpt"))
    assert len(_scalars(run_dir)["test/acc"]) == 2


def test_measures_through_the_srngan_dispatcher(tmp_path, monkeypatch, capsys):
    import srngan.cli

    # Until "measures" is in srngan.cli._TOOLS (then this patch is a no-op).
    monkeypatch.setattr(srngan.cli, "_TOOLS", (*srngan.cli._TOOLS, "measures"))
    with pytest.raises(SystemExit) as exit_info:
        srngan.cli.main(
            ["measures", "--ckpt", str(tmp_path / "none.ckpt"), "--out", str(tmp_path / "o")]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "checkpoint" in err and "not found" in err
