"""best.ckpt (BestCheckpoint), and media (sample grids, eLhist) sent to any Lightning logger."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import TINY, TINY_WARMUP
from lightning.pytorch.loggers import Logger

from srngan.cli import main
from srngan.metrics import keys
from srngan.training.best_checkpoint import BEST_KEY, BestCheckpoint
from srngan.training.gstep import GStepCallback
from srngan.training.logger_media import log_histogram, log_image


class ScriptedMetrics(GStepCallback):
    """Stands in for the metrics callback: "evaluates" every G-step with scripted values and
    hands the record to ``on_metrics`` hooks, as MetricsCallback does."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def on_g_step_end(self, trainer, module) -> None:
        record = {"g_step": module.g_step, "fid": self.values[module.g_step - 1]}
        for callback in trainer.callbacks:
            if callable(getattr(callback, "on_metrics", None)):
                callback.on_metrics(trainer, module, record)


def _config(path, values, mode="min"):
    path.write_text(
        "trainer:\n  callbacks:\n"
        f"    - class_path: test_best_and_loggers.ScriptedMetrics\n      init_args: {{values: {values}}}\n"
        "    - class_path: srngan.BestCheckpoint\n"
        f"      init_args: {{monitor: fid, mode: {mode}}}\n"
    )
    return str(path)


def _fit(tmp_path, cfg, g_steps, *extra):
    # A long LR horizon stopped by max_steps ((n_dis + 1) optimizer steps per G-step), so a
    # resumed run continues the same schedule.
    main(["fit", *TINY, "--model.max_g_steps", "500", "--config", cfg,
          "--trainer.max_steps", str(TINY_WARMUP + 3 * g_steps),
          "--trainer.logger.init_args.save_dir", str(tmp_path),
          "--trainer.default_root_dir", str(tmp_path), *extra])  # fmt: skip
    return next(tmp_path.glob("*/version_0"))


def _load(path):
    return torch.load(path, map_location="cpu", weights_only=False)


def test_best_checkpoint_keeps_the_best_state_across_resume(tmp_path):
    values = [5.0, 3.0, 4.0, 3.5, 3.2]
    run = _fit(tmp_path, _config(tmp_path / "a.yaml", values), 3)
    best = _load(run / "checkpoints" / "best.ckpt")
    assert best[BEST_KEY] == {"monitor": "fid", "mode": "min", "value": 3.0, "g_step": 2}
    # The very state of G-step 2 (the interval checkpoint written at the same point).
    same = _load(run / "checkpoints" / "gstep=0000002.ckpt")
    assert best["srngan"]["g_step"] == 2
    assert all(torch.equal(best["state_dict"][k], v) for k, v in same["state_dict"].items())
    assert not list(run.glob("checkpoints/.*.tmp"))

    # Preempted after best.ckpt improved but before last.ckpt recorded it: last.ckpt's state
    # forgets the best value. The resumed run reads it back from best.ckpt, so 3.5 and 3.2
    # (worse than 3.0) never replace it.
    last = run / "checkpoints" / "last.ckpt"
    raw = _load(last)
    (state_key,) = [k for k in raw["callbacks"] if k.startswith("BestCheckpoint")]
    assert raw["callbacks"][state_key]["best"] == 3.0  # recorded in ordinary checkpoints
    raw["callbacks"][state_key] = {"best": None, "best_g_step": None}
    torch.save(raw, last)
    _fit(tmp_path, _config(tmp_path / "a.yaml", values), 5, "--ckpt_path", "last")
    assert _load(run / "checkpoints" / "best.ckpt")[BEST_KEY]["g_step"] == 2

    # mode max on the same script: the best is G-step 1 (5.0).
    other = tmp_path / "max"
    run = _fit(other, _config(tmp_path / "b.yaml", values, "max"), 3)
    assert _load(run / "checkpoints" / "best.ckpt")[BEST_KEY]["g_step"] == 1

    # srngan sample --ckpt RUN_DIR/best, and --ckpt best (the newest under runs/)
    out = tmp_path / "s.npz"
    main(["sample", "--ckpt", str(run / "best"), "--num-samples", "3", "--out", str(out),
          "--format", "npz"])  # fmt: skip
    assert np.load(out)["images"].shape[0] == 3


def test_sample_ckpt_best_finds_the_newest(tmp_path, monkeypatch, capsys):
    from srngan.commands.common import resolve_checkpoint
    from srngan.errors import CommandError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=r"no checkpoints/best\.ckpt under runs/"):
        resolve_checkpoint("best")
    for name in ("a", "b"):
        (tmp_path / "runs" / name / "version_0" / "checkpoints").mkdir(parents=True)
        (tmp_path / "runs" / name / "version_0" / "checkpoints" / "best.ckpt").write_bytes(b"x")
    assert resolve_checkpoint("best").parts[-4] == "b"
    with pytest.raises(CommandError, match=r"runs/c/checkpoints/best\.ckpt not found"):
        resolve_checkpoint("runs/c/best")


def test_best_checkpoint_bad_arguments():
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'lowest'"):
        BestCheckpoint(mode="lowest")
    with pytest.raises(ValueError, match=r"filename must be a file name ending in \.ckpt"):
        BestCheckpoint(filename="best.pt")
    cb = BestCheckpoint()
    assert cb.improves(1.0) and not cb.improves(float("nan"))


class _ImageLogger(Logger):
    """A logger with W&B's ``log_image(key, images, step)`` API and no log_dir."""

    name, version, experiment = "fake", 0, None

    def __init__(self):
        super().__init__()
        self.images = []

    def log_metrics(self, metrics, step=None):
        pass

    def log_hyperparams(self, *args, **kwargs):
        pass

    def log_image(self, key, images, step=None):
        self.images.append((key, images[0].shape, images[0].dtype, step))


def test_media_go_to_each_kind_of_logger(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    image = torch.rand(3, 5, 7)
    csv_logger, duck = CSVLogger(tmp_path), _ImageLogger()
    assert log_image([csv_logger, duck], "samples", image, 4) == ["CSVLogger", "_ImageLogger"]
    assert duck.images == [("samples", (5, 7, 3), np.uint8, 4)]
    saved = tmp_path / "lightning_logs" / "version_0" / "media" / "samples" / "gstep_0000004.png"
    from PIL import Image

    expected = image.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(np.asarray(Image.open(saved)), expected)
    values = torch.randn(50)
    assert log_histogram([csv_logger, duck], "elhist/real_fake", values, 4) == ["CSVLogger"]
    npy = saved.parents[1] / "elhist" / "real_fake" / "gstep_0000004.npy"
    assert np.array_equal(np.load(npy), values.double().numpy())
    with pytest.raises(ValueError, match="image must have shape \\(C, H, W\\)"):
        log_image([duck], "x", torch.rand(5, 7), 0)


def test_metrics_callback_with_two_loggers_and_best_checkpoint(tmp_path):
    """TensorBoard and CSV loggers in one run: grids, eLhist histograms and figures reach both;
    BestCheckpoint keeps the lowest eLhist p95 of the real metrics callback (eLhist needs no
    feature extractor, so the test trains none)."""
    cfg = tmp_path / "two.yaml"
    cfg.write_text(f"""trainer:
  logger:
    - class_path: lightning.pytorch.loggers.TensorBoardLogger
      init_args: {{save_dir: {tmp_path}, name: tb}}
    - class_path: lightning.pytorch.loggers.CSVLogger
      init_args: {{save_dir: {tmp_path}, name: csv}}
  callbacks:
    - class_path: srngan.MetricsCallback
      init_args: {{every_n_g_steps: 1, metrics: [elhist], elhist_pairs: 10, at_train_end: false,
                  extractor: domain}}  # eLhist uses none; inception would want its weights
    - class_path: srngan.BestCheckpoint
      init_args: {{monitor: {keys.KEY_ELHIST_P95}, mode: min}}
""")
    main(["fit", *TINY, "--config", str(cfg), "--trainer.default_root_dir", str(tmp_path)])
    run, csv_run = tmp_path / "tb" / "version_0", tmp_path / "csv" / "version_0"
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    fids = {r["g_step"]: r[keys.KEY_ELHIST_P95] for r in records}
    assert sorted(fids) == [1, 2, 3]
    best = _load(run / "checkpoints" / "best.ckpt")[BEST_KEY]
    assert best["value"] == min(fids.values()) and fids[best["g_step"]] == best["value"]

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"histograms": 0, "images": 0})
    acc.Reload()
    assert {"samples", "elhist/figure"} <= set(acc.Tags()["images"])
    assert "elhist/real_fake" in acc.Tags()["histograms"]
    media = csv_run / "media"
    assert sorted(p.name for p in (media / "samples").iterdir()) == [
        "gstep_0000002.png", "gstep_0000003.png",
    ]  # fmt: skip
    assert len(list((media / "elhist" / "figure").glob("*.png"))) == 3
    assert len(np.load(media / "elhist" / "real_fake" / "gstep_0000001.npy")) == 10
    with open(csv_run / "metrics.csv") as f:
        assert f"metrics/{keys.KEY_ELHIST_P95}" in next(csv.reader(f))
