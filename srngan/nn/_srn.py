"""Private math of the stable-rank-normalization parametrization (Algorithm 2 of the paper).

Public entry point: :func:`srngan.nn.stable_rank_norm`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srngan.nn._matrix import weight_to_matrix


def rank_target(rank_ratio: float, shape_2d: tuple[int, int]) -> float:
    """The target stable rank ``r = max(1, rank_ratio * min(m, n))`` of a 2-D weight."""
    return max(1.0, rank_ratio * min(shape_2d))


def _float32_math(device_type: str):
    """A context with autocast off: power iteration and the projection run in the weight's dtype.

    Under ``bf16-mixed`` a bfloat16 ``mv`` loses the 1e-3 accuracy sigma needs; the weight itself
    stays float32 in mixed precision, so disabling autocast keeps all of this in float32.
    """
    return torch.autocast(device_type=device_type, enabled=False)


class _StableRankNorm(nn.Module):
    """Parametrization ``W -> SRN(W / sigma_1(W), r)`` with ``k = 1`` (paper, Algorithm 2).

    With ``u, v`` the power-iteration estimates of the top singular vectors and
    ``sigma = u^T W v``, the spectrally normalized weight is ``W_f = W / sigma`` and its
    residual ``R = W_f - u v^T``. When ``||R||_F > sqrt(r - 1)`` the residual is rescaled to
    ``sqrt(r - 1)``::

        W_hat = u v^T + s * R,   s = min(1, sqrt(r - 1) / ||R||_F)
              = (s / sigma) * W + (1 - s) * u v^T

    Because ``sigma = u^T W v`` and ``||u|| = ||v|| = 1`` exactly,
    ``||R||_F^2 = ||W||_F^2 / sigma^2 - 1`` holds as an algebraic identity, so the residual norm
    costs one Frobenius norm of ``W`` and no extra ``m x n`` temporaries: the same order of work
    as spectral normalization. When ``r >= min(m, n)`` no matrix can exceed the target (stable rank
    <= rank <= min(m, n)), so the layer is exactly spectral normalization.

    ``u`` and ``v`` are held constant in the backward pass, as in torch's ``spectral_norm``.
    """

    def __init__(
        self,
        weight: Tensor,
        rank_ratio: float = 0.7,
        n_power_iterations: int = 1,
        dim: int = 0,
        eps: float = 1e-12,
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        self.n_power_iterations = n_power_iterations
        self.rank_ratio = rank_ratio
        if ndim > 1:
            weight_mat = weight_to_matrix(weight, self.dim)
            h, w = weight_mat.shape
            self.rank = rank_target(rank_ratio, (h, w))
            self.sqrt_r_minus_1 = math.sqrt(self.rank - 1.0)
            # Stable rank cannot exceed min(m, n): the projection would never act.
            self.srn_active = self.rank < min(h, w)
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # Warm start, as torch's spectral_norm does, so the first forward is already accurate.
            self._power_method(weight_mat, 15)
        else:
            self.rank = 1.0
            self.sqrt_r_minus_1 = 0.0
            self.srn_active = False

    @torch.autograd.no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # In-place updates keep the buffers shared with DataParallel replicas, as in torch's SN.
        for _ in range(n_power_iterations):
            self._u = F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
            self._v = F.normalize(torch.mv(weight_mat.H, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            # A vector has a single singular value, its norm.
            return F.normalize(weight, dim=0, eps=self.eps)
        with _float32_math(weight.device.type):
            weight_mat = weight_to_matrix(weight, self.dim)
            if self.training:
                self._power_method(weight_mat, self.n_power_iterations)
            # Clones let the buffers be updated in place by a later forward in the same graph.
            u = self._u.clone(memory_format=torch.contiguous_format)
            v = self._v.clone(memory_format=torch.contiguous_format)
            sigma = torch.vdot(u, torch.mv(weight_mat, v))
            if not self.srn_active:
                return weight / sigma
            residual_sq = torch.linalg.vector_norm(weight).pow(2) / sigma.pow(2) - 1.0
            # clamp_min keeps rsqrt finite when W is (numerically) rank one; s is then clamped to 1.
            scale = (self.sqrt_r_minus_1 * residual_sq.clamp_min(self.eps).rsqrt()).clamp(max=1.0)
            # (s / sigma) W + (1 - s) u v^T as one scaled copy and one fused broadcast
            # multiply-add: the u v^T matrix is never materialized. Done on W in its own shape,
            # not on the flattened matrix, so the result keeps W's memory format: a channels_last
            # convolution weight stays channels_last and the convolution makes no layout copy.
            w = weight if self.dim == 0 else weight.movedim(self.dim, 0)
            ones = (1,) * (w.ndim - 1)
            out = torch.addcmul(
                w * (scale / sigma), ((1.0 - scale) * u).view(-1, *ones), v.view(1, *w.shape[1:])
            )
            return out if self.dim == 0 else out.movedim(0, self.dim)

    @torch.no_grad()
    def shrink_factor(self, weight: Tensor) -> float:
        """The factor ``s = min(1, sqrt(r - 1) / ||W / sigma - u v^T||_F)`` this layer applies to
        the residual of ``weight`` (the unnormalized original), from its stored ``u, v``.

        ``s < 1``: the layer binds (it lowers the stable rank to ``r``); ``s = 1``: it is plain
        spectral normalization. Computed in float64 with the residual written out, not through
        the ``||W||_F^2 / sigma^2 - 1`` identity of :meth:`forward`, so it is an independent check.
        """
        if weight.ndim == 1 or not self.srn_active:
            return 1.0
        w = weight_to_matrix(weight.detach(), self.dim).double()
        u, v = self._u.double(), self._v.double()
        sigma = torch.dot(u, w @ v)
        residual = torch.linalg.matrix_norm(w / sigma - torch.outer(u, v))
        if residual == 0:
            return 1.0
        return min(1.0, self.sqrt_r_minus_1 / float(residual))

    def right_inverse(self, value: Tensor) -> Tensor:
        # Like torch's SN: assigning a weight stores it as the unnormalized original.
        return value

    def extra_repr(self) -> str:
        return f"rank_ratio={self.rank_ratio}, rank={self.rank:g}, dim={self.dim}"
