"""One device script (issue 23, item 5): G-step times, host syncs, Inception throughput, FID of
50 000 samples and a 2000-G-step fit, with no download; prints a table and writes it into
benchmarks/README.md (between the ``gpu.py`` markers).

Rows (paper 32-px ResNets, n_dis 5, D batch 64, G batch 128, procedural 32-px data):

- G-step time, SN and SRN-70, in fp32, bf16 (``precision="bf16-mixed"``) and bf16 + the fast
  set (``srngan.training.fast.FastPaths(channels_last=True, compile=True, tf32=True,
  cudnn_benchmark=True)`` as a callback; "not available" when that module does not exist), each
  in a fresh process, median of the measured G-steps after warm-up; SRN/SN per mode;
- host reads per G-step between logging intervals (``benchmarks/host_syncs.py``);
- Inception-v3 features (2048-d pool + logits) per second, seeded random weights saved under
  the real file name (``tests/inception_weights.py``; ``$SRNGAN_INCEPTION_WEIGHTS`` points at
  them, so nothing is downloaded);
- FID of 50 000 generated images (an untrained paper G, generated in the timed part) against
  10 000 procedural images, ``srngan.metrics.FrechetInceptionDistance``;
- a 2000-G-step ``srngan fit`` of ``configs/cifar10_cond_srn70.yaml``'s settings on the
  procedural data (its metric callback left out: it needs 50 000-sample IS and ND), with its
  sample grid copied next to the output.

    bash benchmarks/gpu.sh                                   # on a GPU: <= 8 minutes
    python benchmarks/gpu.py --device cpu --tiny --no-write  # the whole script on a CPU, small

``--tiny``: small widths, few G-steps and images: checks that every row runs, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
BEGIN, END = "<!-- gpu.py results: begin -->", "<!-- gpu.py results: end -->"
N_DIS, D_BATCH, G_BATCH = 5, 64, 128
MODES = ("fp32", "bf16", "bf16+fast")
ROWS = [  # every row the table has, in order (the test checks them)
    *(f"G-step {mode} {reg}" for mode in MODES for reg in ("SN", "SRN-70")),
    *(f"SRN/SN {mode}" for mode in MODES),
    "host reads per G-step",
    "Inception features",
    "FID 50k vs 10k",
    "srngan fit cifar10_cond_srn70",
]


def fast_available() -> bool:
    try:
        import srngan.training.fast  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------ G-step timing
def gstep_worker(args) -> None:
    """One (regularizer, mode) in this process: prints a JSON line with the G-step times."""
    import lightning as L
    import torch
    from _timing import gstep_timer

    from srngan.data.datamodule import GANDataModule
    from srngan.models import ResNetDiscriminator, ResNetGenerator
    from srngan.regularizers import SpectralNorm, StableRankNorm
    from srngan.training.module import GANModule

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    times: list[float] = []

    callbacks = []
    if args.mode == "bf16+fast":
        from srngan.training.fast import FastPaths

        # On a CPU smoke run (--tiny) the compile check uses the eager backend: inductor's C++
        # build of every kernel would take minutes on 2 cores.
        backend = {"compile_backend": "eager"} if device.type == "cpu" and args.tiny else {}
        callbacks.append(
            FastPaths(channels_last=True, compile=True, tf32=True, cudnn_benchmark=True, **backend)
        )
    width = 16 if args.tiny else None
    torch.manual_seed(0)
    model = GANModule(
        ResNetGenerator(32, num_classes=0, base_channels=width and 2 * width),
        ResNetDiscriminator(32, num_classes=0, base_channels=width),
        regularizer=StableRankNorm(0.7) if args.reg == "SRN-70" else SpectralNorm(),
        n_dis=N_DIS, g_batch_size=G_BATCH, max_g_steps=args.warmup + args.steps + 1,
        log_every_n_g_steps=50,
    )  # fmt: skip
    data = GANDataModule("procedural", batch_size=D_BATCH, num_workers=0, num_images=2000)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = L.Trainer(
            accelerator="gpu" if device.type == "cuda" else "cpu", devices=1, max_epochs=-1,
            precision="32-true" if args.mode == "fp32" else "bf16-mixed", logger=False,
            default_root_dir=tmp, enable_model_summary=False, enable_progress_bar=False,
            limit_val_batches=0, num_sanity_val_steps=0, enable_checkpointing=False,
            log_every_n_steps=1, use_distributed_sampler=False, callbacks=[*callbacks, gstep_timer(device, times)],
        )  # fmt: skip
        trainer.fit(model, datamodule=data)
    measured = times[args.warmup - 1 :] if args.warmup else times  # times[i]: G-step i + 2
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else 0.0
    print("@@gpu " + json.dumps({"times": measured, "peak_mb": peak}))


def time_gstep(reg: str, mode: str, args) -> dict:
    cmd = [sys.executable, __file__, "--gstep-worker", "--reg", reg, "--mode", mode,
           "--device", args.device, "--threads", str(args.threads),
           "--steps", str(args.steps), "--warmup", str(args.warmup)] + (["--tiny"] if args.tiny else [])  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("@@gpu ")]
    if out.returncode or not lines:
        return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:] or ["failed"]}
    result = json.loads(lines[-1][len("@@gpu ") :])
    result["median"] = statistics.median(result["times"])
    return result


# ------------------------------------------------------------------------------ metrics
def inception_and_fid(args, device) -> tuple[dict, dict]:
    import torch

    sys.path.insert(0, str(ROOT / "tests"))
    from inception_weights import make_random_inception_weights

    from srngan.data.procedural import ShapesDataset
    from srngan.metrics import FrechetInceptionDistance
    from srngan.metrics.inception import WEIGHTS_ENV, extract_features, load_inception
    from srngan.models import ResNetGenerator

    folder = Path(tempfile.mkdtemp(prefix="srngan-inception-"))
    path = make_random_inception_weights(folder)  # seeded random weights, real file name
    os.environ[WEIGHTS_ENV] = str(path)
    n_feat, n_fake, n_real, batch = (64, 64, 32, 32) if args.tiny else (50_000, 50_000, 10_000, 500)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda *a: None)

    net = load_inception().to(device).eval()
    images = ShapesDataset(min(n_real, 10_000), 10, seed=1).images  # uint8 (N, 3, 32, 32)
    extract_features(net, images[:batch].to(device))  # warm-up
    sync()
    start = time.perf_counter()
    done = 0
    while done < n_feat:
        chunk = images[: min(batch, n_feat - done)].to(device, non_blocking=True)
        extract_features(net, chunk)
        done += chunk.shape[0]
    sync()
    feat_s = time.perf_counter() - start
    features = {"images": n_feat, "seconds": feat_s, "per_s": n_feat / feat_s}

    torch.manual_seed(0)
    width = 32 if args.tiny else None
    g = ResNetGenerator(32, num_classes=0, base_channels=width).to(device).eval()
    sync()
    start = time.perf_counter()
    fid = FrechetInceptionDistance().to(device)
    for i in range(0, n_real, batch):
        fid.update(images[i : i + batch].to(device), real=True)
    with torch.no_grad():
        for i in range(0, n_fake, batch):
            fid.update(g(torch.randn(min(batch, n_fake - i), g.z_dim, device=device)), real=False)
    value = float(fid.compute())
    sync()
    fid_s = time.perf_counter() - start
    shutil.rmtree(folder, ignore_errors=True)
    return features, {"fake": n_fake, "real": n_real, "seconds": fid_s, "fid": value}


# ------------------------------------------------------------------------------ srngan fit
def fit_cond_srn70(args, out_dir: Path) -> dict:
    import yaml

    config = yaml.safe_load((ROOT / "configs" / "cifar10_cond_srn70.yaml").read_text())
    g_steps = 3 if args.tiny else 2000
    with tempfile.TemporaryDirectory() as tmp:
        config["trainer"].pop("callbacks", None)  # IS of 50k samples / ND: not this benchmark
        config["trainer"]["logger"]["init_args"]["save_dir"] = str(Path(tmp) / "runs")
        config["trainer"]["accelerator"] = "gpu" if args.device == "cuda" else "cpu"
        config["trainer"]["default_root_dir"] = tmp
        config["model"]["init_args"]["max_g_steps"] = g_steps
        config["data"]["init_args"].update(
            dataset="procedural", root=str(Path(tmp) / "data"), num_images=10_000,
            num_workers=0 if args.tiny else 4,
        )  # fmt: skip
        if args.tiny:
            config["model"]["init_args"]["generator"]["init_args"]["base_channels"] = 32
            config["model"]["init_args"]["discriminator"]["init_args"]["base_channels"] = 16
            config["data"]["init_args"]["num_images"] = 512
        config["samples"] = {"every_n_g_steps": g_steps // 2 if not args.tiny else g_steps}
        config["checkpoint"] = {"every_n_g_steps": 0}
        config["spectra"] = {"every_n_g_steps": 1000}
        config["progress"] = {"refresh_rate": 100}
        path = Path(tmp) / "fit.yaml"
        path.write_text(yaml.safe_dump(config))
        cmd = [
            sys.executable,
            "-c",
            "from srngan.cli import main; main()",
            "fit",
            "--config",
            str(path),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env)
        seconds = time.perf_counter() - start
        grids = sorted(Path(tmp).rglob("samples/*.png"))
        grid = None
        if grids:
            out_dir.mkdir(parents=True, exist_ok=True)
            grid = out_dir / "cifar10_cond_srn70_procedural_samples.png"
            shutil.copy(grids[-1], grid)
        if out.returncode:
            return {"error": out.stderr.strip().splitlines()[-1:], "seconds": seconds}
    return {"g_steps": g_steps, "seconds": seconds, "grid": str(grid) if grid else None}


# ------------------------------------------------------------------------------ table
def machine(device) -> str:
    import torch

    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")  # fmt: skip
    return f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}"


def build_table(res: dict, args) -> list[tuple[str, str, str]]:
    rows = []
    goal = {"fp32": "<= 40 ms", "bf16": "", "bf16+fast": "<= 25 ms"}
    for mode in MODES:
        for reg in ("SN", "SRN-70"):
            r = res["gstep"].get((mode, reg))
            if r is None:
                value = "not available (no srngan.training.fast)"
            elif "error" in r:
                value = f"failed: {' '.join(r['error'])[:120]}"
            else:
                mem = f", {r['peak_mb']:.0f} MB max allocated" if r["peak_mb"] else ""
                value = f"{1000 * r['median']:.1f} ms (median of {len(r['times'])}{mem})"
            rows.append((f"G-step {mode} {reg}", value, goal[mode]))
    for mode in MODES:
        sn, srn = res["gstep"].get((mode, "SN")), res["gstep"].get((mode, "SRN-70"))
        if sn is None or srn is None:
            value = "not available"
        elif "error" in sn or "error" in srn:
            value = "failed"
        else:
            value = f"{srn['median'] / sn['median']:.3f}"
        rows.append((f"SRN/SN {mode}", value, "<= 1.10"))
    h = res["host"]
    if "error" in h:
        rows.append(("host reads per G-step", f"failed: {h['error']}", "0"))
    else:
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(h["by_source"].items())[:3])
        value = f"{h['per_g_step']:.1f} ({h['counted_g_steps']} G-steps counted{'; ' + top if top else ''})"
        if h.get("cuda_sync_warnings") is not None:
            value += f"; CUDA syncs reported by torch: {h['cuda_sync_warnings']:.1f}"
        rows.append(("host reads per G-step", value, "0"))
    f, d = res["features"], res["fid"]
    rows.append(
        (
            "Inception features",
            f"{f['per_s']:.0f} images/s ({f['images']} images, {f['seconds']:.1f} s)",
            "",
        )
    )
    rows.append(("FID 50k vs 10k", f"{d['seconds']:.1f} s for {d['fake']} vs {d['real']} images (FID {d['fid']:.2f}, random weights)", "<= 60 s"))  # fmt: skip
    fit = res["fit"]
    if "error" in fit:
        rows.append(("srngan fit cifar10_cond_srn70", f"failed after {fit['seconds']:.0f} s: {' '.join(fit['error'])[:120]}", ""))  # fmt: skip
    else:
        grid = Path(fit["grid"]).name if fit["grid"] else "no grid"
        rows.append(("srngan fit cifar10_cond_srn70", f"{fit['g_steps']} G-steps in {fit['seconds']:.0f} s (incl. start-up); grid {grid}", ""))  # fmt: skip
    return rows


def render(rows, header: str) -> str:
    lines = [header, "", "| row | measured | goal |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    body = README.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in body and END in body:
        body = body[: body.index(BEGIN)] + block + body[body.index(END) + len(END) :]
    else:
        body = (
            body.rstrip("\n") + "\n\n## `gpu.py`: the device script (latest run)\n\n" + block + "\n"
        )
    README.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cpu", "cuda"))
    parser.add_argument("--tiny", action="store_true", help="small widths, few steps / images")
    parser.add_argument(
        "--no-write", action="store_true", help="do not rewrite benchmarks/README.md"
    )
    parser.add_argument("--steps", type=int, default=None, help="measured G-steps per row")
    parser.add_argument("--warmup", type=int, default=None, help="G-steps before measuring")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--out", default=None, help="folder for the sample grid (default: $OUT or a temp dir)"
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=("gstep", "host", "metrics", "fit")
    )
    parser.add_argument(
        "--modes", nargs="*", default=list(MODES), choices=MODES, help="G-step modes"
    )
    parser.add_argument("--gstep-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reg", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.steps = args.steps or (2 if args.tiny else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.tiny else 10)
    args.threads = args.threads or (1 if args.device == "cpu" else os.cpu_count())
    if args.gstep_worker:
        return gstep_worker(args)

    import torch

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here (use --device cpu --tiny)")
    out_dir = Path(args.out or os.environ.get("OUT") or tempfile.mkdtemp(prefix="srngan-gpu-"))
    t0 = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    res: dict = {"gstep": {}}
    fast = fast_available()
    if not fast:
        print("srngan.training.fast: not available: bf16+fast rows skipped")
    for mode in MODES:
        if mode == "bf16+fast" and not fast:
            continue
        for reg in ("SN", "SRN-70"):
            if "gstep" in args.skip or mode not in args.modes:
                res["gstep"][(mode, reg)] = {"error": ["skipped"]}
                continue
            res["gstep"][(mode, reg)] = r = time_gstep(reg, mode, args)
            print(f"G-step {mode} {reg}: {r.get('median', r.get('error'))}", flush=True)
    if "host" in args.skip:
        res["host"] = {"error": "skipped"}
    else:
        from host_syncs import count_host_syncs

        g_steps, every = (12, 5) if args.tiny else (110, 50)
        try:
            res["host"] = count_host_syncs(args.device, g_steps=g_steps, log_every=every)
        except Exception as err:
            res["host"] = {"error": f"{type(err).__name__}: {err}"[:200]}
        print(f"host reads: {res['host'].get('per_g_step', res['host'].get('error'))}", flush=True)
    if "metrics" in args.skip:
        res["features"] = {"images": 0, "seconds": 0.0, "per_s": 0.0}
        res["fid"] = {"fake": 0, "real": 0, "seconds": 0.0, "fid": float("nan")}
    else:
        res["features"], res["fid"] = inception_and_fid(args, device)
        print(f"features: {res['features']}, FID: {res['fid']}", flush=True)
    res["fit"] = (
        {"error": ["skipped"], "seconds": 0.0}
        if "fit" in args.skip
        else fit_cond_srn70(args, out_dir)
    )
    print(f"fit: {res['fit']}", flush=True)
    total = time.perf_counter() - t0
    header = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine(device)}"
        f"{', ' + str(args.threads) + ' threads' if device.type == 'cpu' else ''}; load before {load}; "
        f"`python benchmarks/gpu.py --device {args.device}{' --tiny' if args.tiny else ''}` "
        f"took {total:.0f} s{' (--tiny: a smoke run, not a measurement)' if args.tiny else ''}."
    )
    text = render(build_table(res, args), header)
    print("\n" + text)
    if not args.no_write:
        write_readme(text)
        print(f"\nwritten into {README}")


if __name__ == "__main__":
    main()
