"""Shared timing helpers for the benchmark scripts: interleaved rounds, median per variant."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gstep_timer(device: torch.device, times: list[float]):
    """A G-step callback appending the seconds between consecutive G-step ends to ``times``
    (the device synchronized first, so queued GPU work is counted)."""
    from srngan.training.gstep import GStepCallback

    class GStepTimer(GStepCallback):
        last = None

        def on_g_step_end(self, trainer, module):
            sync(device)
            now = time.perf_counter()
            if self.last is not None:
                times.append(now - self.last)
            self.last = now

    return GStepTimer()


def time_interleaved(
    variants: dict[str, Callable[[], object]],
    device: torch.device,
    rounds: int,
    warmup: int = 2,
) -> dict[str, float]:
    """Median seconds per call of each variant, calling them in round-robin order.

    Interleaving spreads machine noise (other processes, thermal drift) evenly over variants, so
    the ratios printed side by side compare like with like.
    """
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    sync(device)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
