"""``best.ckpt``: the training state whose chosen metric was the best so far.

Add it beside the metrics callback (it acts on the results that callback computes)::

    trainer:
      callbacks:
        - class_path: srngan.MetricsCallback
          init_args: {every_n_g_steps: 5000, metrics: [fid]}
        - class_path: srngan.BestCheckpoint
          init_args: {monitor: frechet_inception_distance, mode: min}

Then ``srngan sample --ckpt best`` (the newest ``best.ckpt`` under ``runs/``) or
``--ckpt runs/<name>/version_N/best`` samples from it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import lightning as L

from srngan._lightning_private import dump_checkpoint
from srngan.atomic import atomic_torch_save
from srngan.training.checkpoint_io import UnreadableCheckpoint, read_checkpoint
from srngan.training.gstep import GStepCallback, run_dir

BEST_KEY = "srngan_best"
"""The checkpoint entry that records what made it the best: monitor, mode, value, G-step."""


class BestCheckpoint(GStepCallback):
    """Writes ``best.ckpt`` whenever an evaluation improves on the best value of ``monitor``.

    The metrics callback hands each evaluation's record to :meth:`on_metrics` on every rank; when
    ``monitor`` improves, the full training state (the same content as ``last.ckpt``, so it can
    also be resumed from) is written by rank 0 through
    :func:`~srngan.atomic.atomic_torch_save` (temporary file, fsync, rename): a
    kill during the write leaves the previous ``best.ckpt`` whole. The best value so far is part
    of the callback's state in every checkpoint, and at the start of a run it is also read back
    from the ``best.ckpt`` on disk, so a resumed run never replaces a better ``best.ckpt`` (one
    written after the checkpoint it resumed from) with a worse state.

    Args:
        monitor: a result key of the metrics callback, e.g. ``frechet_inception_distance``,
            ``domain_fid``, ``precision``, ``frechet_inception_distance_test``.
        mode: ``min`` (lower is better: FID, KID) or ``max`` (IS, precision, recall, coverage).
        filename: the file's name.
        dirpath: its folder; ``None`` is ``checkpoints/`` in the run folder.
    """

    def __init__(
        self,
        monitor: str = "frechet_inception_distance",
        mode: Literal["min", "max"] = "min",
        filename: str = "best.ckpt",
        dirpath: str | Path | None = None,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not monitor:
            raise ValueError("monitor must name a metric result, e.g. frechet_inception_distance")
        if not filename.endswith(".ckpt") or "/" in filename:
            raise ValueError(f"filename must be a file name ending in .ckpt, got {filename!r}")
        self.monitor, self.mode, self.filename = monitor, mode, filename
        self.dirpath = None if dirpath is None else Path(dirpath)
        self.best: float | None = None
        self.best_g_step: int | None = None
        self._warned = False

    @property
    def state_key(self) -> str:
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    def path(self, trainer: L.Trainer) -> Path:
        """Where ``best.ckpt`` goes."""
        return (self.dirpath or run_dir(trainer) / "checkpoints") / self.filename

    def improves(self, value: float) -> bool:
        """Whether ``value`` beats the best so far (a NaN never does)."""
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    # ------------------------------------------------------------------ state and resume
    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_g_step": self.best_g_step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
        self.best_g_step = state_dict.get("best_g_step")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A best.ckpt written after the checkpoint this run resumed from (preempted in between)
        # holds a better value than the restored state: keep it unless beaten.
        on_disk = read_best_record(self.path(trainer))
        if (
            on_disk is not None
            and on_disk.get("monitor") == self.monitor
            and on_disk.get("mode") == self.mode
            and self.improves(float(on_disk["value"]))
        ):
            self.best, self.best_g_step = float(on_disk["value"]), int(on_disk["g_step"])

    # ------------------------------------------------------------------ the hook
    def on_metrics(self, trainer: L.Trainer, module: L.LightningModule, record: dict) -> None:
        """Called by the metrics callback after each evaluation, on every rank."""
        if self.monitor not in record:
            if not self._warned and trainer.is_global_zero:
                available = ", ".join(k for k in record if k != "g_step")
                print(f"srngan: BestCheckpoint: {self.monitor!r} is not among the results "
                      f"({available}); nothing saved for it")  # fmt: skip
            self._warned = True
            return
        value = float(record[self.monitor])
        if not self.improves(value):
            return
        self.best, self.best_g_step = value, int(module.g_step)
        self.save(trainer)

    def save(self, trainer: L.Trainer) -> Path:
        """Write the current training state to :meth:`path` (all ranks call; rank 0 writes)."""
        path = self.path(trainer)
        state = dump_checkpoint(trainer)
        state[BEST_KEY] = {
            "monitor": self.monitor, "mode": self.mode, "value": self.best,
            "g_step": self.best_g_step,
        }  # fmt: skip
        if trainer.is_global_zero:
            atomic_torch_save(state, path)
        trainer.strategy.barrier("srngan_best_checkpoint")
        return path


def read_best_record(path: Path) -> dict | None:
    """The :data:`BEST_KEY` entry of the checkpoint at ``path``; ``None`` if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        raw = read_checkpoint(path, mmap=True)
    except UnreadableCheckpoint:
        return None
    record = raw.get(BEST_KEY)
    return record if isinstance(record, dict) and "value" in record else None
