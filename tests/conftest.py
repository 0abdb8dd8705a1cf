"""Shared helpers: tiny end-to-end runs of the real CLI on procedural data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from srngan.cli import main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"

# The quickstart config shrunk to seconds: 8-channel nets, 64 images, batches of 8.
TINY_WARMUP = 2  # D steps before G's first: Lightning's max_steps counts them too
TINY = [
    "--config", str(CONFIGS / "quickstart.yaml"),
    "--model.generator.base_channels", "8",
    "--model.discriminator.base_channels", "8",
    "--model.generator.z_dim", "16",
    "--model.max_g_steps", "3",
    "--model.n_dis", "2",
    "--model.d_warmup_steps", str(TINY_WARMUP),  # the quickstart's warm-up, exercised but short
    "--model.g_batch_size", "8",
    "--model.log_every_n_g_steps", "1",
    "--samples.every_n_g_steps", "2",
    "--samples.columns", "4",
    "--spectra.every_n_g_steps", "1",
    "--checkpoint.every_n_g_steps", "2",
    "--data.num_images", "64",
    "--data.batch_size", "8",
    "--data.num_workers", "0",
    "--trainer.enable_model_summary", "false",
    "--trainer.callbacks=[]",  # the quickstart's metrics callback is tested on its own
]  # fmt: skip


def fit_tiny(tmp_path: Path, *overrides: str) -> Path:
    """Run ``srngan fit`` on the tiny setup; return the run's log directory."""
    args = ["fit", *TINY, "--trainer.logger.init_args.save_dir", str(tmp_path),
            "--trainer.default_root_dir", str(tmp_path), *overrides]  # fmt: skip
    main(args)
    runs = sorted(tmp_path.glob("*/version_*"))
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture
def tiny_fit():
    return fit_tiny


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory):
    """Seeded random Inception weights under the real file name, made once per test session."""
    from inception_weights import make_random_inception_weights

    return make_random_inception_weights(tmp_path_factory.mktemp("inception"))


@pytest.fixture(scope="session")
def _domain_classifiers(tmp_path_factory):
    return tmp_path_factory.mktemp("domain-classifiers")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, tmp_path_factory, monkeypatch, _domain_classifiers):
    """Every test gets its own metric cache folder and no ambient Inception weights.

    Only the procedural data's domain classifiers (deterministic for their key, tens of seconds
    to train) are shared across the session: copied in before each test, kept after it.
    """
    cache = tmp_path_factory.mktemp("cache")  # not inside tmp_path: tests use it as a data root
    for trained in _domain_classifiers.glob("domain-classifier-*.pt"):
        shutil.copy(trained, cache / trained.name)
    monkeypatch.setenv("SRNGAN_CACHE", str(cache))
    monkeypatch.delenv("SRNGAN_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    yield
    for trained in cache.glob("domain-classifier-*.pt"):
        if not (_domain_classifiers / trained.name).exists():
            shutil.copy(trained, _domain_classifiers / trained.name)
