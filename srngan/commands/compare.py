"""``srngan compare``: a Markdown table and figures from several run folders."""

from __future__ import annotations

from srngan.commands.common import command_parser
from srngan.errors import CommandError

DESCRIPTION = """Compare runs of `srngan fit`: one table row per config (mean +- std over seeds
when several seeds of a config are given), metrics vs G-step, D-loss curves (paper Fig. 17),
per-layer stable rank and sigma_1 of D, eLhist overlays (Fig. 5).

  srngan compare runs/cifar10_uncond_srn70/version_* runs/cifar10_uncond_sn/version_* --out cmp/
"""


def main(argv: list[str]) -> None:
    p = command_parser("compare", DESCRIPTION)
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="runs/<name>/version_N folders")
    p.add_argument("--out", required=True, help="folder for compare.md and the PNG figures")
    args = p.parse_args(argv)
    from srngan.analysis import compare, read_run

    try:
        runs = [read_run(path) for path in args.runs]
        report = compare(runs, args.out)
    except ValueError as err:
        raise CommandError(str(err)) from err
    except OSError as err:
        raise CommandError(f"cannot write to {args.out}: {err.strerror or err}") from err
    print(f"compared {len(runs)} runs: {report}")
