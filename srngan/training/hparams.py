"""The one way srngan keeps injected objects (networks, losses, regularizers) out of hparams."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence

import lightning as L


def save_hparams_without_objects(module: L.LightningModule, objects: Sequence[str]) -> None:
    """``module.save_hyperparameters()`` for an ``__init__`` that takes objects as arguments.

    Call it from the module's ``__init__`` (it reads that frame's arguments). Built by
    ``srngan fit`` (LightningCLI), an argument in ``objects`` is recorded as the ``class_path``
    config it was built from, so ``load_from_checkpoint(path)`` rebuilds it; built in Python, it is
    an object (a network, a loss), which is not a hyperparameter: it is left out, and
    ``load_from_checkpoint(path, name=<object>)`` takes it again. Lightning's "is an instance of
    nn.Module" warning is not shown for these arguments (they are dropped right away).

    Example::

        class MyModule(L.LightningModule):
            def __init__(self, network: nn.Module, lr: float = 0.1) -> None:
                super().__init__()
                save_hparams_without_objects(self, ["network"])
    """
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Attribute '\w+' is an instance of `nn\.Module`")
        module.save_hyperparameters(frame=caller)
    for key in objects:
        if key in module.hparams and not is_config(module.hparams[key]):
            del module.hparams[key]


def is_config(value) -> bool:
    """Whether an hparams value is what the CLI records for an object argument: a ``class_path``
    config (a dict), a list of them (e.g. ``terms``), or ``None`` (an unset optional object).
    Anything else is the object itself."""
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, dict) for v in value)
    return isinstance(value, (dict, type(None)))


__all__ = ["is_config", "save_hparams_without_objects"]
