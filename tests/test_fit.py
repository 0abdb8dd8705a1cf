"""End-to-end CPU training through the real CLI with tiny models on procedural data."""

import math

import pytest
import torch
import yaml
from conftest import CONFIGS
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srngan.models import ResNetDiscriminator, ResNetGenerator
from srngan.nn import layer_spectra, stable_rank
from srngan.training.module import GANModule


def _scalars(run_dir):
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc, {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


REGULARIZERS = {
    "none": ["--model.regularizer", "null"],
    "sn": ["--model.regularizer", "SpectralNorm"],
    "srn": ["--model.regularizer", "StableRankNorm", "--model.regularizer.rank_ratio", "0.5"],
    "wgan-gp": ["--model.regularizer", "GradientPenalty", "--model.loss", "Wasserstein"],
    "ortho": ["--model.regularizer", "Orthonormal", "--model.regularizer.strength", "1e-3"],
}


@pytest.mark.parametrize("regularizer", sorted(REGULARIZERS))
def test_fit_each_regularizer(tmp_path, tiny_fit, regularizer):
    run = tiny_fit(tmp_path, *REGULARIZERS[regularizer])
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == ["gstep=0000002.ckpt", "last.ckpt"]
    acc, scalars = _scalars(run)
    for tag in ("loss/d", "loss/d_real", "loss/d_fake", "loss/g", "lr/g", "lr/d"):
        assert len(scalars[tag]) == 3 and all(math.isfinite(v) for v in scalars[tag]), tag
    steps = [e.step for e in acc.Scalars("loss/g")]
    assert steps == [1, 2, 3]  # the x-axis is the G-step
    if regularizer in ("wgan-gp", "ortho"):
        assert all(math.isfinite(v) and v >= 0 for v in scalars["loss/penalty"])
    assert any(t.startswith("spectra/stable_rank/") for t in scalars)
    assert acc.Tags()["images"] == ["samples"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "gstep_0000002.png",
        "gstep_0000003.png",
    ]
    # Linear LR decay: lr = lr_0 * (1 - g_step / 3) after each G step.
    lr_0 = yaml.safe_load((CONFIGS / "quickstart.yaml").read_text())["model"]["init_args"]["lr_g"]
    assert scalars["lr/g"] == pytest.approx([lr_0 * (1 - s / 3) for s in (1, 2, 3)])


def test_checkpoint_holds_g_step_and_resumable_state(tmp_path, tiny_fit):
    run = tiny_fit(tmp_path)
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")
    assert ckpt["srngan"] == {"g_step": 3, "d_steps_since_g": 0, "d_warmup_done": 2}
    # Lightning counts every optimizer step: the 2 warm-up D steps, then D and G steps.
    assert ckpt["global_step"] == 2 + 3 * (2 + 1)
    assert len(ckpt["optimizer_states"]) == 2 and len(ckpt["lr_schedulers"]) == 2
    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    assert model.g_step == 3 and model.num_conditional_classes == 10


def test_conditional_sample_grid_has_a_row_per_class(tmp_path, tiny_fit):
    from PIL import Image

    run = tiny_fit(tmp_path, "--data.num_procedural_classes", "6")
    grid = Image.open(run / "samples" / "gstep_0000003.png")
    # make_grid with padding 1: 6 rows x 4 columns of 32 px tiles.
    assert grid.size == (4 * 33 + 1, 6 * 33 + 1)


def test_ema_generator_is_kept_and_differs(tmp_path, tiny_fit):
    run = tiny_fit(tmp_path, "--model.ema_decay", "0.9")
    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    g, ema = dict(model.generator.named_parameters()), dict(model.generator_ema.named_parameters())
    assert g.keys() == ema.keys()
    assert any(not torch.equal(g[k], ema[k]) for k in g)
    assert model.sampling_generator() is model.generator_ema


def _srank_excess(model):
    """max over D layers of stable rank minus that layer's SRN target at rank_ratio 0.3."""
    spectra = layer_spectra(model.discriminator)  # eval mode: no power-iteration step
    modules = dict(model.discriminator.named_modules())
    excess = []
    for name, (_, srank) in spectra.items():
        layer = modules[name]
        shape = (
            layer.parametrizations.weight.original.shape
            if hasattr(layer, "parametrizations")
            else layer.weight.shape
        )
        rows, cols = shape[0], math.prod(shape[1:])
        excess.append(srank - max(1.0, 0.3 * min(rows, cols)))
    return max(excess)


def test_srn_bounds_stable_rank_and_none_does_not(tmp_path, tiny_fit):
    runs = {}
    for reg in ("srn", "none"):
        out = tmp_path / reg
        chosen = (
            ["StableRankNorm", "--model.regularizer.rank_ratio", "0.3"]
            if reg == "srn"
            else ["null"]
        )
        run = tiny_fit(out, "--model.regularizer", *chosen, "--model.max_g_steps", "5")
        runs[reg] = GANModule.load_from_checkpoint(
            run / "checkpoints" / "last.ckpt", map_location="cpu"
        )
    # One power iteration per step from a warm start keeps u, v near-exact; 1e-3 covers the rest.
    assert _srank_excess(runs["srn"]) <= 1e-3
    assert _srank_excess(runs["none"]) > 0.5  # random 8-channel layers sit well above 0.3 * 8


def test_stable_rank_helper_agrees_with_layer_spectra():
    model = GANModule(
        ResNetGenerator(z_dim=8, base_channels=8), ResNetDiscriminator(base_channels=8)
    )
    spectra = layer_spectra(model.discriminator)
    conv = model.discriminator.blocks[0].conv1
    assert spectra["blocks.0.conv1"][1] == pytest.approx(stable_rank(conv.weight))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["--model.regularizer.rank_ratio", "1.5"], "rank_ratio must be in (0, 1]"),
        (["--model.n_dis", "0"], "n_dis must be >= 1, got 0"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, tiny_fit, capsys, override, message):
    with pytest.raises(SystemExit) as exit_info:
        tiny_fit(tmp_path, *override)
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("srngan: error:") and message in err[-1]
