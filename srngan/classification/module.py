"""ClassifierModule: any classifier network, regularized as the GAN's discriminator is."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric

from srngan.classification.layers import WEIGHT_LAYERS
from srngan.classification.spectra import layer_spectra
from srngan.nn.diagnostics import spectra_scalars
from srngan.regularizers import GradientPenalty, Regularizer
from srngan.training.hparams import save_hparams_without_objects

__all__ = ["ClassifierModule"]


class ClassifierModule(L.LightningModule):
    """Trains ``network`` with cross-entropy and SGD (the paper's Appendix D recipes).

    ``regularizer`` is a :class:`~srngan.regularizers.Regularizer`, as for
    :class:`srngan.GANModule`'s discriminator: ``None`` (Vanilla),
    :class:`~srngan.regularizers.SpectralNorm` or
    :class:`~srngan.regularizers.StableRankNorm` (Algorithm 2, target stable rank
    ``rank_ratio * min(m, n)``; SRN-50 is 0.5, SRN-30 is 0.3) on the weight of every Linear and
    Conv layer (BatchNorm layers are left alone), :class:`~srngan.regularizers.Orthonormal`, or
    your own subclass. Its ``apply`` runs once here; its ``penalty``, when it has one, is added
    to every training loss, called as ``penalty(network, images, None, labels)`` (a classifier
    has no generated images, so :class:`~srngan.regularizers.GradientPenalty` is refused).

    Optimizer: SGD(lr, momentum, weight_decay, nesterov); the learning rate is multiplied by
    ``lr_gamma`` after each epoch in ``lr_milestones``.

    Logged (TensorBoard by default): ``train/loss``, ``train/acc`` (running over the epoch's
    batches, as CIFAR recipes report it), ``test/loss``, ``test/acc`` (the validation loop runs
    on the test split), ``lr``, and every ``spectra_every_n_epochs`` epochs
    ``spectra/sigma1/<layer>`` and ``spectra/stable_rank/<layer>`` of each effective weight.

    Args:
        network: the classifier, images -> logits; in configs a ``class_path`` (e.g.
            ``srngan.classification.networks.ResNet110``).
        regularizer: e.g. ``StableRankNorm(0.3)``; in configs
            ``{class_path: srngan.regularizers.StableRankNorm, init_args: {rank_ratio: 0.3}}``;
            ``None``: none.
        lr, momentum, weight_decay, nesterov: SGD.
        lr_milestones, lr_gamma: the step schedule (epochs).
        spectra_every_n_epochs: 0 disables spectra logging.

    Built by ``srngan fit``, the checkpoint records the network's and the regularizer's
    ``class_path`` configs and ``ClassifierModule.load_from_checkpoint(path)`` rebuilds them;
    built in Python they are objects, not hyperparameters: pass them again,
    ``load_from_checkpoint(path, network=..., regularizer=...)``. Checkpoints of srngan 0.2
    (``normalization: "srn"``, ``rank_ratio``) load too.

    Example::

        >>> from srngan.classification.networks import SmallCNN
        >>> from srngan.regularizers import StableRankNorm
        >>> module = ClassifierModule(SmallCNN(num_classes=10), regularizer=StableRankNorm(0.3))
        >>> type(module.network.fc.parametrizations.weight[0]).__name__
        '_StableRankNorm'
    """

    def __init__(
        self,
        network: nn.Module,
        regularizer: Regularizer | None = None,
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        nesterov: bool = False,
        lr_milestones: Sequence[int] = (150, 250),
        lr_gamma: float = 0.1,
        spectra_every_n_epochs: int = 1,
    ) -> None:
        super().__init__()
        if not isinstance(network, nn.Module):
            raise ValueError(f"network must be a torch.nn.Module, got {type(network).__name__}")
        if not any(isinstance(m, WEIGHT_LAYERS) for m in network.modules()):
            raise ValueError(
                f"network {type(network).__name__} has no Linear or Conv layer to normalize"
            )
        if regularizer is not None and not isinstance(regularizer, Regularizer):
            raise ValueError(
                "regularizer must be an srngan.regularizers.Regularizer (SpectralNorm, "
                "StableRankNorm, Orthonormal or your subclass) or null, got "
                f"{type(regularizer).__name__}"
            )
        if isinstance(regularizer, GradientPenalty):
            raise ValueError(
                "GradientPenalty interpolates real and generated images (a GAN regularizer); a "
                "classifier takes SpectralNorm, StableRankNorm, Orthonormal, your own "
                "Regularizer or null"
            )
        if lr <= 0 or not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError(
                f"need lr > 0, momentum in [0, 1), weight_decay >= 0; got {lr}, {momentum}, {weight_decay}"
            )
        save_hparams_without_objects(self, ["network", "regularizer"])
        self.regularizer = regularizer if regularizer is not None else Regularizer()
        self.network = self.regularizer.apply(network)
        self.train_acc, self.train_loss = MeanMetric(), MeanMetric()
        self.test_acc, self.test_loss = MeanMetric(), MeanMetric()

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: str | os.PathLike | IO, *args: Any, **kwargs: Any
    ) -> ClassifierModule:
        """Lightning's ``load_from_checkpoint``; a checkpoint of srngan 0.2 (``normalization``,
        ``rank_ratio``, ``n_power_iterations`` hyperparameters) is read as the equivalent
        ``regularizer`` (same weights, same parametrizations; :mod:`srngan.training.upgrade`)."""
        from srngan.training.upgrade import upgraded

        return super().load_from_checkpoint(upgraded(checkpoint_path, kwargs), *args, **kwargs)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network(images)

    def _step(self, batch, acc: MeanMetric, loss_metric: MeanMetric) -> torch.Tensor:
        images, labels = batch
        logits = self.network(images)
        loss = F.cross_entropy(logits, labels)
        acc.update((logits.argmax(dim=1) == labels).float())
        loss_metric.update(loss.detach(), weight=labels.shape[0])
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, self.train_acc, self.train_loss)
        self.log("train/batch_loss", loss, prog_bar=True)
        penalty = self.regularizer.penalty(self.network, batch[0], None, batch[1])
        if penalty is not None:
            self.log("train/penalty", penalty, on_step=False, on_epoch=True)  # the epoch mean
            loss = loss + penalty
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, self.test_acc, self.test_loss)

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, self.test_acc, self.test_loss)

    def epoch_train_accuracy(self) -> float:
        """Running train accuracy of the current epoch (nan before any batch)."""
        return _value(self.train_acc)

    def epoch_test_accuracy(self) -> float:
        """Test accuracy of the latest validation pass (nan before any)."""
        return _value(self.test_acc)

    def on_train_epoch_end(self) -> None:
        self.log_dict({"train/acc": _value(self.train_acc), "train/loss": _value(self.train_loss),
                       "lr": self.optimizers().param_groups[0]["lr"]})  # fmt: skip
        self.train_acc.reset()
        self.train_loss.reset()
        every = self.hparams.spectra_every_n_epochs
        if every and (self.current_epoch + 1) % every == 0 and self.trainer.is_global_zero:
            metrics = spectra_scalars(layer_spectra(self.network))
            for logger in self.loggers:
                logger.log_metrics(metrics, step=self.global_step)

    def on_validation_epoch_end(self) -> None:
        self._log_test("test")

    def on_test_epoch_end(self) -> None:
        self._log_test("test_final")

    def _log_test(self, prefix: str) -> None:
        if self.trainer.sanity_checking:
            self.test_acc.reset()
            self.test_loss.reset()
            return
        self.log_dict(
            {f"{prefix}/acc": _value(self.test_acc), f"{prefix}/loss": _value(self.test_loss)}
        )
        self.test_acc.reset()
        self.test_loss.reset()

    def configure_optimizers(self):
        hp = self.hparams
        optimizer = torch.optim.SGD(
            self.network.parameters(), lr=hp.lr, momentum=hp.momentum,
            weight_decay=hp.weight_decay, nesterov=hp.nesterov,
        )  # fmt: skip
        schedule = torch.optim.lr_scheduler.MultiStepLR(
            optimizer, list(hp.lr_milestones), hp.lr_gamma
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": schedule, "interval": "epoch"},
        }


def _value(metric: MeanMetric) -> float:
    # MeanMetric of nothing is 0/0: report nan instead of warning.
    if float(metric.weight) == 0:
        return float("nan")
    return float(metric.compute())
