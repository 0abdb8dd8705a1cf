"""Shared helpers: tiny end-to-end runs of the real CLI on procedural data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from srngan.cli import main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"

# The tests' own tiny GAN (tests/configs/tiny.yaml): not the quickstart, whose terms and
# warm-up only its own test pays for.
TINY_CONFIG = Path(__file__).resolve().parent / "configs" / "tiny.yaml"
TINY_WARMUP = 2  # its D steps before G's first: Lightning's max_steps counts them too
TINY = ["--config", str(TINY_CONFIG)]


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
