"""Compare runs: a Markdown table (mean +- std over seeds per config) and the paper's figures.

Figures: metrics vs G-step, D-loss curves (paper Fig. 17), per-layer stable rank and sigma_1 of D
over training, eLhist overlays (Fig. 5), each class's Intra-FID. Runs with different metric sets
are compared on what they share; what a run lacks is listed under the table. A series with one
logged point is drawn as a marker (a line through one point is invisible).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from srngan.analysis.runs import Run

PER_CLASS = re.compile(
    r"^(?P<family>\w*intra_(?:frechet_inception_distance|fid))_class_(?P<c>\d+)(?P<split>_\w+)?$"
)
"""Per-class result keys (``intra_frechet_inception_distance_class_3``, ``domain_intra_fid_class_3_test``):
drawn by :func:`plot_per_class`, kept out of the table and the metrics-vs-G-step panels."""


def _plot(ax, series, **kwargs):
    """``ax.plot`` of ``(step, value)`` pairs; a single point gets a marker, or it would not show."""
    if len(series) == 1:
        kwargs.setdefault("marker", "o")
    return ax.plot(*zip(*series), **kwargs)


def group_runs(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Runs of one config (differing only in seed) under one label: the logger name, made unique."""
    groups: dict[str, list[Run]] = {}
    labels: dict[str, str] = {}
    for run in runs:
        if run.experiment not in labels:
            label, n = run.name, 2
            while label in groups:
                label, n = f"{run.name}-{n}", n + 1
            labels[run.experiment] = label
            groups[label] = []
        groups[labels[run.experiment]].append(run)
    return groups


def mean_std(values: list[float]) -> str:
    """``"mean ± sample std"`` (ddof 1) of ``values``; one value alone; ``"-"`` for none."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4g}"
    return f"{np.mean(values):.4g} ± {np.std(values, ddof=1):.2g}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of ``rows`` under ``header``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def comparison_table(groups: dict[str, list[Run]]) -> tuple[str, list[str]]:
    """``(markdown table, notes)``: one row per config, the metrics all of them have as columns,
    mean ± sample std over seeds; notes name the metrics some runs lack."""
    finals = {label: [r.final_metrics() for r in runs] for label, runs in groups.items()}
    every = sorted(
        {k for runs in finals.values() for f in runs for k in f if not PER_CLASS.match(k)}
    )
    shared = [k for k in every if all(k in f for runs in finals.values() for f in runs)]
    notes = []
    for key in every:
        if key not in shared:
            lacking = [
                str(run.path) for label, runs in groups.items() for run, f in zip(runs, finals[label])
                if key not in f
            ]  # fmt: skip
            notes.append(f"`{key}` is missing in {', '.join(lacking)}; not compared")
    header = ["config", "runs", "seeds", "G-steps", *shared]
    rows = []
    for label, runs in groups.items():
        steps = {max((m.get("g_step", 0) for m in r.metrics), default=_last_step(r)) for r in runs}
        cells = [
            label,
            str(len(runs)),
            ", ".join(str(r.seed) for r in runs),
            ", ".join(str(s) for s in sorted(steps)),
            *(mean_std([f[k] for f in finals[label]]) for k in shared),
        ]
        rows.append(cells)
    return markdown_table(header, rows), notes


def _last_step(run: Run) -> int:
    return max((s for series in run.scalars.values() for s, _ in series), default=0)


def _figure(rows: int, cols: int, width: float = 4.0, height: float = 3.0):
    # A bare Figure, not pyplot: no backend switch, so notebooks keep their inline plots.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * cols, height * rows))
    return fig, fig.subplots(rows, cols, squeeze=False)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def plot_metrics(groups: dict[str, list[Run]], path: Path) -> Path | None:
    """One panel per metric, one line per run: value vs G-step (from ``metrics.jsonl``)."""
    keys = sorted(
        {k for runs in groups.values() for r in runs for m in r.metrics for k in m} - {"g_step"}
    )
    keys = [k for k in keys if not k.startswith("elhist_") and not PER_CLASS.match(k)][:9] or []
    if not keys:
        return None
    cols = min(3, len(keys))
    fig, axes = _figure(math.ceil(len(keys) / cols), cols)
    for ax, key in zip(axes.flat, keys):
        for label, runs in groups.items():
            for run in runs:
                points = [(m["g_step"], m[key]) for m in run.metrics if key in m]
                if points:
                    _plot(ax, points, marker="o", label=f"{label} s{run.seed}")
        ax.set_title(key, fontsize="small")
        ax.set_xlabel("G-step")
    axes.flat[0].legend(fontsize="x-small")
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    return _save(fig, path)


def plot_scalar(groups: dict[str, list[Run]], tag: str, path: Path, title: str) -> Path | None:
    """``tag`` (e.g. ``loss/d``) vs G-step, every run (paper Fig. 17 for the D loss)."""
    if not any(tag in r.scalars for runs in groups.values() for r in runs):
        return None
    fig, axes = _figure(1, 1, 6.0, 3.5)
    ax = axes[0][0]
    for label, runs in groups.items():
        for run in runs:
            if tag in run.scalars:
                _plot(ax, run.scalars[tag], label=f"{label} s{run.seed}", linewidth=0.8)
    ax.set_title(title)
    ax.set_xlabel("G-step")
    ax.legend(fontsize="x-small")
    return _save(fig, path)


def plot_spectra(groups: dict[str, list[Run]], path: Path) -> Path | None:
    """Per config (its first run): each D layer's stable rank and sigma_1 vs G-step."""
    shown = [(label, runs[0]) for label, runs in groups.items()
             if any(t.startswith("spectra/") for t in runs[0].scalars)]  # fmt: skip
    if not shown:
        return None
    fig, axes = _figure(len(shown), 2)
    for row, (label, run) in zip(axes, shown):
        for ax, kind in zip(row, ("stable_rank", "sigma1")):
            for tag, series in sorted(run.scalars.items()):
                if tag.startswith(f"spectra/{kind}/"):
                    _plot(ax, series, linewidth=0.8, label=tag.split("/", 2)[2])
            ax.set_title(f"{label}: {'stable rank' if kind == 'stable_rank' else 'sigma_1'}")
            ax.set_xlabel("G-step")
        row[0].legend(fontsize="xx-small", ncol=2)
    return _save(fig, path)


def per_class_values(groups: dict[str, list[Run]]) -> dict[str, dict[str, dict[int, list[float]]]]:
    """``{family (e.g. intra_frechet_inception_distance_test): {config: {class: [final value of
    each run]}}}`` from the runs' per-class Intra-FID results."""
    out: dict[str, dict[str, dict[int, list[float]]]] = {}
    for label, runs in groups.items():
        for run in runs:
            for key, value in run.final_metrics().items():
                m = PER_CLASS.match(key)
                if m:
                    family = m["family"] + (m["split"] or "")
                    per = out.setdefault(family, {}).setdefault(label, {})
                    per.setdefault(int(m["c"]), []).append(value)
    return out


def plot_per_class(groups: dict[str, list[Run]], path: Path) -> Path | None:
    """Each class's Intra-FID, one group of bars per class, one bar per config (mean over its
    seeds, sample std as the error bar when there are several); one panel per family."""
    values = per_class_values(groups)
    if not values:
        return None
    fig, axes = _figure(len(values), 1, 7.0, 3.2)
    for ax, (family, configs) in zip(axes.flat, sorted(values.items())):
        classes = sorted({c for per in configs.values() for c in per})
        width = 0.8 / len(configs)
        for i, (label, per) in enumerate(configs.items()):
            x = np.array([c for c in classes if c in per], dtype=float)
            means = [np.mean(per[int(c)]) for c in x]
            errs = [np.std(per[int(c)], ddof=1) if len(per[int(c)]) > 1 else 0 for c in x]
            n = max(len(v) for v in per.values())
            ax.bar(x + (i - (len(configs) - 1) / 2) * width, means, width, yerr=errs,
                   label=f"{label} ({n} run{'s' if n > 1 else ''})", capsize=2)  # fmt: skip
        ax.set_xticks(classes)
        ax.set_xlabel("class")
        ax.set_title(f"{family} per class (final)", fontsize="small")
        ax.legend(fontsize="x-small")
    return _save(fig, path)


def plot_elhist_overlay(groups: dict[str, list[Run]], path: Path) -> Path | None:
    """The latest eLhist of each run, overlaid per pair kind (paper Fig. 5)."""
    import torch

    from srngan.metrics.elhist import plot_elhist

    runs = {f"{label} s{r.seed}": {k: torch.from_numpy(v) for k, v in r.elhist.items()}
            for label, rs in groups.items() for r in rs if r.elhist}  # fmt: skip
    return plot_elhist(runs, path) if runs else None


def compare(runs: Sequence[Run], out: str | Path) -> Path:
    """Write ``out/compare.md`` (table, notes, figures) for ``runs``; return its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    groups = group_runs(runs)
    table, notes = comparison_table(groups)
    figures = {
        "Metrics vs G-step": plot_metrics(groups, out / "metrics.png"),
        "Discriminator loss (paper Fig. 17)": plot_scalar(
            groups, "loss/d", out / "d_loss.png", "loss/d"
        ),
        "Stable rank and sigma_1 of each D layer": plot_spectra(groups, out / "spectra.png"),
        "eLhist (paper Fig. 5)": plot_elhist_overlay(groups, out / "elhist.png"),
        "Intra-FID per class": plot_per_class(groups, out / "per_class.png"),
    }
    text = ["# Run comparison", "", table, ""]
    text += [f"- {n}" for n in notes] + ([""] if notes else [])
    text += ["Runs:", "", *(f"- `{label}`: " + ", ".join(f"`{r.path}`" for r in rs)
                            for label, rs in groups.items()), ""]  # fmt: skip
    for title, png in figures.items():
        text += [
            f"## {title}",
            "",
            f"![{title}]({png.name})" if png else "(no data in these runs)",
            "",
        ]
    report = out / "compare.md"
    report.write_text("\n".join(text))
    return report
