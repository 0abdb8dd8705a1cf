"""Issue 21's experiment: train every arm on limited data, then analyze (see README.md here).

    python experiments/generalization/run.py --seeds 0 1 2          # train (resumable)
    python experiments/generalization/run.py --analyze --out docs/results/generalization
    python experiments/generalization/run.py --dry-run               # print the commands

Runs land in ``runs/generalization/<arm>/seed<S>/``; two 1-thread runs at a time (``--jobs``).
A finished run (its final eLhist written) is skipped; an interrupted one resumes from ``last``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE = "experiments/generalization/base.yaml"


def _srn(c: float) -> str:
    return json.dumps(
        {"class_path": "srngan.regularizers.StableRankNorm", "init_args": {"rank_ratio": c}}
    )


ORTHO = ["--model.discriminator.init_args.weight_init", "orthogonal"]
LARGE = ["--data.init_args.num_images", "10000"]
# arm -> extra `srngan fit` options on top of base.yaml (SN)
ARMS: dict[str, list[str]] = {
    "sn": [],
    "srn70_inert": [f"--model.regularizer={_srn(0.7)}"],
    "srn70_ortho": [f"--model.regularizer={_srn(0.7)}", *ORTHO],
    "srn50": [f"--model.regularizer={_srn(0.5)}"],
    "srn30": [f"--model.regularizer={_srn(0.3)}"],
    "sn_large": LARGE,
    "srn30_large": [f"--model.regularizer={_srn(0.3)}", *LARGE],
}
LIMITED = ("sn", "srn70_inert", "srn70_ortho", "srn50", "srn30")
LATE = (1000, 1500)  # G-steps averaged for the primary outcomes


def srngan() -> str:
    local = Path(sys.executable).with_name("srngan")
    found = str(local) if local.is_file() else shutil.which("srngan")
    if not found:
        sys.exit("srngan is not installed in this environment: pip install -e .")
    return found


def run_folder(runs: Path, arm: str, seed: int) -> Path:
    return runs / arm / f"seed{seed}"


def finished(folder: Path) -> bool:
    path = ROOT / folder / "metrics.jsonl"
    return path.is_file() and "elhist_real_real_p95" in path.read_text()


def command(runs: Path, arm: str, seed: int, extra: list[str]) -> list[str]:
    folder = run_folder(runs, arm, seed)
    cmd = [srngan(), "fit", "--config", BASE, *ARMS[arm], f"--seed_everything={seed}",
           f"--trainer.logger.init_args.save_dir={runs}", f"--trainer.logger.init_args.name={arm}",
           f"--trainer.logger.init_args.version=seed{seed}", *extra]  # fmt: skip
    if (ROOT / folder / "checkpoints" / "last.ckpt").is_file():
        cmd.append("--ckpt_path=last")
    return cmd


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(args, extra: list[str]) -> int:
    runs = Path(args.runs_dir)
    jobs = [(arm, seed) for seed in args.seeds for arm in args.arms]  # seed-major order
    if args.runs:
        jobs = [(r.split(":")[0], int(r.split(":")[1])) for r in args.runs]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    pending = [(a, s) for a, s in jobs if not finished(run_folder(runs, a, s))]
    if args.dry_run:
        for arm, seed in pending:
            print(shlex.join(command(runs, arm, seed, extra)))
        return 0
    active: list[tuple[str, int, subprocess.Popen, float]] = []
    failed = 0
    while pending or active:
        while pending and len(active) < args.jobs:
            arm, seed = pending.pop(0)
            print(f"[run] {arm} seed {seed}", flush=True)
            proc = subprocess.Popen(command(runs, arm, seed, extra), cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            active.append((arm, seed, proc, time.time(), _children_cpu(), os.getloadavg()[0]))
        time.sleep(2)
        for item in list(active):
            arm, seed, proc, start, cpu0, load0 = item
            if proc.poll() is None:
                continue
            active.remove(item)
            minutes = (time.time() - start) / 60
            ok = proc.returncode == 0
            failed += not ok
            print(f"[{'ok' if ok else 'FAILED'}] {arm} seed {seed} {minutes:.1f} min", flush=True)
            (ROOT / runs).mkdir(parents=True, exist_ok=True)
            entry = {
                "arm": arm,
                "seed": seed,
                "minutes": round(minutes, 2),
                "rc": proc.returncode,
                "jobs": args.jobs,
                "started_utc": time.strftime("%H:%M:%S", time.gmtime(start)),
                "load1_start": round(load0, 2),
                "load1_end": round(os.getloadavg()[0], 2),
            }
            if args.jobs == 1:  # the children's CPU time is this run's alone
                entry["cpu_minutes"] = round((_children_cpu() - cpu0) / 60, 2)
            with open(ROOT / runs / "times.jsonl", "a") as log:
                log.write(json.dumps(entry) + "\n")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--runs", nargs="+", metavar="ARM:SEED", help="these runs instead")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    p.add_argument("--runs-dir", default="runs/generalization")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--analyze", action="store_true", help="analyze the runs instead of training")
    p.add_argument("--out", default="docs/results/generalization")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = p.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.analyze:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from analyze import analyze

        return analyze(ROOT / args.runs_dir, ROOT / args.out, args.seeds)
    return train(args, extra)


if __name__ == "__main__":
    sys.exit(main())
