"""GPU fast paths for a GAN run, as one callback: channels_last, torch.compile, TF32, cudnn
autotuning. Mixed precision is Lightning's own (``trainer.precision: bf16-mixed``) and the Adam
implementation is ``GANModule(adam="fused")``; ``configs/*_fast.yaml`` turn on the recommended
set. The paper configs keep float32 without them, for reproduction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import torch


class FastPaths(L.Callback):
    """Switch on speed options for G, D (and G's EMA) when the fit starts.

    Args:
        channels_last: keep G's and D's weights (and so their activations) in
            ``torch.channels_last`` memory format, which tensor cores prefer.
        compile: compile G's and D's ``forward`` in place (``nn.Module.compile``: parameter
            names and checkpoints unchanged), SN / SRN parametrizations included.
        compile_backend: ``torch.compile``'s backend (``inductor``; ``eager`` / ``aot_eager``
            check tracing without code generation), or a backend callable.
        compile_mode: ``torch.compile``'s mode (``None``, ``reduce-overhead``, ``max-autotune``).
        tf32: TF32 tensor-core matmuls and convolutions (``torch.set_float32_matmul_precision
            ("high")``; about 10 mantissa bits for float32 matmuls on Ampere and later).
        cudnn_benchmark: let cuDNN pick the fastest convolution algorithms for the shapes seen.

    Example (YAML)::

        trainer:
          precision: bf16-mixed
          callbacks:
            - {class_path: srngan.training.fast.FastPaths, init_args: {compile: true}}
    """

    def __init__(
        self,
        channels_last: bool = True,
        compile: bool = False,
        compile_backend: str | Callable = "inductor",
        compile_mode: str | None = None,
        tf32: bool = True,
        cudnn_benchmark: bool = True,
    ) -> None:
        self.channels_last = channels_last
        self.compile = compile
        self.compile_backend = compile_backend
        self.compile_mode = compile_mode
        self.tf32 = tf32
        self.cudnn_benchmark = cudnn_benchmark

    def networks(self, pl_module: L.LightningModule) -> list[torch.nn.Module]:
        names = ("generator", "discriminator", "generator_ema")
        return [net for net in (getattr(pl_module, n, None) for n in names) if net is not None]

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        if self.tf32:
            torch.set_float32_matmul_precision("high")
            torch.backends.cudnn.allow_tf32 = True
        if self.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True
        for net in self.networks(pl_module):
            if self.channels_last:
                # In place on the same Parameter objects, before the optimizers are built.
                net.to(memory_format=torch.channels_last)
            if self.compile:
                kwargs: dict[str, Any] = {"backend": self.compile_backend}
                if self.compile_mode is not None:
                    kwargs["mode"] = self.compile_mode
                net.compile(**kwargs)
