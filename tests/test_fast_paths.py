"""The GPU fast paths, checked on CPU (issue 23): SN under autocast, the Adam implementations,
channels_last, torch.compile with SN / SRN inside (no recompiles after warm-up), and the
``*_fast.yaml`` configs equal to their paper configs but for the fast set."""

from __future__ import annotations

import copy

import lightning as L
import pytest
import torch
import yaml
from conftest import CONFIGS
from torch.nn.utils.parametrizations import spectral_norm
from torch.utils.data import DataLoader, TensorDataset

from srngan.models import ResNetDiscriminator, SmallDiscriminator, SmallGenerator
from srngan.nn.normalize import NORMALIZABLE_LAYERS, normalize_modules
from srngan.regularizers import SpectralNorm, StableRankNorm
from srngan.training.fast import FastPaths
from srngan.training.module import GANModule


def test_sn_regularizer_is_bitwise_torch_spectral_norm_in_float32():
    """Same buffers (state-dict keys, so SN checkpoints of 0.2 load), same warm start, same
    outputs over training forwards: compared with ``==``, float32 both ways."""
    torch.manual_seed(0)
    d = ResNetDiscriminator(32, base_channels=16)
    ours, theirs = copy.deepcopy(d), copy.deepcopy(d)
    torch.manual_seed(1)
    normalize_modules(ours, "sn")
    torch.manual_seed(1)
    for layer in [m for m in theirs.modules() if isinstance(m, NORMALIZABLE_LAYERS)]:
        spectral_norm(layer)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    x = torch.randn(4, 3, 32, 32)
    for _ in range(3):
        assert torch.equal(ours(x), theirs(x))
    for key, value in ours.state_dict().items():
        assert torch.equal(value, theirs.state_dict()[key]), key


@pytest.mark.parametrize("regularizer", [SpectralNorm(), StableRankNorm(0.7)], ids=repr)
def test_normalized_weights_stay_float32_under_bf16_autocast(regularizer):
    torch.manual_seed(0)
    d = regularizer.apply(SmallDiscriminator(16, num_classes=4, base_channels=8))
    x, y = torch.randn(6, 3, 16, 16), torch.arange(6) % 4
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = d(x, y)
        weights = [m.weight for m in d.modules() if isinstance(m, NORMALIZABLE_LAYERS)]
    assert torch.isfinite(out).all()
    assert all(w.dtype == torch.float32 for w in weights)
    conv = d.convs[0].parametrizations.weight
    assert conv[0]._u.dtype == torch.float32
    # sigma_1 of the normalized weight is 1 (float32 power iteration: 1e-3 after one step).
    sigma = torch.linalg.matrix_norm(d.convs[0].weight.flatten(1).double(), ord=2)
    assert float(sigma) == pytest.approx(1.0, abs=2e-2)


def _fit(tmp_path, callbacks=(), **kwargs) -> GANModule:
    torch.manual_seed(0)
    g = SmallGenerator(16, z_dim=8, num_classes=4, base_channels=4)
    d = SmallDiscriminator(16, num_classes=4, base_channels=4)
    module = GANModule(g, d, regularizer=StableRankNorm(0.7), n_dis=2, max_g_steps=4, **kwargs)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1,
                        callbacks=list(callbacks), default_root_dir=tmp_path)  # fmt: skip
    data = TensorDataset(torch.rand(16, 3, 16, 16) * 2 - 1, torch.arange(16) % 4)
    trainer.fit(module, DataLoader(data, batch_size=8))
    return module


def test_adam_implementations_give_the_same_update(tmp_path):
    """foreach and fused Adam against the default on the same parameters and gradients: three
    steps, the same update up to float32 rounding (1e-6 absolute on values of order 1; training
    runs are not compared, since Adam's normalization turns rounding into visible differences)."""
    torch.manual_seed(0)
    start = [torch.randn(5, 4), torch.randn(7)]
    grads = [[torch.randn_like(p) for p in start] for _ in range(3)]
    results = {}
    for impl, kwargs in (
        ("default", {}),
        ("foreach", {"foreach": True}),
        ("fused", {"fused": True}),
    ):
        params = [p.clone().requires_grad_() for p in start]
        opt = torch.optim.Adam(params, lr=2e-4, betas=(0.0, 0.999), **kwargs)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g.clone()
            opt.step()
        results[impl] = params
    for impl in ("foreach", "fused"):
        for ours, reference in zip(results[impl], results["default"]):
            torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    module = _fit(tmp_path, adam="fused")  # the option reaches both optimizers and trains
    assert all(o.optimizer.defaults["fused"] is True for o in module.optimizers())
    assert module.g_step == 4
    with pytest.raises(ValueError, match="unknown adam 'apex'; allowed: default, foreach, fused"):
        GANModule(SmallGenerator(16, z_dim=8), SmallDiscriminator(16), adam="apex")


def test_channels_last_keeps_the_function_and_the_parameters(tmp_path):
    torch.manual_seed(0)
    d = StableRankNorm(0.7).apply(SmallDiscriminator(16, num_classes=4, base_channels=8)).eval()
    x, y = torch.randn(6, 3, 16, 16), torch.arange(6) % 4
    before = d(x, y)
    module = GANModule(SmallGenerator(16, z_dim=8, num_classes=4), d)
    FastPaths(channels_last=True, tf32=False, cudnn_benchmark=False).setup(None, module, "fit")
    conv = d.convs[0].parametrizations.weight.original
    assert conv.is_contiguous(memory_format=torch.channels_last)
    # The same function in another memory layout: float32 rounding of reordered sums only.
    torch.testing.assert_close(d(x, y), before, rtol=1e-5, atol=1e-5)
    # Trained (Adam's in-place updates keep the layout), with the same parameter names.
    fast = _fit(tmp_path, [FastPaths(channels_last=True, tf32=False, cudnn_benchmark=False)])
    conv = fast.discriminator.convs[0].parametrizations.weight.original
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert all(torch.isfinite(p).all() for p in fast.parameters())
    assert fast.state_dict().keys() == _fit(tmp_path).state_dict().keys()


def test_compile_traces_sn_and_srn_without_recompiling_after_warm_up(tmp_path):
    """A counting backend (public torch.compile API): every graph it is handed is one
    compilation. After the first G-step (train-mode G and D, the G phase's D call), later
    G-steps compile nothing new."""
    compiled: list[int] = []

    def counting_backend(graph_module, example_inputs):
        compiled.append(len(graph_module.graph.nodes))
        return graph_module.forward

    torch._dynamo.reset()
    marks: list[int] = []

    class Mark(L.Callback):
        def on_train_batch_end(self, trainer, module, *args):
            marks.append(len(compiled))

    module = _fit(tmp_path, [FastPaths(channels_last=False, compile=True,
                                       compile_backend=counting_backend, tf32=False,
                                       cudnn_benchmark=False), Mark()])  # fmt: skip
    assert module.g_step == 4 and compiled
    # Batches 1-2 are G-step 1 (two D steps and G's step); none after it compiles anything.
    assert marks[2:] == [marks[1]] * len(marks[2:]), marks
    assert "_orig_mod" not in "".join(module.state_dict())  # checkpoints keep their keys


@pytest.mark.parametrize(
    "name", ["cifar10_uncond_srn70", "cifar10_uncond_sn", "cifar10_cond_srn70"]
)
def test_fast_configs_are_their_paper_config_plus_the_fast_set(name):
    paper = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    fast = yaml.safe_load((CONFIGS / f"{name}_fast.yaml").read_text())
    assert (
        paper["trainer"]["precision"] == "32-true" and fast["trainer"]["precision"] == "bf16-mixed"
    )
    (fast_cb, *rest) = fast["trainer"]["callbacks"]
    assert (
        fast_cb["class_path"] == "srngan.training.fast.FastPaths"
        and fast_cb["init_args"]["compile"]
    )
    assert rest == paper["trainer"]["callbacks"]
    assert fast["model"]["init_args"].pop("adam") == "fused"
    assert fast["model"] == paper["model"] and fast["data"] == paper["data"]
    for cfg in (paper, fast):
        for key in ("precision", "callbacks", "logger"):
            cfg["trainer"].pop(key)
    assert fast["trainer"] == paper["trainer"]
