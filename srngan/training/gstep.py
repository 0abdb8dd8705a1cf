"""The public "a generator step just ended" signal, and callbacks that act on it.

:class:`srngan.GANModule` calls :meth:`GStepCallback.on_g_step_end` on every
trainer callback that is a :class:`GStepCallback`, right after each generator step (after the
optimizer, LR schedulers and EMA have stepped and ``module.g_step`` has been incremented). Callbacks
that work in G-steps subclass it instead of reading the module's private counters.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback


class GStepCallback(Callback):
    """A callback with one more hook: :meth:`on_g_step_end`, called after each generator step."""

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        """Called on every rank right after G-step ``module.g_step`` ended."""


def every(g_step: int, interval: int) -> bool:
    """Whether ``g_step`` is a multiple of ``interval`` (an interval of 0 is never)."""
    return bool(interval) and g_step % interval == 0


def notify_g_step_end(trainer: L.Trainer, module: L.LightningModule) -> None:
    """Send the G-step signal to every :class:`GStepCallback` of ``trainer``."""
    for callback in trainer.callbacks:
        if isinstance(callback, GStepCallback):
            callback.on_g_step_end(trainer, module)


def run_dir(trainer: L.Trainer) -> Path:
    """The run's log directory (the logger's version folder), else the trainer's root dir."""
    if trainer.logger is not None and trainer.logger.log_dir:
        return Path(trainer.logger.log_dir)
    return Path(trainer.default_root_dir)
