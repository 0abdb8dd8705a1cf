"""The ``srngan`` command: ``fit`` (LightningCLI) plus tool sub-commands.

Nothing imports this module; it imports everything it dispatches to.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import lightning as L
from jsonargparse import ArgumentError, Namespace
from jsonargparse.typing import import_object
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch.cli import LightningCLI

from srngan.errors import CommandError, NonFiniteError
from srngan.training.callbacks import DEFAULT_CALLBACKS
from srngan.training.checkpoint_io import AtomicCheckpointIO, UnreadableCheckpoint, read_checkpoint
from srngan.training.module import GANModule
from srngan.training.preemption import Preempted

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


class SRNGANCLI(LightningCLI):
    """LightningCLI in subclass mode (``model`` and ``data`` are ``class_path`` configs) with:

    - the data module's ``resolution`` and ``num_classes`` fed to every network argument of the
      model (and the model itself) that takes them and leaves them unset (``null``);
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

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        if config is None:
            return
        # D and G steps each leave the other network's parameters without gradients, which plain
        # DDP rejects; "ddp" therefore means DDP with unused-parameter detection here.
        if config.trainer.get("strategy") == "ddp":
            config.trainer.strategy = "ddp_find_unused_parameters_true"
        fill_from_data(config.model, config.data)

    def instantiate_trainer(self, **kwargs):
        if isinstance(self.model, GANModule):
            return super().instantiate_trainer(**kwargs)
        # Other modules (e.g. the classifier) get their own callbacks from trainer.callbacks.
        config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        return self._instantiate_trainer(config, [])

    def _instantiate_trainer(self, config: dict, callbacks: list):
        config = {**config, "plugins": with_atomic_checkpoints(config.get("plugins"))}
        return super()._instantiate_trainer(config, callbacks)

    def _parse_ckpt_path(self) -> None:
        # Lightning reads an explicit checkpoint's hyperparameters here with torch.load: an
        # unreadable file must be a one-line error, not a PyTorch traceback.
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path and ckpt_path not in _SPECIAL_CKPT_PATHS and "://" not in str(ckpt_path):
            if not Path(ckpt_path).is_file():
                raise CommandError(
                    f"--ckpt_path {ckpt_path}: no such file; allowed: a checkpoint file, or last "
                    "(the newest readable checkpoint of this config's newest run)"
                )
            read_checkpoint(ckpt_path)  # UnreadableCheckpoint: one line, exit status 2
        super()._parse_ckpt_path()

    def before_fit(self) -> None:
        """``--ckpt_path last``: continue the newest run of this config, in its own log folder,
        from its newest readable checkpoint (unreadable ones are skipped with a warning)."""
        config = self.config_init.get("fit", self.config_init)
        if config.get("ckpt_path") != "last":
            return
        talk = self.trainer.is_global_zero
        found = find_last_checkpoint(self.trainer, warn=talk)
        if found is None:
            raise FileNotFoundError(
                "--ckpt_path last: no earlier run with checkpoints/last.ckpt under "
                f"{self.trainer.logger.save_dir if self.trainer.logger else self.trainer.default_root_dir}"
            )
        path, version = found
        if self.trainer.logger is not None and version is not None:
            self.trainer.logger._version = version  # keep logging into the resumed run's folder
        config["ckpt_path"] = str(path)
        if talk:
            print(f"resuming from {path}", file=sys.stderr)


# ckpt_path values Lightning resolves itself (srngan resolves "last").
_SPECIAL_CKPT_PATHS = ("last", "best", "hpc", "registry")


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


def fill_from_data(model: Namespace, data: Namespace) -> None:
    """Set ``resolution`` / ``num_classes`` left ``None`` in the model's config (and in each
    ``class_path`` argument of it, e.g. the networks) from the data module's values."""
    data_class = import_object(data.class_path)
    datamodule = data_class(**(data.get("init_args") or Namespace()).as_dict())
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


def find_last_checkpoint(trainer, warn: bool = True) -> tuple[Path, int | str | None] | None:
    """The newest readable checkpoint of the newest run, and that run's logger version.

    The newest run is the ``<save_dir>/<name>/version_*`` folder whose ``checkpoints/`` holds the
    most recently written ``.ckpt``. In it, every checkpoint (``last.ckpt``, ``gstep=*.ckpt``,
    ``emergency-gstep=*.ckpt``) is a candidate; the one furthest into training (by G-step, then
    D-step) that loads wins. Unreadable files are skipped, each with a one-line warning; a run
    whose checkpoints are all unreadable is a one-line error.
    """
    logger = trainer.logger
    if logger is None:
        folders = {
            p.parent: None for p in Path(trainer.default_root_dir).glob("**/checkpoints/*.ckpt")
        }
    else:
        root = Path(logger.save_dir) / (logger.name or "")
        folders = {}
        for p in root.glob("version_*/checkpoints/*.ckpt"):
            tag = p.parent.parent.name.removeprefix("version_")
            folders[p.parent] = int(tag) if tag.isdigit() else tag
    if not folders:
        return None

    def newest_write(folder: Path) -> float:
        return max(p.stat().st_mtime for p in folder.glob("*.ckpt"))

    folder = max(folders, key=newest_write)
    path = best_readable_checkpoint(folder, warn)
    return path, folders[folder]


_GSTEP_IN_NAME = re.compile(r"gstep=(\d+)")


def best_readable_checkpoint(folder: Path, warn: bool = True) -> Path:
    """The checkpoint in ``folder`` furthest into training that loads (see
    :func:`find_last_checkpoint`); :class:`CommandError` when none does."""

    def named_g_step(p: Path) -> float:
        match = _GSTEP_IN_NAME.search(p.name)
        return int(match.group(1)) if match else float("inf")  # unknown: always look inside

    last = folder / "last.ckpt"
    others = sorted((p for p in folder.glob("*.ckpt") if p != last), key=named_g_step, reverse=True)
    best, best_key, skipped = None, None, []
    for p in ([last] if last.is_file() else []) + others:
        if best_key is not None and named_g_step(p) < best_key[0]:
            break  # sorted by G-step: nothing further can be newer
        try:
            raw = read_checkpoint(p)
        except UnreadableCheckpoint as err:
            skipped.append(p)
            if warn:
                print(f"srngan: warning: skipping {err}", file=sys.stderr)
            continue
        state = raw.get("srngan", {})
        key = (state.get("g_step", 0), state.get("d_steps_since_g", 0), raw.get("global_step", 0))
        if best_key is None or key > best_key:  # ties: last.ckpt, read first, stays
            best, best_key = p, key
    if best is None:
        raise CommandError(
            f"--ckpt_path last: no readable checkpoint in {folder} "
            f"({len(skipped)} unreadable: {', '.join(p.name for p in skipped)})"
        )
    return best


def _build_cli(args: Sequence[str] | None, run: bool) -> SRNGANCLI:
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
    try:
        if argv[0] in _TOOLS:
            import importlib

            importlib.import_module(f"srngan.commands.{argv[0]}").main(argv[1:])
        else:
            _build_cli(None if from_sys else argv, run=True)
    except Preempted as stop:
        # Stopped on a signal after checkpointing: one line, a status the job script can test.
        if _is_rank_zero():
            print(stop.message(), file=sys.stderr)
        sys.exit(stop.code)
    except (ValueError, FileNotFoundError, CommandError, NonFiniteError, ArgumentError) as err:
        # Bad input is a one-line message, not a traceback; SRNGAN_DEBUG=1 shows the traceback.
        if os.environ.get("SRNGAN_DEBUG"):
            raise
        print(f"srngan: error: {one_line_message(err)}", file=sys.stderr)
        sys.exit(2)


def _is_rank_zero() -> bool:
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if key in os.environ:
            return os.environ[key] == "0"
    return True


# What a subclass-typed argument accepts, for error messages.
_CHOICES = {
    "regularizer": "SpectralNorm, StableRankNorm, GradientPenalty, Orthonormal, null, or the class "
    "path of your own srngan.regularizers.Regularizer subclass",
    "loss": "Hinge, NonSaturating, Wasserstein, or the class path of your own "
    "srngan.losses.AdversarialLoss subclass",
}


def one_line_message(err: BaseException) -> str:
    """The one line ``srngan: error:`` shows for ``err``."""
    if isinstance(err, ArgumentError):
        return one_line_parse_error(str(err))
    # A constructor's own error reaches here wrapped by jsonargparse: show the first error in
    # the chain that is a plain one-line message.
    chain, cause = [], err
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    wrapped = ("Parser key", "Does not validate", "Problem with given class_path")
    for e in chain:
        if "\n" not in str(e) and not str(e).startswith(wrapped):
            return str(e)
    return one_line_parse_error(str(err))


def _signature_keys(class_path: str) -> list[str]:
    try:
        owner = import_object(class_path)
    except (ImportError, AttributeError, ValueError):
        return []
    return [
        p
        for p in inspect.signature(owner.__init__).parameters
        if p not in ("self", "args", "kwargs")
    ]


def one_line_parse_error(message: str) -> str:
    """A jsonargparse error as one line that names the bad value and what is allowed."""
    text = " ".join(message.split())
    literal = re.search(
        r'Parser key "([^"]+)": Expected a typing\.Literal\[(.*?)\]\. Got value: (\S+)', text
    )
    keys = re.findall(r'Parser key "([^"]+)"', text)
    if literal:
        key, choices, value = literal.groups()
        allowed = ", ".join(c.strip().strip("'\"") for c in choices.split(","))
        return f"{'.'.join([*keys[: keys.index(key)], key])}: got {value!r}; allowed: {allowed}"
    no_class = re.search(
        r'Parser key "([^"]+)": - Expected a path but (\S+) either not accessible', text
    )
    if no_class:
        key, value = no_class.groups()
        allowed = _CHOICES.get(key, "a class path (package.module.Class) that can be imported")
        return f"{'.'.join([*keys[: keys.index(key)], key])}: got {value!r}; allowed: {allowed}"
    option = re.search(r"Option '([\w.]+)' is not accepted", text)
    unknown = re.search(r"(?:unrecognized arguments: |Key '|key \")--?([\w.]+)", text)
    if option or unknown:
        if option:
            owners = re.findall(r"Problem with given class_path '([\w.]+)'", text[: option.start()])
            key = ".".join([*keys, option.group(1)])
            allowed = _signature_keys(owners[-1]) if owners else []
            section = ".".join(keys)
        else:
            key = unknown.group(1)
            section = key.rsplit(".", 1)[0]
            allowed = []
        allowed = [f"{section}.{a}" for a in allowed]
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        listing = f"; allowed {section} keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown option {key}{hint}{listing}"
    return text


if __name__ == "__main__":
    main()
