"""Every private Lightning API srngan uses, listed in one place.

Lightning's underscore names can change in any release. srngan reaches a few of them where no
public API does the job (writing a checkpoint outside Lightning's own schedule, choosing the log
folder of a resumed run, LightningCLI hooks for one-line errors). Each is listed in
:data:`PRIVATE_API`; the ones that are reads or calls go through the small wrappers below, so a
change in Lightning breaks one function here. ``tests/test_lightning_private.py`` checks that every
listed name still exists with the parameters srngan passes, and that srngan uses no other private
Lightning name (it scans the package's source).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PRIVATE_API: dict[str, dict[str, tuple[str, ...] | None]] = {
    # owner -> {private name: the parameters srngan passes (None: an attribute, not a call)}
    "lightning.pytorch.Trainer": {
        "_checkpoint_connector": None,  # dump_checkpoint below
    },
    "lightning.pytorch.trainer.connectors.checkpoint_connector._CheckpointConnector": {
        # The full training state as a dict (what trainer.save_checkpoint writes), for files
        # written outside ModelCheckpoint: best.ckpt, emergency checkpoints.
        "dump_checkpoint": ("weights_only",),
    },
    "lightning.pytorch.callbacks.ModelCheckpoint": {
        # GStepCheckpoint saves on G-steps, not on Lightning's steps or epochs.
        "_monitor_candidates": ("trainer",),
        "_should_skip_saving_checkpoint": ("trainer",),
        "_save_last_checkpoint": ("trainer", "monitor_candidates"),
        "_save_topk_checkpoint": ("trainer", "monitor_candidates"),
    },
    "lightning.pytorch.callbacks.Callback": {
        "_generate_state_key": (),  # BestCheckpoint.state_key, as Lightning's docs show
    },
    "lightning.pytorch.cli.LightningCLI": {
        "_get": ("config", "key", "default"),
        "_instantiate_trainer": ("config", "callbacks"),
        "_parse_ckpt_path": (),  # an unreadable --ckpt_path is a one-line error
    },
    "lightning.pytorch.loggers.TensorBoardLogger": {
        "_version": None,  # set_logger_version below
    },
    "lightning.pytorch.core.mixins.hparams_mixin": {
        # What LightningCLI puts around each module it builds, so that save_hyperparameters
        # records the config (the class_path included) instead of the constructed objects.
        "_given_hyperparameters_context": ("hparams", "instantiator"),
    },
    "lightning.pytorch.LightningModule": {
        "_trainer": None,  # None outside a fit, where .trainer raises
    },
}


def dump_checkpoint(trainer: Any) -> dict:
    """The trainer's full training state as a checkpoint dict (weights, optimizers, loops,
    callbacks, the module's ``on_save_checkpoint`` additions), without writing it."""
    return trainer._checkpoint_connector.dump_checkpoint(weights_only=False)


@contextmanager
def cli_hyperparameters(hparams: dict) -> Iterator[None]:
    """Build a Lightning module or data module inside this block as LightningCLI builds it:
    its ``save_hyperparameters()`` records ``hparams`` (``{"_class_path": ..., **init_args}``),
    and ``load_from_checkpoint`` rebuilds it from them."""
    from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters_context

    with _given_hyperparameters_context(
        hparams=hparams, instantiator="lightning.pytorch.cli.instantiate_module"
    ):
        yield


def set_logger_version(logger: Any, version: int | str) -> None:
    """Make ``logger`` write into its ``version_<version>`` folder (a resumed run's own), which
    Lightning's loggers only take as a constructor argument."""
    logger._version = version


__all__ = ["PRIVATE_API", "cli_hyperparameters", "dump_checkpoint", "set_logger_version"]
