"""Cost of stable rank normalization against spectral normalization in a D training step.

One training step = forward of the CIFAR-10 ResNet discriminator on a real and a fake batch,
hinge loss, backward, Adam step. The three variants (no normalization, torch's spectral_norm,
srngan's stable_rank_norm) are timed in the same process, interleaved, and compared by ratio;
``--blocks`` times build fresh nets (in a shuffled order) and time them again, and the ratios are
the medians over blocks.

    python benchmarks/srn_overhead.py                 # CPU, batch 64, 32x32
    python benchmarks/srn_overhead.py --channels-last   # D and its inputs in channels_last
    python benchmarks/srn_overhead.py --device cuda --rounds 50
"""

from __future__ import annotations

import argparse
import random
import statistics

import torch
import torch.nn.functional as F
from _timing import print_table, time_interleaved

from srngan.models import ResNetDiscriminator
from srngan.nn import normalize_modules


def make_step(kind: str, batch: int, device: torch.device, channels: int | None,
              memory_format: torch.memory_format = torch.contiguous_format):  # fmt: skip
    torch.manual_seed(0)
    disc = normalize_modules(ResNetDiscriminator(32, base_channels=channels), kind)
    disc = disc.to(device, memory_format=memory_format)
    opt = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.0, 0.999))
    real = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=memory_format)
    fake = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=memory_format)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.relu(1 - disc(real)).mean() + F.relu(1 + disc(fake)).mean()
        loss.backward()
        opt.step()

    def weights_only():
        # Only the parametrizations: what normalization itself costs per forward.
        with torch.no_grad():
            for module in disc.modules():
                if hasattr(module, "parametrizations"):
                    _ = module.weight

    return step, weights_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per block")
    parser.add_argument("--blocks", type=int, default=3, help="fresh nets per block")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--channels", type=int, default=None, help="D width (default: paper's 128)")
    parser.add_argument("--channels-last", action="store_true", help="D and inputs channels_last")
    args = parser.parse_args()
    device = torch.device(args.device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    kinds = ["none", "sn", "srn"]
    blocks: list[dict[str, float]] = []
    rng = random.Random(0)
    for _ in range(args.blocks):
        # Fresh nets per block, built and called in a shuffled order: where a net's memory lands
        # moves its speed by a few percent on a CPU, and one placement per process would be
        # taken for a difference between the variants.
        rng.shuffle(kinds)
        steps, weights = {}, {}
        for kind in kinds:
            steps[kind], weights[kind] = make_step(kind, args.batch_size, device, args.channels,
                                                   fmt)  # fmt: skip
        blocks.append(time_interleaved(steps, device, args.rounds))
        del steps
    step_t = {k: statistics.median(b[k] for b in blocks) for k in kinds}
    srn_sn = [b["srn"] / b["sn"] for b in blocks]
    weight_t = time_interleaved({k: weights[k] for k in ("sn", "srn")}, device, args.rounds * 10)
    print(
        f"device={device}, torch {torch.__version__}, threads={torch.get_num_threads()}, "
        f"batch={args.batch_size}, {args.blocks} blocks of {args.rounds} rounds, memory format "
        f"{fmt}; SRN/SN per block: {' '.join(f'{r:.3f}' for r in srn_sn)}"
    )
    print_table(
        "D training step (forward real+fake, backward, Adam), median seconds",
        [
            ("none", f"{step_t['none'] * 1e3:.1f}", f"{step_t['none'] / step_t['sn']:.3f}"),
            ("sn", f"{step_t['sn'] * 1e3:.1f}", "1.000"),
            ("srn", f"{step_t['srn'] * 1e3:.1f}", f"{step_t['srn'] / step_t['sn']:.3f}"),
        ],
        ("normalization", "ms / step", "ratio to SN"),
    )
    print_table(
        "Normalized weights of all D layers (parametrizations only, no_grad), median",
        [
            ("sn", f"{weight_t['sn'] * 1e6:.0f}", "1.000"),
            ("srn", f"{weight_t['srn'] * 1e6:.0f}", f"{weight_t['srn'] / weight_t['sn']:.3f}"),
        ],
        ("normalization", "us / call", "ratio to SN"),
    )
    ratio = statistics.median(srn_sn)
    print(
        f"\nSRN/SN training-step ratio (median of blocks) {ratio:.3f} (goal <= 1.05): "
        f"{'met' if ratio <= 1.05 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
