"""The paper-claim experiments of issue 13 (experiments/gan): every config composes, and a tiny
version of one experiment runs, resumes by skipping finished runs, and is analyzed."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys

import pytest
from conftest import REPO

from srngan.analysis.runs import read_run
from srngan.cli import main

EXPERIMENTS = REPO / "experiments" / "gan"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load("run")
analyze = _load("analyze")

# The small base config shrunk to seconds (same idea as conftest.TINY).
TINY = [
    "--model.max_g_steps", "4", "--model.n_dis", "1",
    "--model.generator.base_channels", "8", "--model.discriminator.base_channels", "8",
    "--model.g_batch_size", "8", "--model.log_every_n_g_steps", "1",
    "--data.num_images", "64", "--data.batch_size", "8",
    "--spectra.every_n_g_steps", "1", "--samples.every_n_g_steps", "0",
    "--checkpoint.every_n_g_steps", "2", "--trainer.enable_model_summary", "false",
    "--trainer.callbacks.init_args.every_n_g_steps", "2",
    "--trainer.callbacks.init_args.num_samples", "64",
    "--trainer.callbacks.init_args.num_is_samples", "64",
    "--trainer.callbacks.init_args.num_real", "64",
    "--trainer.callbacks.init_args.kid_subsets", "2",
    "--trainer.callbacks.init_args.kid_subset_size", "32",
    "--trainer.callbacks.init_args.nd_iterations", "3",
    "--trainer.callbacks.init_args.nd_eval_samples", "64",
    "--trainer.callbacks.init_args.elhist_pairs", "40",
]  # fmt: skip


@pytest.mark.parametrize("scale", ["small", "cifar10"])
@pytest.mark.parametrize("experiment", sorted(run.EXPERIMENTS))
def test_every_run_of_an_experiment_composes(experiment, scale, capsys, tmp_path):
    assert run.main([experiment, "--scale", scale, "--dry-run", "--runs-dir", str(tmp_path)]) == 0
    commands = [shlex.split(line) for line in capsys.readouterr().out.splitlines()]
    fits = [c for c in commands if c[1] == "fit"]
    assert len(fits) == 3 * len(run.EXPERIMENTS[experiment])  # default seeds 0 1 2
    assert commands[-1][1] == "compare" and len(commands[-1]) == 2 + len(fits) + 2
    for variant in run.EXPERIMENTS[experiment]:
        args = run.fit_command(tmp_path / variant, scale, variant, 0)[1:]
        with pytest.raises(SystemExit) as done:
            main([*args, "--print_config"])
        assert done.value.code in (0, None)
        config = capsys.readouterr().out
        assert f"name: {variant}" in config and "seed_everything: 0" in config
        if variant.startswith("srn"):
            assert f"rank_ratio: 0.{variant[3:5].rstrip('0') or '0'}" in config


def test_unknown_variant_is_one_line_naming_the_allowed_ones(capsys):
    with pytest.raises(SystemExit):
        run.main(["rank_ratio", "--variants", "srn99", "--dry-run"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("unknown variant(s) srn99; allowed: srn10, srn30, srn50, srn70, sn")


@pytest.mark.slow  # two fits, a rerun and the analysis in fresh processes (39 s on 2 cores)
def test_tiny_experiment_runs_skips_finished_runs_and_is_analyzed(tmp_path):
    cmd = [sys.executable, str(EXPERIMENTS / "run.py"), "rank_ratio", "--variants", "srn10",
           "sn", "--seeds", "0", "--threads", "1", "--runs-dir", str(tmp_path / "runs"),
           "--out", str(tmp_path / "compare"), "--", *TINY]  # fmt: skip
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert (tmp_path / "compare" / "compare.md").is_file()
    times = (tmp_path / "runs" / "times.jsonl").read_text().splitlines()
    assert [json.loads(t)["rc"] for t in times] == [0, 0]

    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    assert again.stdout.count("[skip]") == 2 and "[run]" not in again.stdout

    # SRN-10 holds every logged layer at <= 0.1 min(m, n) (1 %: power iteration); SN does not.
    srn10 = read_run(tmp_path / "runs" / "small" / "srn10" / "seed0")
    sn = read_run(tmp_path / "runs" / "small" / "sn" / "seed0")
    sizes = analyze.layer_sizes(srn10)
    assert sizes == {"conv0": 8, "convs.0": 16, "convs.1": 32, "convs.2": 64, "linear": 1}
    for layer in ("convs.0", "convs.1", "convs.2"):
        tag = f"spectra/stable_rank/{layer}"
        assert [step for step, _ in srn10.scalars[tag]] == [0, 1, 2, 3, 4]  # from G-step 0
        assert max(v for _, v in srn10.scalars[tag]) <= 0.101 * sizes[layer]
        assert min(v for _, v in sn.scalars[tag]) > 0.3 * sizes[layer]

    analyze.main(["--runs", str(tmp_path / "runs" / "small"), "--out", str(tmp_path / "claims")])
    claims = (tmp_path / "claims" / "claims.md").read_text()
    for heading in ("## (a)", "## (c)", "## (d)"):
        assert heading in claims
    assert "| SRN-10 (c = 0.1) | 1 |" in claims and "| SN (c = 1.0) | 1 |" in claims
    for png in ("fig5a_rank_ratio.png", "fig17_d_loss.png", "stable_rank.png"):
        assert (tmp_path / "claims" / png).stat().st_size > 1000


# ---------------------------------------------------------------- issue 21: generalization
GEN = REPO / "experiments" / "generalization"


def _load_gen(name: str):
    spec = importlib.util.spec_from_file_location(f"gen_{name}", GEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(GEN))
    spec.loader.exec_module(module)
    return module


gen_run = _load_gen("run")

GEN_TINY = [
    "--model.init_args.max_g_steps", "3", "--model.init_args.n_dis", "1",
    "--model.init_args.generator.init_args.base_channels", "8",
    "--model.init_args.discriminator.init_args.base_channels", "8",
    "--model.init_args.g_batch_size", "8", "--data.init_args.num_images", "32",
    "--data.init_args.num_heldout_images", "32", "--data.init_args.batch_size", "8",
    "--spectra.every_n_g_steps", "1", "--checkpoint.every_n_g_steps", "0",
    "--samples.every_n_g_steps", "0",
]  # fmt: skip


def test_every_generalization_arm_composes(capsys, tmp_path):
    for arm in gen_run.ARMS:
        args = gen_run.command(tmp_path, arm, 0, [])[1:]
        with pytest.raises(SystemExit) as done:
            main([*args, "--print_config"])
        assert done.value.code in (0, None)
        config = capsys.readouterr().out
        assert "num_heldout_images: 256" in config and f"name: {arm}" in config
        assert ("weight_init: orthogonal" in config) == arm.endswith("ortho")
        assert ("num_images: 10000" in config) == arm.endswith("large")


GEN_TINY_CALLBACKS = """
trainer:
  callbacks:
    - class_path: srngan.training.generalization.GeneralizationGap
      init_args: {every_n_g_steps: 1, num_images: 16}
    - class_path: srngan.MetricsCallback
      init_args: {every_n_g_steps: 2, extractor: domain, metrics: [kid],
                  reference_splits: [train, test], num_samples: 32, num_real: 32,
                  kid_subsets: 2, kid_subset_size: 16, final_metrics: [elhist], elhist_pairs: 20}
"""


def test_tiny_generalization_experiment_runs_and_is_analyzed(tmp_path):
    runs = tmp_path / "runs"
    callbacks = tmp_path / "callbacks.yaml"
    callbacks.write_text(GEN_TINY_CALLBACKS)
    cmd = [sys.executable, str(GEN / "run.py"), "--runs", "sn:0", "srn70_ortho:0",
           "--runs-dir", str(runs), "--", *GEN_TINY, "--config", str(callbacks)]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    analyze_gen = _load_gen("analyze")
    analyze_gen.LATE = (0, 3)  # the tiny runs' whole length
    assert analyze_gen.analyze(runs, tmp_path / "out") == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["srn70_ortho"]["0"]["binding"] > 0.5  # orthogonal init: binds
    assert summary["sn"]["0"]["binding"] is None  # no SRN layer
    assert summary["sn"]["0"]["kid_test"] is not None and summary["sn"]["0"]["gap"] is not None
    tables = (tmp_path / "out" / "tables.md").read_text()
    assert "SRN-70 (orthogonal init)" in tables and "(pass)" in tables
    assert (tmp_path / "out" / "gap_and_binding.png").stat().st_size > 1000
