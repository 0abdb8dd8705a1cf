"""Stop training at a train-accuracy criterion and report the test accuracy there (Appendix D)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback

__all__ = ["TrainAccuracyStop"]


class TrainAccuracyStop(Callback):
    """Stops at the end of the first epoch whose train accuracy reaches ``threshold`` and records
    that epoch's test accuracy (the paper's Figs. 8-9: 99 %; AlexNet 55 % on CIFAR-100, 85 % on
    CIFAR-10).

    Train accuracy is the running accuracy over the epoch's training batches (with augmentation,
    weights changing), as CIFAR recipes report it; test accuracy is that epoch's validation pass
    over the test split, which must run every epoch (``check_val_every_n_epoch: 1``, the default).
    If the criterion is never met, training ends by ``max_epochs`` and nothing is recorded.

    On success: ``criterion/epoch``, ``criterion/train_acc`` and ``criterion/test_acc`` are logged,
    a line is printed, and ``criterion.json`` is written to the logger's folder.

    Args:
        threshold: train accuracy in (0, 1].
        stop: stop training when met (False: only record the first epoch it is met).

    Example (config)::

        trainer:
          callbacks:
            - class_path: srngan.classification.TrainAccuracyStop
              init_args: {threshold: 0.99}
    """

    def __init__(self, threshold: float = 0.99, stop: bool = True) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be a train accuracy in (0, 1], got {threshold}")
        self.threshold, self.stop = threshold, stop
        self.result: dict | None = None

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        # Callbacks run before the module's own hook, so its epoch metrics are still unreset here;
        # at the end-of-epoch validation every training batch of the epoch has been seen.
        if trainer.sanity_checking or self.result is not None:
            return
        train_acc = pl_module.epoch_train_accuracy()
        if math.isnan(train_acc) or train_acc < self.threshold:
            return
        self.result = {
            "threshold": self.threshold,
            "epoch": trainer.current_epoch,
            "train_acc": train_acc,
            "test_acc": pl_module.epoch_test_accuracy(),
        }
        pl_module.log_dict({f"criterion/{k}": float(v) for k, v in self.result.items()})
        if trainer.is_global_zero:
            print(
                f"train accuracy {train_acc:.4f} >= {self.threshold} at epoch {trainer.current_epoch}: "
                f"test accuracy {self.result['test_acc']:.4f}"
            )
            log_dir = trainer.logger.log_dir if trainer.logger else trainer.default_root_dir
            if log_dir:
                Path(log_dir).mkdir(parents=True, exist_ok=True)
                (Path(log_dir) / "criterion.json").write_text(json.dumps(self.result, indent=2))
        if self.stop:
            trainer.should_stop = True

    @property
    def state_key(self) -> str:
        # Several thresholds may watch one run (e.g. AlexNet's 55 % and 85 %).
        return self._generate_state_key(threshold=self.threshold)

    def state_dict(self) -> dict:
        return {"result": self.result}

    def load_state_dict(self, state_dict: dict) -> None:
        self.result = state_dict.get("result")
