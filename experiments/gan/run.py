"""Run one of the paper-claim experiments of issue 13 and compare its runs.

An experiment is a list of variants (``small/variants/*.yaml`` on top of ``small/base.yaml``, or
the paper's CIFAR-10 configs) trained for several seeds with ``srngan fit``; every run lands in
``runs/experiments/<scale>/<variant>/seed<S>/`` and ``srngan compare`` then writes the table and
figures of all of them to ``--out``. Runs that finished are skipped and interrupted ones resume
from their last checkpoint, so the command can simply be repeated after a preemption.

    python experiments/gan/run.py regularizers --seeds 0 1 2        # claims (b), (c), (d)
    python experiments/gan/run.py rank_ratio --seeds 0 1 2          # claim (a)
    python experiments/gan/run.py regularizers --scale cifar10      # paper scale, needs a GPU
    python experiments/gan/run.py regularizers --dry-run            # print the commands only
    python experiments/gan/run.py rank_ratio -- --model.max_g_steps 10   # extra fit options
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Which claim each experiment tests (issue 13): (a) c vs eLhist; (b)-(d) the regularizers
# ("random": untrained SRN-70 networks, the Random-GAN of Fig. 5b).
EXPERIMENTS = {
    "regularizers": ("vanilla", "sn", "srn70", "wgangp", "ortho", "random"),
    "rank_ratio": ("srn10", "srn30", "srn50", "srn70", "sn"),
}
# Paper scale: the committed CIFAR-10 configs (Table 2); SRN-10/30 are SRN-70's with c changed.
CIFAR10 = {
    "vanilla": ("configs/cifar10_uncond_vanilla.yaml",),
    "sn": ("configs/cifar10_uncond_sn.yaml",),
    "srn70": ("configs/cifar10_uncond_srn70.yaml",),
    "srn50": ("configs/cifar10_uncond_srn50.yaml",),
    "srn30": ("configs/cifar10_uncond_srn70.yaml", "experiments/gan/small/variants/srn30.yaml"),
    "srn10": ("configs/cifar10_uncond_srn70.yaml", "experiments/gan/small/variants/srn10.yaml"),
    "wgangp": ("configs/cifar10_uncond_wgangp.yaml",),
    "ortho": ("configs/cifar10_uncond_ortho.yaml",),
    "random": ("configs/cifar10_uncond_srn70.yaml", "experiments/gan/small/variants/random.yaml"),
}


def configs(scale: str, variant: str) -> tuple[str, ...]:
    """The ``--config`` files of one variant, later ones overriding earlier ones."""
    if scale == "cifar10":
        return CIFAR10[variant]
    small = HERE.relative_to(ROOT) / "small"
    return (str(small / "base.yaml"), str(small / "variants" / f"{variant}.yaml"))


def run_dir(runs: Path, scale: str, variant: str, seed: int) -> Path:
    return runs / scale / variant / f"seed{seed}"


def finished(folder: Path) -> bool:
    """True when the run's end-of-training metrics (ND and eLhist) were written."""
    path = ROOT / folder / "metrics.jsonl"
    if not path.is_file():
        return False
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return any("neural_divergence" in r or any(k.startswith("elhist") for k in r) for r in records)


def srngan() -> str:
    """The ``srngan`` entry point of this environment."""
    local = Path(sys.executable).with_name("srngan")
    found = str(local) if local.is_file() else shutil.which("srngan")
    if not found:
        sys.exit("srngan is not installed in this environment: pip install -e .")
    return found


def fit_command(folder: Path, scale: str, variant: str, seed: int) -> list[str]:
    cmd = [srngan(), "fit"]
    for config in configs(scale, variant):
        cmd += ["--config", config]
    cmd += [
        f"--seed_everything={seed}",
        f"--trainer.logger.init_args.save_dir={folder.parents[1]}",
        f"--trainer.logger.init_args.name={variant}",
        f"--trainer.logger.init_args.version=seed{seed}",
    ]
    if (ROOT / folder / "checkpoints").is_dir():
        cmd.append("--ckpt_path=last")  # resume an interrupted run
    return cmd


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("experiment", choices=sorted(EXPERIMENTS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--scale", choices=("small", "cifar10"), default="small")
    p.add_argument("--variants", nargs="+", help="a subset of the experiment's variants")
    p.add_argument("--out", help="srngan compare output folder (default docs/results/<exp>)")
    p.add_argument("--threads", type=int, help="torch CPU threads per run (OMP_NUM_THREADS)")
    p.add_argument("--runs-dir", default="runs/experiments", help="root of the run folders")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` goes to every `srngan fit` unchanged.
    fit_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = p.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    variants = args.variants or EXPERIMENTS[args.experiment]
    unknown = sorted(set(variants) - set(EXPERIMENTS[args.experiment]))
    if unknown:
        allowed = ", ".join(EXPERIMENTS[args.experiment])
        p.error(f"unknown variant(s) {', '.join(unknown)}; allowed: {allowed}")
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    folders = []
    # Seed-major order: a budget cut short still leaves every variant with equal seeds.
    for seed in args.seeds:
        for variant in variants:
            folder = run_dir(Path(args.runs_dir), args.scale, variant, seed)
            folders.append(folder)
            cmd = fit_command(folder, args.scale, variant, seed) + fit_args
            if args.dry_run:
                print(shlex.join(cmd))
                continue
            if finished(folder):
                print(f"[skip] {folder} (finished)", flush=True)
                continue
            start = time.time()
            print(f"[run] {folder}", flush=True)
            done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            minutes = (time.time() - start) / 60
            print(f"[{'ok' if done.returncode == 0 else 'FAILED'}] {folder} {minutes:.1f} min")
            with open(ROOT / args.runs_dir / "times.jsonl", "a") as log:
                log.write(json.dumps({"run": str(folder), "minutes": round(minutes, 2),
                                      "rc": done.returncode}) + "\n")  # fmt: skip
            if done.returncode != 0:
                return done.returncode
    out = args.out or f"docs/results/{args.scale}_{args.experiment}"
    compare = [srngan(), "compare", *map(str, folders), "--out", out]
    if args.dry_run:
        print(shlex.join(compare))
        return 0
    return subprocess.run(compare, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
