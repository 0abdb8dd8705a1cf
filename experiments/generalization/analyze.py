"""Tables, figures and the pre-registered verdicts of issue 21's experiment (README.md here)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import mean, stdev

from srngan.analysis.runs import read_run

ARM_NAMES = {
    "sn": "SN", "srn70_inert": "SRN-70 (Xavier: inert)", "srn70_ortho": "SRN-70 (orthogonal init)",
    "srn50": "SRN-50", "srn30": "SRN-30", "sn_large": "SN, 10 000 images",
    "srn30_large": "SRN-30, 10 000 images",
}  # fmt: skip
SRN_ARMS = ("srn70_ortho", "srn50", "srn30")
LATE = (1000, 1500)
GATE = 0.5


def _late(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if key in r and LATE[0] <= r["g_step"] <= LATE[1]]
    return mean(values) if values else None


def _final(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if key in r]
    return values[-1] if values else None


def run_summary(folder: Path) -> dict:
    run = read_run(folder)
    rec = run.metrics
    binding = run.scalars.get("spectra/srn_binding_fraction", [])
    out = {
        "gap": _late(rec, "d_generalization_gap"),
        "d_train": _late(rec, "d_real_train"),
        "d_heldout": _late(rec, "d_real_heldout"),
        "d_fake": _late(rec, "d_fake"),
        "kid_test": _late(rec, "domain_kid_mean_test"),
        "kid_train": _late(rec, "domain_kid_mean"),
        "elhist_rr_p95": _final(rec, "elhist_real_real_p95"),
        "elhist_rf_p95": _final(rec, "elhist_real_fake_p95"),
        "binding": mean(v for _, v in binding) if binding else None,
        "gap_curve": [
            (r["g_step"], r["d_generalization_gap"]) for r in rec if "d_generalization_gap" in r
        ],
        "binding_curve": list(binding),
    }
    if out["kid_test"] is not None and out["kid_train"] is not None:
        out["kid_memo"] = out["kid_train"] - out["kid_test"]
    return out


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4g}"
    return f"{mean(values):.4g} ± {stdev(values):.2g}"


def _paired(runs: dict, arm: str, base: str, key: str) -> list[float]:
    seeds = sorted(set(runs.get(arm, {})) & set(runs.get(base, {})))
    return [
        runs[arm][s][key] - runs[base][s][key]
        for s in seeds
        if runs[arm][s].get(key) is not None and runs[base][s].get(key) is not None
    ]


def verdict(diffs: list[float], floor: float, gate_ok: bool, lower_is_better: bool = True) -> str:
    """The pre-registered rule: beyond 2 standard errors of the paired differences and the floor."""
    if not gate_ok:
        return "not tested (gate: layers did not bind)"
    if len(diffs) < 2:
        return "inconclusive (fewer than 2 paired seeds)"
    m, se = mean(diffs), stdev(diffs) / math.sqrt(len(diffs))
    margin = max(2 * se, floor)
    if abs(m) <= margin:
        return f"inconclusive (paired mean {m:+.3g}, margin {margin:.3g})"
    better = m < 0 if lower_is_better else m > 0
    word = "reproduced" if better else "refuted"
    return f"{word} (paired mean {m:+.3g}, margin {margin:.3g})"


def analyze(runs_dir: Path, out: Path, seeds: list[int] | None = None) -> int:
    runs: dict[str, dict[int, dict]] = {}
    for arm in ARM_NAMES:
        for folder in sorted((runs_dir / arm).glob("seed*")):
            if (folder / "metrics.jsonl").is_file():
                runs.setdefault(arm, {})[int(folder.name[4:])] = run_summary(folder)
    out.mkdir(parents=True, exist_ok=True)
    keys = [("gap", "g (late mean)"), ("kid_test", "KID vs held-out"), ("kid_train", "KID vs train"),
            ("kid_memo", "KID train - held-out"), ("elhist_rr_p95", "eLhist real-real p95"),
            ("elhist_rf_p95", "eLhist real-fake p95"), ("binding", "binding fraction (mean)")]  # fmt: skip
    lines = ["| arm | seeds | " + " | ".join(k[1] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]  # fmt: skip
    for arm, by_seed in runs.items():
        cells = [_fmt([r[k] for r in by_seed.values() if r.get(k) is not None]) for k, _ in keys]
        lines.append(f"| {ARM_NAMES[arm]} | {len(by_seed)} | " + " | ".join(cells) + " |")
    # Noise floor: SN vs SRN-70 that never binds (the same network up to rounding).
    floor_rows, floors = [], {}
    for key in ("gap", "kid_test"):
        d = _paired(runs, "srn70_inert", "sn", key)
        floors[key] = (abs(mean(d)) + (2 * stdev(d) if len(d) > 1 else 0.0)) if d else 0.0
        floor_rows.append(
            f"| {key} | {len(d)} | {', '.join(f'{x:+.3g}' for x in d)} | {floors[key]:.3g} |"
        )
    verdicts = ["| SRN arm vs SN | gate (binding) | g: verdict | KID vs held-out: verdict | paired diffs g | paired diffs KID |",
                "|---|---|---|---|---|---|"]  # fmt: skip
    for arm in SRN_ARMS:
        if arm not in runs:
            continue
        binding = [r["binding"] for r in runs[arm].values() if r["binding"] is not None]
        gate_ok = bool(binding) and mean(binding) >= GATE
        dg, dk = _paired(runs, arm, "sn", "gap"), _paired(runs, arm, "sn", "kid_test")
        verdicts.append(
            f"| {ARM_NAMES[arm]} | {_fmt(binding)} ({'pass' if gate_ok else 'FAIL'}) | "
            f"{verdict(dg, floors['gap'], gate_ok)} | {verdict(dk, floors['kid_test'], gate_ok)} | "
            f"{', '.join(f'{x:+.3g}' for x in dg)} | {', '.join(f'{x:+.3g}' for x in dk)} |"
        )
    # Did the limited regime bite? SN's g on 256 vs 10 000 images.
    regime = (
        f"SN late g: 256 images {_fmt([r['gap'] for r in runs.get('sn', {}).values()])}, "
        f"10 000 images {_fmt([r['gap'] for r in runs.get('sn_large', {}).values()])}; "
        f"SRN-30: 256 images {_fmt([r['gap'] for r in runs.get('srn30', {}).values()])}, "
        f"10 000 images {_fmt([r['gap'] for r in runs.get('srn30_large', {}).values()])}"
    )
    text = "\n".join([
        "## Per arm (mean ± std over seeds; late = G-steps 1000-1500)", "", *lines, "",
        "## Noise floor (SRN-70 inert minus SN, paired by seed)", "",
        "| outcome | pairs | differences | floor = abs(mean) + 2 std |", "|---|---|---|---|", *floor_rows, "",
        "## Pre-registered verdicts", "", *verdicts, "", "## Regime check", "", regime, "",
    ])  # fmt: skip
    (out / "tables.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(runs, indent=1))
    _figures(runs, out)
    _sample_grids(runs_dir, list(runs), out)
    print(text)
    return 0


def _figures(runs: dict, out: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colours = dict(zip(ARM_NAMES, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for arm, by_seed in runs.items():
        for i, r in enumerate(by_seed.values()):
            steps, values = zip(*r["gap_curve"]) if r["gap_curve"] else ((), ())
            axes[0].plot(steps, values, color=colours[arm], alpha=0.7,
                         label=ARM_NAMES[arm] if i == 0 else None)  # fmt: skip
            if r["binding_curve"]:
                s, v = zip(*r["binding_curve"])
                axes[1].plot(s, v, color=colours[arm], alpha=0.7, marker=".",
                             label=ARM_NAMES[arm] if i == 0 else None)  # fmt: skip
    axes[0].set(xlabel="G-step", ylabel="g = (D_train - D_heldout) / (D_train - D_fake)",
                title="D's generalization gap")  # fmt: skip
    axes[0].axhline(0, color="k", lw=0.5)
    axes[1].set(xlabel="G-step", ylabel="fraction of SRN layers that bind", title="SRN binding",
                ylim=(-0.05, 1.05))  # fmt: skip
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "gap_and_binding.png", dpi=110)
    plt.close(fig)


def _sample_grids(runs_dir: Path, arms: list[str], out: Path) -> None:
    """The final sample grid of seed 0 of each arm, side by side."""
    import matplotlib.pyplot as plt

    grids = [(a, sorted((runs_dir / a / "seed0" / "samples").glob("*.png"))) for a in arms]
    grids = [(a, g[-1]) for a, g in grids if g]
    if not grids:
        return
    fig, axes = plt.subplots(1, len(grids), figsize=(2.6 * len(grids), 2.9), squeeze=False)
    for ax, (arm, path) in zip(axes[0], grids):
        ax.imshow(plt.imread(path))
        ax.set_title(ARM_NAMES[arm], fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "samples.png", dpi=120)
    plt.close(fig)
