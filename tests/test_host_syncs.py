"""A steady-state G-step reads no tensor value on the host (issue 23): between logging
intervals, every ``item`` / ``bool`` / ``float`` / ``int`` / ``tolist`` / ``cpu`` / ``numpy`` of a
tensor is counted, through the real ``srngan fit`` with its default callbacks."""

from __future__ import annotations

import traceback
from collections import Counter

import lightning as L
import pytest
import torch
from conftest import TINY

from srngan.cli import main

READS = ("item", "__bool__", "__float__", "__int__", "tolist", "cpu", "numpy")
# Reads of tensors that live on the host on every device, so they never wait for a GPU: the
# data pipeline's indices (before the batch is moved) and Adam's per-parameter step counters
# (kept on the CPU unless the optimizer is capturable). On CPU every tensor is a host tensor,
# so these are told apart by who reads them.
HOST_SIDE = ("/torch/optim/", "/torch/utils/data/", "/srngan/data/")
_ACTIVE: list[ReadCounter] = []  # the counter of the running fit


class ReadCounter(L.Callback):
    """Counts host reads per G-step (from the end of one G-step to the end of the next)."""

    def __init__(self) -> None:
        self.per_g_step: dict[int, Counter] = {}
        self._current: Counter = Counter()
        self._last_g_step = 0
        _ACTIVE.append(self)

    def record(self, name: str) -> None:
        stack = traceback.extract_stack()[:-2]
        if any(part in stack[-1].filename for part in HOST_SIDE):
            return
        frames = [f for f in stack if "/srngan/" in f.filename or "/lightning/" in f.filename]
        where = f"{frames[-1].filename.rsplit('/', 2)[-1]}:{frames[-1].lineno}" if frames else "?"
        self._current[f"{name} {where}"] += 1

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if module.g_step != self._last_g_step:
            self.per_g_step[module.g_step], self._current = self._current, Counter()
            self._last_g_step = module.g_step


@pytest.fixture
def counted_reads(monkeypatch):
    for name in READS:
        original = getattr(torch.Tensor, name)

        def wrapped(self, *args, _original=original, _name=name, **kwargs):
            if _ACTIVE:
                _ACTIVE[-1].record(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapped)
    yield _ACTIVE
    _ACTIVE.clear()


TERMS = """
    terms:
      - {class_path: srngan.terms.MatchingAwareD, init_args: {candidates: 3}}
      - {class_path: srngan.terms.ClassMatching}
      - {class_path: srngan.terms.ClassMatching, init_args: {statistics: colour}}
      - {class_path: srngan.terms.ModeSeeking}
"""


@pytest.mark.parametrize("terms", [False, True], ids=["no_terms", "quickstart_terms"])
def test_no_host_read_between_logging_intervals(tmp_path, counted_reads, terms):
    cfg = tmp_path / "count.yaml"
    cfg.write_text("trainer:\n  callbacks:\n    - class_path: test_host_syncs.ReadCounter\n"
                   + ("model:\n  init_args:" + TERMS if terms else ""))  # fmt: skip
    main(["fit", *TINY, "--config", str(cfg), "--model.max_g_steps", "9",
          "--model.log_every_n_g_steps", "4", "--spectra.every_n_g_steps", "100",
          "--samples.every_n_g_steps", "100", "--checkpoint.every_n_g_steps", "100",
          "--trainer.logger.init_args.save_dir", str(tmp_path)])  # fmt: skip
    (spy,) = counted_reads
    steps = spy.per_g_step
    assert sorted(steps) == list(range(1, 10))
    # G-step 1 holds the setup, 9 the end of training; 4 and 8 are logging intervals.
    between = {g: dict(steps[g]) for g in (2, 3, 5, 6, 7)}
    assert all(not reads for reads in between.values()), between
    assert sum(steps[4].values()) > 0  # the interval itself reads: the counter is not blind
