"""The GAN LightningModule: n_dis discriminator steps per generator step, manual optimization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import lightning as L
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.optim.lr_scheduler import LambdaLR

from srngan.losses import AdversarialLoss, Hinge
from srngan.nn.modes import eval_mode
from srngan.regularizers import Regularizer
from srngan.terms import DStep, DTerm, GStep, GTerm, Term
from srngan.training.ema import make_ema, update_ema
from srngan.training.finite import NonFiniteGuard
from srngan.training.gstep import notify_g_step_end
from srngan.training.hparams import save_hparams_without_objects
from srngan.training.rng import rng_state, set_rng_state

# Objects that the CLI records as class_path configs; built in Python they are not hyperparameters.
_INJECTED = ("generator", "discriminator", "loss", "regularizer", "terms")


class GANModule(L.LightningModule):
    """Trains any generator against any discriminator with a chosen loss and D regularizer.

    The network contract (checked here, used everywhere a latent or a class is drawn):

    - ``generator`` has ``z_dim`` and ``num_classes`` attributes (0: unconditional) and
      ``forward(z, y=None)`` returning images in [-1, 1], ``z ~ N(0, I)`` of shape
      ``(N, z_dim)`` and ``y`` int64 class indices (conditional only);
    - ``discriminator`` has ``forward(x, y=None)`` returning one logit per image, shape ``(N,)``.

    Each training batch is one discriminator step; after every ``n_dis`` of them the generator
    takes one step. ``g_step`` counts generator steps: it is the x-axis of every logged scalar,
    image and checkpoint name, and ``max_g_steps`` is in generator steps (Lightning's
    ``global_step`` counts every optimizer step, so it is ``(n_dis + 1) * g_step``, plus
    ``d_warmup_steps``). After each
    G-step every :class:`~srngan.training.gstep.GStepCallback` gets ``on_g_step_end``.

    Args:
        generator: G (e.g. :class:`srngan.models.ResNetGenerator`).
        discriminator: D (e.g. :class:`srngan.models.ResNetDiscriminator`), before
            regularization: ``regularizer.apply`` is called on it here.
        loss: an :class:`~srngan.losses.AdversarialLoss`; ``None`` is
            :class:`~srngan.losses.Hinge` (the paper's).
        regularizer: a :class:`~srngan.regularizers.Regularizer` (``StableRankNorm(0.7)``,
            ``SpectralNorm()``, ``GradientPenalty(10)``, ``Orthonormal(1e-4)``...); ``None``: none.
        n_dis: discriminator steps per generator step.
        lr_g / lr_d / betas: Adam settings (paper: 2e-4, (0, 0.999)).
        max_g_steps: training length in generator steps; also the LR-decay horizon.
        lr_decay: ``linear`` decays both learning rates to 0 at ``max_g_steps``.
        g_batch_size: generator batch; ``None`` uses the data batch size.
        ema_decay: keep an EMA of G with this decay for sampling and metrics; ``None``: off.
        ema_start: G-step from which the EMA averages (before it, it copies G).
        log_every_n_g_steps: scalar logging interval in G-steps (0: off).
        terms: training terms (:mod:`srngan.terms`), each joining the D or the G phase:
            its weighted loss is added there and its unweighted value logged as
            ``loss/<phase>_<name>``; e.g. ``[MatchingAwareD(1.0, candidates=3),
            ModeSeeking(0.25)]``. Each checks its needs (a conditional G, ``D.features``) here.
        d_warmup_steps: D steps before G's first step (0: off), each an ordinary D step (its
            D-phase terms included). G-steps, the LR schedule and every G-step callback start
            after them; their mean D loss is logged as ``loss/d_warmup`` at G-step 0.
        adam: torch's Adam implementation: ``default`` (torch's choice), ``foreach`` (one
            kernel per op over all parameters) or ``fused`` (one kernel per step; the fastest
            on a GPU). The same update up to float rounding.

    Example::

        from srngan.models import ResNetDiscriminator, ResNetGenerator
        from srngan.regularizers import StableRankNorm

        model = GANModule(ResNetGenerator(32, num_classes=10), ResNetDiscriminator(32, 10),
                          regularizer=StableRankNorm(0.7))

    Built from Python like this, the networks are not hyperparameters:
    ``load_from_checkpoint`` then needs them again as arguments. Built by ``srngan fit`` or
    :func:`srngan.cli.instantiate`, the checkpoint records their ``class_path`` configs and
    ``GANModule.load_from_checkpoint(path)`` rebuilds them (your own classes included, when
    their module is importable).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: AdversarialLoss | None = None,
        regularizer: Regularizer | None = None,
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
        terms: list[Term] | None = None,
        d_warmup_steps: int = 0,
        adam: Literal["default", "foreach", "fused"] = "default",
    ) -> None:
        super().__init__()
        _validate(locals())
        save_hparams_without_objects(self, _INJECTED)
        self.automatic_optimization = False
        self.num_conditional_classes = _check_contract(generator, discriminator)
        self.terms = list(terms or ())
        for term in self.terms:
            term.check(generator, discriminator)
        self.d_terms = [t for t in self.terms if isinstance(t, DTerm)]
        self.g_terms = [t for t in self.terms if isinstance(t, GTerm)]
        self.z_dim = generator.z_dim
        self.loss_fn = loss if loss is not None else Hinge()
        self.regularizer = regularizer if regularizer is not None else Regularizer()
        self.generator = generator
        self.discriminator = self.regularizer.apply(discriminator)
        self.generator_ema = make_ema(self.generator) if ema_decay is not None else None
        self.g_step = 0
        self._d_steps_since_g = 0
        self._warmup_done = 0
        self._warmup_seen = 0  # warm-up steps taken by this process (a resume may skip some)
        self._last_real: tuple[Tensor, Tensor | None] | None = None  # GStep.real
        self._g_step_ended = False
        self._d_sums: dict[str, Tensor] = {}
        self._pending_rng: dict | None = None
        # Losses are checked on the device; the record is read at logging intervals, at the
        # warm-up's end, before a checkpoint and at the end (never a host read per step).
        self._guard = NonFiniteGuard()
        self.progress: dict[str, float] = {}  # the progress bar's values, per logging interval
        # G and D wrapped for DDP (distribute); a dict, so they are not submodules.
        self._trained: dict[str, nn.Module] = {}

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, *args, **kwargs):
        """Lightning's ``load_from_checkpoint``; a checkpoint of srngan 0.2 (its term flags)
        is upgraded on the way in (:mod:`srngan.training.upgrade`)."""
        from srngan.training.upgrade import upgraded

        return super().load_from_checkpoint(upgraded(checkpoint_path, kwargs), *args, **kwargs)

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

    def distribute(self, wrap: Callable[[nn.Module], nn.Module] | None) -> dict[str, nn.Module]:
        """Train through wrapped networks (:class:`~srngan.training.ddp.GANDDPStrategy` passes
        a ``DistributedDataParallel`` maker): D's wrapper runs the D step's forward, G's the G
        step's; every other forward (fakes for D, D's logits for G, penalties, terms) uses the
        plain networks, so no wrapper sees a forward without its backward. ``None`` unwraps.
        Returns the wrappers by name."""
        names = ("generator", "discriminator")
        self._trained = {n: wrap(getattr(self, n)) for n in names} if wrap is not None else {}
        return dict(self._trained)

    # ----------------------------------------------------------------- training
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, labels = batch
        labels = labels if self.num_conditional_classes else None
        opt_g, opt_d = self.optimizers()
        if self._warmup_done < self.hparams.get("d_warmup_steps", 0):
            self._warmup_phase(real, labels, opt_d)
            return
        self._discriminator_phase(real, labels, opt_d)
        self._d_steps_since_g += 1
        if self._d_steps_since_g < self.hparams.n_dis:
            return
        self._d_steps_since_g = 0
        g_parts = self._generator_phase(opt_g)
        for scheduler in self.lr_schedulers():
            scheduler.step()
        self.g_step += 1
        if self.generator_ema is not None:
            decay = self.hparams.ema_decay if self.g_step > self.hparams.ema_start else 0.0
            update_ema(self.generator_ema, self.generator, decay)
        self._log_cycle(g_parts)
        if self.g_step >= self.hparams.max_g_steps:
            self.trainer.should_stop = True
        self._g_step_ended = True

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        # The G-step signal goes out where Lightning's batch-end hooks run (the batch counted,
        # as any checkpoint written by a listener needs), once per G-step.
        if self._g_step_ended:
            self._g_step_ended = False
            notify_g_step_end(self.trainer, self)

    def _discriminator_phase(self, real: Tensor, labels: Tensor | None, opt_d) -> None:
        n = self._d_batch_size = real.shape[0]
        self._last_real = (real, labels)
        with torch.no_grad():
            fake_labels = self.sample_labels(n)
            fake = self.generator(torch.randn(n, self.z_dim, device=self.device), fake_labels)
        step = DStep(real, labels, fake, fake_labels, self.discriminator, self.loss_fn,
                     self.num_conditional_classes)  # fmt: skip
        images, all_labels = [real, fake], [labels, fake_labels]
        extra = [term.rows(step) for term in self.d_terms]
        for rows in filter(None, extra):
            images.append(rows[0])
            all_labels.append(rows[1])
        # One forward over every row: one power iteration per D step, as with one batch.
        logits = self._trained.get("discriminator", self.discriminator)(
            torch.cat(images), None if labels is None else torch.cat(all_labels)
        )
        parts = {
            "loss/d_real": self.loss_fn.d_real(logits[:n]),
            "loss/d_fake": self.loss_fn.d_fake(logits[n : 2 * n]),
        }
        loss = parts["loss/d_real"] + parts["loss/d_fake"]
        start = 2 * n
        for term, rows in zip(self.d_terms, extra):
            own = None
            if rows is not None:
                own, start = logits[start : start + rows[0].shape[0]], start + rows[0].shape[0]
            parts[term.key] = term.loss(step, own)
            loss = loss + term.weight * parts[term.key]
        penalty = self.regularizer.penalty(self.discriminator, real, fake, labels)
        if penalty is not None:
            parts["loss/penalty"] = penalty
            loss = loss + penalty
        parts["loss/d"] = loss
        self._guard.flag(parts, self.g_step + 1)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_d.step()
        for key, value in parts.items():
            self._d_sums[key] = self._d_sums.get(key, 0.0) + value.detach()

    def _warmup_phase(self, real: Tensor, labels: Tensor | None, opt_d) -> None:
        self._discriminator_phase(real, labels, opt_d)
        self._warmup_done += 1
        self._warmup_seen += 1
        if self._warmup_done < self.hparams.d_warmup_steps:
            return
        sums, self._d_sums = self._d_sums, {}  # G-step 1 logs only its own D steps
        # Once, at the warm-up's end: its mean D loss, and the non-finite check.
        (mean,) = self._reduce_and_check([sums["loss/d"] / self._warmup_seen])
        if self.hparams.log_every_n_g_steps:
            for logger in self.loggers:
                logger.log_metrics({"loss/d_warmup": mean}, step=0)

    def _generator_phase(self, opt_g) -> dict[str, Tensor]:
        """One G step; returns ``loss/g`` and the G-phase terms (unweighted), detached."""
        n = self.hparams.g_batch_size or self._d_batch_size
        self.toggle_optimizer(opt_g)
        labels = self.sample_labels(n)
        z = torch.randn(n, self.z_dim, device=self.device)
        for term in self.g_terms:
            z, labels = term.inputs(z, labels)
        fake = self._trained.get("generator", self.generator)(z, labels)
        logits = self.discriminator(fake, labels)
        loss = self.loss_fn.g(logits)
        parts: dict[str, Tensor] = {}
        if self.g_terms:
            real, real_labels = self._last_real
            step = GStep(z, labels, fake, logits, self.discriminator, self.loss_fn,
                         self.num_conditional_classes, real, real_labels)  # fmt: skip
            for term in self.g_terms:
                value = term.loss(step)
                parts[term.key] = value.detach()
                loss = loss + term.weight * value
        self._guard.flag({"loss/g": loss}, self.g_step + 1)
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        return {"loss/g": loss.detach(), **parts}

    def raise_if_non_finite(self, elsewhere: bool = False) -> None:
        """Raise :class:`~srngan.errors.NonFiniteError` naming the first non-finite loss and
        its G-step, if one was seen (``elsewhere``: another process saw one). A host read."""
        self._guard.raise_if_flagged(elsewhere)

    def total_d_steps(self) -> int:
        """Discriminator steps (= data batches per process) taken so far, warm-up included."""
        return self._warmup_done + self.g_step * self.hparams.n_dis + self._d_steps_since_g

    def _reduce_and_check(self, values: list[Tensor]) -> list[float]:
        """The means over processes of ``values`` as floats, after raising if any process
        saw a non-finite loss: one collective for all of them and the flag, one host read."""
        stacked = torch.stack([*(v.float() for v in values), self._guard.flagged(self.device)])
        world = self.trainer.world_size
        if world > 1 and dist.is_available() and dist.is_initialized():
            # Directly: Lightning's strategy.reduce puts a barrier (a second collective) first.
            dist.all_reduce(stacked)
        summed = stacked.tolist()
        self.raise_if_non_finite(elsewhere=summed[-1] > 0)
        return [v / world for v in summed[:-1]]

    def _log_cycle(self, g_parts: dict[str, Tensor]) -> None:
        sums, self._d_sums = self._d_sums, {}
        every = self.hparams.log_every_n_g_steps
        if every and self.g_step % every:
            return  # between intervals: no host read, no collective
        n_dis = self.hparams.n_dis
        metrics = {**{k: v / n_dis for k, v in sums.items()}, **g_parts}
        means = self._reduce_and_check(list(metrics.values()))
        if not every:
            return  # logging off: the check above still runs every G-step
        values = dict(zip(metrics, means))
        # Floats for the progress bar (GStepProgressBar): self.log would make Lightning read
        # the logged tensors back after every batch, a device sync per batch.
        self.progress = {"d_loss": round(values["loss/d"], 3), "g_loss": round(values["loss/g"], 3)}
        opt_g, opt_d = self.optimizers()
        values["lr/g"] = opt_g.param_groups[0]["lr"]
        values["lr/d"] = opt_d.param_groups[0]["lr"]
        for logger in self.loggers:
            logger.log_metrics(values, step=self.g_step)

    # ----------------------------------------------------------------- setup
    def configure_optimizers(self):
        hp = self.hparams
        impl = {"foreach": {"foreach": True}, "fused": {"fused": True}}.get(hp.get("adam"), {})
        opt_g = torch.optim.Adam(
            self.generator.parameters(), lr=hp.lr_g, betas=tuple(hp.betas), **impl
        )
        opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=hp.lr_d, betas=tuple(hp.betas), **impl
        )
        if hp.lr_decay == "linear":
            factor = lambda step: max(0.0, 1.0 - step / hp.max_g_steps)  # noqa: E731
        else:
            factor = lambda step: 1.0  # noqa: E731
        # Both schedulers are stepped once per G-step, so their step count is g_step.
        return [opt_g, opt_d], [LambdaLR(opt_g, factor), LambdaLR(opt_d, factor)]

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        self.raise_if_non_finite()  # never a diverged state on disk
        checkpoint["srngan"] = {
            "g_step": self.g_step,
            "d_steps_since_g": self._d_steps_since_g,
            "d_warmup_done": self._warmup_done,
        }
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
        # Only an emergency checkpoint (a crash) can fall inside the warm-up: it resumes there.
        self._warmup_done = state.get("d_warmup_done", 0)
        # Applied in on_train_start, after Lightning's own setup has drawn what it draws.
        self._pending_rng = checkpoint.get("srngan_rng")
        # Called before the train dataloader is built: the data stream continues where it was.
        datamodule = (
            getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        )
        if datamodule is not None and hasattr(datamodule, "resume_from"):
            datamodule.resume_from(self.total_d_steps())

    def on_train_end(self) -> None:
        self.raise_if_non_finite()

    def on_train_start(self) -> None:
        if self.g_step >= self.hparams.max_g_steps:
            # A finished run resumed (e.g. requeued after a stop in its final evaluation): no
            # more steps; the end-of-run work runs as far as it is not on record (MetricsCallback).
            self.trainer.should_stop = True
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None


def _check_contract(generator: nn.Module, discriminator: nn.Module) -> int:
    """The class count G conditions on; one-line errors for networks that break the contract."""
    for name in ("z_dim", "num_classes"):
        value = getattr(generator, name, None)
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "z_dim"):
            raise ValueError(
                f"generator {type(generator).__name__} needs an int attribute {name} "
                f"({'>= 1' if name == 'z_dim' else '>= 0, 0 = unconditional'}), got {value!r}"
            )
    d_classes = getattr(discriminator, "num_classes", None)
    if d_classes is not None and d_classes != generator.num_classes:
        raise ValueError(
            f"generator has num_classes={generator.num_classes} but discriminator has "
            f"num_classes={d_classes}; a conditional GAN needs the same classes in both"
        )
    if generator.num_classes == 1:
        raise ValueError("num_classes=1: use 0 (unconditional) or >= 2 classes")
    return generator.num_classes


def _validate(args: dict) -> None:
    """One-line ValueErrors for arguments a typo or a bad override can get wrong."""
    for key in ("generator", "discriminator"):
        if not isinstance(args[key], nn.Module):
            raise ValueError(f"{key} must be a torch.nn.Module, got {type(args[key]).__name__}")
    if args["loss"] is not None and not isinstance(args["loss"], AdversarialLoss):
        raise ValueError(
            f"loss must be an srngan.losses.AdversarialLoss (Hinge, NonSaturating, Wasserstein or "
            f"your subclass), got {type(args['loss']).__name__}"
        )
    if args["regularizer"] is not None and not isinstance(args["regularizer"], Regularizer):
        raise ValueError(
            "regularizer must be an srngan.regularizers.Regularizer (SpectralNorm, StableRankNorm, "
            f"GradientPenalty, Orthonormal or your subclass) or null, got {type(args['regularizer']).__name__}"
        )
    if args["n_dis"] < 1:
        raise ValueError(f"n_dis must be >= 1, got {args['n_dis']}")
    if args["max_g_steps"] < 1:
        raise ValueError(f"max_g_steps must be >= 1, got {args['max_g_steps']}")
    if args["ema_decay"] is not None and not 0.0 <= args["ema_decay"] < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1) or null, got {args['ema_decay']}")
    terms = args["terms"] if args["terms"] is not None else []
    if not isinstance(terms, (list, tuple)):
        raise ValueError(f"terms must be a list of srngan.terms.Term, got {type(terms).__name__}")
    for term in terms:
        if not isinstance(term, (DTerm, GTerm)):
            raise ValueError(
                "terms must be srngan.terms.DTerm / GTerm objects (MatchingAwareD, ModeSeeking, "
                f"ClassMatching or your subclass), got {type(term).__name__}"
            )
    w = args["d_warmup_steps"]
    if isinstance(w, bool) or not isinstance(w, int) or w < 0:
        raise ValueError(f"d_warmup_steps must be an int >= 0, got {w!r}")
    if args["adam"] not in ("default", "foreach", "fused"):
        raise ValueError(f"unknown adam {args['adam']!r}; allowed: default, foreach, fused")
    if args["lr_decay"] not in ("linear", "none"):
        raise ValueError(f"unknown lr_decay {args['lr_decay']!r}; allowed: linear, none")
