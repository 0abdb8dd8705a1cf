r"""Per-sample sample-complexity measures of a classifier (paper, Sec. 5.2 and Appendix D.1).

With margin :math:`\gamma(x, y) = f(x)_y - \max_{j \ne y} f(x)_j` and the ``L`` measured layers'
weight matrices :math:`W_i` (Linear/Conv, conv kernels reshaped to ``(out, in * kh * kw)`` as
spectral normalization does; see :func:`~srngan.classification.layers.layer_matrices`):

.. math::
    \text{Spec-Fro} &= \prod_i \|W_i\|_2^2 \; \sum_i \operatorname{srank}(W_i) \,/\, \gamma^2
        \qquad \text{(Neyshabur et al., 2018)} \\
    \text{Spec-L1} &= \prod_i \|W_i\|_2^2 \Big(\sum_i
        \frac{\|W_i^\top\|_{2,1}^{2/3}}{\|W_i\|_2^{2/3}}\Big)^3 \,/\, \gamma^2
        \qquad \text{(Bartlett et al., 2017)} \\
    \text{Jac-Norm} &= \sum_i \|h_i\|_2 \, \Big\|\frac{\partial \gamma}{\partial h_i}\Big\|_2
        \,/\, \gamma \qquad \text{(Wei \& Ma, 2019)}

:math:`\operatorname{srank}(W) = \|W\|_F^2 / \|W\|_2^2`. :math:`\|W^\top\|_{2,1}` is the sum of
the Euclidean norms of the rows of :math:`W` (one per output unit), Bartlett et al.'s
:math:`\|A^\top\|_{2,1}` with reference matrices :math:`M_i = 0`. :math:`h_i` is the output of
the ``i``-th measured layer for this sample (pre-activation), over every measured layer whose
output is not the logits themselves; its Jacobian is taken through the rest of the network.

BatchNorm: by default (``batchnorm="ignore"``) BatchNorm layers are not measured layers; they
count as part of the nonlinearity between two weight layers, like ReLU. This matches the
paper's measures over the weights SN/SRN normalize; note that the products then omit the BN
scales, which can be large. ``batchnorm="include"`` adds each eval-mode BN as the linear map
``diag(gamma / sqrt(var + eps))`` to every sum and product (and its output to the ``h_i``).

Products of spectral norms overflow float64 for deep unnormalized networks (the paper's
:math:`\infty` in Table 5), so every measure is computed in log space; ``log_*`` keys hold
:math:`\log(\text{measure})` (natural log, finite), the plain keys ``exp`` of it (may be ``inf``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from srngan.classification.layers import BatchNormMode, layer_matrices, measured_layers

__all__ = ["complexity_measures", "margins", "weight_terms"]


def margins(logits: Tensor, labels: Tensor) -> Tensor:
    """:math:`\\gamma = f(x)_y - \\max_{j \\ne y} f(x)_j` per row (negative when misclassified)."""
    correct = logits.gather(1, labels[:, None]).squeeze(1)
    others = logits.scatter(1, labels[:, None], float("-inf"))
    return correct - others.amax(dim=1)


@torch.no_grad()
def weight_terms(model: nn.Module, batchnorm: BatchNormMode = "ignore") -> dict[str, float]:
    """The data-independent parts, in float64: ``log_prod_spec2`` = :math:`\\sum_i 2\\log\\|W_i\\|_2`,
    ``sum_srank`` = :math:`\\sum_i \\operatorname{srank}(W_i)` and ``l1_term`` =
    :math:`(\\sum_i (\\|W_i^\\top\\|_{2,1} / \\|W_i\\|_2)^{2/3})^3`.
    """
    log_prod, sum_srank, l1_sum = 0.0, 0.0, 0.0
    for matrix in layer_matrices(model, batchnorm).values():
        sigma = float(torch.linalg.matrix_norm(matrix, ord=2))
        if sigma == 0.0:
            return {"log_prod_spec2": -math.inf, "sum_srank": 0.0, "l1_term": 0.0}
        log_prod += 2.0 * math.log(sigma)
        sum_srank += float(matrix.pow(2).sum()) / sigma**2
        l1_sum += (float(matrix.norm(dim=1).sum()) / sigma) ** (2.0 / 3.0)
    return {"log_prod_spec2": log_prod, "sum_srank": sum_srank, "l1_term": l1_sum**3}


def complexity_measures(
    model: nn.Module, images: Tensor, labels: Tensor, batchnorm: BatchNormMode = "ignore"
) -> dict[str, Tensor]:
    """Spec-Fro, Spec-L1 and Jac-Norm of ``model`` at each ``(image, label)`` (module docstring).

    The model is evaluated in eval mode (BatchNorm running statistics, no power iteration, no
    dropout) in its own dtype and device; its training flag is restored afterwards.

    Args:
        model: a classifier mapping ``images`` to logits ``(N, C)``.
        images: a batch on the model's device.
        labels: ``(N,)`` class indices.
        batchnorm: ``"ignore"`` or ``"include"`` (module docstring).

    Returns:
        float64 CPU tensors of shape ``(N,)``: ``margin``, ``spec_fro``, ``spec_l1``,
        ``jac_norm`` and ``log_spec_fro``, ``log_spec_l1``, ``log_jac_norm``. Where
        ``margin <= 0`` (misclassified) the log values are ``nan`` and ``jac_norm`` is negative
        or ``inf``: the measures are meant for correctly classified points.

    Example::

        >>> import torch
        >>> from srngan.classification.networks import MLP
        >>> net = MLP(in_features=4, hidden=(8,), num_classes=3).double()
        >>> m = complexity_measures(net, torch.randn(5, 4, dtype=torch.float64), torch.zeros(5, dtype=torch.long))
        >>> sorted(m)
        ['jac_norm', 'log_jac_norm', 'log_spec_fro', 'log_spec_l1', 'margin', 'spec_fro', 'spec_l1']
    """
    was_training = model.training
    model.eval()
    try:
        terms = weight_terms(model, batchnorm)
        margin, jac_sum = _margin_and_jacobian_sum(model, images, labels, batchnorm)
    finally:
        model.train(was_training)
    log_margin2 = 2.0 * margin.abs().log()
    log_fro = terms["log_prod_spec2"] + math.log(terms["sum_srank"]) - log_margin2
    log_l1 = terms["log_prod_spec2"] + math.log(terms["l1_term"]) - log_margin2
    log_jac = jac_sum.log() - margin.abs().log()
    positive = margin > 0
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    return {
        "margin": margin,
        "spec_fro": log_fro.exp(),
        "spec_l1": log_l1.exp(),
        "jac_norm": jac_sum / margin,
        "log_spec_fro": torch.where(positive, log_fro, nan),
        "log_spec_l1": torch.where(positive, log_l1, nan),
        "log_jac_norm": torch.where(positive, log_jac, nan),
    }


def _margin_and_jacobian_sum(model, images, labels, batchnorm) -> tuple[Tensor, Tensor]:
    """Margins and :math:`\\sum_i \\|h_i\\| \\|\\partial\\gamma/\\partial h_i\\|` per sample."""
    hidden: list[Tensor] = []

    def keep(_module, _inputs, output):
        hidden.append(output)

    handles = [m.register_forward_hook(keep) for _, m in measured_layers(model, batchnorm)]
    try:
        with torch.enable_grad():
            # Gradients w.r.t. the input make autograd record the graph even for frozen weights.
            x = images.detach().requires_grad_(True)
            logits = model(x)
            margin = margins(logits, labels.to(logits.device))
            # The logits layer's output is f(x) itself, not a hidden layer.
            hidden = [h for h in hidden if h is not logits and h.requires_grad]
            # Samples are independent in eval mode, so the gradient of the summed margins holds
            # each sample's own Jacobian row.
            grads = torch.autograd.grad(margin.sum(), hidden, allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
    total = torch.zeros(images.shape[0], dtype=torch.float64, device=images.device)
    for h, g in zip(hidden, grads):
        if g is not None:
            total += h.detach().flatten(1).double().norm(dim=1) * g.flatten(1).double().norm(dim=1)
    return margin.detach().double().cpu(), total.cpu()
