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
PRIMARY = (("gap", "g"), ("kid_test", "KID vs held-out"))
# Secondary outcomes: (key, name, what "higher" means).
SECONDARY = (
    ("kid_memo", "KID train - held-out", "higher: less memorization by G"),
    ("nd_heldout", "ND vs held-out", "higher: G harder to tell from held-out reals"),
    ("nd_memo", "ND train - held-out", "higher: G closer to its training reals"),
    ("elhist_rr_p95", "eLhist real-real p95", "lower: D smoother between reals"),
)
FLOOR_KEYS = tuple(k for k, _ in PRIMARY) + tuple(k for k, _, _ in SECONDARY)
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
    # Share of logged steps in which each SRN layer binds (shrink factor < 1).
    shrink = {k.rsplit("/", 1)[1]: v for k, v in run.scalars.items()
              if k.startswith("spectra/srn_shrink/")}  # fmt: skip
    out["layer_binding"] = {
        layer: mean(float(f < 1) for _, f in values) for layer, values in shrink.items() if values
    }
    # ND of the final G against held-out and training reals (nd_heldout.py), when computed.
    nd = folder / "nd_heldout.json"
    if nd.is_file():
        found = json.loads(nd.read_text())
        out["nd_heldout"], out["nd_train"] = found["nd_heldout"], found["nd_train"]
        out["nd_memo"] = found["nd_train"] - found["nd_heldout"]
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


def label(diffs: list[float], floor: float) -> str:
    """The same margins as :func:`verdict`, as a direction only (secondary outcomes)."""
    if len(diffs) < 2:
        return "- (fewer than 2 paired seeds)"
    m, se = mean(diffs), stdev(diffs) / math.sqrt(len(diffs))
    margin = max(2 * se, floor)
    if abs(m) <= margin:
        return f"no detectable difference (paired mean {m:+.3g}, margin {margin:.3g})"
    return f"{'higher' if m > 0 else 'lower'} (paired mean {m:+.3g}, margin {margin:.3g})"


def _margin(diffs: list[float], floor: float) -> float | None:
    if len(diffs) < 2:
        return None
    return max(2 * stdev(diffs) / math.sqrt(len(diffs)), floor)


def analyze(runs_dir: Path, out: Path, seeds: list[int] | None = None) -> int:
    runs: dict[str, dict[int, dict]] = {}
    for arm in ARM_NAMES:
        for folder in sorted((runs_dir / arm).glob("seed*")):
            metrics = folder / "metrics.jsonl"  # finished runs only (final eLhist written)
            if metrics.is_file() and "elhist_real_real_p95" in metrics.read_text():
                runs.setdefault(arm, {})[int(folder.name[4:])] = run_summary(folder)
    out.mkdir(parents=True, exist_ok=True)
    keys = [("gap", "g (late mean)"), ("kid_test", "KID vs held-out"), ("kid_train", "KID vs train"),
            ("kid_memo", "KID train - held-out"), ("elhist_rr_p95", "eLhist real-real p95"),
            ("elhist_rf_p95", "eLhist real-fake p95"), ("nd_heldout", "ND vs held-out"),
            ("nd_train", "ND vs train"), ("nd_memo", "ND train - held-out"),
            ("binding", "binding fraction (mean)")]  # fmt: skip
    lines = ["| arm | seeds | " + " | ".join(k[1] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]  # fmt: skip
    for arm, by_seed in runs.items():
        cells = [_fmt([r[k] for r in by_seed.values() if r.get(k) is not None]) for k, _ in keys]
        lines.append(f"| {ARM_NAMES[arm]} | {len(by_seed)} | " + " | ".join(cells) + " |")
    # Noise floor: SN vs SRN-70 that never binds (the same network up to rounding).
    floor_rows, floors = [], {}
    for key in FLOOR_KEYS:
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
    secondary = ["| SRN arm vs SN | " + " | ".join(f"{n} ({h})" for _, n, h in SECONDARY) + " |",
                 "|---|" + "---|" * len(SECONDARY)]  # fmt: skip
    power = ["| SRN arm vs SN | outcome | pairs | SN mean | margin = max(2 SE, floor) | margin / abs(SN mean) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for arm in SRN_ARMS:
        if arm not in runs:
            continue
        cells = [label(_paired(runs, arm, "sn", k), floors[k]) for k, _, _ in SECONDARY]
        secondary.append(f"| {ARM_NAMES[arm]} | " + " | ".join(cells) + " |")
        for key, name in [*PRIMARY, *((k, n) for k, n, _ in SECONDARY)]:
            d = _paired(runs, arm, "sn", key)
            sn_vals = [r[key] for r in runs.get("sn", {}).values() if r.get(key) is not None]
            m = _margin(d, floors[key])
            if m is None or not sn_vals:
                continue
            rel = m / abs(mean(sn_vals)) if mean(sn_vals) else float("nan")
            power.append(f"| {ARM_NAMES[arm]} | {name} | {len(d)} | {mean(sn_vals):.4g} | "
                         f"{m:.3g} | {100 * rel:.0f} % |")  # fmt: skip
    layers = sorted({la for by in runs.values() for r in by.values() for la in r["layer_binding"]})
    per_layer = ["| arm | seeds | " + " | ".join(layers) + " |", "|---|---|" + "---|" * len(layers)]
    for arm, by_seed in runs.items():
        if not any(r["layer_binding"] for r in by_seed.values()):
            continue
        cells = [_fmt([r["layer_binding"][la] for r in by_seed.values() if la in r["layer_binding"]])
                 for la in layers]  # fmt: skip
        per_layer.append(f"| {ARM_NAMES[arm]} | {len(by_seed)} | " + " | ".join(cells) + " |")
    regime_rows = ["| pair | seed | g, 256 images | g, 10 000 images | smaller with 10 000 |",
                   "|---|---|---|---|---|"]  # fmt: skip
    for small, large in (("sn", "sn_large"), ("srn30", "srn30_large")):
        for seed in sorted(set(runs.get(small, {})) & set(runs.get(large, {}))):
            a, b = runs[small][seed]["gap"], runs[large][seed]["gap"]
            if a is not None and b is not None:
                regime_rows.append(f"| {ARM_NAMES[small]} | {seed} | {a:.4g} | {b:.4g} | "
                                   f"{'yes' if b < a else 'NO'} |")  # fmt: skip
    sn_pairs = [r for r in regime_rows[2:] if r.startswith(f"| {ARM_NAMES['sn']} |")]
    regime_seen, regime_ok = (
        bool(sn_pairs),
        bool(sn_pairs) and all("| yes |" in r for r in sn_pairs),
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
        "## Pre-registered verdicts", "", *verdicts, "",
        "## Secondary outcomes (same margins, direction only; SRN arm minus SN, paired)", "",
        *secondary, "",
        "## Smallest difference the seeds could detect (the rule's margin)", "", *power, "",
        "## Share of logged steps in which each SRN layer binds (mean ± std over seeds)", "",
        *per_layer, "",
        "## Regime check", "", regime, "", *regime_rows, "",
        "Limited regime bites (SN's g smaller with 10 000 images in every paired seed): "
        + ("yes" if regime_ok else "NO (every verdict: not tested)" if regime_seen else "-"), "",
    ])  # fmt: skip
    text += "\n" + _times(runs_dir)
    (out / "tables.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(runs, indent=1))
    _figures(runs, out)
    _sample_grids(runs_dir, list(runs), out)
    print(text)
    return 0


def _times(runs_dir: Path) -> str:
    """Wall and CPU minutes of each run, from ``times.jsonl`` (run.py; CPU time with --jobs 1)."""
    path = runs_dir / "times.jsonl"
    if not path.is_file():
        return ""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = ["## Times (`times.jsonl`; CPU minutes recorded for one-job runs only)", "",
             "| arm | seed | jobs at a time | started (UTC) | wall min | CPU min | load (1-min) start / end |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        load = f"{r['load1_start']:.1f} / {r['load1_end']:.1f}" if "load1_start" in r else "-"
        lines.append(f"| {ARM_NAMES.get(r['arm'], r['arm'])} | {r['seed']} | {r.get('jobs', '-')} | "
                     f"{r.get('started_utc', '-')} | {r['minutes']:.1f} | "
                     f"{r['cpu_minutes']:.2f} | {load} |" if "cpu_minutes" in r else
                     f"| {ARM_NAMES.get(r['arm'], r['arm'])} | {r['seed']} | {r.get('jobs', '-')} | "
                     f"{r.get('started_utc', '-')} | {r['minutes']:.1f} | - | {load} |")  # fmt: skip
    cpu = [r["cpu_minutes"] for r in rows if "cpu_minutes" in r]
    if cpu:
        lines += ["", f"One-job runs: {len(cpu)}, CPU minutes {min(cpu):.2f}-{max(cpu):.2f} "
                      f"(mean {mean(cpu):.2f}), wall minutes "
                      f"{min(r['minutes'] for r in rows if 'cpu_minutes' in r):.1f}-"
                      f"{max(r['minutes'] for r in rows if 'cpu_minutes' in r):.1f}."]  # fmt: skip
    return "\n".join(lines) + "\n"


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
