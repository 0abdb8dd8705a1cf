"""The Inception-v3 feature extractor of torch-fidelity (``inception-v3-compat``), offline-safe.

One forward gives both the 2048-d pool features (FID, KID, Intra-FID) and the 1008 unbiased
logits (IS), matching torch-fidelity's defaults. Weights are looked up, in order, at
``weights_path``, ``$SRNGAN_INCEPTION_WEIGHTS``, and the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``); they are downloaded only when ``download=True``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import Tensor, nn

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS_FILE}"
WEIGHTS_ENV = "SRNGAN_INCEPTION_WEIGHTS"
FEATURES = ("2048", "logits_unbiased")


class InceptionWeightsNotFoundError(FileNotFoundError):
    """The Inception weights are not on disk and may not be downloaded."""


def hub_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def resolve_weights(weights_path: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The path of the Inception weights; a one-line error says where to put them if missing."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise InceptionWeightsNotFoundError(f"Inception weights not found at {path}")
        return path
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        return resolve_weights(env)
    path = hub_weights_path()
    if path.is_file():
        return path
    if download:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(WEIGHTS_URL, str(path), progress=True)
            return path
        except OSError as err:
            reason = f"download failed: {err}"
    else:
        reason = "not downloaded"
    raise InceptionWeightsNotFoundError(
        f"Inception weights {WEIGHTS_FILE} not found ({reason}); download {WEIGHTS_URL} and put it at "
        f"{path}, or pass --inception-weights PATH, or set {WEIGHTS_ENV}"
    )


def file_digest(path: str | os.PathLike, length: int = 16) -> str:
    """A short SHA-256 of a file (keys reference-statistics caches to the exact weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def load_inception(
    weights_path: str | os.PathLike | None = None, download: bool = False
) -> nn.Module:
    """torch-fidelity's InceptionV3 returning ``(pool_2048, logits_unbiased)`` for uint8 input."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = resolve_weights(weights_path, download)
    net = FeatureExtractorInceptionV3(
        "inception-v3-compat", list(FEATURES), feature_extractor_weights_path=str(path)
    )
    net.weights_digest = file_digest(path)
    # channels_last lets oneDNN / cuDNN pick faster convolution kernels (~1.5x on CPU here).
    return net.to(memory_format=torch.channels_last)


def quantize_images(images: Tensor) -> Tensor:
    """Generator output in [-1, 1] -> uint8: ``floor(255 * (x / 2 + 1 / 2) + 1 / 2)``, clamped.

    Round-half-up onto 256 levels (-1 -> 0, 0 -> 128, 1 -> 255), the rule of
    ``torchvision.utils.save_image``. Every image srngan writes or measures goes through this one
    function, so metrics computed in memory and from written PNG / npz files agree exactly.
    """
    unit = images.detach().float() * 0.5 + 0.5
    return unit.mul(255).add(0.5).clamp(0, 255).to(torch.uint8)


@torch.inference_mode()
def extract_features(net: nn.Module, images_uint8: Tensor) -> tuple[Tensor, Tensor]:
    """``(pool (N, 2048), logits (N, 1008))`` float32 with TF32 off (exact float32 matmuls)."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        pool, logits = net(images_uint8)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
    return pool, logits
