"""docs/training.md "Bring your own model" (the README's short version points there): the user's
DCGAN module, term and YAML, trained, sampled, exported, evaluated and reloaded with no srngan
change: ``srngan fit`` in a fresh process, as the user runs it, the other commands in this one."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import REPO

EXAMPLE = REPO / "examples"
PAGE = (REPO / "docs" / "training.md").read_text()


def _section() -> str:
    start = PAGE.index("## Bring your own model")
    end = PAGE.find("\n## ", start + 1)
    return PAGE[start : end if end > 0 else len(PAGE)]


def test_readme_shows_the_example_files_verbatim():
    section = _section()
    for name in ("my_gan.py", "my_gan.yaml"):
        assert (EXAMPLE / name).read_text().strip() in section, name


def _commands() -> list[list[str]]:
    block = re.search(r"```bash\n(.*?)```", _section(), re.S).group(1)
    return [line.split("#")[0].split() for line in block.splitlines() if line.startswith("srngan ")]


def _run(args: list[str], cwd, env) -> str:
    result = subprocess.run([sys.executable, "-m", "srngan.cli", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, (args, result.stderr[-3000:])
    return result.stdout


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    for name in ("my_gan.py", "my_gan.yaml"):
        (folder / name).write_text((EXAMPLE / name).read_text())
    return folder


def test_user_networks_train_sample_export_evaluate_reload(
    user_folder, inception_weights, monkeypatch, capsys
):
    path = os.pathsep.join([str(user_folder), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "SRNGAN_INCEPTION_WEIGHTS": str(inception_weights)}
    tiny = {  # the README's commands, shrunk to seconds
        "fit": ["--model.max_g_steps", "3", "--data.init_args.num_images", "64",
                "--model.log_every_n_g_steps", "1",
                "--checkpoint.every_n_g_steps", "2", "--trainer.accelerator", "cpu"],
        "sample": [],
        "export": [],
        "evaluate": ["--num-samples", "20", "--num-is-samples", "20", "--num-real", "20",
                     "--device", "cpu"],
    }  # fmt: skip
    commands = _commands()
    assert [c[1] for c in commands] == ["fit", "sample", "export", "evaluate"]
    # fit as the user runs it: a fresh process that finds my_gan on PYTHONPATH...
    _run([*commands[0][1:], *tiny["fit"]], user_folder, env)
    # ...the other commands in this process (each one loads the checkpoint, which names the
    # user's classes; the module is importable from the folder, as on the user's path).
    from srngan.cli import main

    monkeypatch.chdir(user_folder)
    monkeypatch.syspath_prepend(str(user_folder))
    monkeypatch.setenv("SRNGAN_INCEPTION_WEIGHTS", str(inception_weights))
    for command in commands[1:]:
        args = command[1:]
        if args[0] == "sample":
            args[args.index("--num-samples") + 1] = "8"
        main([*args, *tiny[args[0]]])
    assert "frechet_inception_distance" in capsys.readouterr().out
    ckpt = user_folder / "runs" / "my_gan" / "version_0" / "checkpoints" / "last.ckpt"
    assert (user_folder / "samples.png").stat().st_size > 500
    assert (user_folder / "G.pt2").is_file()
    # GANModule.load_from_checkpoint rebuilds the user's classes (importable at load time).
    from srngan.nn._srn import _StableRankNorm
    from srngan.training.module import GANModule

    m = GANModule.load_from_checkpoint(ckpt, map_location="cpu")
    assert (type(m.generator).__module__, type(m.generator).__name__) == (
        "my_gan",
        "DCGANGenerator",
    )
    assert type(m.discriminator).__name__ == "DCGANDiscriminator"
    assert type(m.regularizer).__name__ == "StableRankNorm" and m.g_step == 3
    assert [type(t).__name__ for t in m.terms] == ["DriftPenalty"]
    # The user's term was trained and logged under its own key.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(ckpt.parents[1]))
    events.Reload()
    assert "loss/d_drift_penalty" in events.Tags()["scalars"]
    # three convs and the linear head of D, all SRN
    assert sum(isinstance(x, _StableRankNorm) for x in m.discriminator.modules()) == 4


def test_unimportable_user_module_is_one_line(user_folder, tmp_path):
    ckpt = user_folder / "runs" / "my_gan" / "version_0" / "checkpoints" / "last.ckpt"
    if not ckpt.is_file():
        pytest.skip("needs the trained checkpoint of the previous test")
    env = dict(os.environ)  # my_gan is not on the path here
    result = subprocess.run([sys.executable, "-m", "srngan.cli", "sample", "--ckpt", str(ckpt), "--num-samples",
                             "2", "--out", str(tmp_path / "x")], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("srngan: error: checkpoint") and "my_gan" in err[0]
