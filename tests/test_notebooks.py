"""The notebooks in notebooks/ run top to bottom (small settings) and are committed without outputs.

Each notebook's first code cell reads ``SRNGAN_NOTEBOOK_FAST=1`` (small settings),
``SRNGAN_NOTEBOOK_OUT`` (where it writes) and, for notebook 03, ``SRNGAN_NOTEBOOK_RUNS`` (where it
looks for experiment runs). The kernel runs this interpreter (ipykernel, from the ``dev`` extra)
through a temporary ``python3`` kernel spec; it inherits these variables and the test's isolated
``SRNGAN_CACHE``. Nothing is written into the repository.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = (
    "01_stable_rank_normalization",
    "02_train_sample_evaluate",
    "03_lipschitz_and_stable_rank",
)


def execute(name: str) -> nbformat.NotebookNode:
    """Run notebook ``name`` in a fresh kernel with cwd = notebooks/; raise on any cell error."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    before = sorted(NOTEBOOKS.rglob("*"))
    client.execute()
    assert sorted(NOTEBOOKS.rglob("*")) == before, "a notebook wrote into notebooks/"
    return nb


def stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    )


@pytest.fixture(scope="session")
def this_python_kernel(tmp_path_factory) -> Path:
    """A ``python3`` kernel spec running this interpreter, in a temporary Jupyter path.

    ``JUPYTER_PATH`` comes first in Jupyter's search path, so a ``python3`` kernel registered
    elsewhere (user or system folders, another environment) cannot take its place; nothing is
    registered globally.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (srngan tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return root


@pytest.fixture
def notebook_env(tmp_path, monkeypatch, this_python_kernel):
    """Small settings, outputs in a temporary folder, this interpreter's kernel, one thread."""
    out = tmp_path / "out"
    monkeypatch.setenv("JUPYTER_PATH", str(this_python_kernel))
    monkeypatch.setenv("SRNGAN_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("SRNGAN_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("SRNGAN_NOTEBOOK_RUNS", str(tmp_path / "no_experiments"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return out


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, name
    for cell in code:
        assert cell.outputs == [], f"{name}: a code cell has outputs; clear them before committing"
        assert cell.execution_count is None, f"{name}: a code cell has an execution count"
    # The first code cell holds the parameters the tests override.
    assert "SRNGAN_NOTEBOOK_FAST" in code[0].source
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_kernel_runs_this_interpreter(notebook_env):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")]
    )
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=60).execute()
    assert stream_text(nb).strip() == sys.executable


def test_01_stable_rank_normalization(notebook_env):
    text = stream_text(execute(NAMES[0]))
    assert "never below: True" in text  # Theorem 1: no random feasible matrix is closer
    assert "equals the paper's diagonal: True" in text  # equation (5)
    assert not notebook_env.exists()  # it writes nothing


def test_02_train_sample_evaluate(notebook_env):
    text = stream_text(execute(NAMES[1]))
    assert "domain FID" in text and "class accuracy" in text
    assert list(notebook_env.glob("02_train_sample_evaluate/version_0/events.out.tfevents.*"))


def _run_03_tiny(notebook_env):
    text = stream_text(execute(NAMES[2]))
    assert "tiny runs trained here" in text
    runs = sorted(notebook_env.glob("03_lipschitz_and_stable_rank/*/version_0"))
    assert [r.parent.name for r in runs] == ["SN", "SRN-10", "SRN-70", "none"]
    for run in runs:
        assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()


def test_03_lipschitz_and_stable_rank(notebook_env):
    """Without experiment runs it trains tiny ones and analyses them."""
    _run_03_tiny(notebook_env)


@pytest.mark.slow
def test_03_loads_experiment_runs(notebook_env, monkeypatch):
    """Pointed at run folders (one given a stored eLhist, as MetricsCallback writes) it loads
    them instead of training (a second execution of the notebook: slow)."""
    import numpy as np

    _run_03_tiny(notebook_env)
    # The same run folders as "experiment runs"; one with eLhist values stored by MetricsCallback.
    experiments = notebook_env / "03_lipschitz_and_stable_rank"
    values = np.random.default_rng(0).uniform(0, 1, 50)
    kinds = ("real_fake", "real_real", "fake_fake", "grad_real", "grad_fake")
    (experiments / "SN" / "version_0" / "elhist").mkdir()
    np.savez(
        experiments / "SN" / "version_0" / "elhist" / "gstep_8.npz", **dict.fromkeys(kinds, values)
    )
    monkeypatch.setenv("SRNGAN_NOTEBOOK_RUNS", str(experiments))
    monkeypatch.setenv("SRNGAN_NOTEBOOK_OUT", str(notebook_env.parent / "out2"))
    text = stream_text(execute(NAMES[2]))
    assert "analysing 4 runs (experiments)" in text
    assert "stored" in text and "computed" in text
    assert not (notebook_env.parent / "out2").exists()  # nothing trained
