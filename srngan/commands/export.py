"""``srngan export``: the generator as a standalone ``torch.export`` program (no srngan needed)."""

from __future__ import annotations

import argparse

import torch
from torch import Tensor, nn

from srngan.commands.common import CommandError, atomic_output, command_parser, load_checkpoint

DESCRIPTION = """Export a checkpoint's generator (EMA when kept) with torch.export.

  srngan export --ckpt last.ckpt --out G.pt2

The file is torch.export's .pt2 archive (the name must end in .pt2, which torch.export.load
expects). Load it anywhere with torch alone:

  g = torch.export.load("G.pt2").module()
  images = g(z)          # unconditional: z float32 (N, z_dim) ~ N(0, I)
  images = g(z, y)       # conditional:   y int64 (N,) class indices
  # images: float32 (N, 3, H, W) in [-1, 1]; batch size N is dynamic.
"""


class _Conditional(nn.Module):
    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.generator(z, y)


class _Unconditional(_Conditional):
    def forward(self, z: Tensor) -> Tensor:  # type: ignore[override]
        return self.generator(z, None)


def export_generator(
    generator: nn.Module, z_dim: int, num_classes: int
) -> torch.export.ExportedProgram:
    """Export G in eval mode with a dynamic batch dimension."""
    generator = generator.eval()
    batch = torch.export.Dim("batch", min=1, max=65536)
    z = torch.randn(2, z_dim)
    if num_classes:
        return torch.export.export(_Conditional(generator), (z, torch.zeros(2, dtype=torch.int64)),
                                   dynamic_shapes={"z": {0: batch}, "y": {0: batch}})  # fmt: skip
    return torch.export.export(_Unconditional(generator), (z,), dynamic_shapes={"z": {0: batch}})


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("export", DESCRIPTION)
    p.add_argument("--ckpt", required=True, help="checkpoint written by `srngan fit`")
    p.add_argument("--out", required=True, help="output file ending in .pt2, e.g. G.pt2")
    p.add_argument(
        "--ema",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="export the EMA generator when present",
    )
    return p


def main(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    if not str(args.out).endswith(".pt2"):
        raise CommandError(
            f"--out must end in .pt2 (torch.export's archive, which torch.export.load expects), "
            f"got {args.out}"
        )
    model, _ = load_checkpoint(args.ckpt)
    net = model.sampling_generator(args.ema)
    try:
        program = export_generator(net, model.z_dim, model.num_conditional_classes)
    except Exception as err:  # torch.export failures are long; keep the first line
        raise CommandError(f"torch.export failed: {str(err).splitlines()[0]}") from err
    # Through a file object: the temporary name does not end in .pt2, the final one does.
    with atomic_output(args.out) as tmp, open(tmp, "w+b") as f:
        torch.export.save(program, f)
    kind = "conditional: g(z, y)" if model.num_conditional_classes else "unconditional: g(z)"
    print(
        f"wrote {args.out} ({kind}, z_dim={model.z_dim}); load with torch.export.load(path).module()"
    )
