"""The errors srngan turns into one-line messages (exit status 2) instead of tracebacks.

Lightning-free, so every layer (math, data, commands, training) can raise them.
"""

from __future__ import annotations


class CommandError(Exception):
    """A user-facing error of a command: printed as one line, exit status 2."""


class NonFiniteError(RuntimeError):
    """A loss or weight became NaN or infinite; the run stops without saving the diverged state."""


__all__ = ["CommandError", "NonFiniteError"]
