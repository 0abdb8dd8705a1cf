"""The default training callbacks, each with its own config section: progress bar, checkpoints,
sample grid, spectra, preemption. They act on the G-step signal (:mod:`srngan.training.gstep`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from torchvision.utils import make_grid, save_image

from srngan._lightning_private import dump_checkpoint
from srngan.atomic import atomic_path, stale_temporaries
from srngan.errors import NonFiniteError
from srngan.nn.diagnostics import (
    binding_scalars,
    layer_spectra,
    spectra_scalars,
    srn_shrink_factors,
)
from srngan.training.gstep import GStepCallback, every, run_dir
from srngan.training.logger_media import log_image
from srngan.training.preemption import PreemptionHandler


class GStepProgressBar(TQDMProgressBar, GStepCallback):
    """One bar over the whole run, counting generator steps up to ``max_g_steps``; before it,
    when the model has a D warm-up (``d_warmup_steps``), a bar of the warm-up's D steps.

    The warm-up bar counts ``module.total_d_steps()`` up to ``d_warmup_steps`` (its rate and
    ETA are the warm-up's own); when the warm-up ends it stays on screen, complete, and the
    G-step bar starts, its rate and ETA measured from there.

    Args:
        refresh_rate: update the bar every this many G-steps (warm-up: D steps).
    """

    def __init__(self, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate)
        self._warmup_steps = 0  # > 0 while the warm-up bar is shown

    def init_train_tqdm(self) -> Tqdm:
        # Created with its own description and length (Lightning's shows "Training 0/?" first).
        module = self.trainer.lightning_module
        if self._warmup_steps:
            return self._bar("D warm-up", self._warmup_steps, _warmup_done(module))
        return self._bar("G-steps", module.hparams.max_g_steps, module.g_step)

    def _bar(self, description: str, total: int, initial: int) -> Tqdm:
        return Tqdm(
            desc=description,
            total=total,
            initial=initial,
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stdout,
            smoothing=0,
            bar_format=self.BAR_FORMAT,
        )

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        warmup = int(pl_module.hparams.get("d_warmup_steps", 0) or 0)
        self._warmup_steps = warmup if _warmup_done(pl_module) < warmup else 0
        super().on_train_start(trainer, pl_module)

    def on_train_epoch_start(self, trainer: L.Trainer, *_: Any) -> None:
        pass  # one bar for the run: epochs over a small dataset are not a unit of progress

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *_: Any) -> None:
        # G-steps move the bar in on_g_step_end; only the warm-up moves it per batch.
        if not self._warmup_steps:
            return
        done, bar = _warmup_done(pl_module), self.train_progress_bar
        if done >= self._warmup_steps:
            bar.n = self._warmup_steps
            bar.refresh()
            bar.close()  # left on screen, complete
            self._warmup_steps = 0
            self.train_progress_bar = self.init_train_tqdm()
        elif self._update_now(done, self._warmup_steps):
            bar.n = done
            bar.refresh()

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        bar = self.train_progress_bar
        if bar.disable or module.g_step > bar.total:
            return  # closed at max_g_steps, off on this rank, or a finished run resumed
        if self._update_now(module.g_step, bar.total):
            bar.n = module.g_step
            bar.set_postfix(self.get_metrics(trainer, module), refresh=False)
            bar.refresh()
        if module.g_step >= bar.total:
            bar.close()  # its rate is training's, not that of the final evaluations after it

    def _update_now(self, current: int, total: int | None) -> bool:
        return self.is_enabled and (current % self.refresh_rate == 0 or current == total)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pass

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict:
        # The module's floats of the last logging interval: what self.log would show, without
        # Lightning reading a logged tensor back after every batch.
        return {**super().get_metrics(trainer, pl_module), **getattr(pl_module, "progress", {})}


def _warmup_done(module: L.LightningModule) -> int:
    # During the warm-up no G-step has run, so every D step so far is a warm-up step.
    return module.total_d_steps() if module.g_step == 0 else int(module.hparams.d_warmup_steps)


class GStepCheckpoint(ModelCheckpoint, GStepCallback):
    """``last.ckpt`` and ``gstep=NNNNNNN.ckpt`` every ``every_n_g_steps`` G-steps, and at the end.

    Every interval (and preemption) save writes both files, atomically through
    :class:`~srngan.training.checkpoint_io.AtomicCheckpointIO` under ``srngan fit``; the state
    ``last.ckpt`` held before each save stays on disk as a ``gstep`` file. An unexpected exception during
    training (out of memory, a bug in a network) first writes ``emergency-gstep=NNNNNNN.ckpt``
    with the state at the crash, when its weights are finite and it holds work not yet saved.

    Args:
        every_n_g_steps: interval in G-steps (0: only at the end).
        dirpath: folder; ``None`` is ``checkpoints/`` in the run folder.
    """

    def __init__(self, every_n_g_steps: int = 5000, dirpath: str | Path | None = None) -> None:
        super().__init__(
            dirpath=dirpath,
            filename="gstep={g_step:07d}",
            auto_insert_metric_name=False,
            save_top_k=-1,
            save_last=True,
            every_n_epochs=0,
            # A file's name is its G-step: a resumed run rewrites (atomically) the same name,
            # never a "last-v1.ckpt" beside a stale or damaged last.ckpt.
            enable_version_counter=False,
        )
        self.every_n_g_steps = every_n_g_steps
        self._saved_progress: int | None = None  # module.total_d_steps() of the newest file

    def _monitor_candidates(self, trainer: L.Trainer) -> dict[str, Any]:
        candidates = super()._monitor_candidates(trainer)
        candidates["g_step"] = torch.tensor(trainer.lightning_module.g_step)
        return candidates

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A resumed run's starting state is already on disk.
        self._saved_progress = _progress(pl_module)
        if trainer.is_global_zero and self.dirpath:
            # Temporary files of writes cut short by a SIGKILL or power cut (never read).
            for stale in stale_temporaries(self.dirpath, "*.ckpt"):
                stale.unlink(missing_ok=True)

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if every(module.g_step, self.every_n_g_steps):
            self.save_now(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The final state is always kept as last.ckpt, wherever the interval fell; the state it
        # replaces stays on disk as the interval's gstep=NNNNNNN.ckpt. Lightning runs checkpoint
        # callbacks' hooks last, so this write comes after the other callbacks' end-of-run work
        # and records it in their state (MetricsCallback: the final evaluation is done).
        if self._saved_progress == _progress(pl_module) and self.last_model_path:
            # Saved at this very state already (interval or signal): last.ckpt again, for that.
            trainer.save_checkpoint(self.last_model_path)
            return
        if not self._should_skip_saving_checkpoint(trainer):
            _check_finite_weights(pl_module)
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
            self._saved_progress = _progress(pl_module)

    def save_now(self, trainer: L.Trainer) -> Path | None:
        """Write ``gstep=NNNNNNN.ckpt`` and ``last.ckpt`` now (once per state); the G-step file.

        Called on every rank (rank 0 writes). Raises :class:`NonFiniteError` instead of saving a
        diverged state.
        """
        module = trainer.lightning_module
        if self._saved_progress == _progress(module) and self.best_model_path:
            return Path(self.best_model_path)  # this very state is on disk already
        if self._should_skip_saving_checkpoint(trainer):
            return None
        # A diverged state must never replace a good checkpoint.
        _check_finite_weights(module)
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)
        self._saved_progress = _progress(module)
        return Path(self.best_model_path)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        """Emergency checkpoint of a crashed run (see the class docstring)."""
        from srngan.training.preemption import Preempted

        if isinstance(exception, (Preempted, NonFiniteError)) or not _is_training(trainer):
            return  # already saved / never save a diverged state / nothing trained yet
        if self._saved_progress is None or _progress(pl_module) == self._saved_progress:
            return  # nothing new since the newest checkpoint
        if not _weights_finite(pl_module):
            print(
                f"srngan: not saving the crashed state at G-step {pl_module.g_step}: "
                "non-finite weights; the last good checkpoint is kept",
                file=sys.stderr,
            )
            return
        name = f"emergency-gstep={pl_module.g_step:07d}"
        if trainer.world_size > 1:
            name += f"-rank{trainer.global_rank}"
        path = Path(self.dirpath or run_dir(trainer) / "checkpoints") / f"{name}.ckpt"
        try:
            # Written by the rank that crashed, without the barrier of trainer.save_checkpoint:
            # other ranks may be stuck in a collective.
            trainer.strategy.checkpoint_io.save_checkpoint(dump_checkpoint(trainer), path)
        except Exception as err:  # the original error is what matters
            print(f"srngan: could not write an emergency checkpoint: {err}", file=sys.stderr)
            return
        partial = getattr(pl_module, "_d_steps_since_g", 0)
        where = f"{pl_module.g_step} G-steps" + (
            f" and {partial} D-steps of the next" if partial else ""
        )
        print(
            f"srngan: crashed after {where}; emergency checkpoint {path} written "
            "(resume with --ckpt_path last once fixed); the error follows",
            file=sys.stderr,
        )


def _progress(module: L.LightningModule) -> int:
    total = getattr(module, "total_d_steps", None)
    return total() if callable(total) else int(module.global_step)


def _is_training(trainer: L.Trainer) -> bool:
    from lightning.pytorch.trainer.states import RunningStage

    return trainer.state.stage == RunningStage.TRAINING


def _weights_finite(module: L.LightningModule) -> bool:
    return all(
        bool(torch.isfinite(t).all()) for t in module.state_dict().values() if t.is_floating_point()
    )


def _check_finite_weights(module: L.LightningModule) -> None:
    for name, tensor in module.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise NonFiniteError(
                f"non-finite weight {name} at G-step {module.g_step}; training stopped before saving, "
                "the last good checkpoint is kept"
            )


class SampleGrid(GStepCallback):
    """A grid from a fixed latent every N G-steps: ``samples/*.png`` and an image ``samples`` in
    every logger of the run (TensorBoard, W&B, MLflow; a CSV logger gets
    ``media/samples/gstep_N.png``; see :mod:`srngan.training.logger_media`).

    Conditional models get one row per class; unconditional ones ``columns`` rows.

    Args:
        every_n_g_steps: interval in G-steps (0: off).
        columns: images per row.
        seed: seed of the fixed latents.
    """

    def __init__(self, every_n_g_steps: int = 1000, columns: int = 10, seed: int = 1234) -> None:
        self.every_n_g_steps = every_n_g_steps
        self.columns = columns
        self.seed = seed
        self._z: torch.Tensor | None = None
        self._labels: torch.Tensor | None = None

    def _fixed_inputs(self, module) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self._z is None:
            rows = module.num_conditional_classes or self.columns
            g = torch.Generator().manual_seed(self.seed)
            self._z = torch.randn(rows * self.columns, module.z_dim, generator=g)
            if module.num_conditional_classes:
                self._labels = torch.arange(rows).repeat_interleave(self.columns)
        labels = None if self._labels is None else self._labels.to(module.device)
        return self._z.to(module.device), labels

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if every(module.g_step, self.every_n_g_steps):
            self.write(trainer, module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_g_steps and pl_module.g_step % self.every_n_g_steps:
            self.write(trainer, pl_module)

    def write(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        z, labels = self._fixed_inputs(module)
        images = torch.cat([module.generate(zc, lc) for zc, lc in _chunks(z, labels, 256)])
        grid = make_grid(images.float().cpu() * 0.5 + 0.5, nrow=self.columns, padding=1).clamp(0, 1)
        if trainer.is_global_zero:
            folder = run_dir(trainer) / "samples"
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / f"gstep_{module.g_step:07d}.png") as tmp:
                save_image(grid, tmp, format="png")
            log_image(trainer.loggers, "samples", grid, module.g_step)


def _chunks(z: torch.Tensor, labels: torch.Tensor | None, size: int):
    for start in range(0, z.shape[0], size):
        yield z[start : start + size], None if labels is None else labels[start : start + size]


class SpectralMonitor(GStepCallback):
    """Logs what SN and SRN control in D, every N G-steps and at G-step 0 (before training).

    Per layer: ``spectra/sigma1/<layer>`` and ``spectra/stable_rank/<layer>`` (exact, by SVD).
    Per SRN layer: ``spectra/srn_shrink/<layer>``, the factor ``s = min(1, sqrt(r - 1) /
    ||W / sigma - u v^T||_F)`` the layer applies (``s < 1``: it binds; ``s = 1``: it acts as
    plain SN), and ``spectra/srn_binding_fraction``, the fraction of SRN layers that bind (see
    :func:`srngan.nn.diagnostics.srn_shrink_factors`). An SRN run whose layers never bind has
    trained an SN discriminator.

    Args:
        every_n_g_steps: interval in G-steps (0: off).
    """

    def __init__(self, every_n_g_steps: int = 1000) -> None:
        self.every_n_g_steps = every_n_g_steps

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_g_steps and pl_module.g_step == 0:
            self.log_now(trainer, pl_module)

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if every(module.g_step, self.every_n_g_steps):
            self.log_now(trainer, module)

    def log_now(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        """Log the spectra and binding of ``module.discriminator`` at ``module.g_step`` (rank 0)."""
        if not trainer.is_global_zero:
            return
        metrics = spectra_scalars(layer_spectra(module.discriminator))
        metrics.update(binding_scalars(srn_shrink_factors(module.discriminator)))
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=module.g_step)


# The config sections of `srngan fit` (GAN runs), one per default callback.
DEFAULT_CALLBACKS = {
    "progress": GStepProgressBar,
    "checkpoint": GStepCheckpoint,
    "samples": SampleGrid,
    "spectra": SpectralMonitor,
    "preemption": PreemptionHandler,
}
