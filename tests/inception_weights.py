"""Seeded random Inception-v3 weights saved under the real file name (no network in tests)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import torch
from torch import nn

from srngan.metrics.inception import WEIGHTS_FILE


def make_random_inception_weights(folder: Path, seed: int = 0) -> Path:
    """Write ``folder/weights-inception-2015-12-05-6726825d.pth`` with seeded random weights.

    BatchNorm running statistics are calibrated on one batch of random images, so activations
    stay O(1) through the network and features and logits vary between images.
    """
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    path = folder / WEIGHTS_FILE
    if path.is_file():
        return path
    with (
        mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: None),
        mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None),
        torch.random.fork_rng(devices=[]),
    ):
        torch.manual_seed(seed)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
        net.train()
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative: running stats = this batch's stats
                m.reset_running_stats()
        images = (torch.rand(12, 3, 32, 32) * 255).to(torch.uint8)
        with torch.no_grad():
            net(images)
        torch.nn.init.normal_(net.fc.weight, 0.0, 0.5)  # spread logits: an IS well above 1
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return path
