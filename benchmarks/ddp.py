"""DDP without waste (issue 23, item 3): srngan's GANDDPStrategy against Lightning's whole-module
DDP with unused-parameter detection, side by side in one run.

Each variant is a real 2-process ``srngan fit`` (gloo on the CPU, or NCCL with ``--device cuda``)
of the small unconditional experiment config (``experiments/generalization/base.yaml``: small
nets, SN, n_dis 2, batches of 32), logging every 50 G-steps, with checkpoints, samples and
spectra off. Two measurements per variant:

- collectives per G-step by operation (torch profiler events ``gloo:<op>`` / ``nccl:<op>``) over
  G-steps 3-10 of one run: between logging intervals, after DDP's one-off bucket rebuild;
- seconds per G-step (rank 0's wall time between G-step ends, median over G-steps 5 to the end)
  in ``--rounds`` runs per variant, the variants alternating.

    python benchmarks/ddp.py                     # CPU, 2 processes, 3 rounds of 40 G-steps
    python benchmarks/ddp.py --device cuda       # 2 GPUs
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from srngan.training.gstep import GStepCallback

ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = ROOT / "experiments" / "generalization" / "base.yaml"
VARIANTS = {
    "srngan ddp (GANDDPStrategy)": "ddp",
    "lightning whole-module ddp": "ddp_find_unused_parameters_true",
}


class Probe(GStepCallback):
    """Writes rank-local G-step end times and, over G-steps ``start``..``stop``, the
    collectives by operation to ``<out>/probe_rank<r>.json``."""

    def __init__(self, out: str, start: int = 2, stop: int = 10, count: bool = True) -> None:
        self.out, self.start, self.stop, self.count = out, start, stop, count
        self.times: list[float] = []
        self.ops: dict[str, float] = {}
        self.profiler = None

    def on_g_step_end(self, trainer, module) -> None:
        if torch.cuda.is_available() and module.device.type == "cuda":
            torch.cuda.synchronize(module.device)
        self.times.append(time.perf_counter())
        if self.count and module.g_step == self.start:
            activities = [torch.profiler.ProfilerActivity.CPU]
            self.profiler = torch.profiler.profile(activities=activities)
            self.profiler.__enter__()
        elif self.profiler is not None and module.g_step == self.stop:
            self.profiler.__exit__(None, None, None)
            names = Counter(e.name for e in self.profiler.events())
            self.ops = {
                name.split(":", 1)[1]: n / (self.stop - self.start)
                for name, n in names.items()
                if name.startswith(("gloo:", "nccl:"))
            }
            self.profiler = None

    def on_train_end(self, trainer, module) -> None:
        record = {"times": self.times, "ops": self.ops}
        Path(self.out, f"probe_rank{trainer.global_rank}.json").write_text(json.dumps(record))


def _fit(strategy: str, out: Path, g_steps: int, device: str, count: bool) -> dict:
    import yaml

    out.mkdir(parents=True)
    config = yaml.safe_load(BASE_CONFIG.read_text())
    trainer = config["trainer"]
    # The experiment's metric callbacks are not part of the step: the probe replaces them.
    probe = {"out": str(out), "count": count}
    trainer["callbacks"] = [{"class_path": "ddp.Probe", "init_args": probe}]
    trainer.update(strategy=strategy, devices=2, accelerator=device, enable_progress_bar=False,
                   default_root_dir=str(out))  # fmt: skip
    trainer["logger"]["init_args"]["save_dir"] = str(out)
    config["model"]["init_args"].update(max_g_steps=g_steps, log_every_n_g_steps=50)
    for key in ("checkpoint", "samples", "spectra"):
        config[key] = {"every_n_g_steps": 0}
    path = out / "ddp.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["fit", "--config", str(path)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    if device == "cpu":
        env["OMP_NUM_THREADS"] = "1"  # two processes on the cores
    result = subprocess.run([sys.executable, "-m", "srngan.cli", *args], cwd=out, env=env,
                            capture_output=True, text=True, timeout=1800)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{strategy} failed:\n{result.stderr[-3000:]}")
    return json.loads((out / "probe_rank0.json").read_text())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--g-steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ops = {n: _fit(s, Path(tmp, f"count-{s}"), 11, args.device, True)["ops"]
               for n, s in VARIANTS.items()}  # fmt: skip
        times: dict[str, list[float]] = {n: [] for n in VARIANTS}
        for r in range(args.rounds):
            for name, strategy in VARIANTS.items():
                t = _fit(strategy, Path(tmp, f"time-{r}-{strategy}"), args.g_steps, args.device,
                         False)["times"]  # fmt: skip
                times[name].append(statistics.median(b - a for a, b in itertools.pairwise(t[4:])))
    base = statistics.median(times["lightning whole-module ddp"])
    all_ops = sorted({op for counts in ops.values() for op in counts})
    print(f"device {args.device}, 2 processes, torch {torch.__version__}, "
          f"{args.rounds} rounds of {args.g_steps} G-steps; collectives over G-steps 3-10\n")  # fmt: skip
    print("| variant | " + " | ".join(f"{op} / G-step" for op in all_ops)
          + " | ms / G-step (median of rounds) | ratio |")  # fmt: skip
    print("|---" * (len(all_ops) + 3) + "|")
    for name in VARIANTS:
        ms = statistics.median(times[name]) * 1e3
        counts = " | ".join(f"{ops[name].get(op, 0):.2f}" for op in all_ops)
        print(f"| {name} | {counts} | {ms:.1f} | {ms / 1e3 / base:.3f} |")
    print(
        "\nper round (ms / G-step):", {n: [round(t * 1e3, 1) for t in v] for n, v in times.items()}
    )


if __name__ == "__main__":
    main()
