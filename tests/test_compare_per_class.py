"""srngan compare: per-class Intra-FID chart, one-point series visible; export's .pt2 name."""

import json

import pytest

from srngan.analysis.compare import PER_CLASS, _plot, group_runs, per_class_values, plot_per_class
from srngan.analysis.runs import Run
from srngan.cli import main


def _run(tmp_path, name, seed, per_class, test_shift=None):
    folder = tmp_path / name / f"version_{seed}"
    folder.mkdir(parents=True)
    config = {"seed_everything": seed, "model": {"name": name.split("_")[0]}}
    (folder / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    record = {"g_step": 5, "intra_frechet_inception_distance": sum(per_class) / len(per_class)}
    record.update(
        {f"intra_frechet_inception_distance_class_{c}": v for c, v in enumerate(per_class)}
    )
    if test_shift is not None:
        record.update({f"intra_frechet_inception_distance_class_{c}_test": v + test_shift
                       for c, v in enumerate(per_class)})  # fmt: skip
    (folder / "metrics.jsonl").write_text(json.dumps(record) + "\n")
    return folder


def test_per_class_keys_are_recognised():
    assert PER_CLASS.match("intra_frechet_inception_distance_class_3")["c"] == "3"
    m = PER_CLASS.match("domain_intra_fid_class_12_test")
    assert (m["family"], m["c"], m["split"]) == ("domain_intra_fid", "12", "_test")
    assert not PER_CLASS.match("intra_frechet_inception_distance")


def test_compare_draws_each_class_across_runs(tmp_path):
    runs = [_run(tmp_path, "srn_a", 0, [10, 20, 30], test_shift=1),
            _run(tmp_path, "srn_a", 1, [14, 20, 34], test_shift=1),
            _run(tmp_path, "sn_b", 0, [40, 50, 60])]  # fmt: skip
    from srngan.analysis import read_run

    groups = group_runs([read_run(r) for r in runs])
    values = per_class_values(groups)
    assert set(values) == {
        "intra_frechet_inception_distance",
        "intra_frechet_inception_distance_test",
    }
    srn = next(v for k, v in values["intra_frechet_inception_distance"].items() if len(v[0]) == 2)
    assert srn == {0: [10, 14], 1: [20, 20], 2: [30, 34]}
    main(["compare", *map(str, runs), "--out", str(tmp_path / "cmp")])
    report = (tmp_path / "cmp" / "compare.md").read_text()
    assert "![Intra-FID per class](per_class.png)" in report
    assert (tmp_path / "cmp" / "per_class.png").stat().st_size > 5000
    header = next(line for line in report.splitlines() if line.startswith("| config"))
    assert "class_" not in header and "intra_frechet_inception_distance" in header  # mean only
    assert plot_per_class(group_runs([Run(tmp_path)]), tmp_path / "none.png") is None


def test_a_single_point_is_drawn_as_a_marker():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    (one,) = _plot(ax, [(3, 1.5)], linewidth=0.8)
    (many,) = _plot(ax, [(1, 1.0), (2, 2.0)], linewidth=0.8)
    assert one.get_marker() == "o" and many.get_marker() in ("None", None, "")


def test_export_refuses_a_name_torch_export_would_warn_about(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", "--ckpt", "x.ckpt", "--out", str(tmp_path / "G.pt")])
    assert "--out must end in .pt2" in capsys.readouterr().err
