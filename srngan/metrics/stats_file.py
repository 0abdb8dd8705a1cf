"""Reference statistics as files: ``.npz`` with ``mu`` and ``sigma``, as pytorch-fid and clean-fid.

pytorch-fid (``--save-stats``) and clean-fid (``get_reference_statistics``) keep the Inception
pool-feature mean ``mu`` (2048,) and covariance ``sigma`` (2048, 2048) of a reference set in an
``.npz`` under those two keys; :func:`save_statistics` writes the same (float64), plus ``count``
(how many images) and ``protocol`` (a one-line description) that those tools ignore, and
:func:`load_statistics` reads any such file. Which images and which resizing made a file matters
as much as its numbers: see ``docs/evaluation.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from srngan.metrics.functional.statistics import FeatureStatistics

DEFAULT_COUNT = 50_000  # what a file without ``count`` stands for (mean and covariance only matter)


def save_statistics(path: str | os.PathLike, stats: FeatureStatistics, protocol: str = "") -> None:
    """Write ``mu``, ``sigma`` (float64), ``count`` and ``protocol`` to the ``.npz`` at ``path``
    (a file object works too)."""
    np.savez(
        path,
        mu=stats.mean.cpu().numpy(),
        sigma=stats.covariance.cpu().numpy(),
        count=np.int64(int(stats.count)),
        protocol=np.str_(protocol),
    )


def load_statistics(path: str | os.PathLike) -> FeatureStatistics:
    """:class:`FeatureStatistics` of the ``mu`` / ``sigma`` ``.npz`` at ``path``.

    Raises:
        FileNotFoundError: no file there.
        ValueError: not an ``.npz``, no ``mu`` / ``sigma``, or shapes that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"statistics file {path} not found")
    try:
        with np.load(path) as npz:
            missing = [k for k in ("mu", "sigma") if k not in npz.files]
            if missing:
                raise ValueError(
                    f"{path} has no {' / '.join(missing)}: a statistics .npz holds 'mu' and "
                    f"'sigma' (pytorch-fid / clean-fid / srngan stats), found {npz.files}"
                )
            mu, sigma = npz["mu"].astype(np.float64), npz["sigma"].astype(np.float64)
            count = int(npz["count"]) if "count" in npz.files else DEFAULT_COUNT
    except (OSError, EOFError) as err:  # not a zip / truncated
        raise ValueError(f"{path} is not a readable .npz: {err}") from err
    try:
        return FeatureStatistics.from_mean_covariance(mu, sigma, max(count, 2))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
