"""Does D generalize? Its mean output on training reals, held-out reals and fakes, during ``fit``."""

from __future__ import annotations

import json

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from srngan.atomic import append_line
from srngan.nn.modes import eval_mode
from srngan.training.callbacks import _chunks
from srngan.training.gstep import GStepCallback, every, run_dir

KEY_D_TRAIN = "d_real_train"
KEY_D_HELDOUT = "d_real_heldout"
KEY_D_FAKE = "d_fake"
KEY_GAP = "d_generalization_gap"


def generalization_gap(d_train: float, d_heldout: float, d_fake: float) -> float:
    """The scale-free gap ``g = (D_train - D_heldout) / (D_train - D_fake)``.

    0: D scores held-out reals like the reals it was trained on (it generalizes); 1: like fakes
    (it has memorized its training set). Not finite when D scores training reals and fakes alike.
    """
    denominator = d_train - d_fake
    return (d_train - d_heldout) / denominator if denominator != 0 else float("nan")


@torch.no_grad()
def mean_output(
    discriminator: nn.Module, images: Tensor, labels: Tensor | None, batch_size: int = 256
) -> float:
    """D's mean output (logit) over ``images`` in eval mode (no power-iteration or BN updates)."""
    device = next(discriminator.parameters()).device
    total = 0.0
    with eval_mode(discriminator):
        for start in range(0, images.shape[0], batch_size):
            x = images[start : start + batch_size].to(device)
            y = None if labels is None else labels[start : start + batch_size].to(device)
            total += float(discriminator(x, y).double().sum())
    return total / images.shape[0]


def _subset(data: Dataset, n: int, seed: int) -> tuple[Tensor, Tensor]:
    if n > len(data):
        raise ValueError(
            f"num_images={n} but the split has {len(data)} images; set it <= {len(data)}"
        )
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    items = [data[int(i)] for i in idx]
    return torch.stack([x for x, _ in items]), torch.tensor([int(y) for _, y in items])


class GeneralizationGap(GStepCallback):
    """Measures how well D generalizes, every ``every_n_g_steps`` G-steps and at G-step 0.

    D's mean output (in eval mode) on three fixed sets: ``num_images`` of its *training* reals,
    ``num_images`` *held-out* reals (the data module's ``test`` split; for the procedural data
    its size is ``num_heldout_images``) and ``num_images`` fakes of G (the network D trains
    against, not its EMA) from fixed latents. Logged as ``gap/d_real_train``,
    ``gap/d_real_heldout``, ``gap/d_fake`` and ``gap/d_generalization_gap``, the scale-free

    .. math:: g = \\frac{D_\\text{train} - D_\\text{held-out}}{D_\\text{train} - D_\\text{fake}}

    (0: held-out reals look as real to D as its training reals; 1: as fake as G's samples), to
    every logger and, as one record per measurement, to ``metrics.jsonl`` in the run folder.
    Conditional D's see each real image with its label and fakes with uniform labels.

    Example (YAML, under ``trainer.callbacks``)::

        - class_path: srngan.training.generalization.GeneralizationGap
          init_args: {every_n_g_steps: 100, num_images: 256}

    Args:
        every_n_g_steps: interval in G-steps (0: only at G-step 0 and the end of training).
        num_images: images in each of the three sets.
        seed: seed of the subsets, latents and fake labels.
    """

    def __init__(self, every_n_g_steps: int = 500, num_images: int = 256, seed: int = 0) -> None:
        if every_n_g_steps < 0:
            raise ValueError(f"every_n_g_steps must be >= 0, got {every_n_g_steps}")
        if num_images < 1:
            raise ValueError(f"num_images must be >= 1, got {num_images}")
        self.every_n_g_steps = every_n_g_steps
        self.num_images = num_images
        self.seed = seed
        self._sets: dict[str, tuple[Tensor, Tensor | None]] | None = None
        self._z: Tensor | None = None
        self._last_g_step = -1

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit":  # a set larger than its split: say so before the first step
            self._build_sets(trainer.datamodule, pl_module)

    def _build_sets(self, datamodule, module) -> None:
        train_x, train_y = _subset(datamodule.make_dataset("train"), self.num_images, self.seed)
        held_x, held_y = _subset(datamodule.make_dataset("test"), self.num_images, self.seed + 1)
        g = torch.Generator().manual_seed(self.seed + 2)
        self._z = torch.randn(self.num_images, module.z_dim, generator=g)
        classes = module.num_conditional_classes
        fake_y = torch.randint(classes, (self.num_images,), generator=g) if classes else None
        keep = (lambda y: y) if classes else (lambda y: None)
        self._sets = {"train": (train_x, keep(train_y)), "heldout": (held_x, keep(held_y)),
                      "fake_labels": (torch.empty(0), fake_y)}  # fmt: skip

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if pl_module.g_step == 0:
            self.measure(trainer, pl_module)

    def on_g_step_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if every(module.g_step, self.every_n_g_steps):
            self.measure(trainer, module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._last_g_step != pl_module.g_step:
            self.measure(trainer, pl_module)

    def measure(self, trainer: L.Trainer, module: L.LightningModule) -> dict[str, float]:
        """Measure now (rank 0 measures and writes; other ranks return ``{}``)."""
        self._last_g_step = module.g_step
        if not trainer.is_global_zero:
            return {}
        if self._sets is None:
            self._build_sets(trainer.datamodule, module)
        d = module.discriminator
        fake_labels = self._sets["fake_labels"][1]
        fakes = torch.cat(
            [
                module.generate(
                    z.to(module.device), None if y is None else y.to(module.device), False
                )
                for z, y in _chunks(self._z, fake_labels, 256)
            ]
        )
        result = {
            KEY_D_TRAIN: mean_output(d, *self._sets["train"]),
            KEY_D_HELDOUT: mean_output(d, *self._sets["heldout"]),
            KEY_D_FAKE: mean_output(d, fakes, fake_labels),
        }
        result[KEY_GAP] = generalization_gap(
            result[KEY_D_TRAIN], result[KEY_D_HELDOUT], result[KEY_D_FAKE]
        )
        for logger in trainer.loggers:
            logger.log_metrics({f"gap/{k}": v for k, v in result.items()}, step=module.g_step)
        append_line(
            run_dir(trainer) / "metrics.jsonl", json.dumps({"g_step": module.g_step, **result})
        )
        return result
