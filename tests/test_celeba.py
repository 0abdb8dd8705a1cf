"""CelebA (no labels) through `srngan fit --config configs/celeba_srn70.yaml` and `srngan evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torchvision
from PIL import Image

from srngan.cli import main
from srngan.data.real import load_real_dataset

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "celeba_srn70.yaml"
_ATTRS = 40


def _write_celeba(root: Path, train: int = 12, test: int = 6) -> Path:
    """A CelebA folder tree in torchvision's layout: aligned JPEGs and the five index files."""
    base = root / "celeba"
    images = base / "img_align_celeba"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"{i + 1:06d}.jpg" for i in range(train + test)]
    for i, name in enumerate(names):
        pixels = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8) // (1 + i % 3)
        Image.fromarray(pixels).save(images / name)
    partition = [0] * train + [2] * test  # 0 train, 1 valid, 2 test
    (base / "list_eval_partition.txt").write_text(
        "".join(f"{n} {p}\n" for n, p in zip(names, partition))
    )
    (base / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))

    def table(filename: str, header: list[str], row: str) -> None:
        lines = [str(len(names)), " ".join(header), *(f"{n} {row}" for n in names)]
        (base / filename).write_text("\n".join(lines) + "\n")

    table("list_bbox_celeba.txt", ["image_id", "x_1", "y_1", "width", "height"], "1 2 3 4")
    table("list_landmarks_align_celeba.txt", [f"p{i}" for i in range(10)], " ".join(["5"] * 10))
    table("list_attr_celeba.txt", [f"a{i}" for i in range(_ATTRS)], " ".join(["-1"] * _ATTRS))
    return root


@pytest.fixture
def celeba_root(tmp_path, monkeypatch):
    # The folder is genuine except for the md5 sums of the index files.
    monkeypatch.setattr(torchvision.datasets.CelebA, "_check_integrity", lambda self: True)
    return _write_celeba(tmp_path / "data")


def test_celeba_items_have_a_collatable_label(celeba_root):
    data = load_real_dataset("celeba", celeba_root, "train", 64)
    x, y = data[0]
    assert len(data) == 12 and x.shape == (3, 64, 64) and y == -1
    assert len(load_real_dataset("celeba", celeba_root, "test", 64)) == 6


def test_celeba_config_trains_and_evaluates(celeba_root, tmp_path, inception_weights):
    runs = tmp_path / "runs"
    main(["fit", "--config", str(CONFIG), "--data.root", str(celeba_root),
          "--model.generator.base_channels", "4", "--model.discriminator.base_channels", "4",
          "--model.generator.z_dim", "8", "--model.max_g_steps", "2", "--model.n_dis", "1",
          "--model.g_batch_size", "4", "--checkpoint.every_n_g_steps", "1",
          "--samples.every_n_g_steps", "2", "--samples.columns", "2", "--data.batch_size", "4",
          "--data.num_workers", "0",
          "--trainer.accelerator", "cpu", "--trainer.enable_model_summary", "false",
          "--trainer.callbacks=[]",  # the config's Inception metrics run below, on the checkpoint
          "--trainer.logger.init_args.save_dir", str(runs),
          "--trainer.default_root_dir", str(runs)])  # fmt: skip
    ckpt = next(runs.glob("celeba_srn70/version_*/checkpoints/last.ckpt"))
    out = tmp_path / "r.json"
    main(["evaluate", "--ckpt", str(ckpt), "--metrics", "fid,nd,elhist", "--num-samples", "6",
          "--num-real", "10", "--nd-iterations", "2", "--nd-samples", "8", "--elhist-pairs", "8",
          "--inception-weights", str(inception_weights), "--device", "cpu",
          "--json", str(out)])  # fmt: skip
    results = json.loads(out.read_text())
    assert set(results) >= {
        "frechet_inception_distance",
        "neural_divergence",
        "elhist_real_real_p95",
    }
    assert all(np.isfinite(v) for v in results.values())
