"""Pure-torch normalization layers and spectral tools (no Lightning imports here).

- :func:`stable_rank_norm`: the SRN parametrization (paper, Algorithm 2).
- :func:`project_stable_rank`, :func:`project_spectral_norm`: exact SVD projections.
- :func:`stable_rank`, :func:`spectral_norm_value`: exact diagnostics; :func:`layer_spectra`:
  both for every layer of a network.
- :func:`normalize_modules`: apply none / SN / SRN to every weight layer of a model.
- :func:`orthonormal_penalty`: the Ortho-GAN regularizer.
"""

from srngan.nn.diagnostics import layer_spectra, spectral_norm_value, stable_rank
from srngan.nn.normalize import NORMALIZABLE_LAYERS, Normalization, normalize_modules
from srngan.nn.ortho import orthonormal_penalty
from srngan.nn.projections import project_spectral_norm, project_stable_rank
from srngan.nn.stable_rank_norm import stable_rank_norm

__all__ = [
    "NORMALIZABLE_LAYERS",
    "Normalization",
    "layer_spectra",
    "normalize_modules",
    "orthonormal_penalty",
    "project_spectral_norm",
    "project_stable_rank",
    "spectral_norm_value",
    "stable_rank",
    "stable_rank_norm",
]
