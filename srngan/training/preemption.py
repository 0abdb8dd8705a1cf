"""Stop cleanly on SIGTERM / SIGUSR1: finish the G-step, checkpoint it, exit with status 3.

Schedulers (SLURM, Kubernetes, cloud spot instances) send SIGTERM, or a chosen signal such as
SIGUSR1 (``sbatch --signal``), some time before they take the machine away. The handler installed
here only records the signal; at the end of the current G-step (or, during the D warm-up, of
the current D step) the run stops: in one process at once; under DDP every rank agrees without
blocking the step (each G-step end starts a non-blocking all-reduce of the ranks' flags and reads
the previous one, long finished), so all ranks stop at the same G-step, at most one G-step
after the signal. The checkpoint callback writes ``gstep=NNNNNNN.ckpt`` and ``last.ckpt`` there
(rank 0 writes), and :class:`Preempted` ends the run. ``srngan fit`` prints one line and exits with :data:`EXIT_PREEMPTED`;
``--ckpt_path last`` then continues bitwise as from any checkpoint.

For the listed signals these handlers replace Lightning's own (its SIGTERM handler stops without
a checkpoint; its SLURM auto-requeue SIGUSR1 handler writes an ``hpc_ckpt`` and requeues): with
srngan, requeueing is the job script's decision (see the README's SLURM example).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.distributed as dist

from srngan.training.gstep import GStepCallback

EXIT_PREEMPTED = 3
"""Exit status of ``srngan fit`` stopped by a signal after writing its checkpoint."""


class Preempted(SystemExit):
    """The run stopped on a signal after checkpointing G-step ``g_step`` (a ``SystemExit``, so a
    plain ``trainer.fit`` ends the process with :data:`EXIT_PREEMPTED` too)."""

    def __init__(self, signal_name: str, g_step: int, checkpoint: Path | None) -> None:
        super().__init__(EXIT_PREEMPTED)
        self.signal_name = signal_name
        self.g_step = g_step
        self.checkpoint = checkpoint

    def message(self) -> str:
        """The one line ``srngan fit`` prints."""
        saved = (
            f"checkpoint {self.checkpoint} written; resume with --ckpt_path last"
            if self.checkpoint is not None
            else "no checkpoint callback, nothing saved"
        )
        return f"srngan: {self.signal_name}: stopped after G-step {self.g_step}, {saved}"


def _signal_number(name: str | int) -> signal.Signals:
    if isinstance(name, int) and not isinstance(name, bool):
        try:
            return signal.Signals(name)
        except ValueError:
            pass
    elif isinstance(name, str):
        key = name.strip().upper()
        key = key if key.startswith("SIG") else f"SIG{key}"
        if key in signal.Signals.__members__ and key not in ("SIGKILL", "SIGSTOP"):
            return signal.Signals[key]
    allowed = ", ".join(
        sorted(s for s in signal.Signals.__members__ if s not in ("SIGKILL", "SIGSTOP"))
    )
    raise ValueError(f"preemption.signals: unknown signal {name!r}; allowed: {allowed}")


class PreemptionHandler(GStepCallback):
    """On one of ``signals``: finish the G-step, checkpoint it on every rank's agreement, stop.

    Args:
        signals: signal names (``SIGTERM``, ``SIGUSR1``, ``SIGINT``...) that stop the run this way;
            ``[]`` leaves signal handling to Lightning.
    """

    def __init__(self, signals: tuple[str, ...] = ("SIGTERM", "SIGUSR1")) -> None:
        self.signals = [_signal_number(s) for s in signals]
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}
        self._vote: tuple[Any, torch.Tensor] | None = None  # (pending all-reduce, its flags)

    # Installed at train start: Lightning registers its own SIGTERM handler just before it.
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.received = None
        self._vote = None
        for signum in self.signals:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread (e.g. a notebook's worker): nothing to do
                return

    def _handle(self, signum: int, frame: Any) -> None:
        # Only a flag: the G-step in progress finishes, the checkpoint is written at its end.
        if self.received is None:
            self.received = signal.Signals(signum)

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *_: Any) -> None:
        # In the D warm-up no G-step ends for a long while: each of its D steps is a stop point.
        warming_up = module.g_step == 0 and module.total_d_steps() <= module.hparams.get(
            "d_warmup_steps", 0
        )
        if self.signals and warming_up and self._agreed(trainer, blocking=True):
            self._stop(trainer, module)

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.signals and self._agreed(trainer, blocking=False):
            self._stop(trainer, module)

    def stop_point(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        """A stop point in long work outside the G-step loop (the end-of-run evaluation calls it
        per Neural Divergence critic step and eLhist chunk): after a signal, checkpoint the
        current state and raise :class:`Preempted`. Every rank must call it equally often:
        under DDP each call is a blocking vote (a collective), in one process a flag read."""
        if self.signals and self._previous and self._agreed(trainer, blocking=True):
            self._stop(trainer, module)

    def _agreed(self, trainer: L.Trainer, blocking: bool) -> bool:
        """Whether to stop now: this process's flag, or under DDP any rank's (all agree)."""
        local = self.received is not None
        if trainer.world_size == 1 or not dist.is_available() or not dist.is_initialized():
            return local
        device = trainer.strategy.root_device
        if blocking:  # the warm-up: one all-reduce per D step, before any G-step
            flags = torch.tensor([float(local)], device=device)
            dist.all_reduce(flags)
            return bool(flags.item() > 0)
        # Read the vote started one G-step ago (done by now: no wait), then start this one's.
        # Every rank reads the same reduced value, so all stop at the same G-step.
        stop = False
        if self._vote is not None:
            work, flags = self._vote
            work.wait()
            stop = bool(flags.item() > 0)
        flags = torch.tensor([float(local)], device=device)
        self._vote = (dist.all_reduce(flags, async_op=True), flags)
        return stop

    def _stop(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self._vote is not None:  # leave no collective in flight behind
            self._vote[0].wait()
            self._vote = None
        checkpoint = None
        for callback in trainer.checkpoint_callbacks:
            if hasattr(callback, "save_now"):
                checkpoint = callback.save_now(trainer) or checkpoint
        name = self.received.name if self.received is not None else "signal on another rank"
        raise Preempted(name, module.g_step, checkpoint)

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass
        self._previous = {}

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # At teardown, not train end: the end-of-run evaluation (other callbacks' on_train_end)
        # is still a stop point.
        self._restore()

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self._restore()
