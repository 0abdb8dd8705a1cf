"""Metric result keys, shared by the callbacks, the ``evaluate`` command and its JSON output.

IS, FID, KID and precision / recall keys are torch-fidelity's, density / coverage the ``prdc``
package's, so results can be compared key by key.
"""

KEY_IS_MEAN = "inception_score_mean"
KEY_IS_STD = "inception_score_std"
KEY_FID = "frechet_inception_distance"
KEY_KID_MEAN = "kernel_inception_distance_mean"
KEY_KID_STD = "kernel_inception_distance_std"
KEY_INTRA_FID = "intra_frechet_inception_distance"
KEY_INTRA_FID_CLASS = "intra_frechet_inception_distance_class_"
"""Prefix of each class's FID in Intra-FID results: ``intra_frechet_inception_distance_class_3``."""
KEY_PRECISION = "precision"
KEY_RECALL = "recall"
KEY_F_SCORE = "f_score"
KEY_DENSITY = "density"
KEY_COVERAGE = "coverage"
KEY_ND = "neural_divergence"
KEY_ELHIST_P95 = "elhist_real_fake_p95"
KEY_DOMAIN_FID = "domain_fid"
KEY_DOMAIN_IS = "domain_is_mean"
KEY_DOMAIN_ACCURACY = "domain_class_accuracy"

METRICS = ("is", "fid", "kid", "intra_fid", "prc", "dc", "nd", "elhist")
"""Metric names of ``--metrics``: ``prc`` is precision / recall (and F-score), ``dc`` density /
coverage."""

REFERENCE_SPLITS = ("train", "test")
"""Real images metrics compare against: the training split (the paper's protocol) or the test
split; results against ``test`` carry the suffix ``_test``."""
SPLIT_FREE = (KEY_IS_MEAN, KEY_IS_STD, KEY_DOMAIN_IS, "domain_is_std", KEY_DOMAIN_ACCURACY)
"""Results that do not depend on the reference split (no suffix)."""


def with_split(results: dict[str, float], split: str) -> dict[str, float]:
    """``results`` measured against ``split``, keyed as such: unchanged for ``train``, else each
    key but :data:`SPLIT_FREE` ones suffixed ``_<split>`` (``frechet_inception_distance_test``)."""
    if split not in REFERENCE_SPLITS:
        raise ValueError(
            f"unknown reference split {split!r}; allowed: {', '.join(REFERENCE_SPLITS)}"
        )
    if split == "train":
        return dict(results)
    return {(k if k in SPLIT_FREE else f"{k}_{split}"): v for k, v in results.items()}
