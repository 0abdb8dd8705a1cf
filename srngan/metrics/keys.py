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
TEST_SUFFIX = "_test"
"""Suffix of results measured against the test split instead of the training split."""
KEY_ND = "neural_divergence"
KEY_ELHIST_P95 = "elhist_real_fake_p95"
KEY_DOMAIN_FID = "domain_fid"
KEY_DOMAIN_IS = "domain_is_mean"
KEY_DOMAIN_ACCURACY = "domain_class_accuracy"

METRICS = ("is", "fid", "kid", "intra_fid", "prc", "dc", "nd", "elhist")
"""Metric names of ``--metrics``: ``prc`` is precision / recall (and F-score), ``dc`` density /
coverage."""
