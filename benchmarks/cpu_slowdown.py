"""Time per G-step over the first few hundred G-steps of the quickstart, with and without
flush-to-zero of denormal floats (issue 23, item 6).

Each variant is a real ``srngan fit --config configs/quickstart.yaml`` (its callbacks, its D
warm-up, its LR schedule over 1000 G-steps) in its own process with one thread; a callback
records the wall time of every G-step, the process's RSS and, every ``--probe-every`` G-steps,
how many values of D's and G's parameters, gradients and Adam states are denormal (nonzero and
below ``torch.finfo(torch.float32).tiny``). The process exits right after G-step ``--g-steps``
(no end-of-run metrics). The variants run at the same time (``--sequential``: one after the
other), so machine load hits them alike; compare them by their ratio, window by window.

    python benchmarks/cpu_slowdown.py                       # 400 G-steps, default vs flush
    python benchmarks/cpu_slowdown.py --g-steps 250 --variants default flush threads2
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    # name: (threads, flush denormals)
    "default": (1, False),
    "flush": (1, True),
    "threads2": (2, False),
    "threads2_flush": (2, True),
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _denormal_counts(module, optimizers) -> dict[str, int]:
    import torch

    tiny = torch.finfo(torch.float32).tiny

    def count(tensors) -> tuple[int, int]:
        n = total = 0
        for t in tensors:
            if t is None or not t.is_floating_point() or t.dtype != torch.float32:
                continue
            a = t.detach().abs()
            n += int(((a > 0) & (a < tiny)).sum())
            total += a.numel()
        return n, total

    out = {}
    for name, net in (("G", module.generator), ("D", module.discriminator)):
        out[f"{name}.param"] = count(net.parameters())[0]
        out[f"{name}.grad"] = count(p.grad for p in net.parameters())[0]
        out[f"{name}.buffer"] = count(net.buffers())[0]
    for name, opt in zip(("G", "D"), optimizers):
        states = [
            v for s in opt.state.values() for v in s.values() if hasattr(v, "dim") and v.dim()
        ]
        out[f"{name}.adam"] = count(states)[0]
    return out


def worker(args) -> None:
    threads, flush = VARIANTS[args.worker]
    import torch

    torch.set_num_threads(threads)
    if flush:
        torch.set_flush_denormal(True)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import lightning as L

    from srngan.cli import main
    from srngan.training.gstep import GStepCallback

    # Wall and process CPU seconds per G-step: on a shared machine the CPU time is the measure
    # (one thread: it is the time the step computed, whatever else ran).
    record: dict = {"g_times": [], "g_cpu": [], "rss_mb": [], "probes": {}}
    out_path = Path(args.out)

    class Recorder(GStepCallback):
        def __init__(self) -> None:
            self.last = None
            self.batches = 0

        def on_train_start(self, trainer, module):
            record["t_start"] = time.perf_counter()
            record["c_start"] = time.process_time()

        def on_train_batch_end(self, trainer, module, *_):
            self.batches += 1
            if module.g_step == 0 and self.batches == module.hparams.d_warmup_steps:
                record["warmup_s"] = time.perf_counter() - record["t_start"]
                record["warmup_cpu_s"] = time.process_time() - record["c_start"]
                self.last, self.last_cpu = time.perf_counter(), time.process_time()

        def on_g_step_end(self, trainer: L.Trainer, module):
            # Runs after the module's own on_train_batch_end: other G-step callbacks listed
            # before this one (progress, checkpoint, samples, spectra) are in this G-step's time.
            now, now_cpu = time.perf_counter(), time.process_time()
            if self.last is not None:
                record["g_times"].append(now - self.last)
                record["g_cpu"].append(now_cpu - self.last_cpu)
            record["rss_mb"].append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            if module.g_step % args.probe_every == 0 or module.g_step == 1:
                record["probes"][module.g_step] = _denormal_counts(module, module.optimizers())
                out_path.write_text(json.dumps(record))  # partial results survive a kill
            if module.g_step >= args.g_steps:
                record["load_end"] = load()
                out_path.write_text(json.dumps(record))
                sys.stdout.flush()
                os._exit(0)  # no end-of-run metrics / checkpoint: only the first N G-steps
            self.last, self.last_cpu = time.perf_counter(), time.process_time()  # probe excluded

    # Appended to whatever callbacks the CLI gives the Trainer (config and default ones).
    recorder = Recorder()

    import lightning.pytorch.trainer.trainer as tr

    init = tr.Trainer.__init__

    @functools.wraps(init)  # keeps the signature the CLI reads
    def patched(self, *a, callbacks=None, **k):
        callbacks = [*(callbacks or []), recorder]
        init(self, *a, callbacks=callbacks, **k)

    tr.Trainer.__init__ = patched
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main(["fit", "--config", str(ROOT / "configs" / "quickstart.yaml"),
              f"--trainer.default_root_dir={tmp}"])  # fmt: skip
    out_path.write_text(json.dumps(record))


def micro(rounds: int = 5) -> None:
    """Cost of denormal operands on this CPU: Adam's second-moment update and a matmul on
    normal vs denormal values, flush-to-zero off and on (one thread, interleaved medians)."""
    import torch

    torch.set_num_threads(1)
    g = torch.randn(1 << 20)
    normal = torch.full((1 << 20,), 1e-3)
    tiny = torch.full((1 << 20,), 1e-39)  # denormal in float32
    a = torch.randn(256, 256)

    def adam_like(v):
        out = v.clone()
        for _ in range(10):
            out.mul_(0.99).addcmul_(g * 1e-20, g * 1e-20, value=0.01)
        return out

    def mm(scale):
        b = a * scale
        for _ in range(10):
            b @ a
        return b

    cases = {
        "Adam v update, normal v": lambda: adam_like(normal),
        "Adam v update, denormal v": lambda: adam_like(tiny),
        "matmul 256, normal": lambda: mm(1e-3),
        "matmul 256, denormal": lambda: mm(1e-39),
    }
    print(f"CPU: {cpu_model()}; load {load()}; 1 thread; ms per case (median of {rounds})\n")
    print("| case | flush off ms | flush on ms | off / on |\n|---|---|---|---|")
    results = {}
    for flush in (False, True):
        torch.set_flush_denormal(flush)
        for fn in cases.values():
            fn()
    samples = {(n, f): [] for n in cases for f in (False, True)}
    for _ in range(rounds):
        for flush in (False, True):
            torch.set_flush_denormal(flush)
            for name, fn in cases.items():
                t = time.process_time()
                fn()
                samples[(name, flush)].append(time.process_time() - t)
    torch.set_flush_denormal(False)
    for name in cases:
        off, on = (statistics.median(samples[(name, f)]) * 1000 for f in (False, True))
        results[name] = (off, on)
        print(f"| {name} | {off:.2f} | {on:.2f} | {off / on:.2f} |")


def report(records: dict, variants: list[str], window: int) -> None:
    """The tables: CPU and wall seconds per G-step by window, warm-up, RSS, denormal census."""
    first = variants[0]
    n = min(len(r["g_times"]) for r in records.values())
    for key, what in (("g_cpu", "process CPU seconds"), ("g_times", "wall seconds")):
        print(f"\n{what.capitalize()} per G-step, median per window of {window} (threads: "
              + ", ".join(f"{v} {VARIANTS[v][0]}" for v in variants) + ")\n")  # fmt: skip
        print("| G-steps | " + " | ".join(f"{v} s" for v in variants) + " | "
              + " | ".join(f"{v} / {first}" for v in variants[1:]) + " |")  # fmt: skip
        print("|" + "---|" * (2 * len(variants)))
        for start in range(0, n, window):
            meds = [statistics.median(records[v][key][start : start + window])
                    for v in variants]  # fmt: skip
            cells = [f"{m:.3f}" for m in meds] + [f"{m / meds[0]:.2f}" for m in meds[1:]]
            print(f"| {start + 1}-{min(start + window, n)} | " + " | ".join(cells) + " |")
    print("\nD warm-up (750 D steps), CPU s / wall s: " + ", ".join(
        f"{v} {records[v].get('warmup_cpu_s', float('nan')):.1f} / {records[v].get('warmup_s', float('nan')):.1f}"
        for v in variants))  # fmt: skip
    print("peak RSS MB at G-step 1 / last: " + ", ".join(
        f"{v} {records[v]['rss_mb'][0]:.0f} / {records[v]['rss_mb'][-1]:.0f}" for v in variants))  # fmt: skip
    print("\nDenormal values (nonzero, |x| < 1.18e-38) in G's and D's parameters, gradients,")
    print("buffers and Adam states, by G-step:")
    for v in variants:
        probes = records[v]["probes"]
        found = {step: {k: c for k, c in counts.items() if c} for step, counts in probes.items()}
        found = {step: c for step, c in found.items() if c}
        steps = sorted(int(k) for k in probes)
        print(f"  {v}: {len(steps)} censuses (G-steps {steps[0]}-{steps[-1]}): "
              + (", ".join(f"G-step {k}: {c}" for k, c in found.items()) or "none found"))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--g-steps", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=["default", "flush"], choices=VARIANTS)
    parser.add_argument("--window", type=int, default=50, help="G-steps per table row")
    parser.add_argument("--probe-every", type=int, default=50, help="denormal census interval")
    parser.add_argument("--sequential", action="store_true", help="run variants one by one")
    parser.add_argument("--json", help="also write all records here")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--summarize", nargs="+", metavar="JSON", help="tables from worker files")
    parser.add_argument("--micro", action="store_true", help="only the denormal micro-benchmark")
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.micro:
        return micro()
    if args.summarize:  # worker JSON files (also partial ones, written every --probe-every)
        records = {Path(f).stem: json.loads(Path(f).read_text()) for f in args.summarize}
        return report(records, list(records), args.window)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; load before: {load()}")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for name in args.variants:
            threads = VARIANTS[name][0]
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, __file__, "--worker", name, "--out", str(out),
                   "--g-steps", str(args.g_steps), "--probe-every", str(args.probe_every)]  # fmt: skip
            penv = {**env, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
            log = open(Path(tmp) / f"{name}.log", "w")
            procs[name] = (subprocess.Popen(cmd, env=penv, stdout=log, stderr=log), out)
            if args.sequential:
                procs[name][0].wait()
        records = {}
        for name, (proc, out) in procs.items():
            if proc.wait() != 0 or not out.is_file():
                tail = (Path(tmp) / f"{name}.log").read_text()[-3000:]
                raise SystemExit(f"variant {name} failed (exit {proc.returncode}):\n{tail}")
            records[name] = json.loads(out.read_text())
    print(f"load after: {load()}; mode: {'sequential' if args.sequential else 'concurrent'}")
    if args.json:
        Path(args.json).write_text(json.dumps(records))
    report(records, args.variants, args.window)


if __name__ == "__main__":
    main()
