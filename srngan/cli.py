"""The ``srngan`` command: ``fit`` (LightningCLI) plus tool sub-commands.

Nothing imports this module; it imports everything it dispatches to.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from lightning.pytorch.cli import LightningCLI

from srngan.commands.common import CommandError
from srngan.data.datamodule import GANDataModule
from srngan.training.module import GANModule

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

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.resolution", "model.resolution", apply_on="instantiate")


def _build_cli(args: Sequence[str] | None, run: bool) -> SRNGANCLI:
    return SRNGANCLI(
        GANModule,
        GANDataModule,
        args=None if args is None else list(args),
        run=run,
        trainer_defaults=_TRAINER_DEFAULTS,
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return
    try:
        if argv[0] in _TOOLS:
            import importlib

            importlib.import_module(f"srngan.commands.{argv[0]}").main(argv[1:])
        else:
            _build_cli(argv, run=True)
    except (ValueError, FileNotFoundError, CommandError) as err:
        # Bad input is a one-line message, not a traceback; SRNGAN_DEBUG=1 shows the traceback.
        if os.environ.get("SRNGAN_DEBUG"):
            raise
        print(f"srngan: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
