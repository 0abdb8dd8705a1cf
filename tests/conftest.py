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
    """Domain classifiers trained with the real recipe during this session, shared by tests."""
    return tmp_path_factory.mktemp("domain-classifiers")


@pytest.fixture(scope="session")
def _stand_in_domain_classifier(tmp_path_factory) -> Path:
    """The 10-class 32-px procedural domain classifier (every default test's key), trained by the
    real function for one epoch on 1000 images (about a second; the real recipe, 8 epochs on
    10 000, takes 41 s on 2 cores), saved under the real cache file name. Tests of the
    pipeline need a classifier, not a good one; tests marked ``slow`` (the judge's accuracy,
    the whole quick start) get the real one."""
    from srngan.data.procedural import ShapesDataset
    from srngan.metrics.cache import store
    from srngan.metrics.domain import domain_classifier_key, train_domain_classifier

    folder = tmp_path_factory.mktemp("domain-stand-in")
    data = ShapesDataset(1000, 10, 32, 0)
    state = train_domain_classifier(data.images, data.labels, 10, epochs=1).state_dict()
    key = domain_classifier_key(num_classes=10, size=32)  # load_domain_classifier's entry
    store("domain-classifier", key, state, folder)
    return folder / f"domain-classifier-{key}.pt"


@pytest.fixture(autouse=True)
def _isolated_cache(request, tmp_path, tmp_path_factory, monkeypatch, _domain_classifiers,
                    _stand_in_domain_classifier):  # fmt: skip
    """Every test gets its own metric cache folder and no ambient Inception weights.

    Only the procedural data's domain classifiers (deterministic for their key, tens of seconds
    to train) are shared across the session: copied in before each test, kept after it; a test
    not marked ``slow`` gets the stand-in where no real one was trained for its key.
    """
    cache = tmp_path_factory.mktemp("cache")  # not inside tmp_path: tests use it as a data root
    for trained in _domain_classifiers.glob("domain-classifier-*.pt"):
        shutil.copy(trained, cache / trained.name)
    stand_in = _stand_in_domain_classifier
    slow = request.node.get_closest_marker("slow") is not None
    if not slow and not (cache / stand_in.name).exists():
        shutil.copy(stand_in, cache / stand_in.name)
    monkeypatch.setenv("SRNGAN_CACHE", str(cache))
    monkeypatch.delenv("SRNGAN_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    yield
    for trained in cache.glob("domain-classifier-*.pt"):
        if trained.name == stand_in.name and not slow:
            continue  # the stand-in (or a real one already kept)
        if not (_domain_classifiers / trained.name).exists():
            shutil.copy(trained, _domain_classifiers / trained.name)
