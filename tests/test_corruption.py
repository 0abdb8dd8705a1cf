"""Checkpoints survive: atomic writes, resume past corrupt files, emergency checkpoint on a crash."""

import shutil

import pytest
import torch
from conftest import TINY
from test_robustness import _assert_same_state, _ckpt

from srngan.cli import main


@pytest.fixture(scope="module")
def run_of_4(tmp_path_factory):
    """A tiny run of 4 G-steps: gstep=0000002.ckpt, gstep=0000004.ckpt, last.ckpt (4)."""
    from conftest import fit_tiny

    root = tmp_path_factory.mktemp("run4")
    run = fit_tiny(root, "--model.max_g_steps", "4", "--model.lr_decay", "none")
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["gstep=0000002.ckpt", "gstep=0000004.ckpt", "last.ckpt"], names
    return root


def _copy(run_root, tmp_path):
    shutil.copytree(run_root, tmp_path / "runs")
    return tmp_path / "runs", next((tmp_path / "runs").glob("*/version_*")) / "checkpoints"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _fit(root, *overrides):
    main(["fit", *TINY, "--model.lr_decay", "none", "--trainer.logger.init_args.save_dir",
          str(root), "--trainer.default_root_dir", str(root), *overrides])  # fmt: skip


def _error_lines(err):
    return [x for x in err.strip().splitlines() if x.startswith("srngan: error:")]


def test_atomic_save_never_leaves_a_partial_file(tmp_path, monkeypatch):
    from srngan.training.checkpoint_io import AtomicCheckpointIO

    target = tmp_path / "ckpts" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, target)
    good = target.read_bytes()

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, target)
    assert target.read_bytes() == good  # the previous checkpoint is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]  # no temporary left


def test_ckpt_path_last_skips_truncated_checkpoints(tmp_path, run_of_4, capsys):
    root, ckpts = _copy(run_of_4, tmp_path)
    _truncate(ckpts / "last.ckpt")
    _truncate(ckpts / "gstep=0000004.ckpt")
    (ckpts / ".last.ckpt.x1y2.tmp").write_bytes(b"PK half")  # a write cut short by SIGKILL
    _fit(root, "--model.max_g_steps", "6", "--ckpt_path", "last")
    assert not list(ckpts.glob(".*.tmp"))  # removed by the resumed run
    err = capsys.readouterr().err
    warnings = [x for x in err.splitlines() if x.startswith("srngan: warning: skipping")]
    assert len(warnings) == 2, err[-2000:]
    assert str(ckpts / "last.ckpt") in warnings[0] and "unreadable" in warnings[0]
    assert str(ckpts / "gstep=0000004.ckpt") in warnings[1]
    assert f"resuming from {ckpts / 'gstep=0000002.ckpt'}" in err
    assert _ckpt(ckpts.parent)["srngan"]["g_step"] == 6  # resumed at 2, trained to 6, same folder
    assert len(list(root.glob("*/version_*"))) == 1


def test_resume_picks_the_newest_readable_checkpoint_by_g_step(tmp_path, run_of_4, capsys):
    """A newer G-step file than last.ckpt (e.g. an emergency checkpoint) wins."""
    root, ckpts = _copy(run_of_4, tmp_path)
    shutil.copy(ckpts / "gstep=0000002.ckpt", ckpts / "last.ckpt")  # last.ckpt lags behind
    _fit(root, "--model.max_g_steps", "4", "--ckpt_path", "last")
    assert f"resuming from {ckpts / 'gstep=0000004.ckpt'}" in capsys.readouterr().err


def test_ckpt_path_last_with_only_unreadable_checkpoints_is_one_line(tmp_path, run_of_4, capsys):
    root, ckpts = _copy(run_of_4, tmp_path)
    for p in ckpts.iterdir():
        p.write_bytes(b"")
    with pytest.raises(SystemExit) as exit_info:
        _fit(root, "--model.max_g_steps", "6", "--ckpt_path", "last")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    (line,) = _error_lines(err)
    assert f"no readable checkpoint in {ckpts} (3 unreadable:" in line
    assert "Traceback" not in err


@pytest.mark.parametrize("damage", ["truncated", "missing", "not a checkpoint"])
def test_explicit_unreadable_ckpt_path_is_one_line(tmp_path, run_of_4, capsys, damage):
    _, ckpts = _copy(run_of_4, tmp_path)
    path = ckpts / "last.ckpt"
    if damage == "truncated":
        _truncate(path)
        expected = (
            f"checkpoint {path} is unreadable (truncated or corrupt): RuntimeError: "
            "PytorchStreamReader failed reading zip archive: failed finding central directory"
        )
    elif damage == "missing":
        path = ckpts / "nope.ckpt"
        expected = f"--ckpt_path {path}: no such file; allowed: a checkpoint file, or last"
    else:
        path.write_text("hello")
        expected = f"checkpoint {path} is unreadable"
    with pytest.raises(SystemExit) as exit_info:
        _fit(tmp_path / "new", "--ckpt_path", str(path))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    (line,) = _error_lines(err)
    assert expected in line
    assert "Traceback" not in err


def _raise_config(tmp_path, *callbacks):
    cfg = tmp_path / "raise.yaml"
    body = "".join(
        f"    - class_path: helpers.{name}\n      init_args: {{at_g_step: {k}}}\n"
        for name, k in callbacks
    )
    cfg.write_text("trainer:\n  callbacks:\n" + body)
    return str(cfg)


def test_crash_writes_an_emergency_checkpoint_that_resumes_exactly(tmp_path, tiny_fit, capsys):
    common = ["--model.max_g_steps", "5", "--model.ema_decay", "0.9"]
    crash = _raise_config(tmp_path, ("RaiseAt", 3))
    root = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="boom at G-step 3"):
        _fit(root, *common, "--config", crash)
    run = next(root.glob("*/version_*"))
    emergency = run / "checkpoints" / "emergency-gstep=0000003.ckpt"
    err = capsys.readouterr().err
    assert f"srngan: crashed after 3 G-steps; emergency checkpoint {emergency} written" in err
    assert _ckpt(run)["srngan"]["g_step"] == 2  # the regular checkpoints are untouched
    assert torch.load(emergency, weights_only=False)["srngan"]["g_step"] == 3

    _fit(root, *common, "--ckpt_path", "last")  # the bug fixed: continue from the crash
    assert f"resuming from {emergency}" in capsys.readouterr().err
    full = tiny_fit(tmp_path / "full", *common, "--model.lr_decay", "none")
    _assert_same_state(_ckpt(full), _ckpt(run))


def test_crash_with_non_finite_weights_saves_nothing(tmp_path, capsys):
    root = tmp_path / "crashed"
    crash = _raise_config(tmp_path, ("PoisonWeights", 3), ("RaiseAt", 3))
    with pytest.raises(RuntimeError, match="boom at G-step 3"):
        _fit(root, "--model.max_g_steps", "5", "--config", crash)
    assert "not saving the crashed state at G-step 3: non-finite weights" in capsys.readouterr().err
    run = next(root.glob("*/version_*"))
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "gstep=0000002.ckpt",
        "last.ckpt",
    ]


def test_ctrl_c_writes_an_emergency_checkpoint(tmp_path, capsys):
    """SIGINT is not a preemption signal by default: Lightning's KeyboardInterrupt shutdown
    (exit status 1), after the emergency checkpoint of the state at that moment."""
    import signal

    # As in a terminal: a shell starting the tests in the background (``cmd &``) ignores
    # SIGINT, and Python then installs no KeyboardInterrupt handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_run(tmp_path, capsys)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_run(tmp_path, capsys):
    root = tmp_path / "interrupted"
    cfg = tmp_path / "int.yaml"
    cfg.write_text(
        "trainer:\n  callbacks:\n    - class_path: helpers.SendSignal\n"
        "      init_args: {at_g_step: 3, signal: SIGINT}\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        _fit(root, "--model.max_g_steps", "6", "--config", str(cfg))
    assert exit_info.value.code == 1
    run = next(root.glob("*/version_*"))
    emergency = run / "checkpoints" / "emergency-gstep=0000003.ckpt"
    assert f"emergency checkpoint {emergency} written" in capsys.readouterr().err
    assert torch.load(emergency, weights_only=False)["srngan"]["g_step"] == 3
