"""`srngan compare` on real tiny runs: grouping by config over seeds, shared metrics, figures."""

import json

import numpy as np
import pytest

from srngan.analysis import read_run
from srngan.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import fit_tiny

    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, extra in (("srn_s0", []), ("srn_s1", ["--seed_everything", "1"]),
                        ("sn_s0", ["--model.regularizer", "SpectralNorm"])):  # fmt: skip
        out[name] = fit_tiny(root / name, *extra)
    # Metric records as MetricsCallback writes them; sn lacks one metric.
    for name, fid in (("srn_s0", 10.0), ("srn_s1", 14.0), ("sn_s0", 30.0)):
        records = [{"g_step": 2, "domain_fid": fid + 5}, {"g_step": 3, "domain_fid": fid}]
        if name != "sn_s0":
            records[-1]["neural_divergence"] = 0.5
        (out[name] / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        (out[name] / "elhist").mkdir()
        np.savez(
            out[name] / "elhist" / "gstep_0000003.npz",
            real_fake=np.random.default_rng(0).random(50),
        )
    return out


def test_compare_groups_seeds_and_reports_shared_metrics(runs, tmp_path, capsys):
    main(["compare", *(str(p) for p in runs.values()), "--out", str(tmp_path / "cmp")])
    report = (tmp_path / "cmp" / "compare.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| tiny")]  # the run name
    assert len(rows) == 2  # two configs: SRN (2 seeds) and SN (1 seed)
    srn = next(r for r in rows if "| 2 |" in r)
    assert "12 ± 2.8" in srn  # mean and sample std of 10 and 14
    assert "| 30 |" in next(r for r in rows if r is not srn)
    assert "`neural_divergence` is missing in" in report and "sn_s0" in report
    for png in ("metrics.png", "d_loss.png", "spectra.png", "elhist.png"):
        assert (tmp_path / "cmp" / png).stat().st_size > 2000, png
    assert "compared 3 runs" in capsys.readouterr().out


def test_read_run_collects_everything(runs):
    run = read_run(runs["srn_s1"])
    assert run.seed == 1 and run.final_metrics() == {"domain_fid": 14.0, "neural_divergence": 0.5}
    assert "loss/d" in run.scalars and any(
        t.startswith("spectra/stable_rank/") for t in run.scalars
    )
    assert set(run.elhist) == {"real_fake"}
    assert (
        run.experiment == read_run(runs["srn_s0"]).experiment != read_run(runs["sn_s0"]).experiment
    )


def test_not_a_run_folder_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compare", str(tmp_path), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not an srngan run folder" in err[0]
