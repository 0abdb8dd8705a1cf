"""srngan against torch-mimicry, side by side in one run: seconds per G-step of the paper's 32-px
SN-GAN (and SRN-70) ResNets, n_dis 5, D batch 64, G batch 128 (issue 23, item 4).

- ``srngan-sn`` / ``srngan-srn``: ``GANModule`` with ``ResNetGenerator`` / ``ResNetDiscriminator``
  and ``SpectralNorm()`` / ``StableRankNorm(0.7)`` (configs/cifar10_uncond_{sn,srn70}.yaml's
  nets, hinge loss, Adam 2e-4 (0, 0.999), linear decay), trained by a Lightning ``Trainer`` as
  ``srngan fit`` sets it up (``log_every_n_steps: 1``, G-step progress bar, logging every 50
  G-steps; no checkpoints) on ``GANDataModule(dataset="procedural")`` (32-px shapes).
- ``mimicry-sn``: torch-mimicry's ``SNGANGenerator32`` / ``SNGANDiscriminator32`` and one
  iteration of its ``Trainer.train`` (its ``train_step`` methods: two D forwards per D step, G
  run with autograd and detached, three ``.item()`` per D step; its linear LR scheduler; its
  default logging: a printed line every step, TensorBoard every 50) on the same procedural
  images in a plain ``DataLoader`` (batch 64, shuffled). **Re-stated, not imported**:
  torch-mimicry 0.1.16 does not import with torch 2.x (see ``_mimicry_nets``). torch-mimicry
  draws G's batch with the size of the real batch (64); here it is the paper's 128, as for
  srngan.
- ``srngan-*-fast``: only when ``srngan.training.fast`` exists: the same with a ``FastPaths``
  callback (CPU: ``channels_last``; CUDA: ``channels_last``, ``compile``, TF32 and cudnn
  benchmark; float32 either way).

Every variant runs in its own process and they take G-steps in turn: the parent tells one
worker to take one G-step, waits for its time, then the next, so machine load is spread over the
variants alike. With ``--replicas R`` each variant runs in R processes: a process's speed can sit
a few percent off another's for the same code (where its memory landed), which no number of
G-steps inside one process averages out; the table gives each variant's median over all its
G-steps and the range of its processes' medians.

Memory, on a CPU, comes from a pass of its own before the timing (one G-step per variant after
one warm-up, a fresh process each): with glibc told to serve every allocation over 64 KiB by
``mmap`` and to return freed memory at once (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``), the resident set follows the live tensors; the peak (``VmHWM``) is
reset once the imports are done, so the peak RSS above the RSS after the imports is the
training's own memory (data, nets, optimizers, the steps), the same in every run (without
these, the freed-but-kept heap and the imports' transient peak moved that figure by 140 MB
between runs of the same code). That pass is slower, so it is not timed. The whole process's
peak is shown too: it includes the imports (Lightning's, for srngan). On CUDA:
``torch.cuda.max_memory_allocated`` in the timed pass.

    python benchmarks/vs_mimicry.py --steps 3 --warmup 1          # CPU, paper widths (slow)
    python benchmarks/vs_mimicry.py --channels 32 --steps 10 --warmup 2 --replicas 3
    python benchmarks/vs_mimicry.py --device cuda --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_DIS, D_BATCH, G_BATCH = 5, 64, 128
LR, BETAS = 2e-4, (0.0, 0.999)
MAX_G_STEPS = 50000  # the LR-decay horizon of the paper configs
TAG = "@@vs_mimicry "


def _proc_status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {key}")


def _mark_base_mb() -> float:
    """The resident set now, after the imports; the peak (VmHWM) restarts from it, so the
    imports' own transient peak is not taken for the training's."""
    base = _proc_status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # Linux >= 4.0: reset the peak RSS
    return base


def fast_available() -> bool:
    try:
        import srngan.training.fast  # noqa: F401
    except ImportError:
        return False
    return True


class _Gate:
    """Worker side of the protocol: wait for ``go`` on stdin, report each G-step's time."""

    def __init__(self, device) -> None:
        self.device = device
        self.t0 = None
        self.base_mb = 0.0
        self.out = os.fdopen(os.dup(1), "w", buffering=1)  # stdout before anyone redirects it

    def wait(self) -> None:
        line = sys.stdin.readline().strip()
        if line != "go":
            import torch

            peak = (torch.cuda.max_memory_allocated(self.device) / 2**20
                    if self.device.type == "cuda" else _proc_status_mb("VmHWM"))  # fmt: skip
            self.out.write(TAG + json.dumps({"peak_mb": peak, "base_mb": self.base_mb}) + "\n")
            self.out.flush()
            os._exit(0)
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def report(self) -> None:
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t, c = time.perf_counter() - self.t0, time.process_time() - self.c0
        self.out.write(TAG + json.dumps({"t": t, "cpu": c}) + "\n")
        self.out.flush()


def run_srngan(reg: str, fast: bool, gate: _Gate, tmp: str, channels: int | None) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger

    from srngan.data.datamodule import GANDataModule
    from srngan.models import ResNetDiscriminator, ResNetGenerator
    from srngan.regularizers import SpectralNorm, StableRankNorm
    from srngan.training.callbacks import GStepProgressBar
    from srngan.training.gstep import GStepCallback
    from srngan.training.module import GANModule

    gate.base_mb = _mark_base_mb()  # after the imports, before the nets (as for mimicry)

    class Gate(GStepCallback):
        def on_train_start(self, trainer, module):
            gate.wait()

        def on_g_step_end(self, trainer, module):
            gate.report()
            gate.wait()

    callbacks = [GStepProgressBar(refresh_rate=1)]
    if fast:
        from srngan.training.fast import FastPaths

        if gate.device.type == "cuda":
            callbacks.append(FastPaths(channels_last=True, compile=True, tf32=True,
                                       cudnn_benchmark=True))  # fmt: skip
        else:
            callbacks.append(FastPaths(channels_last=True))
    torch.manual_seed(0)
    model = GANModule(
        ResNetGenerator(32, num_classes=0, base_channels=channels and 2 * channels),
        ResNetDiscriminator(32, num_classes=0, base_channels=channels),
        regularizer=StableRankNorm(0.7) if reg == "srn" else SpectralNorm(), n_dis=N_DIS,
        lr_g=LR, lr_d=LR, betas=BETAS, max_g_steps=MAX_G_STEPS, g_batch_size=G_BATCH,
        log_every_n_g_steps=50,
    )  # fmt: skip
    data = GANDataModule("procedural", batch_size=D_BATCH, num_workers=0, num_images=2000)
    trainer = L.Trainer(
        accelerator="gpu" if gate.device.type == "cuda" else "cpu", devices=1, max_epochs=-1,
        logger=TensorBoardLogger(tmp, name="srngan"), default_root_dir=tmp,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
        enable_checkpointing=False, log_every_n_steps=1, use_distributed_sampler=False,
        callbacks=[*callbacks, Gate()],
    )  # fmt: skip
    trainer.fit(model, datamodule=data)


# --------------------------------------------------------------------------------------------
# torch-mimicry, re-stated. torch-mimicry 0.1.16 (PyPI's latest, 2020-08) installs here but does
# not import with torch 2.x: ``import torch_mimicry`` runs
# ``torch_mimicry/datasets/imagenet/imagenet_utils.py``, whose ``from torch._six import PY3``
# fails (``torch._six`` was removed in torch 2.0); and when its TensorFlow import (pulled in by
# ``torch_mimicry.metrics``, a hard dependency) comes before ``torch._dynamo``, importing
# torchvision / triton afterwards segfaults. So nothing of it is imported or vendored: below is a
# re-statement, written from kwotsin/mimicry at a7fda06 (2022-08-07), of exactly what one
# training iteration of its ``Trainer.train`` executes for ``SNGANGenerator32`` /
# ``SNGANDiscriminator32`` (torch_mimicry/nets/sngan/sngan_32.py, modules/resblocks.py,
# modules/layers.py: ``SNConv2d`` = ``torch.nn.utils.spectral_norm(nn.Conv2d)``,
# nets/gan/gan.py: ``train_step``, training/trainer.py, scheduler.py, metric_log.py, logger.py).
# --------------------------------------------------------------------------------------------
def _mimicry_nets(ngf: int = 256, ndf: int = 128, nz: int = 128):
    import math

    import torch
    import torch.nn.functional as F
    from torch import nn

    sn = nn.utils.spectral_norm

    class GBlock(nn.Module):  # resblocks.GBlock, unconditional, no SN
        def __init__(self, cin, cout, upsample=True):
            super().__init__()
            self.upsample, self.learnable_sc = upsample, cin != cout or upsample
            self.c1, self.c2 = (
                nn.Conv2d(cin, cout, 3, 1, padding=1),
                nn.Conv2d(cout, cout, 3, 1, padding=1),
            )
            self.b1, self.b2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout)
            self.activation = nn.ReLU(True)
            nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
            nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
            if self.learnable_sc:
                self.c_sc = nn.Conv2d(cin, cout, 1, 1, padding=0)
                nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

        def _upsample_conv(self, x, conv):
            return conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))

        def forward(self, x):
            h = self.activation(self.b1(x))
            h = self._upsample_conv(h, self.c1) if self.upsample else self.c1(h)
            h = self.c2(self.activation(self.b2(h)))
            sc = (
                (self._upsample_conv(x, self.c_sc) if self.upsample else self.c_sc(x))
                if self.learnable_sc
                else x
            )
            return h + sc

    class DBlock(nn.Module):  # resblocks.DBlock, SN
        def __init__(self, cin, cout, downsample=False):
            super().__init__()
            self.downsample, self.learnable_sc = downsample, cin != cout or downsample
            self.c1, self.c2 = sn(nn.Conv2d(cin, cin, 3, 1, 1)), sn(nn.Conv2d(cin, cout, 3, 1, 1))
            self.activation = nn.ReLU(True)
            nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
            nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
            if self.learnable_sc:
                self.c_sc = sn(nn.Conv2d(cin, cout, 1, 1, 0))
                nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

        def _residual(self, x):
            h = self.c2(
                self.activation(self.c1(self.activation(x)))
            )  # in-place ReLU on x, as there
            return F.avg_pool2d(h, 2) if self.downsample else h

        def _shortcut(self, x):
            if not self.learnable_sc:
                return x
            x = self.c_sc(x)
            return F.avg_pool2d(x, 2) if self.downsample else x

        def forward(self, x):
            return self._residual(x) + self._shortcut(x)

    class DBlockOptimized(nn.Module):  # resblocks.DBlockOptimized, SN
        def __init__(self, cin, cout):
            super().__init__()
            self.c1, self.c2 = sn(nn.Conv2d(cin, cout, 3, 1, 1)), sn(nn.Conv2d(cout, cout, 3, 1, 1))
            self.c_sc = sn(nn.Conv2d(cin, cout, 1, 1, 0))
            self.activation = nn.ReLU(True)
            nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
            nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
            nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

        def forward(self, x):
            h = F.avg_pool2d(self.c2(self.activation(self.c1(x))), 2)
            return h + self.c_sc(F.avg_pool2d(x, 2))

    class SNGANGenerator32(nn.Module):
        def __init__(self):
            super().__init__()
            self.nz, self.ngf, self.bottom_width = nz, ngf, 4
            self.l1 = nn.Linear(nz, 16 * ngf)
            self.block2, self.block3, self.block4 = (GBlock(ngf, ngf) for _ in range(3))
            self.b5, self.c5 = nn.BatchNorm2d(ngf), nn.Conv2d(ngf, 3, 3, 1, padding=1)
            self.activation = nn.ReLU(True)
            nn.init.xavier_uniform_(self.l1.weight.data, 1.0)
            nn.init.xavier_uniform_(self.c5.weight.data, 1.0)

        def forward(self, x):
            h = self.l1(x).view(x.shape[0], -1, 4, 4)
            h = self.activation(self.b5(self.block4(self.block3(self.block2(h)))))
            return torch.tanh(self.c5(h))

        def generate_images(self, num_images, device):  # gan.BaseGenerator
            return self.forward(torch.randn((num_images, self.nz), device=device))

    class SNGANDiscriminator32(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1 = DBlockOptimized(3, ndf)
            self.block2 = DBlock(ndf, ndf, downsample=True)
            self.block3, self.block4 = DBlock(ndf, ndf), DBlock(ndf, ndf)
            self.l5 = sn(nn.Linear(ndf, 1))  # layers.SNLinear
            self.activation = nn.ReLU(True)
            nn.init.xavier_uniform_(self.l5.weight.data, 1.0)

        def forward(self, x):
            h = self.activation(self.block4(self.block3(self.block2(self.block1(x)))))
            return self.l5(torch.sum(h, dim=(2, 3)))

    return SNGANGenerator32(), SNGANDiscriminator32()


def run_mimicry(gate: _Gate, tmp: str, channels: int | None) -> None:
    import torch
    import torch.nn.functional as F

    from srngan.data.procedural import ShapesDataset

    device = gate.device
    gate.base_mb = _mark_base_mb()  # after the imports, before the nets
    torch.manual_seed(0)
    widths = {} if channels is None else {"ngf": 2 * channels, "ndf": channels}
    netG, netD = (net.to(device) for net in _mimicry_nets(**widths))
    optD = torch.optim.Adam(netD.parameters(), LR, betas=BETAS)
    optG = torch.optim.Adam(netG.parameters(), LR, betas=BETAS)
    dataloader = torch.utils.data.DataLoader(
        ShapesDataset(2000, 10), batch_size=D_BATCH, shuffle=True, num_workers=0, drop_last=True
    )
    num_steps, print_steps, log_steps = MAX_G_STEPS, 1, 50  # Trainer defaults (print every step)
    num_epochs = int(num_steps / len(dataloader))  # logger.Logger._get_epoch

    def add_metric(log_data, name, value, precision=4):  # metric_log.MetricLog.add_metric
        try:
            value = value.item()
        except AttributeError:
            pass
        log_data[name] = (value, precision)

    def fetch(it):  # Trainer._fetch_data
        try:
            batch = next(it)
        except StopIteration:
            it = iter(dataloader)
            batch = next(it)
        return it, (batch[0].to(device), batch[1].to(device))

    def linear_decay(opt, lr0, step):  # scheduler.LRScheduler.linear_decay, range (0, num_steps)
        lr = lr0 if step <= 0 else 0.0 if step >= num_steps else lr0 * (1 - step / num_steps)
        opt.param_groups[0]["lr"] = lr
        return lr

    gate.wait()
    global_step, iter_dataloader, start_time = 0, iter(dataloader), time.time()
    while True:
        log_data: dict = {}
        for i in range(N_DIS):
            iter_dataloader, (real, _) = fetch(iter_dataloader)
            # gan.BaseDiscriminator.train_step
            netD.zero_grad()
            output_real = netD(real)
            fake = netG.generate_images(num_images=real.shape[0], device=device).detach()
            output_fake = netD(fake)
            errD = F.relu(1.0 - output_real).mean() + F.relu(1.0 + output_fake).mean()
            errD.backward()
            optD.step()
            D_x = torch.sigmoid(output_real).mean().item()
            D_Gz = torch.sigmoid(output_fake).mean().item()
            add_metric(log_data, "errD", errD.item())
            add_metric(log_data, "D(x)", D_x)
            add_metric(log_data, "D(G(z))", D_Gz)
            if i == N_DIS - 1:
                # gan.BaseGenerator.train_step (G batch: the paper's 128, see the docstring)
                netG.zero_grad()
                output = netD(netG.generate_images(num_images=G_BATCH, device=device))
                errG = -output.mean()
                errG.backward()
                optG.step()
                add_metric(log_data, "errG", errG)
        global_step += 1
        add_metric(log_data, "lr_D", linear_decay(optD, LR, global_step), 6)
        add_metric(log_data, "lr_G", linear_decay(optG, LR, global_step), 6)
        gate.report()
        gate.wait()
        if global_step % log_steps == 0:
            pass  # TensorBoard summaries: never reached within the measured G-steps
        if global_step % print_steps == 0:  # logger.Logger.print_log
            now = time.time()
            info = [""] + [f"{k}: {round(v, p)}" for k, (v, p) in sorted(log_data.items())]
            info.append(f"({(now - start_time) / print_steps:.4f} sec/idx)")
            print(f"INFO: [Epoch {int(global_step / len(dataloader))}/{num_epochs}][Global Step: "
                  f"{global_step}/{num_steps}] " + "\n| ".join(info))  # fmt: skip
            start_time = now


def worker(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gate = _Gate(device)
    os.dup2(2, 1)  # everything the libraries print goes to the worker's log, not the protocol
    with tempfile.TemporaryDirectory() as tmp:
        if args.worker == "mimicry-sn":
            run_mimicry(gate, tmp, args.channels)
        else:
            _, reg, *mode = args.worker.split("-")
            run_srngan(reg, bool(mode), gate, tmp, args.channels)


# glibc: allocations over 64 KiB by mmap, freed memory returned at once (the memory pass)
_RSS_FOLLOWS_TENSORS = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


class _Worker:
    def __init__(self, name: str, args, log_dir: str, tag: str = "", env: dict | None = None):
        self.name = name
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads),
               "MKL_NUM_THREADS": str(args.threads), "TF_CPP_MIN_LOG_LEVEL": "3",
               "PYTHONWARNINGS": "ignore", **(env or {})}  # fmt: skip
        self.log_path = Path(log_dir) / f"{name}{tag}.log"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", name, "--device", args.device,
             "--threads", str(args.threads)]
            + (["--channels", str(args.channels)] if args.channels else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.log_path, "w"),
            text=True, env=env,
        )  # fmt: skip

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            out = self.proc.stdout.readline()
            if not out:
                raise SystemExit(f"{self.name} died:\n{self.log_path.read_text()[-4000:]}")
            if out.startswith(TAG):
                return json.loads(out[len(TAG) :])


def _take_turns(
    names: list[str],
    args,
    log_dir: str,
    replicas: int,
    warmup: int,
    steps: int,
    env: dict | None = None,
) -> tuple[dict, dict, dict]:
    """Run ``replicas`` processes per variant, G-steps in turn; per process: wall and CPU times of
    the measured G-steps, and its memory report."""
    workers = [_Worker(n, args, log_dir, f"#{r}", env) for r in range(replicas) for n in names]
    wall: dict = {n: [] for n in names}
    proc: dict = {n: [] for n in names}
    for w in workers:
        wall[w.name].append([])
        proc[w.name].append([])
    for i in range(warmup + steps):
        for k, w in enumerate(workers):
            reply = w.ask("go")
            if i >= warmup:
                wall[w.name][k // len(names)].append(reply["t"])
                proc[w.name][k // len(names)].append(reply["cpu"])
    memory: dict = {n: [] for n in names}
    for w in workers:
        memory[w.name].append(w.ask("stop"))
        w.proc.wait()
    return wall, proc, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--steps", type=int, default=3, help="measured G-steps per process")
    parser.add_argument("--warmup", type=int, default=1, help="G-steps not measured")
    parser.add_argument("--replicas", type=int, default=1, help="processes per variant")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--channels",
        type=int,
        default=None,
        help="D width (G: twice it) for a quick check; default: the paper's",
    )
    parser.add_argument("--no-fast", action="store_true", help="leave out the -fast variants")
    parser.add_argument("--no-memory", action="store_true", help="CPU: skip the memory pass")
    parser.add_argument("--memory-only", action="store_true", help="CPU: only the memory pass")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.memory_only and (args.no_memory or args.device != "cpu"):
        parser.error("--memory-only: the memory pass runs on a CPU without --no-memory")
    for flag in ("steps", "replicas", "threads"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    import torch

    names = ["srngan-sn", "srngan-srn", "mimicry-sn"]
    if not args.no_fast:
        if fast_available():
            names += ["srngan-sn-fast", "srngan-srn-fast"]
        else:
            print("srngan.training.fast: not available, no -fast rows")
    cpu_name = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                     .splitlines() if line.startswith("model name")), "?")  # fmt: skip
    print(f"device {args.device}, {cpu_name}, {os.cpu_count()} CPUs, threads {args.threads}, "
          f"torch {torch.__version__}, load before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    on_cpu = args.device == "cpu"
    with tempfile.TemporaryDirectory() as logs:
        if on_cpu and not args.no_memory:
            _, _, held = _take_turns(names, args, logs, 1, 1, 1, _RSS_FOLLOWS_TENSORS)
            memory = {n: held[n][0] for n in names}
            if args.memory_only:
                print("\n| variant | training MB (RSS above imports) | process peak RSS MB |")
                print("|---|---|---|")
                for n in names:
                    m = memory[n]
                    print(f"| {n} | {m['peak_mb'] - m['base_mb']:.0f} | {m['peak_mb']:.0f} |")
                return
        wall, proc, reports = _take_turns(names, args, logs, args.replicas, args.warmup, args.steps)
        if not on_cpu:
            memory = {n: max(reports[n], key=lambda m: m["peak_mb"]) for n in names}
    print(f"load after {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.steps} G-steps "
          f"per process after {args.warmup} warm-up, {args.replicas} process(es) per variant, "
          "taken in turn")  # fmt: skip

    # On a CUDA device the wall time is the measure; on a CPU the process CPU time (threads
    # summed) is steadier on a shared machine, and equals wall time on an idle one.
    def pooled(per_variant: dict) -> dict:  # a variant's median over all its processes' G-steps
        return {
            n: statistics.median(t for run in runs for t in run) for n, runs in per_variant.items()
        }

    wall_med, proc_med = pooled(wall), pooled(proc)
    per_proc, med = (wall, wall_med) if not on_cpu else (proc, proc_med)
    basis = "wall" if not on_cpu else "CPU"
    spread = {n: [statistics.median(run) for run in runs] for n, runs in per_proc.items()}
    ref = med["mimicry-sn"]
    mem_cols = ("max allocated MB |" if not on_cpu else
                "training MB (RSS above imports) | process peak RSS MB |") if (
                not on_cpu or not args.no_memory) else ""  # fmt: skip
    head = (f"| variant | wall s / G-step | CPU s / G-step | process medians ({basis}) | "
            f"{basis} / mimicry | SRN/SN ({basis}) | {mem_cols}")  # fmt: skip
    print("\n" + head)
    print("|" + "---|" * (head.count("|") - 1))
    for n in names:
        sn = n.replace("-srn", "-sn")
        srn_sn = ""
        if "-srn" in n:
            pairs = [a / b for a, b in zip(spread[n], spread[sn], strict=True)]
            srn_sn = f"{med[n] / med[sn]:.3f}" + (
                f" ({min(pairs):.3f}-{max(pairs):.3f})" if len(pairs) > 1 else ""
            )
        row = (
            f"| {n} | {wall_med[n]:.3f} | {proc_med[n]:.3f} | "
            f"{min(spread[n]):.3f}-{max(spread[n]):.3f} | {med[n] / ref:.3f} | {srn_sn} |"
        )
        if mem_cols and not on_cpu:
            row += f" {memory[n]['peak_mb']:.0f} |"
        elif mem_cols:
            row += (
                f" {memory[n]['peak_mb'] - memory[n]['base_mb']:.0f} | {memory[n]['peak_mb']:.0f} |"
            )
        print(row)
    best = min(med[n] for n in names if n.startswith("srngan"))
    worst = max(med[n] / med[n.replace("-srn", "-sn")] for n in names if "-srn" in n)
    print(f"\nmedians over all G-steps of a variant; srngan best / mimicry ({basis}): "
          f"{best / ref:.3f} (goal <= 0.9): {'met' if best / ref <= 0.9 else 'NOT met'}")  # fmt: skip
    print(
        f"SRN/SN worst ({basis}): {worst:.3f} (goal <= 1.05): {'met' if worst <= 1.05 else 'NOT met'}"
    )
    if mem_cols:
        key = (lambda m: m["peak_mb"]) if not on_cpu else (lambda m: m["peak_mb"] - m["base_mb"])
        most = max(key(memory[n]) for n in names if n.startswith("srngan"))
        what = "max allocated" if not on_cpu else "training memory (RSS above imports)"
        print(
            f"srngan's highest {what} / mimicry's: {most / key(memory['mimicry-sn']):.3f} "
            f"(goal <= 1): {'met' if most <= key(memory['mimicry-sn']) else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
