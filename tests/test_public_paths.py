"""Stable public paths: ``srngan.GANModule`` & co. in every config and new checkpoint, 0.2
checkpoints (old class paths) still load, and a config without ``class_path`` trains a GAN."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import srngan
from srngan.cli import instantiate, main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

PUBLIC = {
    "GANModule": "srngan.training.module",
    "GANDataModule": "srngan.data.datamodule",
    "MetricsCallback": "srngan.training.metrics_callback",
    "BestCheckpoint": "srngan.training.best_checkpoint",
    "ClassifierModule": "srngan.classification.module",
    "ClassificationDataModule": "srngan.classification.datamodule",
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_is_the_class_of_its_module(name):
    # The old module paths (in 0.2 configs and checkpoints) stay importable: the same class.
    assert getattr(srngan, name) is getattr(importlib.import_module(PUBLIC[name]), name)
    assert name in srngan.__all__ and name in dir(srngan)


def test_unknown_public_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'GanModule'"):
        srngan.GanModule  # noqa: B018


# The long paths of the public classes: no config, notebook or doc names them any more.
_OLD = re.compile(
    r"srngan\.(training\.module\.GANModule|data\.datamodule\.GANDataModule|"
    r"training\.metrics_callback\.MetricsCallback|training\.best_checkpoint\.BestCheckpoint|"
    r"classification\.(module\.)?ClassifierModule|classification\.(datamodule\.)?ClassificationDataModule)"
)


def test_configs_notebooks_and_docs_use_the_public_paths():
    files = [
        *REPO.glob("configs/**/*.yaml"), *REPO.glob("configs/**/*.py"),
        *REPO.glob("experiments/**/*.yaml"), *REPO.glob("examples/**/*.yaml"),
        *REPO.glob("notebooks/*.ipynb"), *REPO.glob("docs/*.md"), *REPO.glob("tests/configs/*.yaml"),
        REPO / "README.md",
    ]  # fmt: skip
    assert len(files) > 60
    old = [
        f"{p.relative_to(REPO)}: {m.group(0)}" for p in files for m in _OLD.finditer(p.read_text())
    ]
    assert old == []


def test_new_checkpoints_record_the_public_class_path(tmp_path):
    # Even a config that names the 0.2 path: the module records srngan.GANModule.
    config = tmp_path / "old_paths.yaml"
    config.write_text(
        (REPO / "configs" / "cifar10_cond_srn70.yaml")
        .read_text()
        .replace("srngan.GANModule", "srngan.training.module.GANModule")
    )
    model, _ = instantiate("--config", str(config), "--trainer.callbacks=[]")
    assert model.hparams["_class_path"] == "srngan.GANModule"
    model, data = instantiate("--config", str(REPO / "configs/classify/procedural_small_cnn.yaml"))
    assert model.hparams["_class_path"] == "srngan.ClassifierModule"
    assert data.hparams["_class_path"] == "srngan.ClassificationDataModule"


# ------------------------------------------------------------------ checkpoints of srngan 0.2
def test_v0_2_checkpoints_name_the_old_paths():
    """The committed files are what 0.2 wrote (tests/data/make_v0_2_checkpoints.py)."""
    gan = torch.load(DATA / "v0_2_gan.ckpt", weights_only=False)
    assert gan["hyper_parameters"]["_class_path"] == "srngan.training.module.GANModule"
    classifier = torch.load(DATA / "v0_2_classifier.ckpt", weights_only=False)
    assert classifier["hyper_parameters"]["normalization"] == "srn"


def _assert_as_recorded(output: torch.Tensor, recorded: torch.Tensor) -> None:
    """``output`` equals what srngan 0.2 produced from the same checkpoint and inputs.

    Recorded on an Intel Xeon; float32 convolutions on another CPU (AVX-512 vs AVX2 kernels)
    sum in another order and land a few ulps away (3e-7 absolute seen on an AMD EPYC). Outputs
    are O(0.1-1): 1e-5 relative + 1e-6 absolute allows that round-off, while a term weight, a
    regularizer or a layer the upgrade got wrong moves them by orders of magnitude more.
    """
    torch.testing.assert_close(output, recorded, rtol=1e-5, atol=1e-6)


def test_v0_2_gan_checkpoint_loads_and_generates_as_0_2_did():
    from srngan.commands.common import load_checkpoint
    from srngan.terms import ClassMatching, MatchingAwareD, ModeSeeking
    from srngan.training.upgrade import upgraded

    reference = torch.load(DATA / "v0_2_reference.pt")
    # Lightning's load_from_checkpoint, handed the upgraded checkpoint (0.2's term flags are
    # the terms with the same weights)...
    kwargs = {}
    model = srngan.GANModule.load_from_checkpoint(
        upgraded(DATA / "v0_2_gan.ckpt", kwargs), **kwargs
    )
    assert [(type(t), t.weight) for t in model.terms] == [
        (MatchingAwareD, 1.0), (ClassMatching, 1.0), (ClassMatching, 1.0), (ModeSeeking, 0.25),
    ]  # fmt: skip
    assert [t.statistics for t in model.terms[1:3]] == ["discriminator", "colour"]
    assert model.terms[0].candidates == 3
    _assert_as_recorded(
        model.eval().generate(reference["z"], reference["labels"]), reference["images"]
    )
    # ...and the commands' loader (sample, export, evaluate).
    model, _ = load_checkpoint(DATA / "v0_2_gan.ckpt")
    _assert_as_recorded(model.generate(reference["z"], reference["labels"]), reference["images"])


def test_v0_2_gan_checkpoint_resumes(tmp_path):
    """``srngan fit --ckpt_path`` reads a 0.2 checkpoint's hyperparameters, upgraded."""
    main(["fit", "--config", str(REPO / "tests/configs/tiny.yaml"), "--data.num_images", "16",
          "--data.batch_size", "4", "--trainer.logger.init_args.save_dir", str(tmp_path),
          "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", str(DATA / "v0_2_gan.ckpt")])  # fmt: skip
    (last,) = tmp_path.glob("*/version_0/checkpoints/last.ckpt")
    raw = torch.load(last, weights_only=False)
    assert raw["srngan"]["g_step"] >= 2  # it continued from the 0.2 state (G-step 2)
    assert raw["hyper_parameters"]["_class_path"] == "srngan.GANModule"
    assert [t["class_path"] for t in raw["hyper_parameters"]["terms"]] == [
        "srngan.terms.MatchingAwareD", "srngan.terms.ClassMatching", "srngan.terms.ClassMatching",
        "srngan.terms.ModeSeeking",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [({"class_loss_weight": 0.5}, "class_loss_weight=0.5 (the AC-GAN head"),
     ({"generator.coord_channels": True}, "generator was built with coord_channels=True"),
     ({"discriminator.minibatch_std": 4}, "discriminator was built with minibatch_std=4")],
)  # fmt: skip
def test_v0_2_options_that_are_gone_are_one_line_errors(tmp_path, change, message):
    from srngan.errors import CommandError
    from srngan.training.upgrade import upgraded

    raw = torch.load(DATA / "v0_2_gan.ckpt", weights_only=False)
    ((key, value),) = change.items()
    if "." in key:
        net, option = key.split(".")
        raw["hyper_parameters"][net]["init_args"][option] = value
    else:
        raw["hyper_parameters"][key] = value
    path = tmp_path / "old.ckpt"
    torch.save(raw, path)
    with pytest.raises(CommandError, match=re.escape(message)) as info:
        upgraded(path, {})
    assert "\n" not in str(info.value) and "does not load in this version" in str(info.value)


def test_v0_2_gan_checkpoint_samples(tmp_path):
    out = tmp_path / "grid.png"
    main(["sample", "--ckpt", str(DATA / "v0_2_gan.ckpt"), "--num-samples", "20", "--out", str(out),
          "--format", "grid"])  # fmt: skip
    grid = np.asarray(Image.open(out))
    assert grid.shape == (10 * 33 + 1, 2 * 33 + 1, 3)  # a row per class, 32 x 32 images


def test_v0_2_classifier_checkpoint_loads_as_its_regularizer():
    from srngan.regularizers import StableRankNorm

    reference = torch.load(DATA / "v0_2_reference.pt")
    model = srngan.ClassifierModule.load_from_checkpoint(DATA / "v0_2_classifier.ckpt").eval()
    assert isinstance(model.regularizer, StableRankNorm) and model.regularizer.rank_ratio == 0.3
    assert "normalization" not in model.hparams
    with torch.no_grad():
        _assert_as_recorded(model(reference["classifier_input"]), reference["classifier_logits"])


# ------------------------------------------------------------------ configs without class_path
def test_config_without_class_path_trains_a_gan_with_the_defaults(tmp_path):
    config = tmp_path / "plain.yaml"
    config.write_text("""\
model:
  generator:
    class_path: srngan.models.SmallGenerator
    init_args: {base_channels: 4, z_dim: 8}
  discriminator: {class_path: srngan.models.SmallDiscriminator, init_args: {base_channels: 4}}
  max_g_steps: 2
  n_dis: 1
data: {dataset: procedural, num_images: 16, batch_size: 4, num_workers: 0}
""")
    main(["fit", "--config", str(config), "--trainer.default_root_dir", str(tmp_path),
          "--trainer.logger.init_args.save_dir", str(tmp_path), "--trainer.enable_model_summary",
          "false", "--samples.every_n_g_steps", "0", "--spectra.every_n_g_steps", "0"])  # fmt: skip
    (last,) = tmp_path.glob("srngan/version_0/checkpoints/last.ckpt")
    raw = torch.load(last, weights_only=False)
    assert raw["hyper_parameters"]["_class_path"] == "srngan.GANModule"
    assert raw["srngan"]["g_step"] == 2 and raw["srngan_data"]["num_images"] == 16


def test_config_without_class_path_with_a_typo_is_one_line(tmp_path, capsys):
    config = tmp_path / "typo.yaml"
    config.write_text("model:\n  max_g_stepz: 2\ndata: {dataset: procedural}\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(config)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(
        "srngan: error: unknown option model.max_g_stepz; did you mean model.max_g_steps?"
    )
