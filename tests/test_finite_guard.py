"""The device-side non-finite guard on its own, without a Trainer."""

import pytest
import torch

from srngan.errors import NonFiniteError
from srngan.training.finite import NonFiniteGuard


def test_keeps_the_first_non_finite_loss_and_its_g_step():
    guard = NonFiniteGuard()
    guard.raise_if_flagged()  # nothing recorded: silent
    assert float(guard.flagged()) == 0.0
    guard.flag({"loss/d_real": torch.tensor(0.5), "loss/d": torch.tensor(1.0)}, 1)
    guard.raise_if_flagged()
    guard.flag({"loss/d_real": torch.tensor(float("inf")), "loss/d": torch.tensor(float("nan"))}, 2)
    guard.flag({"loss/g": torch.tensor(float("nan"))}, 3)  # later: not the first
    assert float(guard.flagged()) == 1.0
    with pytest.raises(NonFiniteError, match=r"non-finite loss at G-step 2: loss/d_real=inf; "):
        guard.raise_if_flagged()


def test_another_process_flag_raises_without_a_local_record():
    guard = NonFiniteGuard()
    guard.flag({"loss/g": torch.tensor(2.0)}, 5)
    with pytest.raises(NonFiniteError, match="non-finite loss on another process"):
        guard.raise_if_flagged(elsewhere=True)
