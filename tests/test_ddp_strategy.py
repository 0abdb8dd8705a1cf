"""GANDDPStrategy and GANModule.distribute without processes; the 2-process fit that counts the
collectives and checks the buffers is tests/test_robustness.py::test_ddp_two_processes_*."""

from __future__ import annotations

import os

import lightning as L
import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from srngan.cli import main
from srngan.models import SmallDiscriminator, SmallGenerator
from srngan.regularizers import GradientPenalty, SpectralNorm, StableRankNorm
from srngan.terms import ClassMatching, MatchingAwareD
from srngan.training.ddp import GANDDPStrategy, needs_buffer_broadcast
from srngan.training.module import GANModule


class _Recording(nn.Module):
    """Stands in for DistributedDataParallel: records each forward and whether it builds a graph
    for its network's parameters (the backward a DDP wrapper would reduce)."""

    def __init__(self, net: nn.Module, log: list) -> None:
        super().__init__()
        self.module, self.log = net, log

    def forward(self, *args):
        out = self.module(*args)
        trains = any(p.requires_grad for p in self.module.parameters())
        self.log.append((type(self.module).__name__, torch.is_grad_enabled() and trains))
        return out


def test_only_power_iteration_state_skips_the_buffer_broadcast():
    d = SmallDiscriminator(8, num_classes=0, base_channels=2)
    assert not needs_buffer_broadcast(d)  # no buffers at all
    assert not needs_buffer_broadcast(StableRankNorm(0.7).apply(d))
    assert not needs_buffer_broadcast(
        SpectralNorm().apply(SmallDiscriminator(8, 0, base_channels=2))
    )
    torch_sn = nn.utils.parametrizations.spectral_norm(nn.Linear(3, 3))  # torch's own, too
    assert not needs_buffer_broadcast(torch_sn)
    assert needs_buffer_broadcast(SmallGenerator(8, z_dim=4, num_classes=0, base_channels=2))  # BN
    assert needs_buffer_broadcast(nn.Sequential(StableRankNorm(0.7).apply(nn.Linear(3, 3)),
                                                nn.BatchNorm1d(3)))  # fmt: skip


def test_ddp_arguments_go_to_each_network_and_a_comm_hook_is_refused():
    strategy = GANDDPStrategy(find_unused_parameters=True, bucket_cap_mb=5, timeout=None)
    assert strategy.network_ddp_kwargs == {"find_unused_parameters": True, "bucket_cap_mb": 5}
    with pytest.raises(ValueError, match="takes no ddp_comm_hook"):
        GANDDPStrategy(ddp_comm_hook=lambda *a: None)


@pytest.mark.parametrize(
    ("regularizer", "terms"),
    [(StableRankNorm(0.7), [MatchingAwareD(1.0), ClassMatching(0.5)]), (GradientPenalty(1.0), [])],
)
def test_each_wrapper_runs_exactly_the_forward_that_trains_its_network(regularizer, terms):
    torch.manual_seed(0)
    g = SmallGenerator(8, z_dim=4, num_classes=4, base_channels=2)
    d = SmallDiscriminator(8, num_classes=4, base_channels=2)
    module = GANModule(g, d, regularizer=regularizer, terms=terms, n_dis=2, max_g_steps=3)
    log: list = []
    wrappers = module.distribute(lambda net: _Recording(net, log))
    assert set(wrappers) == {"generator", "discriminator"}
    assert wrappers["discriminator"].module is module.discriminator
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, max_epochs=-1)  # fmt: skip
    data = TensorDataset(torch.rand(16, 3, 8, 8) * 2 - 1, torch.arange(16) % 4)
    trainer.fit(module, DataLoader(data, batch_size=8))
    assert module.g_step == 3
    # n_dis D-wrapper forwards then one G-wrapper forward per G-step, each building the graph
    # its backward trains; fakes for D, D's logits for G, terms and penalties use the plain nets.
    one_g_step = [("SmallDiscriminator", True)] * 2 + [("SmallGenerator", True)]
    assert log == one_g_step * 3
    module.distribute(None)
    assert module.distribute(None) == {} and "_trained" not in dict(module.named_children())


def test_ddp_means_srngans_strategy(tmp_path):
    """`--trainer.strategy ddp` builds GANDDPStrategy (one process on CPU: world size 1)."""
    from conftest import TINY

    environment = dict(os.environ)
    try:
        main(["fit", *TINY, "--trainer.strategy", "ddp", "--trainer.devices", "1",
              "--model.max_g_steps", "1", "--trainer.default_root_dir", str(tmp_path),
              "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    finally:
        # Lightning leaves its process group (of one) and its launcher's variables (LOCAL_RANK,
        # MASTER_PORT...) behind: a later DDP subprocess would take itself for a child and wait.
        if dist.is_initialized():
            dist.destroy_process_group()
        os.environ.clear()
        os.environ.update(environment)
    run = next(tmp_path.glob("*/version_*"))
    assert "class_path: srngan.training.ddp.GANDDPStrategy" in (run / "config.yaml").read_text()
    assert (run / "checkpoints" / "last.ckpt").exists()


@pytest.mark.parametrize("form", [["--trainer.strategy", "ddp"], ["--trainer.strategy=ddp"]])
def test_ddp_on_the_command_line_takes_strategy_arguments(form):
    """`--trainer.strategy ddp` followed by its arguments: the string alone takes none, so the
    CLI reads it as GANDDPStrategy's class path."""
    from conftest import TINY

    from srngan.cli import _build_cli

    args = [*TINY, *form, "--trainer.strategy.init_args.find_unused_parameters", "true"]
    strategy = _build_cli(args, run=False).trainer.strategy
    assert isinstance(strategy, GANDDPStrategy)
    assert strategy.network_ddp_kwargs["find_unused_parameters"] is True
