"""Seeded random Inception-v3 weights saved under the real file name (no network in tests)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import torch
from torch import nn

from srngan.metrics.inception import WEIGHTS_FILE


def make_random_inception_weights(folder: Path, seed: int = 0) -> Path:
    """Write ``folder/weights-inception-2015-12-05-6726825d.pth`` with seeded random weights.

    BatchNorm running statistics are calibrated on one batch of procedural images, so activations
    stay O(1) through the network; pool features are scaled to the size of real Inception
    features and the logits made to vary between images.
    """
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    path = folder / WEIGHTS_FILE
    if path.is_file():
        return path
    with (
        mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: None),
        mock.patch.object(
            fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None
        ),
        torch.random.fork_rng(devices=[]),
    ):
        torch.manual_seed(seed)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
        net.train()
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative: running stats = this batch's stats
                m.reset_running_stats()
        # Calibrate on the kind of images the tests measure (procedural shapes).
        from srngan.data import ShapesDataset

        images = ShapesDataset(16, 10, seed=12345).images
        with torch.no_grad():
            net(images)
            net.eval()
            (features,) = net(images)
            # Real Inception pool features average ~0.4; match that scale (ReLU is positively
            # homogeneous, so scaling the last block's BN affine scales the features), which also
            # keeps KID's cubic kernel in the range where float32 implementations are accurate.
            scale = 0.4 / float(features.mean())
            for m in net.Mixed_7c.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.mul_(scale)
                    m.bias.mul_(scale)
            features = features * scale
            # Logits from the part of the features that varies between images (the mean direction
            # removed), at a scale giving an Inception Score well above 1 and below its maximum.
            direction = torch.nn.functional.normalize(features.mean(0), dim=0)
            weight = torch.randn(1008, 2048) * (0.15 / scale)
            net.fc.weight.copy_(weight - torch.outer(weight @ direction, direction))
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return path
