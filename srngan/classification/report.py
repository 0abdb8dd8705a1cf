"""Histograms (log scale) and 90th percentiles of per-sample measures (paper, Fig. 4, Table 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["MEASURE_TITLES", "summarize_measures", "write_histograms"]

MEASURE_TITLES = {
    "spec_fro": "Spec-Fro",
    "spec_l1": "Spec-L1",
    "jac_norm": "Jac-Norm",
    "noise_sensitivity": "noise sensitivity",
}


def summarize_measures(logs: dict[str, np.ndarray], percentile: float = 90.0) -> dict[str, dict]:
    """For each ``name -> log values`` (nan = excluded sample): the ``percentile``-th percentile
    of the finite values (the paper's Table 5 uses 90), the median, and the counts.

    Example::

        >>> s = summarize_measures({"spec_fro": np.array([1.0, 2.0, np.nan])})
        >>> s["spec_fro"]["p90"], s["spec_fro"]["n_used"], s["spec_fro"]["n_excluded"]
        (1.9, 2, 1)
    """
    out = {}
    for name, values in logs.items():
        finite = values[np.isfinite(values)]
        out[name] = {
            "p90" if percentile == 90 else f"p{percentile:g}": (
                float(np.percentile(finite, percentile)) if finite.size else float("nan")
            ),
            "median": float(np.median(finite)) if finite.size else float("nan"),
            "n_used": int(finite.size),
            "n_excluded": int(values.size - finite.size),
        }
    return out


def write_histograms(logs: dict[str, np.ndarray], out_dir: Path, title: str = "") -> list[Path]:
    """One PNG per measure: histogram of its (natural) log values with the 90th percentile as a
    dashed line, as in the paper's Fig. 4 ("the more to the left, the better")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for name, values in logs.items():
        finite = values[np.isfinite(values)]
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
        if finite.size:
            ax.hist(finite, bins=50, color="tab:blue", alpha=0.8)
            ax.axvline(np.percentile(finite, 90), color="k", ls="--", lw=1, label="90th percentile")
            ax.legend(loc="upper right", fontsize=8)
        label = MEASURE_TITLES.get(name, name)
        ax.set_xlabel(f"log {label}")
        ax.set_ylabel("samples")
        ax.set_title(f"{title} {label} (n={finite.size})".strip(), fontsize=9)
        fig.tight_layout()
        path = Path(out_dir) / f"{name}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
