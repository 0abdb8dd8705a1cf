"""Test-only callbacks, importable by class path from configs (tests/ is on sys.path)."""

from __future__ import annotations

import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import Callback

from srngan.training.gstep import GStepCallback


class PoisonWeights(GStepCallback):
    """Sets one discriminator weight to NaN after G-step ``at_g_step``."""

    def __init__(self, at_g_step: int = 3) -> None:
        self.at_g_step = at_g_step

    def on_g_step_end(self, trainer, module) -> None:
        if module.g_step == self.at_g_step:
            with torch.no_grad():
                next(module.discriminator.parameters()).view(-1)[0] = float("nan")


class BufferConsistency(Callback):
    """Under DDP, asserts after every batch that all ranks hold identical SRN/SN u, v buffers."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not dist.is_initialized():
            return
        for name, buf in pl_module.discriminator.named_buffers():
            if name.endswith(("_u", "_v")):
                gathered = [torch.empty_like(buf) for _ in range(dist.get_world_size())]
                dist.all_gather(gathered, buf.contiguous())
                assert all(torch.equal(gathered[0], g) for g in gathered), (
                    f"{name} differs across ranks"
                )
        pl_module.buffer_checks = getattr(pl_module, "buffer_checks", 0) + 1


class LinearD(torch.nn.Module):
    """``D(x) = <w, x>``: gradient ``w`` everywhere, so eLhist and gradient penalties are analytic."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w


class SendSignal(GStepCallback):
    """Sends ``signal`` to this process after G-step ``at_g_step`` (on ``rank`` only, if given),
    as a scheduler would: the preemption handler sees it at this G-step's end."""

    def __init__(
        self, at_g_step: int = 2, signal: str = "SIGUSR1", rank: int | None = None
    ) -> None:
        self.at_g_step = at_g_step
        self.signal = signal
        self.rank = rank

    def on_g_step_end(self, trainer, module) -> None:
        import os
        import signal

        if module.g_step == self.at_g_step and self.rank in (None, trainer.global_rank):
            os.kill(os.getpid(), signal.Signals[self.signal])


class SendSignalAtDStep(Callback):
    """Sends ``signal`` to this process after D step ``at_d_step`` (warm-up ones included)."""

    def __init__(self, at_d_step: int = 1, signal: str = "SIGUSR1") -> None:
        self.at_d_step = at_d_step
        self.signal = signal

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        import os
        import signal

        if module.total_d_steps() == self.at_d_step:
            os.kill(os.getpid(), signal.Signals[self.signal])


class RaiseAt(GStepCallback):
    """Raises ``RuntimeError`` after G-step ``at_g_step``: a bug in user code mid-run."""

    def __init__(self, at_g_step: int = 3) -> None:
        self.at_g_step = at_g_step

    def on_g_step_end(self, trainer, module) -> None:
        if module.g_step == self.at_g_step:
            raise RuntimeError(f"boom at G-step {self.at_g_step}")


class SlowGSteps(GStepCallback):
    """Sleeps ``seconds`` after each G-step, so a test can signal a subprocess mid-run."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds

    def on_g_step_end(self, trainer, module) -> None:
        import time

        time.sleep(self.seconds)


class CountCollectives(GStepCallback):
    """Counts this process's collectives (torch profiler events ``gloo:<op>``) from the end of
    G-step ``start`` to the end of G-step ``stop``; writes ``{op: count per G-step}`` to
    ``<out>/collectives_rank<r>.json``."""

    def __init__(self, out: str, start: int = 2, stop: int = 6) -> None:
        self.out, self.start, self.stop = out, start, stop
        self.profiler = None

    def on_g_step_end(self, trainer, module) -> None:
        import json
        from collections import Counter
        from pathlib import Path

        if module.g_step == self.start:
            self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            self.profiler.__enter__()
        elif module.g_step == self.stop and self.profiler is not None:
            self.profiler.__exit__(None, None, None)
            ops = Counter(e.name for e in self.profiler.events() if e.name.startswith("gloo:"))
            per_g_step = {
                k.removeprefix("gloo:"): v / (self.stop - self.start) for k, v in ops.items()
            }
            path = Path(self.out, f"collectives_rank{trainer.global_rank}.json")
            path.write_text(json.dumps(per_g_step))


class SendSignalAtTrainEnd(Callback):
    """Sends ``signal`` to this process when training ends: listed before a MetricsCallback, it
    lands just before the end-of-run evaluation starts."""

    def __init__(self, signal: str = "SIGUSR1") -> None:
        self.signal = signal

    def on_train_end(self, trainer, module) -> None:
        import os
        import signal

        os.kill(os.getpid(), signal.Signals[self.signal])


class CountStopPoints(Callback):
    """A ``stop_point`` hook that only counts its calls (into ``<out>``), as each happens."""

    def __init__(self, out: str) -> None:
        self.out, self.calls = out, 0

    def stop_point(self, trainer, module) -> None:
        from pathlib import Path

        self.calls += 1
        Path(self.out).write_text(str(self.calls))
