"""DDP for a GAN: G and D each in their own ``DistributedDataParallel``, so no step all-reduces
the other network's gradients and no unused-parameter search is needed."""

from __future__ import annotations

import inspect
from contextlib import nullcontext
from typing import Any

import torch
import torch.distributed as dist
from lightning.pytorch.strategies import DDPStrategy
from torch import nn
from torch.nn.parallel import DistributedDataParallel

_DDP_ARGS = frozenset(inspect.signature(DistributedDataParallel).parameters) - {
    "module",
    "device_ids",
}


class GANDDPStrategy(DDPStrategy):
    """Lightning's :class:`~lightning.pytorch.strategies.DDPStrategy`, with each network of a
    module that offers :meth:`~srngan.GANModule.distribute` wrapped on its own.

    Lightning's DDP wraps the whole LightningModule: with G and D inside one wrapper, every D
    step leaves G without gradients and every G step leaves D without them, so the wrapper needs
    ``find_unused_parameters=True`` (a graph search per backward) and all-reduces both networks'
    gradient buckets at each backward. Here each network is a ``DistributedDataParallel`` of its own, used only for the
    forward whose backward trains it (D's in the D step, G's in the G step):

    - per D step one all-reduce of D's gradient buckets; per G step one of G's;
      ``find_unused_parameters`` is ``False`` by default;
    - a network whose only buffers are parametrization state (SN / SRN power-iteration vectors,
      srngan's or torch's ``parametrizations``) broadcasts none: those vectors are a deterministic
      function of the weights, which are identical on every rank after each all-reduced step, so
      the vectors stay identical too (``tests/test_robustness.py`` checks them after every
      batch). A network with other buffers (G's BatchNorm statistics) broadcasts them from
      rank 0 at its training forward, once per G-step for G.

    ``srngan fit --trainer.strategy ddp`` uses this strategy. A module without ``distribute``
    (the classifier) is wrapped whole, as Lightning does.

    Args:
        kwargs: :class:`~lightning.pytorch.strategies.DDPStrategy`'s arguments; its DDP keyword
            arguments (``find_unused_parameters``, ``broadcast_buffers``, ``bucket_cap_mb``,
            ``static_graph``...) go to each network's wrapper (``broadcast_buffers`` given here
            overrides the rule above). A DDP communication hook is not supported per network.

    Example (YAML)::

        trainer:
          strategy: {class_path: srngan.training.ddp.GANDDPStrategy}
          devices: 4
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("ddp_comm_hook") is not None:
            raise ValueError(
                "GANDDPStrategy wraps G and D separately and takes no ddp_comm_hook; use "
                "lightning's DDPStrategy (strategy: ddp_find_unused_parameters_true) for one"
            )
        # The DDP wrapper's own arguments, for each network's wrapper (Lightning keeps them too,
        # for a module wrapped whole).
        self.network_ddp_kwargs = {k: v for k, v in kwargs.items() if k in _DDP_ARGS}
        super().__init__(**kwargs)

    def configure_ddp(self) -> None:
        module = self.model
        if not callable(getattr(module, "distribute", None)):
            super().configure_ddp()
            return
        # As Lightning wraps its DDP: on a GPU, the construction's broadcasts on a side stream.
        gpu = self.determine_ddp_device_ids() is not None
        with torch.cuda.stream(torch.cuda.Stream()) if gpu else nullcontext():
            _broadcast_state(module)
            module.distribute(self.wrap)

    def wrap(self, network: nn.Module) -> DistributedDataParallel:
        """``network`` in a ``DistributedDataParallel`` with this strategy's DDP arguments."""
        kwargs = dict(self.network_ddp_kwargs)
        if "broadcast_buffers" not in kwargs:
            # torch >= 2.13 names it forward_sync_buffers (and deprecates broadcast_buffers).
            key = (
                "forward_sync_buffers"
                if "forward_sync_buffers" in _DDP_ARGS
                else "broadcast_buffers"
            )
            kwargs.setdefault(key, needs_buffer_broadcast(network))
        kwargs.setdefault("find_unused_parameters", False)
        return DistributedDataParallel(
            network, device_ids=self.determine_ddp_device_ids(), **kwargs
        )

    def teardown(self) -> None:
        module = self.lightning_module
        if callable(getattr(module, "distribute", None)):
            module.distribute(None)
        super().teardown()


def _broadcast_state(module: nn.Module) -> None:
    """Rank 0's parameters and buffers everywhere, once: G's EMA has no wrapper, and a DDP
    wrapper that does not sync buffers at its forward may skip them at construction too."""
    if dist.is_available() and dist.is_initialized():
        for tensor in (*module.parameters(), *module.buffers()):
            dist.broadcast(tensor.data, src=0)


def needs_buffer_broadcast(network: nn.Module) -> bool:
    """Whether ``network`` has buffers other than parametrization state (power-iteration
    vectors, kept identical across ranks by identical weights)."""
    return any(".parametrizations." not in f".{name}" for name, _ in network.named_buffers())


__all__ = ["GANDDPStrategy", "needs_buffer_broadcast"]
