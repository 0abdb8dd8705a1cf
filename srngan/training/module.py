"""The GAN LightningModule: n_dis discriminator steps per generator step, manual optimization."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import lightning as L
import torch
from torch import Tensor, nn
from torch.optim.lr_scheduler import LambdaLR

from srngan.losses import LossName, get_loss
from srngan.models import ResNetDiscriminator, ResNetGenerator
from srngan.nn.stable_rank_norm import _check_arguments
from srngan.regularizers import (
    RegularizerName,
    apply_regularizer,
    check_regularizer,
    regularizer_penalty,
)
from srngan.training.ema import make_ema, update_ema
from srngan.training.rng import rng_state, set_rng_state


class NonFiniteError(RuntimeError):
    """A loss became NaN or infinite; the run stops without saving the diverged state."""


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Temporarily put modules in eval mode (no BN statistics or power-iteration updates)."""
    was = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, flag in zip(modules, was):
            m.train(flag)


class GANModule(L.LightningModule):
    """Trains a ResNet GAN with a chosen discriminator regularizer (paper section 5.3).

    Each training batch is one discriminator step; after every ``n_dis`` of them the generator
    takes one step. ``g_step`` counts generator steps: it is the x-axis of every logged scalar,
    image and checkpoint name, and ``max_g_steps`` is in generator steps. (Lightning's
    ``global_step`` counts every optimizer step, D and G, so it is ``(n_dis + 1) * g_step``.)

    Args:
        resolution: image side (32, 48 or 64); linked from the data module by the CLI.
        num_classes: classes of the data; linked from the data module by the CLI.
        conditional: class-conditional G (conditional BN) and D (projection).
        z_dim: latent size.
        g_channels / d_channels: base widths; ``None`` uses the paper's architecture.
        regularizer: ``none``, ``sn``, ``srn`` (with ``rank_ratio``), ``wgan-gp`` (with
            ``gp_weight``), ``ortho`` (with ``ortho_strength``).
        rank_ratio: SRN target stable rank fraction (SRN-70 is 0.7).
        loss: ``hinge`` (paper), ``non-saturating`` or ``wasserstein`` (use with ``wgan-gp``).
        n_dis: discriminator steps per generator step.
        lr_g / lr_d / betas: Adam settings (paper: 2e-4, (0, 0.999)).
        max_g_steps: training length in generator steps; also the LR-decay horizon.
        lr_decay: ``linear`` decays both learning rates to 0 at ``max_g_steps``.
        g_batch_size: generator batch; ``None`` uses the data batch size.
        ema_decay: keep an EMA of G with this decay for sampling and metrics; ``None``: off.
        ema_start: G-step from which the EMA averages (before it, it copies G).
        log_every_n_g_steps / sample_every_n_g_steps / spectra_every_n_g_steps /
        checkpoint_every_n_g_steps: monitoring intervals, in G-steps (0 turns one off).
        sample_grid_columns: images per row of the sample grid (one row per class if conditional).
    """

    def __init__(
        self,
        resolution: int = 32,
        num_classes: int = 0,
        conditional: bool = False,
        z_dim: int = 128,
        g_channels: int | None = None,
        d_channels: int | None = None,
        regularizer: RegularizerName = "srn",
        rank_ratio: float = 0.7,
        ortho_strength: float = 1e-4,
        gp_weight: float = 10.0,
        loss: LossName = "hinge",
        n_dis: int = 5,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.0, 0.999),
        max_g_steps: int = 50000,
        lr_decay: Literal["linear", "none"] = "linear",
        g_batch_size: int | None = None,
        ema_decay: float | None = None,
        ema_start: int = 0,
        log_every_n_g_steps: int = 10,
        sample_every_n_g_steps: int = 1000,
        spectra_every_n_g_steps: int = 1000,
        checkpoint_every_n_g_steps: int = 5000,
        sample_grid_columns: int = 10,
    ) -> None:
        super().__init__()
        _validate(locals())
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.num_conditional_classes = num_classes if conditional else 0
        self.loss_fn = get_loss(loss)
        self.generator = ResNetGenerator(
            resolution, z_dim, self.num_conditional_classes, g_channels
        )
        discriminator = ResNetDiscriminator(resolution, self.num_conditional_classes, d_channels)
        self.discriminator = apply_regularizer(discriminator, regularizer, rank_ratio)
        self.generator_ema = make_ema(self.generator) if ema_decay is not None else None
        self.g_step = 0
        self._d_steps_since_g = 0
        self._d_sums: dict[str, Tensor] = {}
        self._pending_rng: dict | None = None

    # ----------------------------------------------------------------- sampling
    def sample_labels(self, n: int, generator: torch.Generator | None = None) -> Tensor | None:
        """Uniform class labels for a conditional G, else ``None``."""
        if not self.num_conditional_classes:
            return None
        return torch.randint(
            self.num_conditional_classes, (n,), device=self.device, generator=generator
        )

    def sampling_generator(self, use_ema: bool = True) -> nn.Module:
        """The network used for samples and metrics: the EMA of G when kept, else G."""
        return self.generator_ema if use_ema and self.generator_ema is not None else self.generator

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, use_ema: bool = True) -> Tensor:
        """Images in [-1, 1] from latents ``z`` (and labels), G in eval mode."""
        net = self.sampling_generator(use_ema)
        with eval_mode(net):
            return net(z, labels)

    # ----------------------------------------------------------------- training
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, labels = batch
        opt_g, opt_d = self.optimizers()
        self._discriminator_phase(real, labels if self.num_conditional_classes else None, opt_d)
        self._d_steps_since_g += 1
        if self._d_steps_since_g < self.hparams.n_dis:
            return
        self._d_steps_since_g = 0
        g_loss = self._generator_phase(opt_g)
        for scheduler in self.lr_schedulers():
            scheduler.step()
        self.g_step += 1
        if self.generator_ema is not None:
            decay = self.hparams.ema_decay if self.g_step > self.hparams.ema_start else 0.0
            update_ema(self.generator_ema, self.generator, decay)
        self._log_cycle(g_loss)
        if self.g_step >= self.hparams.max_g_steps:
            self.trainer.should_stop = True

    def _discriminator_phase(self, real: Tensor, labels: Tensor | None, opt_d) -> None:
        n = self._d_batch_size = real.shape[0]
        with torch.no_grad():
            fake_labels = self.sample_labels(n)
            fake = self.generator(
                torch.randn(n, self.hparams.z_dim, device=self.device), fake_labels
            )
        both_labels = None if labels is None else torch.cat([labels, fake_labels])
        # One forward over real and fake: one power iteration per D step, as with one batch.
        logits = self.discriminator(torch.cat([real, fake]), both_labels)
        loss_real = self.loss_fn.d_real(logits[:n])
        loss_fake = self.loss_fn.d_fake(logits[n:])
        loss = loss_real + loss_fake
        penalty = regularizer_penalty(
            self.hparams.regularizer,
            self.discriminator,
            real,
            fake,
            labels,
            self.hparams.gp_weight,
            self.hparams.ortho_strength,
        )
        if penalty is not None:
            loss = loss + penalty
        parts = {"loss/d_real": loss_real, "loss/d_fake": loss_fake, "loss/d": loss}
        if penalty is not None:
            parts["loss/penalty"] = penalty
        self._check_finite(parts)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_d.step()
        for key, value in parts.items():
            self._d_sums[key] = self._d_sums.get(key, 0.0) + value.detach()

    def _generator_phase(self, opt_g) -> Tensor:
        n = self.hparams.g_batch_size or self._d_batch_size
        self.toggle_optimizer(opt_g)
        labels = self.sample_labels(n)
        fake = self.generator(torch.randn(n, self.hparams.z_dim, device=self.device), labels)
        loss = self.loss_fn.g(self.discriminator(fake, labels))
        self._check_finite({"loss/g": loss})
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        return loss.detach()

    def _check_finite(self, losses: dict[str, Tensor]) -> None:
        # Checked before the optimizer step, so a NaN never reaches the weights. One stacked
        # isfinite and a single host sync per phase.
        values = torch.stack([v.detach().float() for v in losses.values()])
        if bool(torch.isfinite(values).all()):
            return
        bad = [f"{k}={float(v):g}" for k, v in zip(losses, values) if not torch.isfinite(v)]
        raise NonFiniteError(
            f"non-finite loss at G-step {self.g_step + 1}: {', '.join(bad)}; training stopped, "
            "the last good checkpoint is kept (lower the learning rate or resume from it)"
        )

    def total_d_steps(self) -> int:
        """Discriminator steps (= data batches per process) taken so far."""
        return self.g_step * self.hparams.n_dis + self._d_steps_since_g

    def _log_cycle(self, g_loss: Tensor) -> None:
        n_dis = self.hparams.n_dis
        d_means = {k: v / n_dis for k, v in self._d_sums.items()}
        self._d_sums = {}
        self.log("d_loss", d_means["loss/d"], prog_bar=True, logger=False)
        self.log("g_loss", g_loss, prog_bar=True, logger=False)
        every = self.hparams.log_every_n_g_steps
        if not every or self.g_step % every:
            return
        metrics = {**d_means, "loss/g": g_loss}
        # Mean over processes (a collective: every rank calls it), then rank 0's loggers write.
        metrics = {
            k: float(self.trainer.strategy.reduce(v, reduce_op="mean")) for k, v in metrics.items()
        }
        opt_g, opt_d = self.optimizers()
        metrics["lr/g"] = opt_g.param_groups[0]["lr"]
        metrics["lr/d"] = opt_d.param_groups[0]["lr"]
        for logger in self.loggers:
            logger.log_metrics(metrics, step=self.g_step)

    # ----------------------------------------------------------------- setup
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr_g, betas=tuple(hp.betas))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr_d, betas=tuple(hp.betas))
        if hp.lr_decay == "linear":
            factor = lambda step: max(0.0, 1.0 - step / hp.max_g_steps)  # noqa: E731
        else:
            factor = lambda step: 1.0  # noqa: E731
        # Both schedulers are stepped once per G-step, so their step count is g_step.
        return [opt_g, opt_d], [LambdaLR(opt_g, factor), LambdaLR(opt_d, factor)]

    def configure_callbacks(self):
        from srngan.training.callbacks import default_callbacks

        return default_callbacks(self)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["srngan"] = {"g_step": self.g_step, "d_steps_since_g": self._d_steps_since_g}
        checkpoint["srngan_rng"] = rng_state()
        datamodule = (
            getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        )
        if datamodule is not None and hasattr(datamodule, "config"):
            # Lets `srngan evaluate --ckpt` rebuild the real data the model was trained on.
            checkpoint["srngan_data"] = datamodule.config()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get("srngan", {})
        self.g_step = state.get("g_step", 0)
        self._d_steps_since_g = state.get("d_steps_since_g", 0)
        # Applied in on_train_start, after Lightning's own setup has drawn what it draws.
        self._pending_rng = checkpoint.get("srngan_rng")
        # Called before the train dataloader is built: the data stream continues where it was.
        datamodule = (
            getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        )
        if datamodule is not None and hasattr(datamodule, "resume_from"):
            datamodule.resume_from(self.total_d_steps())

    def on_train_start(self) -> None:
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None


def _validate(args: dict) -> None:
    """One-line ValueErrors for arguments a typo or a bad override can get wrong."""
    check_regularizer(args["regularizer"])
    get_loss(args["loss"])
    _check_arguments(args["rank_ratio"], 1, 1e-12)
    if args["n_dis"] < 1:
        raise ValueError(f"n_dis must be >= 1, got {args['n_dis']}")
    if args["max_g_steps"] < 1:
        raise ValueError(f"max_g_steps must be >= 1, got {args['max_g_steps']}")
    if args["conditional"] and args["num_classes"] < 2:
        raise ValueError(
            f"conditional=True needs a labelled dataset with >= 2 classes, got num_classes={args['num_classes']}"
        )
    if args["ema_decay"] is not None and not 0.0 <= args["ema_decay"] < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1) or null, got {args['ema_decay']}")
    if args["lr_decay"] not in ("linear", "none"):
        raise ValueError(f"unknown lr_decay {args['lr_decay']!r}; allowed: linear, none")
