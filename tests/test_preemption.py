"""Preemption: a signal finishes the G-step, checkpoints it, exits with status 3; resume is exact."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO, TINY, TINY_WARMUP
from test_robustness import _assert_same_state, _ckpt

from srngan.training.preemption import EXIT_PREEMPTED


def _callbacks_config(path, *callbacks):
    """A config file whose trainer.callbacks are ``(class_path, init_args)`` pairs."""
    lines = ["trainer:", "  callbacks:"]
    for class_path, init_args in callbacks:
        lines.append(f"    - class_path: {class_path}")
        if init_args:
            lines.append(f"      init_args: {init_args}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _env():
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]),
    }


def _only(pattern, folder):
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_sigterm_mid_run_checkpoints_the_g_step_and_resume_is_bitwise(tmp_path, tiny_fit):
    """A real ``srngan fit`` process group (with data loader workers) gets SIGTERM from outside
    while training, as from a scheduler."""
    slow = _callbacks_config(tmp_path / "slow.yaml", ("helpers.SlowGSteps", "{seconds: 0.1}"))
    long = ["--model.max_g_steps", "500", "--checkpoint.every_n_g_steps", "2"]
    args = ["fit", *TINY, *long, "--config", slow,
            "--trainer.logger.init_args.save_dir", str(tmp_path / "killed"),
            "--trainer.default_root_dir", str(tmp_path / "killed"), "--data.num_workers", "2"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "srngan.cli", *args], cwd=tmp_path, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("killed/*/version_*/checkpoints/gstep=0000002.ckpt")):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)  # the main process and its loader workers
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_PREEMPTED, err[-3000:]
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert message.startswith("srngan: SIGTERM: stopped after G-step "), message
    g_step = int(message.removeprefix("srngan: SIGTERM: stopped after G-step ").split(",")[0])
    assert 2 <= g_step < 500
    run = next(tmp_path.glob("killed/*/version_*"))
    name = f"gstep={g_step:07d}.ckpt"
    assert (
        f"checkpoint {run / 'checkpoints' / name} written; resume with --ckpt_path last" in message
    )
    assert _ckpt(run)["srngan"]["g_step"] == g_step  # last.ckpt: the same G-step
    assert torch.load(run / "checkpoints" / name, weights_only=False)["srngan"]["g_step"] == g_step
    assert not list(run.glob("checkpoints/.*.tmp"))  # no temporary file left behind

    # Resumed for two more G-steps it equals an uninterrupted run (same LR horizon: 500).
    # (n_dis + 1) optimizer steps per G-step, after the warm-up D steps.
    stop = ["--trainer.max_steps", str(TINY_WARMUP + (g_step + 2) * 3)]
    resume = ["fit", *TINY, *long, *stop, "--ckpt_path", "last",
              "--trainer.logger.init_args.save_dir", str(tmp_path / "killed"),
              "--trainer.default_root_dir", str(tmp_path / "killed")]  # fmt: skip
    from srngan.cli import main

    main(resume)
    assert _ckpt(run)["srngan"]["g_step"] == g_step + 2
    full = tiny_fit(tmp_path / "full", *long, *stop)
    _assert_same_state(_ckpt(full), _ckpt(run))


def test_sigusr1_stops_at_that_g_step_in_process(tmp_path, tiny_fit, capsys):
    cfg = _callbacks_config(tmp_path / "usr1.yaml", ("helpers.SendSignal", "{at_g_step: 3}"))
    before = signal.getsignal(signal.SIGUSR1)
    with pytest.raises(SystemExit) as stop:
        tiny_fit(tmp_path, "--model.max_g_steps", "8", "--config", cfg)
    assert stop.value.code == EXIT_PREEMPTED
    assert "srngan: SIGUSR1: stopped after G-step 3, checkpoint" in capsys.readouterr().err
    run = next(tmp_path.glob("*/version_*"))
    assert _ckpt(run)["srngan"]["g_step"] == 3
    # The checkpoint interval (2) and the signal both wrote their G-steps; nothing after 3.
    assert sorted(p.name for p in (run / "checkpoints").glob("gstep=*")) == [
        "gstep=0000002.ckpt",
        "gstep=0000003.ckpt",
    ]
    # The handler is put back after the run: SIGUSR1 is not intercepted outside training.
    assert signal.getsignal(signal.SIGUSR1) == before


def test_srngan_handler_replaces_lightning_slurm_auto_requeue(tmp_path, tiny_fit, monkeypatch):
    """Under a SLURM environment with Lightning's auto-requeue, SIGUSR1 still means: srngan
    checkpoint at the G-step, status 3; no hpc checkpoint, no scontrol call. Also: a config's own
    plugins keep the atomic checkpoint IO."""
    for key, value in dict(SLURM_NTASKS="1", SLURM_JOB_NAME="t", SLURM_JOB_ID="7", SLURM_PROCID="0",
                           SLURM_LOCALID="0", SLURM_NODEID="0", SLURM_NODELIST="localhost").items():  # fmt: skip
        monkeypatch.setenv(key, value)
    cfg = _callbacks_config(tmp_path / "usr1.yaml", ("helpers.SendSignal", "{at_g_step: 2}"))
    slurm = "lightning.pytorch.plugins.environments.SLURMEnvironment"
    with pytest.raises(SystemExit) as stop:
        tiny_fit(tmp_path, "--model.max_g_steps", "6", "--config", cfg,
                 "--trainer.plugins", slurm)  # fmt: skip
    assert stop.value.code == EXIT_PREEMPTED
    run = next(tmp_path.glob("*/version_*"))
    assert _ckpt(run)["srngan"]["g_step"] == 2
    assert not list(tmp_path.rglob("hpc_ckpt*"))


def test_with_atomic_checkpoints_keeps_a_configs_plugins():
    from lightning.fabric.plugins import TorchCheckpointIO
    from lightning.pytorch.plugins.environments import LightningEnvironment

    from srngan.cli import with_atomic_checkpoints
    from srngan.training.checkpoint_io import AtomicCheckpointIO

    env = LightningEnvironment()
    assert [type(p) for p in with_atomic_checkpoints(None)] == [AtomicCheckpointIO]
    assert with_atomic_checkpoints(env)[0] is env
    assert isinstance(with_atomic_checkpoints([env])[1], AtomicCheckpointIO)
    own = TorchCheckpointIO()
    assert with_atomic_checkpoints([env, own]) == [env, own]  # the config's own IO wins


def test_unknown_signal_is_one_line(tmp_path, tiny_fit, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tiny_fit(tmp_path, "--preemption.signals", "[SIGTERM, SIGBOGUS]")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("srngan: error:")]
    assert len(lines) == 1 and "preemption.signals: unknown signal 'SIGBOGUS'; allowed:" in lines[0]
    assert "SIGUSR1" in lines[0] and "Traceback" not in err


@pytest.mark.slow
def test_ddp_signal_on_one_rank_stops_every_rank_at_the_same_g_step(tmp_path):
    cfg = _callbacks_config(
        tmp_path / "usr1.yaml", ("helpers.SendSignal", "{at_g_step: 3, rank: 1}")
    )
    args = ["fit", *TINY, "--model.max_g_steps", "8", "--config", cfg,
            "--trainer.logger.init_args.save_dir", str(tmp_path), "--trainer.default_root_dir",
            str(tmp_path), "--trainer.strategy", "ddp", "--trainer.devices", "2",
            "--trainer.accelerator", "cpu"]  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "srngan.cli", *args], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == EXIT_PREEMPTED, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    messages = [x for x in result.stderr.splitlines() if x.startswith("srngan: ")]
    # The vote does not block a G-step: G-step 3's end starts it, G-step 4's end reads it, and
    # both ranks stop there together.
    assert len(messages) == 1 and "stopped after G-step 4" in messages[0], messages
    run = next(tmp_path.glob("*/version_*"))
    assert _ckpt(run)["srngan"]["g_step"] == 4


def test_signal_during_the_d_warm_up_stops_at_that_d_step_and_resumes_exactly(tmp_path, tiny_fit,
                                                                              capsys):  # fmt: skip
    """The warm-up's D steps are stop points too (a warm-up of 750 D steps takes minutes)."""
    cfg = _callbacks_config(tmp_path / "usr1.yaml", ("helpers.SendSignalAtDStep", "{at_d_step: 1}"))
    common = ["--model.max_g_steps", "3", "--checkpoint.every_n_g_steps", "100"]
    with pytest.raises(SystemExit) as stop:
        tiny_fit(tmp_path / "run", *common, "--config", cfg)
    assert stop.value.code == EXIT_PREEMPTED
    assert "srngan: SIGUSR1: stopped after G-step 0" in capsys.readouterr().err
    run = next((tmp_path / "run").glob("*/version_*"))
    state = _ckpt(run)["srngan"]
    assert state["g_step"] == 0 and state["d_warmup_done"] == 1  # inside the warm-up
    from srngan.cli import main

    main(["fit", *TINY, *common, "--ckpt_path", "last",
          "--trainer.logger.init_args.save_dir", str(tmp_path / "run"),
          "--trainer.default_root_dir", str(tmp_path / "run")])  # fmt: skip
    assert _ckpt(run)["srngan"]["g_step"] == 3
    full = tiny_fit(tmp_path / "full", *common)
    _assert_same_state(_ckpt(full), _ckpt(run))


def test_signal_during_the_final_evaluation_stops_at_the_next_critic_step(tmp_path, tiny_fit,
                                                                          capsys):  # fmt: skip
    """End-of-run ND is minutes of critic steps: each is a stop point. The resumed run trains
    nothing more and runs the final evaluation again."""
    count = tmp_path / "stop_points.txt"
    metrics = ("srngan.MetricsCallback", "{every_n_g_steps: 0, extractor: domain, metrics: [fid], "
               "final_metrics: [nd], nd_iterations: 100000, nd_eval_samples: 16, "
               "num_samples: 40, num_real: 48}")  # fmt: skip
    cfg = _callbacks_config(tmp_path / "usr1.yaml", ("helpers.SendSignalAtTrainEnd", ""), metrics,
                            ("helpers.CountStopPoints", f"{{out: {str(count)!r}}}"))  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        tiny_fit(tmp_path, "--config", cfg)
    assert stop.value.code == EXIT_PREEMPTED
    assert "srngan: SIGUSR1: stopped after G-step 3, checkpoint" in capsys.readouterr().err
    assert count.read_text() == "1"  # the first critic step of 100 000
    run = next(tmp_path.glob("*/version_*"))
    assert _ckpt(run)["srngan"]["g_step"] == 3
    assert not (run / "metrics.jsonl").exists()  # the evaluation was abandoned, not recorded
    # Resumed (as a requeued job would be): no G-step more, the final evaluation completes.
    short = _callbacks_config(tmp_path / "short.yaml",
                              ("srngan.MetricsCallback", metrics[1].replace("100000", "2")))  # fmt: skip
    from srngan.cli import main

    main(["fit", *TINY, "--config", short, "--ckpt_path", "last",
          "--trainer.logger.init_args.save_dir", str(tmp_path),
          "--trainer.default_root_dir", str(tmp_path)])  # fmt: skip
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and '"neural_divergence"' in lines[0] and '"g_step": 3' in lines[0]
    assert _ckpt(run)["srngan"]["g_step"] == 3
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "gstep=0000002.ckpt", "gstep=0000003.ckpt", "last.ckpt",
    ]  # fmt: skip
    # Resumed once more, now finished and evaluated: last.ckpt records the evaluation, so
    # nothing runs again; a metric added to final_metrics since then is all that runs.
    capsys.readouterr()
    resume = ["fit", *TINY, "--ckpt_path", "last", "--trainer.logger.init_args.save_dir",
              str(tmp_path), "--trainer.default_root_dir", str(tmp_path)]  # fmt: skip
    main([*resume, "--config", short])
    assert (run / "metrics.jsonl").read_text().splitlines() == lines
    assert "final evaluation at G-step 3 is recorded already" in capsys.readouterr().err
    more = _callbacks_config(tmp_path / "more.yaml", ("srngan.MetricsCallback", metrics[1]
                             .replace("100000", "2").replace("[nd]", "[nd, kid], kid_subset_size: 20")))  # fmt: skip
    main([*resume, "--config", more])
    added = (run / "metrics.jsonl").read_text().splitlines()
    assert added[:1] == lines and len(added) == 2
    record = json.loads(added[1])
    assert "domain_kid_mean" in record and not any("fid" in k or "neural" in k for k in record)


def test_a_finished_run_resumed_takes_no_more_steps(tmp_path, tiny_fit):
    run = tiny_fit(tmp_path)
    before = _ckpt(run)
    tiny_fit(tmp_path, "--ckpt_path", "last")
    after = _ckpt(run)
    assert after["srngan"] == before["srngan"] and after["global_step"] == before["global_step"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "gstep=0000002.ckpt", "last.ckpt",
    ]  # fmt: skip


def test_a_finished_run_resumed_does_not_repeat_the_metrics_of_its_last_g_step(tmp_path,
                                                                               tiny_fit, capsys):  # fmt: skip
    # The interval's metrics ran at the last G-step (max_g_steps 3): with no final metrics, the
    # end of the run adds nothing, and the run resumed adds nothing either.
    metrics = ("srngan.MetricsCallback", "{every_n_g_steps: 3, extractor: domain, metrics: [fid], "
               "num_samples: 40, num_real: 48}")  # fmt: skip
    cfg = _callbacks_config(tmp_path / "metrics.yaml", metrics)
    run = tiny_fit(tmp_path, "--config", cfg)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and '"g_step": 3' in lines[0] and '"domain_fid"' in lines[0]
    capsys.readouterr()
    tiny_fit(tmp_path, "--config", cfg, "--ckpt_path", "last")
    assert (run / "metrics.jsonl").read_text().splitlines() == lines
    assert "final evaluation at G-step 3 is recorded already" in capsys.readouterr().err
