"""Images, histograms and figures to whatever Lightning loggers a run uses.

Lightning's common logger API has scalars only (``log_metrics``); media have one API per
backend. :func:`log_image` and :func:`log_histogram` send to each logger what it can take:

- :class:`~lightning.pytorch.loggers.TensorBoardLogger`: ``add_image`` / ``add_histogram``;
- a logger with ``log_image(key, images, step=...)`` (:class:`~lightning.pytorch.loggers.WandbLogger`,
  online or offline): that, and histograms as ``wandb.Histogram``;
- :class:`~lightning.pytorch.loggers.MLFlowLogger`: ``log_image`` / ``log_artifact`` of the run;
- any other logger with a ``log_dir`` (:class:`~lightning.pytorch.loggers.CSVLogger`, which
  has no media API): files beside its metrics, ``<log_dir>/media/<tag>/gstep_NNNNNNN.png``
  (images) and ``.npy`` (histogram values).

A logger with none of these is skipped. Callers log on rank 0 only, as for scalars.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.loggers import Logger, MLFlowLogger, TensorBoardLogger
from PIL import Image
from torch import Tensor


def _uint8_hwc(image: Tensor) -> np.ndarray:
    """A ``(3, H, W)`` float image in [0, 1] (or uint8) as a uint8 ``(H, W, 3)`` array."""
    if image.ndim != 3 or image.shape[0] not in (1, 3, 4):
        raise ValueError(
            f"image must have shape (C, H, W) with C in 1, 3, 4, got {tuple(image.shape)}"
        )
    if image.dtype != torch.uint8:
        image = image.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return image.cpu().permute(1, 2, 0).numpy()


def media_path(logger: Logger, tag: str, step: int, suffix: str) -> Path:
    """Where a file-only logger keeps media: ``<log_dir>/media/<tag>/gstep_NNNNNNN<suffix>``."""
    return Path(logger.log_dir) / "media" / tag / f"gstep_{step:07d}{suffix}"


def _is_wandb(logger: Logger) -> bool:
    return type(logger).__name__ == "WandbLogger"


def log_image(loggers: Iterable[Logger], tag: str, image: Tensor, step: int) -> list[str]:
    """Send one image (``(C, H, W)``, floats in [0, 1] or uint8) to every logger; return the
    names of the loggers that took it."""
    array = _uint8_hwc(image)
    took = []
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(tag, array, step, dataformats="HWC")
        elif callable(getattr(logger, "log_image", None)):
            logger.log_image(key=tag, images=[array], step=step)
        elif isinstance(logger, MLFlowLogger):
            logger.experiment.log_image(logger.run_id, array, f"{tag}/gstep_{step:07d}.png")
        elif getattr(logger, "log_dir", None):
            path = media_path(logger, tag, step, ".png")
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(path)
        else:
            continue
        took.append(type(logger).__name__)
    return took


def log_figure(loggers: Iterable[Logger], tag: str, png: str | Path, step: int) -> list[str]:
    """Send a figure already written as a PNG file to every logger, as an image."""
    with Image.open(png) as im:
        array = np.array(im.convert("RGB"))
    return log_image(loggers, tag, torch.from_numpy(array).permute(2, 0, 1).contiguous(), step)


def log_histogram(loggers: Iterable[Logger], tag: str, values: Tensor, step: int) -> list[str]:
    """Send the values of a histogram to every logger that takes histograms (or files)."""
    values = values.detach().cpu().double().flatten()
    took = []
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_histogram(tag, values, step)
        elif _is_wandb(logger):
            import wandb

            logger.experiment.log(
                {tag: wandb.Histogram(values.numpy()), "trainer/global_step": step}
            )
        elif isinstance(logger, MLFlowLogger):
            continue  # MLflow has no histograms; the values are in the run folder's .npz
        elif getattr(logger, "log_dir", None):
            path = media_path(logger, tag, step, ".npy")
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, values.numpy())
        else:
            continue
        took.append(type(logger).__name__)
    return took
