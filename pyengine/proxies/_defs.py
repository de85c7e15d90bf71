"""The zero-cost proxies (as Abdelfattah et al. 2021 and NASLib's zero-cost code define them),
each split into a device part (a pure JAX function of the network context, traced once per space
and input shape) and a host part (float64 numpy on the device's small outputs: eigenvalues, log-determinants).

Conventions (as the reference codes): train-mode batch norm on one minibatch, cross-entropy,
scores summed over the conv and linear weights that exist in the architecture (biases and
batch-norm parameters excluded), higher is better.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Proxy", "JACOB_COV_K", "EPE_EPS"]

JACOB_COV_K = 1e-5
EPE_EPS = 1e-5


class Proxy(NamedTuple):
    """One zero-cost proxy.

    Attributes
    ----------
    name : str
    program : {"network", "synflow", "closed_form"}
        Which compiled program computes it: the float32 program shared by the data proxies, the
        float64 synflow program, or a closed form of the architecture (no network).
    needs_data : bool
        Whether it reads the minibatch (the others read only the weights or their own noise).
    device : callable or None
        ``device(ctx) -> array``, traced inside the program (None for closed forms).
    host : callable
        ``host(raw, info) -> float`` finishes the score from the device output in float64.
    doc : str
    """

    name: str
    program: str
    needs_data: bool
    device: Callable[..., Any] | None
    host: Callable[..., float]
    doc: str


def _scalar(raw: Any, info: Any) -> float:
    return float(raw)


def _corr(gram: np.ndarray) -> np.ndarray | None:
    """Pearson correlation between rows from the centred Gram matrix; None when a row is
    constant (its correlation is undefined)."""
    g = np.asarray(gram, dtype=np.float64)
    d = np.diag(g)
    if np.any(d <= np.finfo(np.float32).tiny * g.shape[0]) or not np.all(np.isfinite(g)):
        return None
    s = np.sqrt(d)
    return np.clip(g / s[:, None] / s[None, :], -1.0, 1.0)


def jacob_cov_host(gram: Any, info: Any) -> float:
    """-sum(ln(l + k) + 1 / (l + k)) over the eigenvalues l of the rows' correlation matrix;
    -inf when a row of the Jacobian is constant (the reference's NaN, which NASLib maps to -1e8)."""
    c = _corr(gram)
    if c is None:
        return -np.inf
    lam = np.clip(np.linalg.eigvalsh(c), 0.0, None)  # a correlation matrix is PSD: clip round-off
    return float(-np.sum(np.log(lam + JACOB_COV_K) + 1.0 / (lam + JACOB_COV_K)))


def epe_nas_host(gram: Any, info: Any) -> float:
    """EPE-NAS from the per-class correlation of Jacobian rows; -inf when a row is constant."""
    c = _corr(gram)
    if c is None:
        return -np.inf
    labels = np.asarray(info["labels"])
    classes = np.unique(labels)
    s = np.array([np.log(np.abs(c[np.ix_(labels == k, labels == k)]) + EPE_EPS).sum() for k in classes])
    if info["n_classes"] <= 100:
        return float(np.abs(s).sum())
    counts = np.array([(labels == k).sum() for k in classes], dtype=np.float64)
    s = s / counts
    return float(np.abs(s[:, None] - s[None, :]).sum() / len(classes))


def nwot_host(k: Any, info: Any) -> float:
    """ln|det K| in float64 (-inf when K is singular)."""
    sign, logdet = np.linalg.slogdet(np.asarray(k, dtype=np.float64))
    return float(logdet) if sign != 0 else -np.inf


def _abs_weight_times_grad(ctx: Any) -> Any:
    """sum |theta * dL/dtheta|."""
    return ctx.weight_sum(lambda w, g: abs(w * g), use_grad=True)


JACOB_COV = Proxy(
    "jacob_cov",
    "network",
    True,
    lambda ctx: ctx.jacobian_gram(),
    jacob_cov_host,
    "Mellor et al. v1: correlation of the input Jacobians of the summed logits across the batch.",
)
EPE_NAS = Proxy(
    "epe_nas",
    "network",
    True,
    lambda ctx: ctx.jacobian_gram(),
    epe_nas_host,
    "Lopes et al.: per-class correlation of input Jacobians (NASLib's definition).",
)
NWOT = Proxy(
    "nwot",
    "network",
    True,
    lambda ctx: ctx.nwot_kernel(),
    nwot_host,
    "Mellor et al. 2021: log |det K| of the ReLU-code Hamming kernel.",
)
SNIP = Proxy(
    "snip",
    "network",
    True,
    _abs_weight_times_grad,
    _scalar,
    "Lee et al.: sum |theta * dL/dtheta|.",
)
GRAD_NORM = Proxy(
    "grad_norm",
    "network",
    True,
    lambda ctx: ctx.layer_norm_sum(ctx.grads()[0]),
    _scalar,
    "Sum over layers of the Frobenius norm of dL/dW.",
)
PLAIN = Proxy(
    "plain",
    "network",
    True,
    lambda ctx: ctx.weight_sum(lambda w, g: w * g, use_grad=True),
    _scalar,
    "Sum theta * dL/dtheta, signed.",
)
GRASP = Proxy(
    "grasp",
    "network",
    True,
    lambda ctx: ctx.grasp(),
    _scalar,
    "Wang et al.: sum -theta * (H g), with g = dL/dtheta (the reference's deliberate minus sign).",
)
FISHER = Proxy(
    "fisher",
    "network",
    True,
    lambda ctx: ctx.fisher(),
    _scalar,
    "Turner et al.: per-channel 1/2 mean_n (sum_hw a dL/da)^2, broadcast over each layer's fan-in.",
)
L2_NORM = Proxy(
    "l2_norm",
    "network",
    False,
    lambda ctx: ctx.layer_norm_sum(ctx.weights),
    _scalar,
    "Sum over layers of the Frobenius norm of the initial weights.",
)
ZEN = Proxy(
    "zen",
    "network",
    False,
    lambda ctx: ctx.zen(),
    _scalar,
    "Lin et al.: ln of the feature-map response to a small input perturbation (weights N(0, 1)) plus "
    "the batch norms' ln sqrt(mean running variance).",
)


def synflow_host(raw: Any, info: Any) -> float:
    """exp(ln scale) * sum, in float64 (NB201 scores reach 1e50, past float32's range)."""
    log_scale, total = (float(v) for v in np.asarray(raw, dtype=np.float64))
    return 0.0 if total == 0.0 else float(np.exp(log_scale + np.log(total)))


SYNFLOW = Proxy(
    "synflow",
    "synflow",
    False,
    lambda ctx: ctx.synflow(),
    synflow_host,
    "Tanaka et al.: sum |theta * dR/dtheta| with |theta|, no batch norm, an all-ones input; float32 with "
    "the activations renormalised after every cell and the scales' log carried apart.",
)
PARAMS = Proxy("params", "closed_form", False, None, _scalar, "Trainable parameters in millions.")
FLOPS = Proxy("flops", "closed_form", False, None, _scalar, "Forward FLOPs of one image in millions (tensorwatch).")
