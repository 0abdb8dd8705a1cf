"""The numbers behind each verdict of ``docs/results.md``: one table per paper claim (issue 13).

Reads the run folders written by ``experiments/gan/run.py`` (``runs/experiments/<scale>/
<variant>/seed<S>/``) and writes ``<out>/claims.md`` plus the claim figures:

(a) ``fig5a_rank_ratio.png``: eLhist (real-fake pairs) per c, 95th percentiles dashed, domain IS
    in the legend (paper Fig. 5a); table: eLhist median / p95, IS, FID per c.
(b) ``fig5b_regularizers.png`` the same across regularizers (Fig. 5b); table: FID, IS, KID, ND,
    eLhist p95, and how many seeds each variant was best on.
(c) ``fig17_d_loss.png``: D loss over G-steps (Fig. 17); table: its variability in the second
    half of training (std of the logged values, and mean |change| between consecutive logs).
(d) ``stable_rank.png``: each D layer's stable rank divided by min(m, n) over training, SRN's
    target c dotted; table: first / last value per layer and whether SRN's stayed <= target.

Every statistic is a mean +- std over the seeds found (std with ddof 1; "n" says how many).

    python experiments/gan/analyze.py --out docs/results
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure  # bare Figures: importing this never switches a backend

from srngan.analysis.compare import markdown_table, mean_std
from srngan.analysis.runs import Run, read_run

RANK_RATIO = {"srn10": 0.1, "srn30": 0.3, "srn50": 0.5, "srn70": 0.7, "sn": 1.0}
REGULARIZERS = ("vanilla", "sn", "srn70", "wgangp", "ortho")
RANDOM = "random"  # untrained networks (Fig. 5b's Random-GAN): eLhist reference only
LABEL = {"vanilla": "no regularizer", "random": "random init (untrained)", "sn": "SN", "wgangp": "WGAN-GP", "ortho": "Ortho",
         **{f"srn{k}": f"SRN-{k}" for k in (10, 30, 50, 70)}}  # fmt: skip
# (metric key, column title, True when higher is better)
METRICS = (
    ("domain_fid", "domain FID", False),
    ("domain_is_mean", "domain IS", True),
    ("domain_kid_mean", "domain KID", False),
    ("neural_divergence", "ND", True),
    ("elhist_real_fake_p95", "eLhist p95", None),
)


def load(root: Path) -> dict[str, list[Run]]:
    """``{variant: runs}`` of every finished run folder under ``root``, seeds in order."""
    runs: dict[str, list[Run]] = defaultdict(list)
    for config in sorted(root.glob("*/seed*/config.yaml")):
        run = read_run(config.parent)
        if run.elhist:  # finished: the end-of-training eLhist was written
            runs[config.parent.parent.name].append(run)
    return dict(runs)


def finite_mean_std(values) -> str:
    """:func:`mean_std` of the values that exist and are finite (a metric a run lacks is None)."""
    return mean_std([v for v in values if v is not None and math.isfinite(v)])


def plot_elhist(runs: dict[str, list[Run]], variants, path: Path, title: str) -> None:
    """Fig. 5 style: pooled real-fake eLhist per variant, p95 dashed, IS in the legend."""
    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.subplots()
    present = [v for v in variants if v in runs]
    values = {v: np.concatenate([r.elhist["real_fake"] for r in runs[v]]) for v in present}
    top = max(np.percentile(x, 99.5) for x in values.values())
    bins = np.linspace(0, top, 60)
    for i, v in enumerate(present):
        colour = f"C{i}"
        is_ = finite_mean_std([r.final_metrics().get("domain_is_mean") for r in runs[v]])
        ax.hist(values[v], bins, histtype="step", color=colour, density=True,
                label=f"{LABEL[v]} (IS {is_}, n={len(runs[v])})")  # fmt: skip
        ax.axvline(np.percentile(values[v], 95), color=colour, ls="--", lw=1)
    ax.set(xlabel="|D(x_real) - D(x_fake)| / ||x_real - x_fake||", ylabel="density", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def claim_a(runs, out: Path) -> str:
    rows = []
    for v in RANK_RATIO:
        if v not in runs:
            continue
        rf = [r.elhist["real_fake"] for r in runs[v]]
        m = [r.final_metrics() for r in runs[v]]
        rows.append([f"{LABEL[v]} (c = {RANK_RATIO[v]})", str(len(rf)),
                     finite_mean_std([float(np.median(x)) for x in rf]),
                     finite_mean_std([float(np.percentile(x, 95)) for x in rf]),
                     finite_mean_std([x.get("domain_is_mean") for x in m]),
                     finite_mean_std([x.get("domain_fid") for x in m])])  # fmt: skip
    plot_elhist(runs, RANK_RATIO, out / "fig5a_rank_ratio.png", "eLhist vs stable-rank target c")
    header = ["D", "seeds", "eLhist median", "eLhist p95", "domain IS", "domain FID"]
    return (
        "## (a) Lowering c moves eLhist toward zero\n\n"
        + markdown_table(header, rows)
        + ("\n\n![eLhist vs c](fig5a_rank_ratio.png)\n")
    )


def claim_b(runs, out: Path) -> str:
    present = [v for v in REGULARIZERS if v in runs]
    rows = []
    # SRN-50 / SRN-30 (from experiment (a), same base config) and the untrained networks as
    # extra rows, not in the wins.
    extra = [v for v in ("srn50", "srn30", RANDOM) if v in runs]
    for v in present + extra:
        m = [r.final_metrics() for r in runs[v]]
        rows.append(
            [LABEL[v], str(len(m))] + [finite_mean_std([x.get(k) for x in m]) for k, *_ in METRICS]
        )
    wins = []
    for key, title, higher in METRICS:
        if higher is None:
            continue
        count: dict[str, int] = defaultdict(int)
        for seed in sorted({r.seed for v in present for r in runs[v]}):
            scores = {v: r.final_metrics().get(key) for v in present for r in runs[v]
                      if r.seed == seed}  # fmt: skip
            scores = {v: s for v, s in scores.items() if s is not None and math.isfinite(s)}
            if len(scores) == len(present):
                count[(max if higher else min)(scores, key=scores.get)] += 1
        wins.append(f"{title}: " + ", ".join(f"{LABEL[v]} {n}" for v, n in count.items()))
    shown = present + [RANDOM] * (RANDOM in runs)
    plot_elhist(runs, shown, out / "fig5b_regularizers.png", "eLhist across regularizers")
    header = ["D", "seeds"] + [title for _, title, _ in METRICS]
    return (
        "## (b) SRN vs SN vs WGAN-GP vs Ortho vs no regularizer\n\n" + markdown_table(header, rows)
        + "\n\nBest per seed (seeds won): " + "; ".join(wins)
        + "\n\n![eLhist across regularizers](fig5b_regularizers.png)\n"
    )  # fmt: skip


def claim_c(runs, out: Path) -> str:
    fig = Figure(figsize=(6.5, 3.5))
    ax = fig.subplots()
    rows = []
    for i, v in enumerate((*REGULARIZERS, "srn50", "srn30", "srn10")):
        if v not in runs:
            continue
        stds, jumps = [], []
        for j, run in enumerate(runs[v]):
            steps, loss = map(np.array, zip(*run.scalars.get("loss/d", [(0, np.nan)])))
            late = loss[steps > steps.max() / 2]
            stds.append(float(np.std(late)))
            jumps.append(float(np.mean(np.abs(np.diff(late)))))
            if v in ("sn", "srn70", "srn50"):  # hinge losses on one scale (WGAN-GP's is not)
                ax.plot(steps, loss, color=f"C{i}", lw=0.7, alpha=0.8,
                        label=LABEL[v] if j == 0 else None)  # fmt: skip
        rows.append([LABEL[v], str(len(stds)), finite_mean_std(stds), finite_mean_std(jumps)])
    ax.set(xlabel="G-step", ylabel="D hinge loss", title="Discriminator loss (Fig. 17), every seed")
    logged = np.concatenate([line.get_ydata() for line in ax.lines] or [[np.nan]])
    if np.isfinite(logged).any():
        ax.set_ylim(*np.nanpercentile(logged, [0.5, 99.5]))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "fig17_d_loss.png", dpi=110)
    header = ["D", "seeds", "std of D loss (2nd half)", "mean abs change between logs"]
    return (
        "## (c) SRN's D loss is steadier\n\n"
        + markdown_table(header, rows)
        + ("\n\n![D loss](fig17_d_loss.png)\n")
    )


def layer_sizes(run: Run) -> dict[str, int]:
    """``{layer: min(m, n)}`` of D's weight matrices, from the last checkpoint."""
    state = torch.load(run.path / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)["state_dict"]  # fmt: skip
    out = {}
    for key, value in state.items():
        if key.startswith("discriminator.") and value.ndim >= 2:
            name = key.removeprefix("discriminator.").split(".parametrizations")[0]
            name = name.removesuffix(".weight")
            out[name] = min(value.shape[0], math.prod(value.shape[1:]))
    return out


def claim_d(runs, out: Path) -> str:
    variants = [v for v in ("sn", "srn70", "srn50", "srn30", "srn10", "vanilla") if v in runs]
    sizes = layer_sizes(runs[variants[0]][0])
    layers = [n for n in sizes if sizes[n] > 1]  # a 1 x n layer has stable rank 1 always
    fig = Figure(figsize=(3 * len(layers), 3))
    axes = fig.subplots(1, len(layers), squeeze=False)
    rows = []
    for i, v in enumerate(variants):
        c = RANK_RATIO.get(v)
        for k, layer in enumerate(layers):
            first, last, within = [], [], []
            for j, run in enumerate(runs[v]):
                series = run.scalars.get(f"spectra/stable_rank/{layer}")
                if not series:
                    continue
                steps, srank = map(np.array, zip(*series))
                ratio = srank / sizes[layer]
                first.append(ratio[0])
                last.append(ratio[-1])
                if c is not None and c < 1:
                    within.append(float(np.mean(ratio <= c * 1.01)))  # 1 %: power iteration
                axes[0, k].plot(steps, ratio, color=f"C{i}", lw=0.8,
                                label=LABEL[v] if j == 0 else None)  # fmt: skip
            if c is not None and c < 1:
                axes[0, k].axhline(c, color=f"C{i}", ls=":", lw=0.8)
            rows.append([LABEL[v], layer, str(sizes[layer]), finite_mean_std(first), finite_mean_std(last),
                         finite_mean_std(within) if within else "-"])  # fmt: skip
    for k, layer in enumerate(layers):
        axes[0, k].set(title=f"D.{layer}", xlabel="G-step")
    axes[0, 0].set_ylabel("stable rank / min(m, n)")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "stable_rank.png", dpi=110)
    header = ["D", "layer", "min(m,n)", "srank/min(m,n) first log", "last", "share of logs <= c"]
    return (
        "## (d) Per-layer stable rank over training\n\n"
        + markdown_table(header, rows)
        + ("\n\n![stable rank](stable_rank.png)\n")
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", default="runs/experiments/small", help="folder of variant folders")
    p.add_argument("--out", default="docs/results", help="folder for claims.md and figures")
    args = p.parse_args(argv)
    runs = load(Path(args.runs))
    if not runs:
        raise SystemExit(f"no finished runs under {args.runs}; run experiments/gan/run.py first")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = [f"# Claim statistics ({args.runs})\n"]
    if any(v in runs for v in RANK_RATIO):
        parts.append(claim_a(runs, out))
    if any(v in runs for v in REGULARIZERS):
        parts.append(claim_b(runs, out))
    parts.append(claim_c(runs, out))
    parts.append(claim_d(runs, out))
    (out / "claims.md").write_text("\n".join(parts))
    print(out / "claims.md")


if __name__ == "__main__":
    main()
