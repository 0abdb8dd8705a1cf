r"""Empirical Lipschitz histograms of a discriminator (paper section 5.3, Appendix E.2).

For pairs :math:`(x_i, x_j)`: :math:`\|D(x_i) - D(x_j)\| / \|x_i - x_j\|`, for real-fake,
real-real and fake-fake pairs; and :math:`\|\nabla_x D(x)\|` near real and near generated
samples. A conditional D gets one class per pair, drawn uniformly, used for both members.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from srngan.atomic import atomic_path

PAIR_KINDS = ("real_fake", "real_real", "fake_fake")
GRAD_KINDS = ("grad_real", "grad_fake")


def _call(d: nn.Module, x: Tensor, labels: Tensor | None) -> Tensor:
    return d(x, labels) if labels is not None else d(x)


@torch.no_grad()
def pair_ratios(d: nn.Module, x_a: Tensor, x_b: Tensor, labels: Tensor | None = None) -> Tensor:
    """``|D(a) - D(b)| / ||a - b||_2`` per pair (float64).

    Pairs of identical images (a duplicate in the data, a collapsed generator) carry no
    Lipschitz information (0 / 0) and are left out, so the result is never NaN.
    """
    out = (_call(d, x_a, labels) - _call(d, x_b, labels)).double().abs()
    dist = (x_a - x_b).flatten(1).double().norm(dim=1)
    distinct = dist > 0
    return out[distinct] / dist[distinct]


def gradient_norms(
    d: nn.Module, x: Tensor, labels: Tensor | None = None, noise_std: float = 0.0
) -> Tensor:
    """``||grad_x D(x + eps)||_2`` per sample, ``eps ~ N(0, noise_std^2)`` (float64)."""
    point = (x + noise_std * torch.randn_like(x)).detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(_call(d, point, labels).sum(), point)
    return grad.flatten(1).double().norm(dim=1)


def percentile_95(values: Tensor) -> float:
    return float(torch.quantile(values.double(), 0.95))


def plot_elhist(runs: Mapping[str, Mapping[str, Tensor]], path: str | Path, bins: int = 50) -> Path:
    """One PNG with a panel per kind (real-fake, real-real, ...), overlaying every run's histogram."""
    # A bare Figure, not pyplot: no backend switch, so notebooks keep their inline plots.
    from matplotlib.figure import Figure

    kinds = [k for k in (*PAIR_KINDS, *GRAD_KINDS) if any(k in r for r in runs.values())]
    fig = Figure(figsize=(4 * len(kinds), 3.2))
    axes = fig.subplots(1, len(kinds), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        values = {name: r[kind].double().numpy() for name, r in runs.items() if kind in r}
        hi = max(float(np.quantile(v, 0.995)) for v in values.values())
        edges = np.linspace(0.0, hi if hi > 0 else 1.0, bins + 1)
        for name, v in values.items():
            ax.hist(v, bins=edges, alpha=0.5, label=name, density=True)
        ax.set_title(
            kind.replace("_", "-") if kind in PAIR_KINDS else f"||grad D|| near {kind[5:]}"
        )
        ax.set_xlabel("|D(xi) - D(xj)| / ||xi - xj||" if kind in PAIR_KINDS else "gradient norm")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def save_elhist(arrays: Mapping[str, Tensor], path: str | Path) -> Path:
    """Write eLhist values as an ``.npz`` (one array per kind) through srngan's one atomic
    writer (:func:`srngan.atomic.atomic_path`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{k: v.cpu().numpy() for k, v in arrays.items()})
    return path


def elhist_from_samples(
    d: nn.Module,
    real_a: Tensor,
    real_b: Tensor,
    fake_a: Tensor,
    fake_b: Tensor,
    labels: Tensor | None = None,
    noise_std: float = 0.01,
) -> dict[str, Tensor]:
    """All eLhist quantities from aligned pairs (pair ``i`` uses ``labels[i]`` for both members).

    Returns ``{"real_fake", "real_real", "fake_fake", "grad_real", "grad_fake"}`` float64 tensors.
    """
    return {
        "real_fake": pair_ratios(d, real_a, fake_a, labels),
        "real_real": pair_ratios(d, real_a, real_b, labels),
        "fake_fake": pair_ratios(d, fake_a, fake_b, labels),
        "grad_real": gradient_norms(d, real_a, labels, noise_std),
        "grad_fake": gradient_norms(d, fake_a, labels, noise_std),
    }
