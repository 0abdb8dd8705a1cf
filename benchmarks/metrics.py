"""FID and feature-extraction speed against torch-fidelity and scipy, side by side in one run.

1. FID from statistics at d = 2048, cold (no cached factor): srngan's eigvalsh route against
   torch-fidelity's ``fid_statistics_to_metric`` (general eigvals of S1 S2) and the classic
   ``scipy.linalg.sqrtm`` route; values compared to 1e-9 relative.
2. Inception feature extraction, images/s, srngan's pass against torch-fidelity's on the same
   uint8 images and the same network (seeded random weights: speed does not depend on them).

    python benchmarks/metrics.py [--images 256] [--batch-size 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from _timing import print_table, time_interleaved

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from inception_weights import make_random_inception_weights

from srngan.metrics import FrechetInceptionDistance, InceptionScore
from srngan.metrics.functional.fid import frechet_distance
from srngan.metrics.inception import extract_features, load_inception


def realistic_statistics(d: int, seed: int):
    """Covariances with a decaying spectrum like Inception pool features (not white noise)."""
    g = np.random.default_rng(seed)
    q, _ = np.linalg.qr(g.standard_normal((d, d)))
    spectrum = 1.0 / (1.0 + np.arange(d)) ** 1.2
    sigma = (q * spectrum) @ q.T
    return g.standard_normal(d) * 0.1, 0.5 * (sigma + sigma.T)


def scipy_sqrtm_fid(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fid_benchmark(d: int, rounds: int) -> None:
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    mu1, s1 = realistic_statistics(d, 0)
    mu2, s2 = realistic_statistics(d, 1)
    values = {
        "srngan": frechet_distance(mu1, s1, mu2, s2),
        "torch-fidelity": fid_statistics_to_metric(
            {"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False
        )["frechet_inception_distance"],
        "scipy sqrtm": scipy_sqrtm_fid(mu1, s1, mu2, s2),
    }
    times = time_interleaved(
        {
            "srngan": lambda: frechet_distance(mu1, s1, mu2, s2),
            "torch-fidelity": lambda: fid_statistics_to_metric(
                {"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False
            ),
            "scipy sqrtm": lambda: scipy_sqrtm_fid(mu1, s1, mu2, s2),
        },
        torch.device("cpu"),
        rounds,
        warmup=1,
    )
    ref = values["scipy sqrtm"]
    print_table(
        f"FID from statistics, d={d}, cold (median of {rounds})",
        [
            (
                k,
                f"{times[k]:.3f}",
                f"{times[k] / times['srngan']:.1f}x",
                f"{values[k]:.12g}",
                f"{abs(values[k] - ref) / abs(ref):.1e}",
            )
            for k in times
        ],
        ("route", "seconds", "time / srngan", "FID", "rel. diff to sqrtm"),
    )


def extraction_benchmark(n: int, batch_size: int, device: torch.device) -> None:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torch_fidelity.utils import get_featuresdict_from_dataset

    images = (torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 255).to(
        torch.uint8
    )
    with tempfile.TemporaryDirectory() as tmp:
        weights = make_random_inception_weights(Path(tmp))
        ours_net = load_inception(weights).to(device)
        tf_net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                             feature_extractor_weights_path=str(weights)).to(device)  # fmt: skip

    class U8(torch.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return images[i]

    def extractor(x):
        return extract_features(ours_net, x)

    def ours():
        # The evaluator's pass: one forward per batch feeds FID's float64 sums and IS's.
        fid = FrechetInceptionDistance(extractor).to(device)
        isc = InceptionScore(extractor, num_samples=n).to(device)
        for s in range(0, n, batch_size):
            features, logits = extractor(images[s : s + batch_size].to(device))
            fid.update(None, real=False, features=features)
            isc.update(indices=torch.arange(s, s + features.shape[0]), logits=logits)

    def theirs():
        get_featuresdict_from_dataset(U8(), tf_net, batch_size=batch_size, cuda=device.type == "cuda",
                                      save_cpu_ram=True, verbose=False)  # fmt: skip

    times = time_interleaved({"srngan": ours, "torch-fidelity": theirs}, device, rounds=3, warmup=1)
    print_table(
        f"Inception features (2048 + logits) of {n} 32x32 images, batch {batch_size}, {device}",
        [(k, f"{n / t:.1f}", f"{times['torch-fidelity'] / t:.2f}") for k, t in times.items()],
        ("pipeline", "images / s", "speed vs torch-fidelity"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    start = time.perf_counter()
    fid_benchmark(args.dim, args.rounds)
    extraction_benchmark(args.images, args.batch_size, torch.device(args.device))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
