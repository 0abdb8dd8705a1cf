"""Precision / recall and density / coverage: srngan's blocked float64 k-NN against torch-fidelity's
``prc`` (both of its routes) and the ``prdc`` package: time and peak memory.

Each variant runs in its own fresh process (peak resident memory is the process's ``ru_maxrss``
minus that of the same process after making the features, so each figure is what the metric
itself adds); sizes and variants are interleaved round by round and the median time is kept.

  python benchmarks/knn_metrics.py --sizes 2000 5000 --dim 4096 --rounds 3
  python benchmarks/knn_metrics.py --sizes 50000 --dim 64 --rounds 1 --variants srngan tf-part
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

VARIANTS = {
    "srngan": "srngan features_to_precision_recall (float64, 128 MiB blocks)",
    "tf-full": "torch-fidelity prc, save_cpu_ram=False (full n x n float32 matrices)",
    "tf-part": "torch-fidelity prc, save_cpu_ram=True (10 000-row batches)",
    "srngan-dc": "srngan features_to_density_coverage (float64, 128 MiB blocks)",
    "prdc": "prdc.compute_prdc (scikit-learn, full n x n float32 matrices)",
}


def _features(n: int, d: int, seed: int):
    """ReLU features on a 32-dimensional manifold (as network features are), the generated side
    (seed != 0) narrower and shifted, so that no metric is 0 or 1."""
    import torch

    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(32, d, generator=torch.Generator().manual_seed(1234)) / 32**0.5
    z = torch.randn(n, 32, generator=g)
    if seed:
        z = 0.8 * z + 0.3
    return torch.relu(z @ mix)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(variant: str, n: int, d: int) -> dict:
    """One measurement in this process: seconds, peak MiB above the features, the values."""
    import contextlib
    import io

    import torch
    from prdc import compute_prdc
    from torch_fidelity.metric_prc import prc_features_to_metric

    from srngan.metrics.functional.density_coverage import features_to_density_coverage
    from srngan.metrics.functional.precision_recall import features_to_precision_recall

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {', '.join(VARIANTS)}")
    real, fake = _features(n, d, 0), _features(n, d, 1)
    base = _peak_mib()  # after the imports and the features: what the metric adds
    start = time.perf_counter()
    if variant == "srngan":
        out = features_to_precision_recall(fake, real)
    elif variant == "srngan-dc":
        out = features_to_density_coverage(fake, real)
    elif variant in ("tf-full", "tf-part"):
        out = prc_features_to_metric(fake, real, prc_neighborhood=3, prc_batch_size=10000,
                                     save_cpu_ram=variant == "tf-part", verbose=False)  # fmt: skip
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            found = compute_prdc(real.numpy(), fake.numpy(), nearest_k=5)
        out = {k: float(found[k]) for k in ("density", "coverage")}
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": _peak_mib() - base,
            "values": {k: round(float(v), 6) for k, v in out.items()},
            "threads": torch.get_num_threads()}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000])
    p.add_argument("--dim", type=int, default=4096, help="feature dimension (VGG-16 fc2: 4096)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--worker", nargs=3, metavar=("VARIANT", "N", "D"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        variant, n, d = args.worker
        print(json.dumps(worker(variant, int(n), int(d))))
        return
    results: dict[tuple[int, str], list[dict]] = {}
    for _ in range(args.rounds):
        for n in args.sizes:
            for variant in args.variants:
                cmd = [sys.executable, __file__, "--worker", variant, str(n), str(args.dim)]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr.strip().splitlines() or ["killed"])[-1]
                    results.setdefault((n, variant), []).append({"error": tail[:60]})
                    continue
                results.setdefault((n, variant), []).append(
                    json.loads(done.stdout.splitlines()[-1])
                )
    load = os.getloadavg()
    threads = next((r[0]["threads"] for r in results.values() if "threads" in r[0]), "?")
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, torch "
          f"threads {threads}, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)")  # fmt: skip
    print(f"d = {args.dim}, n real = n generated; median of {args.rounds} round(s)\n")
    print("| n | variant | seconds | peak MiB | time / srngan | memory / srngan | values |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for variant in args.variants:
            runs = results[(n, variant)]
            ok = [r for r in runs if "error" not in r]
            if not ok:
                print(f"| {n} | {variant} | failed: {runs[0]['error']} | | | | |")
                continue
            sec = statistics.median(r["seconds"] for r in ok)
            mib = max(r["peak_mib"] for r in ok)
            mine = "srngan-dc" if variant in ("prdc", "srngan-dc") else "srngan"
            ref = [r for r in results.get((n, mine), []) if "error" not in r]
            ratio_t = ratio_m = "-"
            if ref:
                ratio_t = f"{sec / statistics.median(r['seconds'] for r in ref):.2f}"
                ratio_m = f"{mib / max(1.0, max(r['peak_mib'] for r in ref)):.2f}"
            values = ", ".join(f"{k} {v:.4f}" for k, v in ok[0]["values"].items())
            print(f"| {n} | {variant} | {sec:.2f} | {mib:.0f} | {ratio_t} | {ratio_m} | {values} |")


if __name__ == "__main__":
    main()
