"""The non-finite guard of a training step, kept on the device (pure torch)."""

from __future__ import annotations

import torch
from torch import Tensor

from srngan.errors import NonFiniteError


class NonFiniteGuard:
    """Records the first non-finite loss (its key, value and G-step) without a host read.

    :meth:`flag` is a few device ops per call, so the step never waits for the device; the
    record is read by :meth:`raise_if_flagged` where the caller already syncs (a logging
    interval, a checkpoint, the end of training).

    Example::

        >>> guard = NonFiniteGuard()
        >>> guard.flag({"loss/d": torch.tensor(1.0), "loss/g": torch.tensor(float("nan"))}, 7)
        >>> guard.raise_if_flagged()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        srngan.errors.NonFiniteError: non-finite loss at G-step 7: loss/g=nan; ...
    """

    def __init__(self) -> None:
        self._record: tuple[Tensor, Tensor, Tensor] | None = None  # (G-step, key id, value)
        self._keys: list[str] = []
        self._ids: dict[tuple[str, ...], Tensor] = {}

    def flag(self, losses: dict[str, Tensor], g_step: int) -> None:
        """Record the first non-finite entry of ``losses`` at ``g_step``, unless one is already."""
        values = torch.stack([v.detach().float() for v in losses.values()])
        keys = tuple(losses)
        ids = self._ids.get(keys)
        if ids is None or ids.device != values.device:
            self._keys += [k for k in keys if k not in self._keys]
            ids = self._ids[keys] = torch.tensor(
                [self._keys.index(k) for k in keys], device=values.device
            )
        if self._record is None or self._record[0].device != values.device:
            minus_one = torch.full((), -1, dtype=torch.long, device=values.device)
            self._record = (minus_one, minus_one.clone(), values.new_zeros(()))
        finite = torch.isfinite(values)
        first = (~finite).int().argmax()  # the first non-finite entry (0 when all are finite)
        new = ~finite.all() & (self._record[0] < 0)
        step, key, value = self._record
        self._record = (
            torch.where(new, g_step, step),
            torch.where(new, ids[first], key),
            torch.where(new, values[first], value),
        )

    def flagged(self, device: torch.device | str = "cpu") -> Tensor:
        """A 0-d float tensor, 1 when a non-finite loss was recorded (no host read)."""
        if self._record is None:
            return torch.zeros((), device=device)
        return (self._record[0] >= 0).float()

    def raise_if_flagged(self, elsewhere: bool = False) -> None:
        """Raise :class:`~srngan.errors.NonFiniteError` naming the first non-finite loss and
        its G-step, if one was recorded (``elsewhere``: another process recorded one)."""
        step = -1 if self._record is None else int(self._record[0])
        if step < 0 and not elsewhere:
            return
        where = "on another process"
        if step >= 0:
            key, value = self._keys[int(self._record[1])], float(self._record[2])
            where = f"at G-step {step}: {key}={value:g}"
        raise NonFiniteError(
            f"non-finite loss {where}; training stopped, the last good checkpoint is kept "
            "(lower the learning rate or resume from it)"
        )
