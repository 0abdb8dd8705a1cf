"""What ``srngan``'s console shows: srngan's progress, not Lightning's advertising tips or
third-party deprecation notices aimed at library authors.

:func:`quiet_console` hides exactly the messages listed here, each by its text; every other
warning and log line is shown as before.
"""

from __future__ import annotations

import logging
import warnings

# (category, message regex) of each hidden warning, with where it comes from.
HIDDEN_WARNINGS: tuple[tuple[type[Warning], str], ...] = (
    # torch >= 2.10 about Lightning's own pytree helper (lightning/pytorch/utilities/_pytree.py),
    # once per fit; nothing a user of srngan can act on.
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
)

# Lightning's advertising, logged through rank_zero_info: "💡 Tip: For seamless cloud logging
# ... litlogger" and "💡 Tip: For seamless cloud uploads ... litmodels".
_LIGHTNING_INFO_LOGGER = "lightning.pytorch.utilities.rank_zero"
HIDDEN_INFO_PREFIXES = ("💡 Tip: ",)


class _NoTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(HIDDEN_INFO_PREFIXES)


def quiet_console() -> None:
    """Hide the listed warnings and Lightning's tips in this process (idempotent)."""
    for category, message in HIDDEN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    logger = logging.getLogger(_LIGHTNING_INFO_LOGGER)
    if not any(isinstance(f, _NoTips) for f in logger.filters):
        logger.addFilter(_NoTips())


__all__ = ["HIDDEN_INFO_PREFIXES", "HIDDEN_WARNINGS", "quiet_console"]
