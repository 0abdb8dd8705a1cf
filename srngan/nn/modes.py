"""Temporarily switching modules to eval mode (pure torch)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put ``modules`` in eval mode for the block, then restore each one's own mode.

    In eval mode SN / SRN power iterations and batch-norm statistics do not change, so sampling
    or measuring inside the block leaves training state untouched.

    Example::

        with eval_mode(generator):
            images = generator(z)
    """
    was = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, flag in zip(modules, was):
            m.train(flag)
