"""The ``srngan`` command: ``fit`` (LightningCLI) plus tool sub-commands.

Nothing imports this module; it imports everything it dispatches to. It holds the command line
only: resume discovery is :mod:`srngan.training.resume`, error messages
:mod:`srngan.error_messages`, the console's filters :mod:`srngan.console`.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from collections.abc import Sequence

import lightning as L
from jsonargparse import ArgumentError, ArgumentParser, Namespace
from jsonargparse.typing import import_object
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch.cli import LightningCLI

import srngan
from srngan._lightning_private import cli_hyperparameters
from srngan.console import quiet_console
from srngan.error_messages import one_line_message
from srngan.errors import CommandError, NonFiniteError
from srngan.ranks import is_rank_zero
from srngan.training.callbacks import DEFAULT_CALLBACKS
from srngan.training.checkpoint_io import AtomicCheckpointIO
from srngan.training.module import GANModule
from srngan.training.preemption import Preempted
from srngan.training.resume import check_ckpt_path, resume_last, upgraded_model_config

_TRAINER_DEFAULTS = {
    "default_root_dir": "runs",
    "logger": {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        "init_args": {"save_dir": "runs", "name": "srngan"},
    },
    # Length is model.max_g_steps (generator steps); the module stops the trainer there.
    "max_epochs": -1,
    "max_steps": -1,
    "limit_val_batches": 0,
    "num_sanity_val_steps": 0,
    "log_every_n_steps": 1,
    # The data stream shards itself across processes (srngan.data.stream); do not wrap it.
    "use_distributed_sampler": False,
}

_USAGE = """usage: srngan <command> [options]

commands:
  fit        train from a YAML config (LightningCLI): srngan fit --config configs/quickstart.yaml
             (GANs, or classifiers: srngan fit --config configs/classify/procedural_small_cnn.yaml)
  sample     checkpoint -> PNG folder, .npz or grid:   srngan sample --ckpt CKPT --num-samples N --out PATH
  evaluate   IS / FID / KID / Intra-FID / ND / eLhist: srngan evaluate --ckpt CKPT --metrics is,fid
             (and prc, dc: precision-recall, density-coverage)
  stats      reference mu / sigma .npz (FID stats):   srngan stats --dataset cifar10 --split train --out S.npz
  export     standalone generator (torch.export):    srngan export --ckpt CKPT --out G.pt2
  measures   classifier Spec-Fro/Spec-L1/Jac-Norm:  srngan measures --ckpt CKPT --out DIR
  compare    table and figures from run folders:      srngan compare RUN_DIR... --out DIR
  (fit --print_config prints the resolved config)

`srngan <command> --help` describes each command's options.
"""


_TOOLS = ("sample", "evaluate", "stats", "export", "measures", "compare")


# What the data module tells the networks, when their config leaves these arguments unset.
_FROM_DATA = ("resolution", "num_classes")

# What `--trainer.strategy ddp` runs (srngan.training.ddp).
DDP_STRATEGY = "srngan.training.ddp.GANDDPStrategy"

# The classes of a config's model: and data: sections that name no class_path.
_DEFAULT_CLASSES = {
    "model": {"class_path": "srngan.GANModule"},
    "data": {"class_path": "srngan.GANDataModule"},
}


class SRNGANCLI(LightningCLI):
    """LightningCLI in subclass mode (``model`` and ``data`` are ``class_path`` configs) with:

    - ``model:`` / ``data:`` without a ``class_path``: :class:`srngan.GANModule` /
      :class:`srngan.GANDataModule`;
    - the data module built once, first, and its ``resolution`` and ``num_classes`` fed to every
      network argument of the model (and the model itself) that takes them and leaves them
      unset (``null``);
    - one config section per default GAN callback (``progress``, ``checkpoint``, ``samples``,
      ``spectra``, ``preemption``), used when the model is a :class:`GANModule`;
    - checkpoints written atomically (:class:`AtomicCheckpointIO`), ``--ckpt_path last`` resolved
      to the newest readable checkpoint, an unreadable ``--ckpt_path FILE`` a one-line error.
    """

    def init_parser(self, **kwargs):
        # Raise instead of printing usage: main() turns parse errors into one line.
        kwargs.setdefault("exit_on_error", False)
        return super().init_parser(**kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        for key, callback in DEFAULT_CALLBACKS.items():
            parser.add_lightning_class_args(callback, key)
        # A config whose model: or data: has no class_path is a GAN with srngan's data module:
        # its keys are those classes' arguments.
        parser.set_defaults(_DEFAULT_CLASSES)

    def before_instantiate_classes(self) -> None:
        config = self._subcommand_config()
        if config is None:
            return
        # "ddp" is srngan's: G and D in a DDP wrapper each (a whole-module wrapper would need
        # unused-parameter detection and reduce both networks' gradients at every backward).
        if config.trainer.get("strategy") == "ddp":
            config.trainer.strategy = Namespace(class_path=DDP_STRATEGY, init_args=Namespace())
        # New checkpoints record the public path (srngan.GANModule) even when the config names
        # the defining module's (srngan 0.2's configs): both name the same class.
        for key in ("model", "data"):
            section = config.get(key)
            if isinstance(section, Namespace) and section.get("class_path"):
                section.class_path = public_class_path(section.class_path)

    def instantiate_classes(self) -> None:
        """Build the data module first, once: its ``resolution`` and ``num_classes`` fill the
        model's unset arguments, then the parser builds everything else around it."""
        config = self._subcommand_config()
        data = config.get("data") if config is not None else None
        if not isinstance(data, Namespace) or not data.get("class_path"):
            return super().instantiate_classes()
        datamodule = build_datamodule(data)
        fill_from_data(config.model, datamodule)
        config.data = datamodule  # built: the parser takes it as it is, not a second time
        try:
            with warnings.catch_warnings():
                # LightningCLI dumps the config for the modules' hparams; the data module's
                # entry (an instance now) is not used: its hparams are recorded already.
                warnings.filterwarnings("ignore", message=r"\s*Unable to serialize instance")
                super().instantiate_classes()
        finally:
            config.data = data  # the saved config.yaml records it
        self.datamodule = datamodule
        config_init = self.config_init.get(self.subcommand) if self.subcommand else None
        (config_init if config_init is not None else self.config_init).data = datamodule

    def _subcommand_config(self) -> Namespace | None:
        return self.config.get(self.subcommand) if self.subcommand else self.config

    def instantiate_trainer(self, **kwargs):
        if isinstance(self.model, GANModule):
            return super().instantiate_trainer(**kwargs)
        # Other modules (e.g. the classifier) get their own callbacks from trainer.callbacks.
        config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        return self._instantiate_trainer(config, [])

    def _instantiate_trainer(self, config: dict, callbacks: list):
        config = {**config, "plugins": with_atomic_checkpoints(config.get("plugins"))}
        if config.get("enable_progress_bar") is False:  # Lightning refuses a bar it was told off
            callbacks = [c for c in callbacks if not isinstance(c, DEFAULT_CALLBACKS["progress"])]
        return super()._instantiate_trainer(config, callbacks)

    def _parse_ckpt_path(self) -> None:
        # Lightning reads an explicit checkpoint's hyperparameters here with torch.load: an
        # unreadable file must be a one-line error, not a PyTorch traceback.
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        check_ckpt_path(ckpt_path)
        model = upgraded_model_config(ckpt_path)
        if model is None:
            return super()._parse_ckpt_path()
        # A checkpoint of srngan 0.2: its hyperparameters, upgraded, as Lightning would parse them.
        self.config = self.parser.parse_object({subcommand: {"model": model}}, self.config)

    def before_fit(self) -> None:
        """``--ckpt_path last``: continue the newest run of this config, in its own log folder,
        from its newest readable checkpoint (unreadable ones are skipped with a warning)."""
        config = self.config_init.get("fit", self.config_init)
        if config.get("ckpt_path") == "last":
            config["ckpt_path"] = str(resume_last(self.trainer))


def with_atomic_checkpoints(plugins):
    """``trainer.plugins`` plus :class:`AtomicCheckpointIO` unless it already has a CheckpointIO
    (a config's own plugins, e.g. a precision or cluster plugin, are kept)."""
    if plugins is None:
        plugins = []
    elif not isinstance(plugins, (list, tuple)):
        plugins = [plugins]
    if any(isinstance(p, CheckpointIO) for p in plugins):
        return list(plugins)
    return [*plugins, AtomicCheckpointIO()]


def public_class_path(class_path: str) -> str:
    """``srngan.<Name>`` for the defining module's path of a public class (e.g.
    ``srngan.training.module.GANModule``), else ``class_path`` unchanged."""
    module, _, name = class_path.rpartition(".")
    return f"srngan.{name}" if srngan._LAZY.get(name) == module else class_path


def build_datamodule(data: Namespace) -> L.LightningDataModule:
    """The data module a config's ``data:`` section (``class_path`` and ``init_args``) describes,
    built as LightningCLI builds it (its ``save_hyperparameters`` records the config)."""
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(L.LightningDataModule, "data", fail_untyped=False)
    parsed = parser.parse_object({"data": data.as_dict()})
    hparams = {"_class_path": data.class_path, **(data.get("init_args") or Namespace()).as_dict()}
    # jsonargparse >= 4.49 names it instantiate; older versions (Lightning allows them) do not.
    instantiate_all = getattr(parser, "instantiate", None) or parser.instantiate_classes
    with cli_hyperparameters(hparams):
        return instantiate_all(parsed).data


def fill_from_data(model: Namespace, datamodule: L.LightningDataModule) -> None:
    """Set ``resolution`` / ``num_classes`` left ``None`` in the model's config (and in each
    ``class_path`` argument of it, e.g. the networks) from the data module's values."""
    values = {k: getattr(datamodule, k) for k in _FROM_DATA if hasattr(datamodule, k)}
    targets = [model] + [
        v for v in vars(model.get("init_args") or Namespace()).values()
        if isinstance(v, Namespace) and v.get("class_path")
    ]  # fmt: skip
    for target in targets:
        accepted = inspect.signature(import_object(target.class_path).__init__).parameters
        if target.get("init_args") is None:
            target.init_args = Namespace()
        for key, value in values.items():
            if key in accepted and target.init_args.get(key) is None:
                target.init_args[key] = value


def _strategy_alias(args: list[str]) -> list[str]:
    """``--trainer.strategy ddp`` on the command line as srngan's class path, so that
    ``--trainer.strategy.init_args.*`` (or ``--trainer.strategy.*``) after it can set its
    arguments (jsonargparse takes none on a plain string); a config's ``strategy: ddp`` is
    mapped in :meth:`SRNGANCLI.before_instantiate_classes`."""
    out = list(args)
    if not any(arg.startswith("--trainer.strategy.") for arg in out):
        return out  # the string alone: mapped with a config's
    for i, arg in enumerate(out):
        if arg == "--trainer.strategy=ddp":
            out[i] = f"--trainer.strategy={DDP_STRATEGY}"
        elif arg == "--trainer.strategy" and i + 1 < len(out) and out[i + 1] == "ddp":
            out[i + 1] = DDP_STRATEGY
    return out


def _build_cli(args: Sequence[str] | None, run: bool) -> SRNGANCLI:
    if args is None:
        sys.argv[1:] = _strategy_alias(sys.argv[1:])
    else:
        args = _strategy_alias(list(args))
    return SRNGANCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=None if args is None else list(args),
        run=run,
        trainer_defaults=_TRAINER_DEFAULTS,
        auto_configure_optimizers=False,  # the modules configure their optimizers themselves
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "srngan"} if run else {},
    )


def instantiate(*args: str) -> tuple[L.LightningModule, L.LightningDataModule]:
    """Build the model and data module that ``srngan fit *args`` would train, without training.

    Nothing is downloaded and no data is loaded (datasets are built in ``setup``).

    Example::

        model, data = instantiate("--config", "configs/cifar10_uncond_srn70.yaml")
    """
    cli = _build_cli(args, run=False)
    return cli.model, cli.datamodule


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``srngan`` console script."""
    from_sys = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return
    quiet_console()
    try:
        if argv[0] in _TOOLS:
            import importlib

            importlib.import_module(f"srngan.commands.{argv[0]}").main(argv[1:])
        else:
            _build_cli(None if from_sys else argv, run=True)
    except Preempted as stop:
        # Stopped on a signal after checkpointing: one line, a status the job script can test.
        if is_rank_zero():
            print(stop.message(), file=sys.stderr)
        sys.exit(stop.code)
    except (ValueError, FileNotFoundError, CommandError, NonFiniteError, ArgumentError) as err:
        # Bad input is a one-line message, not a traceback; SRNGAN_DEBUG=1 shows the traceback.
        if os.environ.get("SRNGAN_DEBUG"):
            raise
        print(f"srngan: error: {one_line_message(err)}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
