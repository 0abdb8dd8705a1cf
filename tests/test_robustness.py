"""Runs that survive: exact resume, non-finite guard, bad input, mixed precision, DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO, TINY, TINY_WARMUP


def _ckpt(run):
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)


def _assert_same_state(a, b):
    assert a["srngan"] == b["srngan"]
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"]):
        for pid, s in opt_a["state"].items():
            for k, v in s.items():
                assert torch.equal(v, opt_b["state"][pid][k]), (pid, k)
    assert a["lr_schedulers"] == b["lr_schedulers"]
    assert torch.equal(a["srngan_rng"]["torch"], b["srngan_rng"]["torch"])


def test_exact_resume_is_bitwise(tmp_path, tiny_fit):
    common = [
        "--model.max_g_steps",
        "6",
        "--model.ema_decay",
        "0.9",
        "--checkpoint.every_n_g_steps",
        "3",
    ]
    full = tiny_fit(tmp_path / "full", *common)
    # Stop after 3 G-steps: warm-up + 3 * (n_dis + 1) optimizer steps, same LR horizon.
    half = tiny_fit(tmp_path / "half", *common, "--trainer.max_steps", str(TINY_WARMUP + 9))
    assert _ckpt(half)["srngan"]["g_step"] == 3
    resumed_dir = tmp_path / "resumed"
    resumed = tiny_fit(resumed_dir, *common, "--ckpt_path", str(half / "checkpoints" / "last.ckpt"))
    _assert_same_state(_ckpt(full), _ckpt(resumed))


def test_resume_from_last_checkpoint_of_the_run(tmp_path, tiny_fit):
    from conftest import fit_tiny  # noqa: F401  (same helper, run twice in one folder)

    from srngan.cli import main

    base = [
        "fit",
        *TINY,
        "--trainer.logger.init_args.save_dir",
        str(tmp_path),
        "--trainer.default_root_dir",
        str(tmp_path),
    ]
    main([*base, "--model.max_g_steps", "4", "--trainer.max_steps", str(TINY_WARMUP + 6)])  # 2 of 4
    main([*base, "--model.max_g_steps", "4", "--ckpt_path", "last"])
    runs = sorted(tmp_path.glob("*/version_*"))
    assert len(runs) == 1  # continued in the same run folder
    assert _ckpt(runs[0])["srngan"]["g_step"] == 4


def test_ckpt_path_last_without_a_run_is_one_line(tmp_path, capsys):
    from srngan.cli import main

    with pytest.raises(SystemExit):
        main(
            [
                "fit",
                *TINY,
                "--trainer.logger.init_args.save_dir",
                str(tmp_path),
                "--ckpt_path",
                "last",
            ]
        )
    assert "no earlier run with checkpoints/last.ckpt" in capsys.readouterr().err


def test_non_finite_stops_with_one_line_and_keeps_good_checkpoint(tmp_path, tiny_fit, capsys):
    cfg = tmp_path / "poison.yaml"
    cfg.write_text(
        "trainer:\n  callbacks:\n    - class_path: helpers.PoisonWeights\n      init_args: {at_g_step: 3}\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        tiny_fit(tmp_path, "--model.max_g_steps", "6", "--config", str(cfg))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert (err.startswith("srngan: error: non-finite") and "G-step 3" in err) or "G-step 4" in err
    run = next(tmp_path.glob("*/version_*"))
    ckpt = _ckpt(run)
    assert ckpt["srngan"]["g_step"] == 2  # saved at G-step 2, never overwritten by the NaN state
    assert all(
        torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point()
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            ["--model.regularizer", "spectral"],
            "model.regularizer: got 'spectral'; allowed: SpectralNorm, StableRankNorm, "
            "GradientPenalty, Orthonormal, null",
        ),
        (
            ["--model.loss", "lsgan"],
            "model.loss: got 'lsgan'; allowed: Hinge, NonSaturating, Wasserstein",
        ),
        (
            ["--data.dataset", "mnist"],
            "data.dataset: got 'mnist'; allowed: procedural, cifar10, cifar100, celeba, imagefolder",
        ),
        (
            ["--model.regularizer.rank_ratio", "0"],
            "rank_ratio must be in (0, 1] (1 = spectral norm), got 0",
        ),
        (["--model.n_dis", "0"], "n_dis must be >= 1, got 0"),
        # The quickstart's small nets take sides 4 * 2**k (the ResNets: 32, 48, 64).
        (
            ["--data.resolution", "48"],
            "resolution must be 4 * 2**k >= 8 (8, 16, 32, 64...), got 48",
        ),
        (
            ["--model.generator.base_chanels", "4"],
            "unknown option model.generator.base_chanels; did you mean model.generator.base_channels?",
        ),
        (
            ["--model.generator.num_classes", "3"],
            "generator has num_classes=3 but discriminator has num_classes=10",
        ),
        (
            ["--data.dataset", "cifar10", "--data.root", "/nonexistent"],
            "cifar10 not found at /nonexistent/cifar-10-batches-py",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path, tiny_fit, capsys, override, message):
    with pytest.raises(SystemExit) as exit_info:
        tiny_fit(tmp_path, *override)
    assert exit_info.value.code == 2
    lines = [
        x for x in capsys.readouterr().err.strip().splitlines() if x.startswith("srngan: error:")
    ]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in capsys.readouterr().err


def test_misspelt_key_in_config_file(tmp_path, tiny_fit, capsys):
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("model:\n  init_args:\n    discriminator:\n      init_args: {base_chanels: 4}\n")
    with pytest.raises(SystemExit):
        tiny_fit(tmp_path, "--config", str(cfg))
    err = capsys.readouterr().err
    assert "srngan: error:" in err and "base_chanels" in err
    assert "did you mean model.discriminator.base_channels?" in err


def test_bf16_mixed_precision_trains_with_float32_power_iteration(tmp_path, tiny_fit):
    from srngan.training.module import GANModule

    run = tiny_fit(tmp_path, "--trainer.precision", "bf16-mixed")
    model = GANModule.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu")
    buffers = [b for n, b in model.discriminator.named_buffers() if n.endswith(("_u", "_v"))]
    assert buffers and all(b.dtype == torch.float32 and torch.isfinite(b).all() for b in buffers)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def _run_cli(args, cwd, timeout=300):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run([sys.executable, "-m", "srngan.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


def test_ddp_two_processes_train_and_evaluate(tmp_path):
    """One 2-process fit: it trains, evaluates, keeps the SN / SRN buffers identical on both
    ranks without broadcasting them (BufferConsistency gathers them after every batch), and
    makes only the collectives GANDDPStrategy promises between checkpoints (G-steps 3-4: after
    DDP's one-off bucket rebuild, before the final checkpoint's barrier)."""
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text(
        "trainer:\n  callbacks:\n    - class_path: helpers.BufferConsistency\n"
        "    - class_path: srngan.MetricsCallback\n"
        "      init_args: {every_n_g_steps: 0, extractor: domain, metrics: [is, fid],\n"
        "                  num_samples: 40, num_is_samples: 40, num_real: 48}\n"
        "    - class_path: helpers.CountCollectives\n"
        f"      init_args: {{out: {str(tmp_path)!r}, start: 2, stop: 4}}\n"
    )
    args = ["fit", *TINY, "--trainer.logger.init_args.save_dir", str(tmp_path), "--trainer.default_root_dir",
            str(tmp_path), "--config", str(cfg), "--trainer.strategy", "ddp", "--trainer.devices", "2",
            "--trainer.accelerator", "cpu", "--model.max_g_steps", "5", "--checkpoint.every_n_g_steps", "0",
            "--samples.every_n_g_steps", "0"]  # fmt: skip
    result = _run_cli(args, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = next(tmp_path.glob("*/version_*"))
    assert _ckpt(run)["srngan"]["g_step"] == 5
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "domain_fid" in json.loads(lines[0])
    n_dis = 2  # tests/configs/tiny.yaml
    for rank in (0, 1):
        per_g_step = json.loads((tmp_path / f"collectives_rank{rank}.json").read_text())
        # all-reduces: one gradient bucket per D step (the tiny D is one bucket) and one for the
        # G step (a whole-module wrapper reduces G's and D's buckets at each of the n_dis + 1
        # backwards), the preemption vote, the logging interval's one (tiny logs every G-step).
        assert per_g_step.get("all_reduce") == n_dis + 1 + 1 + 1, per_g_step
        # broadcasts: Lightning's SIGTERM flag before every batch (its training loop, under any
        # DDP), and G's BatchNorm statistics at G's training forward (float32 and int64 buffers,
        # one coalesced sync). None for D: its buffers are the power-iteration vectors.
        assert per_g_step.get("broadcast") == n_dis + 2, per_g_step
        assert per_g_step.get("all_gather", 0) > 0  # BufferConsistency's gathers: it ran
        assert set(per_g_step) == {"all_reduce", "broadcast", "all_gather"}, per_g_step


def _evaluate_in_process(rank, world, out_dir):
    """Evaluator results from ``world`` gloo processes (rank 0 writes them)."""
    import torch.distributed as dist
    from test_evaluation import _evaluator, _generate

    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533")
        dist.init_process_group("gloo", rank=rank, world_size=world)
    results = _evaluator(16).evaluate(_generate, z_dim=8)
    if rank == 0:
        Path(out_dir, f"world{world}.json").write_text(json.dumps(results))
    if world > 1:
        dist.destroy_process_group()


def test_metrics_equal_across_process_counts(tmp_path):
    import torch.multiprocessing as mp

    _evaluate_in_process(0, 1, tmp_path)
    mp.spawn(_evaluate_in_process, args=(2, str(tmp_path)), nprocs=2, join=True)
    one = json.loads((tmp_path / "world1.json").read_text())
    two = json.loads((tmp_path / "world2.json").read_text())
    assert one.keys() == two.keys()
    for k in one:
        # float64 sums reduced in another order (features are float32 per image either way).
        # Per-class covariances here come from ~10 samples and are singular, which amplifies
        # reordering round-off to ~1e-9 relative: 1e-7 bounds it with margin.
        assert two[k] == pytest.approx(one[k], rel=1e-7, abs=1e-12), k
