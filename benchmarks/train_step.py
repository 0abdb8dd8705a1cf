"""Time per G-iteration (n_dis D steps + 1 G step) of GANModule against a hand-written loop.

Both sides train the CIFAR-10 ResNet GAN (SN-GAN architecture, D batch 64, G batch 128,
n_dis 5, hinge loss, Adam, linear LR decay) on the same procedural batches; the framework side
runs through ``lightning.Trainer`` with GANModule's callbacks (logging, progress bar) at their
config intervals. Each measurement runs in a fresh subprocess (so peak memory is per variant);
variants alternate over ``--repeats`` rounds and the medians are compared.

    python benchmarks/train_step.py                      # CPU: ~10 min with the paper's widths
    python benchmarks/train_step.py --channels 32        # a quick small-width check
    python benchmarks/train_step.py --device cuda --iterations 50
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from _timing import gstep_timer, print_table

N_DIS, D_BATCH, G_BATCH = 5, 64, 128


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_framework(
    reg: str, iterations: int, warmup: int, channels: int | None, device: torch.device
) -> list[float]:
    import lightning as L

    from srngan.data.datamodule import GANDataModule
    from srngan.models import ResNetDiscriminator, ResNetGenerator
    from srngan.regularizers import SpectralNorm, StableRankNorm
    from srngan.training.module import GANModule

    times: list[float] = []

    torch.manual_seed(0)
    model = GANModule(
        ResNetGenerator(32, base_channels=channels), ResNetDiscriminator(32, base_channels=channels),
        regularizer=StableRankNorm(0.7) if reg == "srn" else SpectralNorm(), n_dis=N_DIS,
        g_batch_size=G_BATCH, max_g_steps=warmup + iterations + 1, log_every_n_g_steps=50,
    )  # fmt: skip
    data = GANDataModule("procedural", batch_size=D_BATCH, num_workers=0, num_images=2000)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = L.Trainer(
            accelerator=device.type, devices=1, max_epochs=-1, logger=False, default_root_dir=tmp,
            enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
            enable_checkpointing=False,
            callbacks=[gstep_timer(device, times)], use_distributed_sampler=False,
        )  # fmt: skip
        trainer.fit(model, datamodule=data)
    return times[warmup:]


def run_hand_written(
    reg: str, iterations: int, warmup: int, channels: int | None, device: torch.device
) -> list[float]:
    import torch.nn.functional as F

    from srngan.data.procedural import ShapesDataset
    from srngan.models import ResNetDiscriminator, ResNetGenerator
    from srngan.nn import normalize_modules

    torch.manual_seed(0)
    g = ResNetGenerator(32, base_channels=channels).to(device)
    d = normalize_modules(ResNetDiscriminator(32, base_channels=channels), reg).to(device)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.0, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.0, 0.999))
    total = warmup + iterations + 1
    decay = lambda s: max(0.0, 1 - s / total)  # noqa: E731
    sched = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_g, opt_d)]
    loader = torch.utils.data.DataLoader(
        ShapesDataset(2000, 10), batch_size=D_BATCH, shuffle=True, drop_last=True
    )
    batches = iter(loader)
    times = []
    for _ in range(warmup + iterations):
        start = time.perf_counter()
        for _ in range(N_DIS):
            try:
                real, _ = next(batches)
            except StopIteration:
                batches = iter(loader)
                real, _ = next(batches)
            real = real.to(device)
            with torch.no_grad():
                fake = g(torch.randn(D_BATCH, 128, device=device))
            logits = d(torch.cat([real, fake]))
            loss = F.relu(1 - logits[:D_BATCH]).mean() + F.relu(1 + logits[D_BATCH:]).mean()
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
        d.requires_grad_(False)
        loss_g = -d(g(torch.randn(G_BATCH, 128, device=device))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        d.requires_grad_(True)
        for s in sched:
            s.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return times[warmup:]


def worker(args) -> None:
    device = torch.device(args.device)
    fn = run_framework if args.worker == "framework" else run_hand_written
    times = fn(args.reg, args.iterations, args.warmup, args.channels, device)
    print(json.dumps({"median": statistics.median(times), "peak_mb": _peak_memory_mb(device)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3, help="measured G-iterations per run")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds per variant")
    parser.add_argument(
        "--channels", type=int, default=None, help="G and D base width (default: paper's)"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--worker", choices=("framework", "hand"), help=argparse.SUPPRESS)
    parser.add_argument("--reg", default="srn", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    results: dict[tuple[str, str], list[dict]] = {}
    base = [sys.executable, str(Path(__file__).resolve()), "--iterations", str(args.iterations), "--warmup",
            str(args.warmup), "--device", args.device] + (["--channels", str(args.channels)] if args.channels else [])  # fmt: skip
    for _ in range(args.repeats):
        for reg in ("srn", "sn"):
            for side in ("framework", "hand"):
                out = subprocess.run(
                    [*base, "--worker", side, "--reg", reg],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results.setdefault((reg, side), []).append(
                    json.loads(out.stdout.strip().splitlines()[-1])
                )
    print(f"device={args.device}, torch {torch.__version__}, threads={torch.get_num_threads()}, widths="
          f"{args.channels or 'paper (G 256, D 128)'}, n_dis={N_DIS}, D batch {D_BATCH}, G batch {G_BATCH}, "
          f"{args.iterations} iterations x {args.repeats} runs")  # fmt: skip
    rows = []
    for reg in ("srn", "sn"):
        fw = statistics.median(r["median"] for r in results[(reg, "framework")])
        hand = statistics.median(r["median"] for r in results[(reg, "hand")])
        mem_fw = max(r["peak_mb"] for r in results[(reg, "framework")])
        mem_hand = max(r["peak_mb"] for r in results[(reg, "hand")])
        rows.append((reg.upper(), f"{fw:.3f}", f"{hand:.3f}", f"{fw / hand:.3f}", f"{mem_fw:.0f}", f"{mem_hand:.0f}",
                     f"{mem_fw / mem_hand:.2f}"))  # fmt: skip
    print_table(
        "Seconds per G-iteration (median) and peak memory (MB; CPU: process max RSS, CUDA: max allocated)",
        rows,
        (
            "GAN",
            "GANModule s",
            "hand loop s",
            "time ratio",
            "GANModule MB",
            "hand MB",
            "memory ratio",
        ),
    )
    worst = max(float(r[3]) for r in rows)
    print(
        f"\nframework overhead: worst time ratio {worst:.3f} (goal <= 1.05): {'met' if worst <= 1.05 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
