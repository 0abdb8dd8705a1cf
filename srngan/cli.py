"""The ``srngan`` command: ``fit`` (LightningCLI) plus tool sub-commands.

Nothing imports this module; it imports everything it dispatches to.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from jsonargparse import ArgumentError
from lightning.pytorch.cli import LightningCLI

from srngan.commands.common import CommandError
from srngan.data.datamodule import GANDataModule
from srngan.training.module import GANModule, NonFiniteError

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
  fit        train a GAN from a YAML config (LightningCLI): srngan fit --config configs/quickstart.yaml
  sample     checkpoint -> PNG folder, .npz or grid:   srngan sample --ckpt CKPT --num-samples N --out PATH
  evaluate   IS / FID / KID / Intra-FID / ND / eLhist: srngan evaluate --ckpt CKPT --metrics is,fid
  export     standalone generator (torch.export):    srngan export --ckpt CKPT --out G.pt
  (fit --print_config prints the resolved config)

`srngan <command> --help` describes each command's options.
"""


_TOOLS = ("sample", "evaluate", "export")


class SRNGANCLI(LightningCLI):
    """LightningCLI with the data module's class count and resolution fed to the model."""

    def init_parser(self, **kwargs):
        # Raise instead of printing usage: main() turns parse errors into one line.
        kwargs.setdefault("exit_on_error", False)
        return super().init_parser(**kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.resolution", "model.resolution", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        # D and G steps each leave the other network's parameters without gradients, which plain
        # DDP rejects; "ddp" therefore means DDP with unused-parameter detection here.
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        if config is not None and config.trainer.get("strategy") == "ddp":
            config.trainer.strategy = "ddp_find_unused_parameters_true"

    def before_fit(self) -> None:
        """``--ckpt_path last``: continue the newest run of this config, in its own log folder."""
        config = self.config_init.get("fit", self.config_init)
        if config.get("ckpt_path") != "last":
            return
        found = find_last_checkpoint(self.trainer)
        if found is None:
            raise FileNotFoundError(
                "--ckpt_path last: no earlier run with checkpoints/last.ckpt under "
                f"{self.trainer.logger.save_dir if self.trainer.logger else self.trainer.default_root_dir}"
            )
        path, version = found
        if self.trainer.logger is not None and version is not None:
            self.trainer.logger._version = version  # keep logging into the resumed run's folder
        config["ckpt_path"] = str(path)
        print(f"resuming from {path}", file=sys.stderr)


def find_last_checkpoint(trainer) -> tuple[Path, int | str | None] | None:
    """The newest ``<save_dir>/<name>/version_*/checkpoints/last.ckpt`` and its version."""
    logger = trainer.logger
    if logger is None:
        candidates = [
            (p, None) for p in Path(trainer.default_root_dir).glob("**/checkpoints/last.ckpt")
        ]
    else:
        root = Path(logger.save_dir) / (logger.name or "")
        candidates = []
        for p in root.glob("version_*/checkpoints/last.ckpt"):
            tag = p.parent.parent.name.removeprefix("version_")
            candidates.append((p, int(tag) if tag.isdigit() else tag))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0].stat().st_mtime)


def _build_cli(args: Sequence[str] | None, run: bool) -> SRNGANCLI:
    return SRNGANCLI(
        GANModule,
        GANDataModule,
        args=None if args is None else list(args),
        run=run,
        trainer_defaults=_TRAINER_DEFAULTS,
        auto_configure_optimizers=False,  # GANModule configures its two Adams itself
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"prog": "srngan"} if run else {},
    )


def instantiate(*args: str) -> tuple[GANModule, GANDataModule]:
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
    except (ValueError, FileNotFoundError, CommandError, NonFiniteError, ArgumentError) as err:
        # Bad input is a one-line message, not a traceback; SRNGAN_DEBUG=1 shows the traceback.
        if os.environ.get("SRNGAN_DEBUG"):
            raise
        message = one_line_parse_error(str(err)) if isinstance(err, ArgumentError) else str(err)
        print(f"srngan: error: {message}", file=sys.stderr)
        sys.exit(2)


def _allowed_keys(section: str) -> list[str]:
    import inspect

    owner = {"model": GANModule, "data": GANDataModule}.get(section)
    if owner is None:
        return []
    return [f"{section}.{p}" for p in inspect.signature(owner.__init__).parameters if p != "self"]


def one_line_parse_error(message: str) -> str:
    """A jsonargparse error as one line that names the bad value and what is allowed."""
    text = " ".join(message.split())
    literal = re.search(
        r'Parser key "([^"]+)": Expected a typing\.Literal\[(.*?)\]\. Got value: (\S+)', text
    )
    if literal:
        key, choices, value = literal.groups()
        allowed = ", ".join(c.strip().strip("'\"") for c in choices.split(","))
        return f"{key}: got {value!r}; allowed: {allowed}"
    unknown = re.search(r"(?:unrecognized arguments: |Key '|key \")--?([\w.]+)", text)
    if unknown:
        key = unknown.group(1)
        section = key.split(".")[0]
        allowed = _allowed_keys(section)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        listing = f" Allowed {section} keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown option {key}{hint}{listing}"
    return text


if __name__ == "__main__":
    main()
