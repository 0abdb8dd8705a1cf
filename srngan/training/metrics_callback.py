"""Run evaluation metrics every N generator steps during ``fit`` (all ranks take part)."""

from __future__ import annotations

import json
import sys
from typing import Literal

import lightning as L
import torch

from srngan.atomic import append_line
from srngan.evaluation import DatasetImages, EvalSettings, Evaluator, GeneratorImages
from srngan.evaluation.evaluator import REFERENCED
from srngan.metrics import keys
from srngan.metrics.elhist import plot_elhist, save_elhist
from srngan.training.gstep import GStepCallback, every, run_dir
from srngan.training.logger_media import log_figure, log_histogram

_S = EvalSettings  # every default below is declared once, on EvalSettings

REFERENCE_SPLITS = keys.REFERENCE_SPLITS


class MetricsCallback(GStepCallback):
    """Evaluates the generator (EMA when kept) every ``every_n_g_steps`` and at the end of training.

    Scalars go to the loggers as ``metrics/<key>`` at the G-step, eLhist arrays to
    ``elhist/gstep_N.png`` (values in ``elhist/gstep_N.npz``) and, as histograms ``elhist/<kind>``
    and the image ``elhist/figure``, to every logger that takes media (TensorBoard, W&B, MLflow;
    a CSV logger gets files under ``media/``: :mod:`srngan.training.logger_media`), and every
    result to ``metrics.jsonl`` in the run folder (Intra-FID with each class's FID,
    ``intra_frechet_inception_distance_class_<c>``). After each evaluation every callback with an
    ``on_metrics(trainer, module, record)`` method (e.g.
    :class:`~srngan.training.best_checkpoint.BestCheckpoint`) gets the record, on every rank. Sampling is sharded across DDP ranks and the metric
    states sync through torchmetrics; the result equals a single-process run for the seed.

    Args:
        every_n_g_steps: interval in G-steps (0: only at the end).
        metrics: any of ``is, fid, kid, intra_fid, prc, dc, nd, elhist``, computed every
            interval (``prc``: precision / recall, ``dc``: density / coverage, on VGG-16
            features with the inception extractor).
        final_metrics: more metrics computed only at the end of training (the paper's ND and
            eLhist, which cost too much to repeat).
        reference_splits: which real images FID / KID / Intra-FID / precision / recall /
            density / coverage compare against: ``train``
            (the paper's protocol, keys as usual) and / or ``test`` (the held-out split; keys end
            in ``_test``, e.g. ``fid_test``, ``domain_kid_mean_test``). Both: memorization shows
            as a better score against the training images than against held-out ones.
        use_ema: evaluate the EMA generator when the module keeps one.
        at_train_end: also evaluate when training ends (once: a finished run resumed from
            its last.ckpt runs only metrics that evaluation did not cover).
        The others are the fields of :class:`srngan.evaluation.settings.EvalSettings` (same
        names, same defaults, documented there).
    """

    def __init__(
        self,
        every_n_g_steps: int = 5000,
        metrics: list[str] | None = None,
        final_metrics: list[str] | None = None,
        extractor: Literal["inception", "domain"] = _S.extractor,
        num_samples: int = _S.num_samples,
        num_is_samples: int = _S.num_is_samples,
        num_real: int = _S.num_real,
        kid_subsets: int = _S.kid_subsets,
        kid_subset_size: int = _S.kid_subset_size,
        intra_fid_samples_per_class: int = _S.intra_fid_samples_per_class,
        batch_size: int = _S.batch_size,
        seed: int = _S.seed,
        inception_weights: str | None = _S.inception_weights,
        download_weights: bool = _S.download_weights,
        nd_iterations: int = _S.nd_iterations,
        nd_eval_samples: int = _S.nd_eval_samples,
        elhist_pairs: int = _S.elhist_pairs,
        prc_neighbours: int = _S.prc_neighbours,
        dc_neighbours: int = _S.dc_neighbours,
        vgg16_weights: str | None = _S.vgg16_weights,
        reference_splits: list[str] | None = None,
        use_ema: bool = True,
        at_train_end: bool = True,
    ) -> None:
        self.every_n_g_steps = every_n_g_steps
        self.settings = EvalSettings(
            metrics=tuple(metrics) if metrics else _S.metrics, num_samples=num_samples,
            num_is_samples=num_is_samples, num_real=num_real, kid_subsets=kid_subsets,
            kid_subset_size=kid_subset_size, intra_fid_samples_per_class=intra_fid_samples_per_class,
            batch_size=batch_size, seed=seed, extractor=extractor, inception_weights=inception_weights,
            download_weights=download_weights, nd_iterations=nd_iterations,
            nd_eval_samples=nd_eval_samples, elhist_pairs=elhist_pairs,
            prc_neighbours=prc_neighbours, dc_neighbours=dc_neighbours, vgg16_weights=vgg16_weights,
        )  # fmt: skip
        self.final_metrics = tuple(final_metrics or ())
        unknown = set(self.final_metrics) - set(keys.METRICS)
        if unknown:
            raise ValueError(
                f"final_metrics: unknown {', '.join(sorted(unknown))}; allowed: {', '.join(keys.METRICS)}"
            )
        self.reference_splits = tuple(reference_splits or ("train",))
        bad = [x for x in self.reference_splits if x not in REFERENCE_SPLITS]
        if bad or len(set(self.reference_splits)) != len(self.reference_splits):
            raise ValueError(
                f"reference_splits: got {list(self.reference_splits)}; allowed: a list of distinct "
                f"{', '.join(REFERENCE_SPLITS)}"
            )
        self.use_ema = use_ema
        self.at_train_end = at_train_end
        self._evaluator: Evaluator | None = None
        self._real: dict[str, DatasetImages] | None = None  # reference split -> real images
        self._heldout = None  # Neural Divergence's real images
        self._last_g_step = -1
        # {"g_step": N, "metrics": [...]}: the metrics on record at G-step N once the end-of-run
        # evaluation is done, kept in the checkpoint (GStepCheckpoint writes last.ckpt after
        # it), so a finished run resumed does not run them again.
        self._final_done: dict | None = None
        self.history: list[dict] = []

    @property
    def all_metrics(self) -> tuple[str, ...]:
        """The interval's metrics and the final ones."""
        return (
            *self.settings.metrics,
            *(m for m in self.final_metrics if m not in self.settings.metrics),
        )

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Report every misconfiguration the metrics can know before the first step, as a
        one-line error (:meth:`srngan.evaluation.Evaluator.check`): missing weights, an
        extractor or metric the data or the generator does not suit (the domain extractor on
        other data than the procedural shapes, Intra-FID of an unconditional generator), counts
        that do not fit the splits or each other."""
        if stage != "fit":
            return
        s = self.settings
        # check() builds no network: it resolves weights, reads settings, sources and sizes.
        checker = Evaluator(s)
        checker.check_weights(self.all_metrics)
        dm = trainer.datamodule
        name = getattr(dm, "dataset_name", None)
        if s.extractor == "domain" and name not in (None, "procedural"):
            raise ValueError(
                f"MetricsCallback(extractor: domain) is a classifier of the procedural shapes "
                f"only, but the data is {name}; use extractor: inception"
            )
        self._prepare(trainer)
        fake = self._fake(pl_module)
        for metrics in (self.settings.metrics, self.final_metrics):
            if metrics:
                checker.check(fake, self._real, metrics, heldout=self._heldout,
                              discriminator=pl_module.discriminator)  # fmt: skip

    def _prepare(self, trainer: L.Trainer) -> None:
        """The real images of the reference splits and of Neural Divergence (built once)."""
        if self._real is not None:
            return
        dm, wanted = trainer.datamodule, set(self.all_metrics)
        # Only what the metrics read: an image folder is decoded when its dataset is built.
        needs_real = wanted & {*REFERENCED, "elhist"}
        self._real = {
            split: DatasetImages(dm.make_dataset(split), dm.reference_key(split))
            for split in self.reference_splits
            if needs_real
        }
        self._heldout = dm.nd_dataset() if "nd" in wanted else None

    def _fake(self, module: L.LightningModule) -> GeneratorImages:
        return GeneratorImages(
            lambda z, y: module.generate(z, y, self.use_ema), module.generator.z_dim,
            module.num_conditional_classes, module.device,
        )  # fmt: skip

    def _evaluator_for(self, trainer: L.Trainer, module: L.LightningModule) -> Evaluator:
        if self._evaluator is None:
            dm = trainer.datamodule
            # The domain classifier knows the data's classes, whether or not G uses them.
            classes = 0
            if self.settings.extractor == "domain":
                classes = module.num_conditional_classes or getattr(dm, "num_classes", 0)
            self._evaluator = Evaluator(self.settings, module.device, domain_classes=classes,
                                        resolution=dm.resolution)  # fmt: skip
        return self._evaluator

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if every(module.g_step, self.every_n_g_steps):
            self.evaluate(trainer, module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.at_train_end:
            return
        g_step = pl_module.g_step
        # What is on record for this G-step: the interval's metrics if they ran at it, and, for
        # a finished run resumed, what its end-of-run evaluation covered (from the checkpoint).
        resumed = (self._final_done or {}).get("g_step") == g_step
        covered = set(self._final_done["metrics"]) if resumed else set()
        if self._last_g_step == g_step:
            covered.update(self.settings.metrics)
        todo = tuple(m for m in self.all_metrics if m not in covered)
        if todo:
            self.evaluate(trainer, pl_module, todo)
        elif resumed and trainer.is_global_zero:
            print(f"srngan: the final evaluation at G-step {g_step} is recorded already "
                  "(metrics.jsonl); not run again", file=sys.stderr)  # fmt: skip
        self._final_done = {"g_step": g_step, "metrics": sorted(covered.union(todo))}

    def state_dict(self) -> dict:
        return {} if self._final_done is None else {"final_done": dict(self._final_done)}

    def load_state_dict(self, state_dict: dict) -> None:
        self._final_done = state_dict.get("final_done")

    def evaluate(
        self, trainer: L.Trainer, module: L.LightningModule, metrics: tuple[str, ...] | None = None
    ) -> dict[str, float]:
        """Run ``metrics`` (default: the interval's) now; log and record the results."""
        self._prepare(trainer)
        evaluator = self._evaluator_for(trainer, module)
        self._last_g_step = module.g_step
        wanted = tuple(self.settings.metrics if metrics is None else metrics)
        # Evaluation draws its own random numbers; fork the RNGs so training's stream (and with
        # it exact resume) does not depend on when or whether metrics run.
        devices = [module.device] if module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            results, arrays = evaluator.evaluate(
                self._fake(module), self._real, wanted, heldout=self._heldout,
                discriminator=module.discriminator, stop_point=_stop_points(trainer, module),
            )  # fmt: skip
        record = {"g_step": module.g_step, **results}
        self.history.append(record)
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.log_metrics(
                    {f"metrics/{k}": v for k, v in results.items()}, step=module.g_step
                )
            for kind, values in arrays.items():
                log_histogram(trainer.loggers, f"elhist/{kind}", values, module.g_step)
            folder = run_dir(trainer)
            folder.mkdir(parents=True, exist_ok=True)
            if arrays:
                stem = folder / "elhist" / f"gstep_{module.g_step:07d}"
                png = plot_elhist({f"g_step {module.g_step}": arrays}, stem.with_suffix(".png"))
                log_figure(trainer.loggers, "elhist/figure", png, module.g_step)
                # The values too, for overlays across runs (srngan evaluate --elhist-overlay).
                save_elhist(arrays, stem.with_suffix(".npz"))
            append_line(folder / "metrics.jsonl", json.dumps(record))
        # Callbacks that act on results (e.g. BestCheckpoint) get them on every rank.
        for callback in trainer.callbacks:
            hook = getattr(callback, "on_metrics", None)
            if callback is not self and callable(hook):
                hook(trainer, module, record)
        return results


def _stop_points(trainer: L.Trainer, module: L.LightningModule):
    """The callbacks' ``stop_point`` hooks (the preemption handler's) as one call, or ``None``."""
    hooks = [c.stop_point for c in trainer.callbacks if callable(getattr(c, "stop_point", None))]
    if not hooks:
        return None

    def stop_point() -> None:
        for hook in hooks:
            hook(trainer, module)

    return stop_point
