"""Host reads of tensor values per G-step of a real ``srngan fit``, and where they come from.

Issue 23, item 1: between logging intervals a G-step (its ``n_dis`` D steps and its G step)
should read no tensor value on the host. This counts, from outside the project, every call of
``Tensor.item``, ``__bool__``, ``__float__``, ``__int__``, ``tolist``, ``cpu`` and ``numpy``
during a Lightning fit of the small unconditional experiment config
(``experiments/generalization/base.yaml``: small nets, SN, n_dis 2, batches of 32, logging every
50 G-steps) run through the ``srngan fit`` CLI with its default callbacks (progress bar,
checkpoints, samples, spectra, preemption) and Lightning's ``log_every_n_steps: 1``; the
experiment's own metric callbacks are left out. A read is charged to the G-step whose batches
were running; G-steps at a logging or callback interval (multiples of ``--log-every``), and the
first G-step, are not counted. On CUDA it also sets ``torch.cuda.set_sync_debug_mode("warn")`` and
counts the synchronizing calls that torch itself reports (which include device-to-host copies
that are not one of the methods above).

    python benchmarks/host_syncs.py                     # CPU, 110 G-steps
    python benchmarks/host_syncs.py --device cuda

From Python (``benchmarks/gpu.py`` does this)::

    from host_syncs import count_host_syncs
    result = count_host_syncs(device="cpu", g_steps=110)
    result["per_g_step"]          # mean host reads per counted G-step
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import tempfile
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = ROOT / "experiments" / "generalization" / "base.yaml"
METHODS = ("item", "__bool__", "__float__", "__int__", "tolist", "cpu", "numpy")
_SELF = str(Path(__file__).resolve())


def _source(frame) -> tuple[str, str]:
    """(category, file:line (function) of the innermost srngan or lightning frame).

    Categories: ``step`` (the training step, its logging and callbacks: the reads to remove),
    ``optimizer`` (torch.optim's own ``.item()`` of Adam's step counters, which torch keeps on
    the CPU even for CUDA parameters: no device sync) and ``data`` (the data loader indexing its
    host-side dataset: no device sync).
    """
    category, source, innermost = "step", None, None
    while frame is not None:
        name = frame.f_code.co_filename
        if name != _SELF:
            innermost = innermost or name
            if f"{os.sep}torch{os.sep}utils{os.sep}data{os.sep}" in name:
                category = "data"
            if source is None and f"{os.sep}torch{os.sep}" not in name:
                for marker in (f"{os.sep}srngan{os.sep}", f"{os.sep}lightning{os.sep}"):
                    if marker in name:
                        short = name[name.rindex(marker) + 1 :]
                        source = f"{short}:{frame.f_lineno} ({frame.f_code.co_name})"
                        break
        frame = frame.f_back
    if category == "step" and innermost and f"{os.sep}torch{os.sep}optim{os.sep}" in innermost:
        category = "optimizer"
    return category, source or "?"


def _write_config(tmp: Path, g_steps: int, log_every: int, n_dis: int) -> Path:
    import yaml

    config = yaml.safe_load(BASE_CONFIG.read_text())
    trainer = config["trainer"]
    trainer.pop("callbacks", None)  # the experiment's metric callbacks: not part of the step
    trainer["logger"]["init_args"]["save_dir"] = str(tmp / "runs")
    trainer["default_root_dir"] = str(tmp)
    args = config["model"]["init_args"]
    args.update(n_dis=n_dis, max_g_steps=g_steps, log_every_n_g_steps=log_every)
    # Default callbacks at (multiples of) the logging interval, as in base.yaml.
    config["checkpoint"] = {"every_n_g_steps": 0}
    config["samples"] = {"every_n_g_steps": 0}
    config["spectra"] = {"every_n_g_steps": 2 * log_every}
    config["progress"] = {"refresh_rate": 2 * log_every}
    path = tmp / "host_syncs.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def count_host_syncs(
    device: str = "cpu",
    g_steps: int = 110,
    log_every: int = 50,
    n_dis: int = 2,
    extra_args: tuple[str, ...] = (),
) -> dict:
    """Run a short ``srngan fit`` and count host reads per G-step between logging intervals.

    Returns ``{"per_g_step", "counted_g_steps", "by_kind", "by_source", "cuda_sync_warnings",
    "cuda_by_source", "interval_per_g_step", "not_device_syncs"}``; the ``by_*`` values are per
    counted G-step. ``per_g_step`` counts the ``step`` category (see :func:`_source`); the
    optimizer's and the data loader's reads of host-side tensors are in ``not_device_syncs``.
    """
    from lightning.pytorch.callbacks import Callback

    from srngan.cli import main

    state = {"g": None, "active": False}
    reads: collections.Counter = collections.Counter()  # (g, category, kind, source)
    cuda_reads: collections.Counter = collections.Counter()  # (g, source)

    class Tag(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            state["g"] = module.g_step + 1  # the G-step these batches belong to
            state["active"] = True

        def on_train_end(self, trainer, module):
            state["active"] = False

    originals = {name: getattr(torch.Tensor, name) for name in METHODS}

    def wrap(name, fn):
        def counted(self, *args, **kwargs):
            if state["active"]:
                category, source = _source(sys._getframe(1))
                reads[(state["g"], category, name, source)] += 1
            return fn(self, *args, **kwargs)

        counted.__name__ = fn.__name__ if hasattr(fn, "__name__") else name
        return counted

    show = warnings.showwarning

    def on_warning(message, category, filename, lineno, file=None, line=None):
        if state["active"] and "synchroniz" in str(message).lower():
            cuda_reads[(state["g"], "/".join(_source(sys._getframe(1))))] += 1
            return
        show(message, category, filename, lineno, file, line)

    import lightning.pytorch.trainer.trainer as tr

    init = tr.Trainer.__init__

    @functools.wraps(init)  # keeps the signature the CLI reads
    def patched_init(self, *a, callbacks=None, **k):
        init(self, *a, callbacks=[*(callbacks or []), Tag()], **k)

    accelerator = "gpu" if device == "cuda" else "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        config = _write_config(Path(tmp), g_steps, log_every, n_dis)
        argv = ["fit", "--config", str(config), f"--trainer.accelerator={accelerator}",
                "--trainer.enable_model_summary=false", *extra_args]  # fmt: skip
        tr.Trainer.__init__ = patched_init
        for name, fn in originals.items():
            setattr(torch.Tensor, name, wrap(name, fn))
        cwd = os.getcwd()
        try:
            os.chdir(tmp)
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = on_warning
                if device == "cuda":
                    torch.cuda.set_sync_debug_mode("warn")
                try:
                    main(argv)
                finally:
                    if device == "cuda":
                        torch.cuda.set_sync_debug_mode("default")
                    warnings.showwarning = show
        finally:
            os.chdir(cwd)
            tr.Trainer.__init__ = init
            for name, fn in originals.items():
                setattr(torch.Tensor, name, fn)

    def counted(g):
        return g is not None and g > 1 and g <= g_steps and g % log_every != 0

    steps = [g for g in range(2, g_steps + 1) if counted(g)]
    interval_steps = [g for g in range(1, g_steps + 1) if g % log_every == 0]
    n = max(len(steps), 1)
    by_kind: collections.Counter = collections.Counter()
    by_source: collections.Counter = collections.Counter()
    other: collections.Counter = collections.Counter()
    interval_total = 0
    for (g, category, kind, source), c in reads.items():
        if not counted(g):
            interval_total += c * (g in interval_steps and category == "step")
        elif category == "step":
            by_kind[kind] += c
            by_source[f"{kind} <- {source}"] += c
        else:
            other[f"{category}: {kind} <- {source}"] += c
    cuda_by_source: collections.Counter = collections.Counter()
    for (g, source), c in cuda_reads.items():
        if counted(g):
            cuda_by_source[source] += c
    return {
        "per_g_step": sum(by_kind.values()) / n,
        "counted_g_steps": len(steps),
        "by_kind": {k: v / n for k, v in by_kind.most_common()},
        "by_source": {k: v / n for k, v in by_source.most_common()},
        "interval_per_g_step": interval_total / max(len(interval_steps), 1),
        "not_device_syncs": {k: v / n for k, v in other.most_common()},
        "cuda_sync_warnings": sum(cuda_by_source.values()) / n if device == "cuda" else None,
        "cuda_by_source": {k: v / n for k, v in cuda_by_source.most_common()},
    }


def print_report(result: dict, device: str) -> None:
    print(f"\nHost reads per G-step between logging intervals ({result['counted_g_steps']} G-steps "
          f"counted, {device}): {result['per_g_step']:.2f}  (goal: 0)")  # fmt: skip
    print(f"at a logging-interval G-step: {result['interval_per_g_step']:.1f}")
    if result["by_kind"]:
        print("\n| kind | per G-step |\n|---|---|")
        for k, v in result["by_kind"].items():
            print(f"| {k} | {v:.2f} |")
        print("\n| read <- first srngan / lightning frame | per G-step |\n|---|---|")
        for k, v in result["by_source"].items():
            print(f"| {k} | {v:.2f} |")
    if result["not_device_syncs"]:
        print("\nNot counted (reads of host-side tensors; no device sync on a GPU either):")
        print("\n| read <- first srngan / lightning frame | per G-step |\n|---|---|")
        for k, v in result["not_device_syncs"].items():
            print(f"| {k} | {v:.2f} |")
    if result["cuda_sync_warnings"] is not None:
        print(f"\nCUDA synchronizing calls reported by torch (sync debug mode): "
              f"{result['cuda_sync_warnings']:.2f} per G-step")  # fmt: skip
        for k, v in result["cuda_by_source"].items():
            print(f"  {v:.2f}  {k}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--g-steps", type=int, default=110)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--n-dis", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = count_host_syncs(args.device, args.g_steps, args.log_every, args.n_dis)
    print_report(result, args.device)


if __name__ == "__main__":
    main()
