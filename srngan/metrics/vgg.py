"""The VGG-16 feature extractor of torch-fidelity's precision / recall (``prc``), offline-safe.

torch-fidelity 0.4 computes ``prc`` on VGG-16 ``fc2_relu`` features (4096-d) of images resized
to 224 x 224 with its TF1-compatible bilinear interpolation; this module builds that very
extractor (:class:`torch_fidelity.feature_extractor_vgg16.FeatureExtractorVGG16`) from torchvision's
ImageNet weights ``vgg16-397923af.pth``, looked up, in order, at ``weights_path``,
``$SRNGAN_VGG16_WEIGHTS`` and the torch hub cache (``$TORCH_HOME/hub/checkpoints/``, where
torchvision, and so torch-fidelity, keep them); downloaded only when ``download=True``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor, nn

from srngan.metrics.inception import file_digest

VGG16_WEIGHTS_FILE = "vgg16-397923af.pth"
VGG16_WEIGHTS_URL = f"https://download.pytorch.org/models/{VGG16_WEIGHTS_FILE}"
VGG16_WEIGHTS_ENV = "SRNGAN_VGG16_WEIGHTS"
VGG16_FEATURE = "fc2_relu"
VGG16_FEATURE_DIM = 4096


class VGG16WeightsNotFoundError(FileNotFoundError):
    """The VGG-16 weights are not on disk and may not be downloaded."""


def resolve_vgg16_weights(
    weights_path: str | os.PathLike | None = None, download: bool = False
) -> Path:
    """The path of the VGG-16 weights; a one-line error says where to put them if missing."""
    if weights_path is None:
        weights_path = os.environ.get(VGG16_WEIGHTS_ENV) or None
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise VGG16WeightsNotFoundError(f"VGG-16 weights not found at {path}")
        return path
    path = Path(torch.hub.get_dir()) / "checkpoints" / VGG16_WEIGHTS_FILE
    if path.is_file():
        return path
    if download:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(VGG16_WEIGHTS_URL, str(path), progress=True)
            return path
        except OSError as err:
            reason = f"download failed: {err}"
    else:
        reason = "not downloaded"
    raise VGG16WeightsNotFoundError(
        f"VGG-16 weights {VGG16_WEIGHTS_FILE} not found ({reason}); download {VGG16_WEIGHTS_URL} "
        f"and put it at {path}, or pass --vgg16-weights PATH, or set {VGG16_WEIGHTS_ENV}"
    )


class VGG16Features(nn.Module):
    """torch-fidelity's VGG-16 as an srngan extractor: ``uint8 images -> (fc2_relu, no logits)``.

    The second output is an empty ``(N, 0)`` tensor: VGG-16 serves the set metrics (precision,
    recall, density, coverage), which use features only.
    """

    def __init__(self, weights_path: str | os.PathLike) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

        self.net = FeatureExtractorVGG16(
            "vgg16", [VGG16_FEATURE], feature_extractor_weights_path=str(weights_path)
        )
        self.weights_digest = file_digest(weights_path)

    @torch.inference_mode()
    def forward(self, images_uint8: Tensor) -> tuple[Tensor, Tensor]:
        matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        try:
            (features,) = self.net(images_uint8)
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
        return features, features.new_empty(features.shape[0], 0)


def load_vgg16(
    weights_path: str | os.PathLike | None = None, download: bool = False
) -> VGG16Features:
    """The VGG-16 extractor of torch-fidelity's ``prc`` (weights resolved as described above)."""
    return VGG16Features(resolve_vgg16_weights(weights_path, download))
