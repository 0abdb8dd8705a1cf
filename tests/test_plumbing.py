"""One of each piece of plumbing: the atomic writer, the rank helper, the hparams helper, the
checkpoint reader, and cli.py keeping only the command line."""

from __future__ import annotations

import ast
import functools
import os
from pathlib import Path

import pytest
import torch
from torch import nn

from srngan.atomic import append_line, atomic_path, atomic_torch_save, stale_temporaries
from srngan.ranks import is_rank_zero, process_rank, world_size

PACKAGE = Path(__file__).resolve().parents[1] / "srngan"


# ------------------------------------------------------------------ the atomic writer
def test_atomic_file_replaces_on_success_and_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "sub" / "stats.bin"
    with atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp.name.startswith(".stats.bin.")
        tmp.write_bytes(b"one")
    assert path.read_bytes() == b"one"
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"one" and sorted(p.name for p in path.parent.iterdir()) == [
        "stats.bin"
    ]


def test_atomic_folder_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "samples"
    out.mkdir()
    (out / "stale.png").write_bytes(b"x")
    with atomic_path(out, is_dir=True) as tmp:
        (tmp / "0.png").write_bytes(b"png")
    assert [p.name for p in out.iterdir()] == ["0.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["samples"]


def test_atomic_writer_fsyncs_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    atomic_torch_save({"a": torch.ones(2)}, tmp_path / "x.ckpt")
    assert len(synced) == 2  # the file, then its folder (the rename)
    assert torch.equal(torch.load(tmp_path / "x.ckpt")["a"], torch.ones(2))


def test_append_line_adds_whole_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_line(path, '{"g_step": 1}')
    path.write_text(path.read_text() + '{"g_step": 2}')  # a writer without the newline
    append_line(path, '{"g_step": 3}\n')
    assert path.read_text().splitlines() == ['{"g_step": 1}', '{"g_step": 2}', '{"g_step": 3}']


def test_stale_temporaries_are_only_the_writers_own(tmp_path):
    (tmp_path / ".last.ckpt.abc.tmp").write_bytes(b"")
    (tmp_path / ".hidden").write_bytes(b"")
    (tmp_path / "last.ckpt").write_bytes(b"")
    assert [p.name for p in stale_temporaries(tmp_path, "*.ckpt")] == [".last.ckpt.abc.tmp"]
    assert stale_temporaries(tmp_path / "missing") == []


def test_no_other_atomic_writer_in_the_files_this_work_owns():
    # os.replace (the rename of an atomic write) appears only in srngan.atomic there.
    owned = [*PACKAGE.glob("training/*.py"), *PACKAGE.glob("commands/*.py"), PACKAGE / "cli.py",
             *PACKAGE.glob("classification/*.py"), *PACKAGE.glob("data/*.py")]  # fmt: skip
    users = [p.name for p in owned if "os.replace(" in p.read_text()]
    assert users == []


# ------------------------------------------------------------------ the rank helper
@pytest.mark.parametrize(
    ("env", "rank", "world"),
    [({}, 0, 1), ({"RANK": "3", "WORLD_SIZE": "4"}, 3, 4),
     ({"SLURM_PROCID": "1", "SLURM_NTASKS": "2"}, 1, 2), ({"LOCAL_RANK": "2"}, 2, 1)],
)  # fmt: skip
def test_rank_from_the_launchers_environment(monkeypatch, env, rank, world):
    for key in ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert (process_rank(), world_size(), is_rank_zero()) == (rank, world, rank == 0)
    # Without a process group a process takes all the data, whatever the environment says.
    assert (process_rank(from_environment=False), world_size(from_environment=False)) == (0, 1)


def test_one_rank_helper():
    # Nothing owned by this work asks torch.distributed or the environment for its rank itself.
    owned = [PACKAGE / "cli.py", *PACKAGE.glob("training/*.py"), *PACKAGE.glob("data/*.py"),
             *PACKAGE.glob("commands/*.py"), *PACKAGE.glob("classification/*.py")]  # fmt: skip
    asking = [p.name for p in owned if "get_rank()" in p.read_text() or '"RANK"' in p.read_text()]
    assert asking == []


# ------------------------------------------------------------------ the hparams helper


def _module_class():
    import lightning as L

    from srngan.training.hparams import save_hparams_without_objects

    class Module(L.LightningModule):
        def __init__(self, network: nn.Module, scale: float = 2.0) -> None:
            super().__init__()
            save_hparams_without_objects(self, ["network"])
            self.network = network

    return Module


def test_hparams_keep_the_config_of_an_object_and_drop_the_object(recwarn):
    from srngan._lightning_private import cli_hyperparameters

    module_class = _module_class()
    built = module_class(nn.Linear(2, 2), scale=3.0)
    assert dict(built.hparams) == {"scale": 3.0}  # the object is not a hyperparameter
    assert not [w for w in recwarn if "is an instance of `nn.Module`" in str(w.message)]
    config = {"class_path": "torch.nn.Linear", "init_args": {"in_features": 2, "out_features": 2}}
    with cli_hyperparameters({"_class_path": "x.Module", "network": config, "scale": 3.0}):
        from_cli = module_class(nn.Linear(2, 2), scale=3.0)
    assert from_cli.hparams["network"] == config and from_cli.hparams["scale"] == 3.0


def test_what_counts_as_a_config():
    from srngan.training.hparams import is_config

    config = {"class_path": "srngan.terms.ModeSeeking", "init_args": {"weight": 0.25}}
    assert is_config(config) and is_config([config, config]) and is_config(None) and is_config([])
    assert not is_config(nn.Linear(1, 1)) and not is_config([config, nn.Linear(1, 1)])


# ------------------------------------------------------------------ the checkpoint reader
def test_one_checkpoint_reader():
    """torch.load of a checkpoint happens in srngan.training.checkpoint_io alone (of the files
    this work owns)."""
    owned = [PACKAGE / "cli.py", *PACKAGE.glob("training/*.py"), *PACKAGE.glob("commands/*.py"),
             *PACKAGE.glob("classification/*.py")]  # fmt: skip
    readers = [p.name for p in owned if "torch.load(" in p.read_text()]
    assert readers == ["checkpoint_io.py"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"garbage", r"is unreadable \(truncated or corrupt\)"),
     ({"weights": 1}, "is not an srngan checkpoint")],
)  # fmt: skip
def test_the_reader_errors_are_one_line(tmp_path, content, message):
    from srngan.errors import CommandError
    from srngan.training.checkpoint_io import UnreadableCheckpoint, read_checkpoint

    path = tmp_path / "x.ckpt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)
    with pytest.raises(UnreadableCheckpoint, match=message) as info:
        read_checkpoint(path)
    assert "\n" not in str(info.value) and isinstance(info.value, (ValueError, CommandError))


# ------------------------------------------------------------------ cli.py keeps the CLI
def test_cli_defines_no_resume_discovery_or_error_translation():
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    elsewhere = {"find_last_checkpoint", "best_readable_checkpoint", "one_line_message",
                 "one_line_parse_error", "read_checkpoint"}  # fmt: skip
    assert functions & elsewhere == set()


# ------------------------------------------------------------------ the data module, built once
def test_the_data_module_is_built_once_and_fills_the_networks(monkeypatch):
    from srngan.cli import instantiate
    from srngan.data.datamodule import GANDataModule

    built = []
    original = GANDataModule.__init__

    @functools.wraps(original)  # the signature jsonargparse reads
    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(GANDataModule, "__init__", counting)
    config = PACKAGE.parent / "tests" / "configs" / "tiny.yaml"
    model, data = instantiate("--config", str(config), "--data.num_procedural_classes", "6")
    assert built == [data]  # one data module: the one training uses
    assert model.generator.num_classes == 6 and model.generator.resolution == data.resolution == 32
