"""The GAN LightningModule: n_dis discriminator steps per generator step, manual optimization."""

from __future__ import annotations

import warnings
from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.lr_scheduler import LambdaLR

from srngan.errors import NonFiniteError
from srngan.losses import (
    AdversarialLoss,
    Hinge,
    class_feature_matching,
    colour_statistics,
    mode_seeking_term,
)
from srngan.nn.modes import eval_mode
from srngan.regularizers import Regularizer
from srngan.training.ema import make_ema, update_ema
from srngan.training.gstep import notify_g_step_end
from srngan.training.rng import rng_state, set_rng_state

# Objects that the CLI records as class_path configs; built in Python they are not hyperparameters.
_INJECTED = ("generator", "discriminator", "loss", "regularizer")


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
        class_loss_weight: weight of an auxiliary classification term (AC-GAN style,
            Odena et al. 2017; 0: off). D minimizes the cross-entropy of its class logits on
            *real* images, G that of its samples' labels on fakes. Needs a conditional G and a D
            with ``logits_and_classes(x, y) -> (logits (N,), class_logits (N, K))``, e.g.
            ``SmallDiscriminator(aux_classifier=True)``.
        mismatch_weight: weight of a matching-aware D term (Reed et al. 2016; 0: off): every
            D step also shows D the real images paired with a wrong class (uniform over the
            others) and trains it to call them fake, so D must bind each class to its look,
            not only tell real from fake; the term costs one more real batch through D.
            Needs a conditional G.
        mismatch_candidates: wrong classes drawn per real image for that term; D is shown
            the one it scores highest (a hard negative, scored without a gradient), so
            similar-looking classes meet more often than uniform draws give. 1: uniform.
        mode_seeking_weight: weight of Mao et al. (2019)'s mode-seeking term in G's loss
            (0: off; see :func:`srngan.losses.mode_seeking_term`): the G batch is drawn as pairs with the
            same class, and G is penalised when different latents give similar images, against
            per-class mode collapse.
        d_warmup_steps: D steps before G's first step (0: off), each an ordinary D step
            (real, G's samples, and the mismatched reals when on), so D has learned what
            each class looks like before G follows it. G-steps, the LR schedule and every
            G-step callback start after them; their mean D loss is logged as
            ``loss/d_warmup`` at G-step 0.
        feature_matching_weight: weight of a class-wise feature-matching term in G's loss
            (0: off; :func:`srngan.losses.class_feature_matching`): the mean D features
            (``discriminator.features(x, y)``) of G's samples of each class are pulled to those
            of the last D step's real images of that class. It gives G a direction where D's
            logit may give none: a class whose samples collapsed to something D scores as
            plausible (empty backgrounds in the quickstart) can be drawn back to its real look
            (in one of two quickstart seeds; ``docs/quickstart.md`` section 8). Needs a D
            with ``features(x, y)``; costs one more D pass per G-step.
        colour_matching_weight: the same class-wise matching on fixed pixel statistics
            (:func:`srngan.losses.colour_statistics`: per channel the mean, the mean square and
            the mean of the brightest 10 % of pixels) instead of D's features (0: off). Its
            gradient does not depend on D, so it also reaches a class whose samples sit where
            D's features are flat (a class collapsed to empty backgrounds: its brightest
            pixels lack the class's colour). No D pass.

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
        class_loss_weight: float = 0.0,
        mismatch_weight: float = 0.0,
        mode_seeking_weight: float = 0.0,
        mismatch_candidates: int = 1,
        d_warmup_steps: int = 0,
        feature_matching_weight: float = 0.0,
        colour_matching_weight: float = 0.0,
    ) -> None:
        super().__init__()
        _validate(locals())
        with warnings.catch_warnings():  # module instances are dropped from hparams just below
            warnings.filterwarnings(
                "ignore", message=r"Attribute '\w+' is an instance of `nn\.Module`"
            )
            self.save_hyperparameters()
        for key in _INJECTED:
            if not isinstance(self.hparams.get(key), (dict, type(None))):
                del self.hparams[key]
        self.automatic_optimization = False
        self.num_conditional_classes = _check_contract(generator, discriminator)
        _check_class_terms(
            class_loss_weight, mismatch_weight, self.num_conditional_classes, discriminator
        )
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
        self._last_real: tuple[Tensor, Tensor | None] | None = None  # for the matching terms
        self._g_step_ended = False
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
        images, all_labels = torch.cat([real, fake]), None
        if labels is not None:
            all_labels = torch.cat([labels, fake_labels])
        mismatch = bool(self.hparams.get("mismatch_weight", 0.0))
        if mismatch:  # real images with a wrong class: fakes to a matching-aware D
            images = torch.cat([images, real])
            all_labels = torch.cat([all_labels, self._hard_wrong_labels(real, labels)])
        # One forward over real and fake: one power iteration per D step, as with one batch.
        logits, class_logits = self._d_forward(images, all_labels)
        parts = {
            "loss/d_real": self.loss_fn.d_real(logits[:n]),
            "loss/d_fake": self.loss_fn.d_fake(logits[n : 2 * n]),
        }
        loss = parts["loss/d_real"] + parts["loss/d_fake"]
        # Optional terms: each logged unweighted under its key and added to D's loss weighted.
        if mismatch:
            parts["loss/d_mismatch"] = self.loss_fn.d_fake(logits[2 * n :])
            loss = loss + self.hparams.mismatch_weight * parts["loss/d_mismatch"]
        if class_logits is not None:  # the auxiliary classifier learns from real images only
            parts["loss/d_class"] = F.cross_entropy(class_logits[:n], labels)
            loss = loss + self.hparams.class_loss_weight * parts["loss/d_class"]
        penalty = self.regularizer.penalty(self.discriminator, real, fake, labels)
        if penalty is not None:
            parts["loss/penalty"] = penalty
            loss = loss + penalty
        parts["loss/d"] = loss
        self._check_finite(parts)
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
        if self.hparams.log_every_n_g_steps:
            mean = self.trainer.strategy.reduce(
                sums["loss/d"] / self._warmup_seen, reduce_op="mean"
            )
            for logger in self.loggers:
                logger.log_metrics({"loss/d_warmup": float(mean)}, step=0)

    def _hard_wrong_labels(self, real: Tensor, labels: Tensor) -> Tensor:
        """One wrong class per real image: the one D scores highest among
        ``mismatch_candidates`` drawn (one: uniform over the wrong classes)."""
        k, m = self.num_conditional_classes, self.hparams.get("mismatch_candidates", 1)
        candidates = torch.stack([wrong_labels(labels, k) for _ in range(m)])  # (m, n)
        if m == 1:
            return candidates[0]
        # Scored without a gradient and in eval mode, so the normalizers' state is not stepped.
        with torch.no_grad(), eval_mode(self.discriminator):
            scores = self.discriminator(real.repeat(m, 1, 1, 1), candidates.flatten())
        best = scores.view(m, -1).argmax(dim=0)
        return candidates.gather(0, best[None]).squeeze(0)

    def _generator_phase(self, opt_g) -> dict[str, Tensor]:
        """One G step; returns ``loss/g`` and the optional terms (unweighted), detached."""
        n = self.hparams.g_batch_size or self._d_batch_size
        self.toggle_optimizer(opt_g)
        labels = self.sample_labels(n)
        seeking = self.hparams.get("mode_seeking_weight", 0.0) and n >= 2
        if seeking and labels is not None:  # pairs (i, i + n // 2) share a class
            h = n // 2
            labels = torch.cat([labels[:h], labels[:h], labels[2 * h :]])
        z = torch.randn(n, self.z_dim, device=self.device)
        fake = self.generator(z, labels)
        logits, class_logits = self._d_forward(fake, labels)
        loss = self.loss_fn.g(logits)
        parts: dict[str, Tensor] = {}
        matching = self.hparams.get("feature_matching_weight", 0.0)
        colour = self.hparams.get("colour_matching_weight", 0.0)
        if matching or colour:  # fake and the last D step's real batch, side by side
            real, real_labels = self._last_real
            images = torch.cat([fake, real])
        if matching:  # one D pass; the real rows carry no gradient
            both = None if labels is None else torch.cat([labels, real_labels])
            features = self.discriminator.features(images, both)
            term = class_feature_matching(features[:n], features[n:], labels, real_labels)
            parts["loss/g_feature_matching"] = term.detach()
            loss = loss + matching * term
        if colour:
            stats = colour_statistics(images)
            term = class_feature_matching(stats[:n], stats[n:], labels, real_labels)
            parts["loss/g_colour_matching"] = term.detach()
            loss = loss + colour * term
        if seeking:
            loss = loss + self.hparams.mode_seeking_weight * mode_seeking_term(fake, z)
        if class_logits is not None:
            loss = loss + self.hparams.class_loss_weight * F.cross_entropy(class_logits, labels)
        self._check_finite({"loss/g": loss})
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        return {"loss/g": loss.detach(), **parts}

    def _d_forward(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """D's logits, and its class logits when the auxiliary class loss is on (else None)."""
        if self.hparams.get("class_loss_weight", 0.0):
            return self.discriminator.logits_and_classes(x, labels)
        return self.discriminator(x, labels), None

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
        """Discriminator steps (= data batches per process) taken so far, warm-up included."""
        return self._warmup_done + self.g_step * self.hparams.n_dis + self._d_steps_since_g

    def _log_cycle(self, g_parts: dict[str, Tensor]) -> None:
        g_loss = g_parts["loss/g"]
        n_dis = self.hparams.n_dis
        d_means = {k: v / n_dis for k, v in self._d_sums.items()}
        self._d_sums = {}
        self.log("d_loss", d_means["loss/d"], prog_bar=True, logger=False)
        self.log("g_loss", g_loss, prog_bar=True, logger=False)
        every = self.hparams.log_every_n_g_steps
        if not every or self.g_step % every:
            return
        metrics = {**d_means, **g_parts}
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

    def on_save_checkpoint(self, checkpoint: dict) -> None:
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

    def on_train_start(self) -> None:
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None


def wrong_labels(labels: Tensor, num_classes: int) -> Tensor:
    """For every label, another class drawn uniformly from the ``num_classes - 1`` others."""
    shift = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + shift) % num_classes


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


def _check_class_terms(
    class_weight: float, mismatch_weight: float, num_classes: int, discriminator: nn.Module
) -> None:
    """One-line errors for the class-dependent terms (auxiliary class loss, mismatch) that
    cannot work with these networks."""
    for key, weight in (("class_loss_weight", class_weight), ("mismatch_weight", mismatch_weight)):
        if weight and not num_classes:
            raise ValueError(
                f"{key} > 0 needs a conditional generator (num_classes >= 2); "
                f"set {key} 0 for an unconditional one"
            )
    if class_weight and not callable(getattr(discriminator, "logits_and_classes", None)):
        raise ValueError(
            f"class_loss_weight > 0 needs a discriminator with logits_and_classes(x, y); "
            f"{type(discriminator).__name__} has none (e.g. SmallDiscriminator(aux_classifier=True))"
        )


_WEIGHTS = (
    "class_loss_weight",
    "mismatch_weight",
    "mode_seeking_weight",
    "feature_matching_weight",
    "colour_matching_weight",
)


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
    for key in _WEIGHTS:  # `not >= 0` also catches NaN
        if not args[key] >= 0:
            raise ValueError(f"{key} must be >= 0, got {args[key]}")
    m = args["mismatch_candidates"]
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"mismatch_candidates must be an int >= 1, got {m!r}")
    w = args["d_warmup_steps"]
    if isinstance(w, bool) or not isinstance(w, int) or w < 0:
        raise ValueError(f"d_warmup_steps must be an int >= 0, got {w!r}")
    if args["feature_matching_weight"] and not callable(
        getattr(args["discriminator"], "features", None)
    ):
        raise ValueError(
            "feature_matching_weight > 0 needs a discriminator with features(x, y); "
            f"{type(args['discriminator']).__name__} has none"
        )
    if args["lr_decay"] not in ("linear", "none"):
        raise ValueError(f"unknown lr_decay {args['lr_decay']!r}; allowed: linear, none")
