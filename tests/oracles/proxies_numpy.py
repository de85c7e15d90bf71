"""Zero-cost proxies of a NAS-Bench-201 network in plain float64 numpy, written from the papers'
and reference codes' definitions (shared/docs/reference.md section 1): the test oracle of
``pyengine.proxies`` on small networks.

The network is NAS-Bench-201's (reference.md section 2): stem conv3x3 + BN; three stages of
``cells_per_stage`` cells at C, 2C, 4C channels with a ResNet basic block (stride 2) between
stages; head BN, ReLU, global average pool and a linear classifier. A cell's edge i->j computes
its op (``none``, ``skip_connect``, ReLU-conv1x1-BN, ReLU-conv3x3-BN, 3x3 average pool with
``count_include_pad=False``) and every node is the sum of its incoming edges. Arrays are NHWC,
kernels HWIO, so the weights of :class:`pyengine.nets.NB201Net` are read as they are stored
(``weights_from_flax``).

Gradients come from a hand-written backward pass: every layer below has its derivative written
out next to it (no automatic differentiation), and :func:`loss_and_grads` is checked against
central finite differences of :func:`forward` in the tests. grasp's Hessian-gradient product is
a central difference of gradients along the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "OPS",
    "EDGES",
    "weights_from_flax",
    "forward",
    "loss_and_grads",
    "scores",
    "jacob_cov",
    "epe_nas",
    "nwot",
    "synflow",
    "snip",
    "grasp",
    "fisher",
    "grad_norm",
    "plain",
    "l2_norm",
    "zen",
    "params_m",
    "flops_m",
]

# op indices as pyengine.graph.nb201.OPS and the edge order of NB201Net's cells
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NONE, SKIP, CONV1, CONV3, POOL = range(5)
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
BN_EPS = 1e-5
BN_MOMENTUM = 0.1

# ---------------------------------------------------------------------------------------------
# a value of the computation and its gradient; each layer pushes its own backward step


class _V:
    __slots__ = ("value", "grad")

    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self.grad: np.ndarray | None = None

    def add_grad(self, g: np.ndarray) -> None:
        self.grad = g if self.grad is None else self.grad + g


class _Tape:
    """The backward steps of one forward pass, run in reverse by :meth:`backward`."""

    def __init__(self) -> None:
        self.steps: list[Callable[[], None]] = []
        self.relu_inputs: list[np.ndarray] = []  # every ReLU's input (NWOT codes)
        self.probes: list[tuple[str, _V, int]] = []  # conv / linear outputs before BN, with fan-in
        self.bn_vars: list[tuple[str, np.ndarray]] = []  # each BN's unbiased batch variance
        self.flops = 0.0

    def backward(self, out: _V, seed: np.ndarray) -> None:
        out.grad = seed
        for step in reversed(self.steps):
            step()


def _g(v: _V) -> np.ndarray:
    return np.zeros_like(v.value) if v.grad is None else v.grad


def _conv(t: _Tape, x: _V, k: _V, stride: int = 1) -> _V:
    """y[n, i, j, o] = sum_{a, b, c} xpad[n, s i + a, s j + b, c] k[a, b, c, o], padding k // 2."""
    kh, _, cin, cout = k.value.shape
    p = kh // 2
    xp = np.pad(x.value, ((0, 0), (p, p), (p, p), (0, 0)))
    n, h, w, _ = x.value.shape
    ho, wo = (h + 2 * p - kh) // stride + 1, (w + 2 * p - kh) // stride + 1

    def window(a: int, b: int) -> tuple[slice, slice, slice, slice]:
        return (
            slice(None),
            slice(a, a + stride * (ho - 1) + 1, stride),
            slice(b, b + stride * (wo - 1) + 1, stride),
            slice(None),
        )

    y = np.zeros((n, ho, wo, cout))
    for a in range(kh):
        for b in range(kh):
            y += xp[window(a, b)] @ k.value[a, b]
    out = _V(y)
    t.flops += ho * wo * kh * kh * cin * cout

    def step() -> None:
        dy = _g(out)
        dk = np.zeros_like(k.value)
        dxp = np.zeros_like(xp)
        for a in range(kh):
            for b in range(kh):
                dk[a, b] = np.einsum("nhwc,nhwo->co", xp[window(a, b)], dy)
                dxp[window(a, b)] += dy @ k.value[a, b].T
        k.add_grad(dk)
        x.add_grad(dxp[:, p : p + h, p : p + w, :])

    t.steps.append(step)
    return out


def _relu(t: _Tape, z: _V) -> _V:
    t.relu_inputs.append(z.value)
    out = _V(np.maximum(z.value, 0.0))
    t.flops += z.value[0].size

    def step() -> None:
        z.add_grad(_g(out) * (z.value > 0))

    t.steps.append(step)
    return out


def _bn(t: _Tape, name: str, x: _V, gamma: np.ndarray | None, beta: np.ndarray | None) -> _V:
    """Train-mode batch norm: the minibatch's mean and biased variance over (N, H, W); gamma and
    beta are constants here (no proxy scores them). None: the identity (``bn=False``)."""
    if gamma is None:
        return x
    axes = (0, 1, 2)
    m = x.value.shape[0] * x.value.shape[1] * x.value.shape[2]
    mu = x.value.mean(axes)
    var = ((x.value - mu) ** 2).mean(axes)
    t.bn_vars.append((name, var * m / (m - 1)))
    inv = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (x.value - mu) * inv
    out = _V(xhat * gamma + beta)
    t.flops += 2 * x.value[0].size

    def step() -> None:
        dxhat = _g(out) * gamma
        x.add_grad(inv / m * (m * dxhat - dxhat.sum(axes) - xhat * (dxhat * xhat).sum(axes)))

    t.steps.append(step)
    return out


def _add(t: _Tape, a: _V, b: _V) -> _V:
    out = _V(a.value + b.value)

    def step() -> None:
        a.add_grad(_g(out))
        b.add_grad(_g(out))

    t.steps.append(step)
    return out


def _zero(t: _Tape, x: _V) -> _V:
    return _V(np.zeros_like(x.value))  # no gradient flows back


def _pool3(t: _Tape, x: _V) -> _V:
    """3x3 average, stride 1, padding 1, divided by the number of in-image cells."""
    _, h, w, _ = x.value.shape
    xp = np.pad(x.value, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cnt = np.pad(np.ones((h, w)), 1)
    total = sum(xp[:, a : a + h, b : b + w, :] for a in range(3) for b in range(3))
    count = sum(cnt[a : a + h, b : b + w] for a in range(3) for b in range(3))[None, :, :, None]
    out = _V(total / count)
    t.flops += 9 * x.value[0].size

    def step() -> None:
        d = np.pad(_g(out) / count, ((0, 0), (1, 1), (1, 1), (0, 0)))
        x.add_grad(sum(d[:, 2 - a : 2 - a + h, 2 - b : 2 - b + w, :] for a in range(3) for b in range(3)))

    t.steps.append(step)
    return out


def _pool2(t: _Tape, x: _V) -> _V:
    """2x2 average with stride 2."""
    n, h, w, c = x.value.shape
    out = _V(x.value.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4)))
    t.flops += 4 * out.value[0].size

    def step() -> None:
        x.add_grad(np.repeat(np.repeat(_g(out), 2, axis=1), 2, axis=2) / 4.0)

    t.steps.append(step)
    return out


def _head(t: _Tape, x: _V, w: _V, b: _V) -> _V:
    """Global average pool and the linear classifier."""
    n, h, wd, c = x.value.shape
    pooled = x.value.mean(axis=(1, 2))
    out = _V(pooled @ w.value + b.value)
    t.flops += c * (h + 1) * (wd + 1) + w.value.size  # tensorwatch: (H + 1)(W + 1) per channel

    def step() -> None:
        dy = _g(out)
        w.add_grad(pooled.T @ dy)
        b.add_grad(dy.sum(0))
        x.add_grad(np.broadcast_to((dy @ w.value.T)[:, None, None, :] / (h * wd), x.value.shape).copy())

    t.steps.append(step)
    return out


def _probe(t: _Tape, name: str, a: _V, fan_in: int) -> _V:
    t.probes.append((name, a, fan_in))
    return a


# ---------------------------------------------------------------------------------------------
# the network


def weights_from_flax(params: Any, cells_per_stage: int = 1) -> dict[tuple, np.ndarray]:
    """The float64 parameters of an ``NB201Net`` variables tree (its ``params`` collection) keyed
    by path; scanned stages (``cells_per_stage > 1``) split into one entry per cell, the cell
    index inserted after the stage name."""
    out: dict[tuple, np.ndarray] = {}

    def walk(tree: Any, path: tuple) -> None:
        if hasattr(tree, "items"):
            for k, v in tree.items():
                walk(v, path + (k,))
            return
        a = np.asarray(tree, dtype=np.float64)
        if path[0].startswith("stage") and cells_per_stage > 1:
            for i in range(cells_per_stage):
                out[(path[0], i) + path[1:]] = a[i]
        else:
            out[(path[0], 0) + path[1:] if path[0].startswith("stage") else path] = a

    walk(params, ())
    return out


def _used(ops: tuple[int, ...], cells_per_stage: int) -> list[tuple]:
    """Paths of the conv and linear weights the network of ``ops`` has (the scored weights)."""
    paths: list[tuple] = [("stem",)]
    for s in range(3):
        if s:
            paths += [(f"reduce{s}", "conv_a", "conv"), (f"reduce{s}", "conv_b", "conv"), (f"reduce{s}", "shortcut")]
        for i in range(cells_per_stage):
            for e, (a, b) in enumerate(EDGES):
                if ops[e] == CONV1:
                    paths.append((f"stage{s}", i, f"edge{a}{b}", "conv1x1"))
                elif ops[e] == CONV3:
                    paths.append((f"stage{s}", i, f"edge{a}{b}", "conv3x3"))
    return paths + [("classifier",)]


def _net(
    t: _Tape,
    p: dict[tuple, np.ndarray],
    wv: dict[tuple, _V],
    x: _V,
    ops: tuple[int, ...],
    cells_per_stage: int,
    batch_norm: bool,
    features: bool = False,
) -> _V:
    def bn(path: tuple, y: _V, slot: int = 0) -> _V:
        if not batch_norm:
            return y
        return _bn(t, "/".join(map(str, path)), y, p[path + ("scale",)][slot], p[path + ("bias",)][slot])

    def fan(path: tuple) -> int:
        k = wv[path].value
        return int(np.prod(k.shape[:-1]))

    h = _probe(t, "stem", _conv(t, x, wv[("stem",)]), fan(("stem",)))
    h = bn(("stem_bn",), h)
    for s in range(3):
        if s:
            r = f"reduce{s}"
            y = _conv(t, _relu(t, h), wv[(r, "conv_a", "conv")], 2)
            y = bn((r, "conv_a", "bn"), _probe(t, f"{r}/conv_a", y, fan((r, "conv_a", "conv"))))
            y = _conv(t, _relu(t, y), wv[(r, "conv_b", "conv")])
            y = bn((r, "conv_b", "bn"), _probe(t, f"{r}/conv_b", y, fan((r, "conv_b", "conv"))))
            sc = _probe(t, f"{r}/shortcut", _conv(t, _pool2(t, h), wv[(r, "shortcut")]), fan((r, "shortcut")))
            h = _add(t, sc, y)
        for i in range(cells_per_stage):
            nodes: list[_V | None] = [h, None, None, None]
            for e, (a, b) in enumerate(EDGES):
                op, src, edge = ops[e], nodes[a], (f"stage{s}", i, f"edge{a}{b}")
                if op == NONE:
                    y = _zero(t, src)
                elif op == SKIP:
                    y = src
                elif op == POOL:
                    y = _pool3(t, src)
                else:
                    kname = "conv1x1" if op == CONV1 else "conv3x3"
                    y = _conv(t, _relu(t, src), wv[edge + (kname,)])
                    y = _probe(t, "/".join(map(str, edge)), y, fan(edge + (kname,)))
                    y = bn(edge + ("bn",), y, 0 if op == CONV1 else 1)
                nodes[b] = y if nodes[b] is None else _add(t, nodes[b], y)
            h = nodes[3]
    h = _relu(t, bn(("head_bn",), h))
    if features:
        return h
    logits = _head(t, h, wv[("classifier",)], _V(p[("classifier_bias",)]))
    return _probe(t, "classifier", logits, wv[("classifier",)].value.shape[0])


def forward(
    p: dict[tuple, np.ndarray],
    x: np.ndarray,
    ops: tuple[int, ...],
    cells_per_stage: int = 1,
    *,
    batch_norm: bool = True,
    features: bool = False,
) -> tuple[np.ndarray, _Tape, dict[tuple, _V], _V]:
    """The network of cell ``ops`` on ``x`` (batch, height, width, 3) in train mode: (logits or,
    with ``features``, the feature map before global pooling; the tape; the scored weights as
    values; the input as a value)."""
    t = _Tape()
    wv = {k: _V(p[k]) for k in _used(ops, cells_per_stage)}
    xv = _V(np.asarray(x, np.float64))
    out = _net(t, p, wv, xv, tuple(int(o) for o in ops), cells_per_stage, batch_norm, features)
    return out.value, t, wv, xv


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient with respect to the logits."""
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    n = len(labels)
    onehot = np.eye(logits.shape[1])[labels]
    return float(-(logp * onehot).sum() / n), (np.exp(logp) - onehot) / n


def loss_and_grads(
    p: dict[tuple, np.ndarray], x: np.ndarray, labels: np.ndarray, ops: tuple[int, ...], cells_per_stage: int = 1
) -> tuple[float, dict[tuple, np.ndarray], _Tape, np.ndarray]:
    """Cross-entropy of the batch and its gradient with respect to every scored weight (the
    tape keeps the probes' activations and gradients) and to the input."""
    logits, t, wv, xv = forward(p, x, ops, cells_per_stage)
    loss, dlogits = _cross_entropy(logits, np.asarray(labels))
    out = t.probes[-1][1]
    t.backward(out, dlogits)
    return loss, {k: _g(v) for k, v in wv.items()}, t, _g(xv)


# ---------------------------------------------------------------------------------------------
# the proxies (reference.md section 1.2)


def _input_jacobian(p: dict, x: np.ndarray, ops: tuple, cells: int) -> np.ndarray:
    """Rows d(sum_c f_c(x_i)) / dx_i of the summed logits (one backward pass of all ones)."""
    logits, t, _, xv = forward(p, x, ops, cells)
    t.backward(t.probes[-1][1], np.ones_like(logits))
    return _g(xv).reshape(x.shape[0], -1)


def jacob_cov(p: dict, x: np.ndarray, ops: tuple, cells: int = 1, k: float = 1e-5) -> float:
    """-sum_i ln(l_i + k) + 1 / (l_i + k) over the eigenvalues of corrcoef(J)."""
    c = np.corrcoef(_input_jacobian(p, x, ops, cells))
    lam = np.linalg.eigvalsh(c)
    return float(-np.sum(np.log(lam + k) + 1.0 / (lam + k)))


def epe_nas_from_jacobian(jac: np.ndarray, labels: np.ndarray, n_classes: int, eps: float = 1e-5) -> float:
    """EPE-NAS as NASLib defines it, from the Jacobian rows ``jac`` (batch, D)."""
    s = {}
    for c in np.unique(labels):
        rows = jac[labels == c]
        corr = np.atleast_2d(np.corrcoef(rows))
        s[c] = np.log(np.abs(corr) + eps).sum()
        if n_classes > 100:
            s[c] /= len(rows)
    if n_classes <= 100:
        return float(sum(abs(v) for v in s.values()))
    return float(sum(abs(a - b) for a in s.values() for b in s.values()) / len(s))


def epe_nas(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, n_classes: int, cells: int = 1) -> float:
    return epe_nas_from_jacobian(_input_jacobian(p, x, ops, cells), np.asarray(labels), n_classes)


def nwot(p: dict, x: np.ndarray, ops: tuple, cells: int = 1) -> float:
    """ln|det K|, K = sum over ReLUs of C C^T + (1 - C)(1 - C)^T for the binary codes C of
    each ReLU's input."""
    _, t, _, _ = forward(p, x, ops, cells)
    n = x.shape[0]
    k = np.zeros((n, n))
    for z in t.relu_inputs:
        c = (z > 0).reshape(n, -1).astype(np.float64)
        k += c @ c.T + (1 - c) @ (1 - c).T
    sign, logdet = np.linalg.slogdet(k)
    return float(logdet) if sign != 0 else -np.inf


def synflow(p: dict, input_shape: tuple[int, int, int], ops: tuple, cells: int = 1) -> float:
    """sum |theta * dR/dtheta| with every parameter replaced by its absolute value, no batch
    norm, an all-ones input of batch 1, R the sum of the logits; float64."""
    pa = {k: np.abs(v) for k, v in p.items()}
    logits, t, wv, _ = forward(pa, np.ones((1, *input_shape)), ops, cells, batch_norm=False)
    t.backward(t.probes[-1][1], np.ones_like(logits))
    return float(sum(np.abs(wv[k].value * _g(wv[k])).sum() for k in wv))


def snip(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, cells: int = 1) -> float:
    _, g, _, _ = loss_and_grads(p, x, labels, ops, cells)
    return float(sum(np.abs(p[k] * g[k]).sum() for k in g))


def plain(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, cells: int = 1) -> float:
    _, g, _, _ = loss_and_grads(p, x, labels, ops, cells)
    return float(sum((p[k] * g[k]).sum() for k in g))


def grad_norm(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, cells: int = 1) -> float:
    _, g, _, _ = loss_and_grads(p, x, labels, ops, cells)
    return float(sum(np.linalg.norm(g[k].ravel()) for k in g))


def l2_norm(p: dict, ops: tuple, cells: int = 1) -> float:
    return float(sum(np.linalg.norm(p[k].ravel()) for k in _used(ops, cells)))


def grasp(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, cells: int = 1, rel_step: float = 1e-7) -> float:
    """sum -theta * (H g), g = dL/dtheta, H g by a central difference of gradients along g."""
    _, g, _, _ = loss_and_grads(p, x, labels, ops, cells)
    norm_w = np.sqrt(sum((p[k] ** 2).sum() for k in g))
    norm_g = np.sqrt(sum((g[k] ** 2).sum() for k in g))
    if norm_g == 0.0:
        return 0.0
    eps = rel_step * norm_w / norm_g

    def grad_at(sign: float) -> dict:
        q = dict(p)
        for k in g:
            q[k] = p[k] + sign * eps * g[k]
        return loss_and_grads(q, x, labels, ops, cells)[1]

    plus, minus = grad_at(1.0), grad_at(-1.0)
    return float(sum((-p[k] * (plus[k] - minus[k]) / (2 * eps)).sum() for k in g))


def fisher(p: dict, x: np.ndarray, labels: np.ndarray, ops: tuple, cells: int = 1) -> float:
    """sum over conv / linear layers and output channels of 1/2 mean_n (sum_hw a dL/da)^2 times
    the layer's fan-in (the per-channel value broadcast over the weight, then summed)."""
    _, _, t, _ = loss_and_grads(p, x, labels, ops, cells)
    total = 0.0
    for _, a, fan_in in t.probes:
        prod = a.value * _g(a)
        s = prod.reshape(prod.shape[0], -1, prod.shape[-1]).sum(1)
        total += fan_in * (0.5 * (s**2).mean(0)).sum()
    return float(total)


def zen(weights: dict[tuple, np.ndarray], x: np.ndarray, x_perturbed: np.ndarray, ops: tuple, cells: int = 1) -> float:
    """ln mean_n sum_chw |F(x) - F(x')| + sum over batch norms of ln sqrt(mean running variance),
    with ``weights`` (the N(0, 1) conv / linear weights), BN gamma 1 and beta 0, fresh running
    statistics updated by the two train-mode passes (momentum 0.1)."""
    p = dict(weights)
    for k, v in list(p.items()):
        if k[-1] == "scale":
            p[k] = np.ones_like(v)
        elif k[-1] == "bias":
            p[k] = np.zeros_like(v)
    f1, t1, _, _ = forward(p, x, ops, cells, features=True)
    f2, t2, _, _ = forward(p, x_perturbed, ops, cells, features=True)
    delta = np.abs(f1 - f2).reshape(x.shape[0], -1).sum(1).mean()
    bn = 0.0
    for (name, v1), (name2, v2) in zip(t1.bn_vars, t2.bn_vars, strict=True):
        assert name == name2
        running = 1.0
        for v in (v1, v2):
            running = (1 - BN_MOMENTUM) * running + BN_MOMENTUM * v
        bn += np.log(np.sqrt(np.mean(running)))
    return float(np.log(delta) + bn)


def params_m(p: dict, ops: tuple, cells: int = 1) -> float:
    """Parameters in millions of the modules the network of ``ops`` has: conv and linear
    weights, the classifier's bias and the affine parameters of its batch norms."""
    total = sum(p[k].size for k in _used(ops, cells)) + p[("classifier_bias",)].size
    for k, v in p.items():  # batch-norm scale and bias: (slots, C)
        if k[-1] not in ("scale", "bias"):
            continue
        if len(k) >= 3 and str(k[-3]).startswith("edge"):  # a cell edge's: slot 0 conv1x1, 1 conv3x3
            op = ops[EDGES.index((int(k[-3][4]), int(k[-3][5])))]
            total += v.shape[1] if op in (CONV1, CONV3) else 0
        else:
            total += v.shape[1]
    return total / 1e6


def flops_m(p: dict, input_shape: tuple[int, int, int], ops: tuple, cells: int = 1) -> float:
    """Forward FLOPs of one image in millions, counted as tensorwatch does: convolutions and the
    classifier as multiply-adds, 2 per element for batch norm, 1 for ReLU, 9 per output element
    for the 3x3 pool and 4 for the 2x2 pool, (H + 1)(W + 1) per channel for the global pool."""
    _, t, _, _ = forward(p, np.zeros((2, *input_shape)), ops, cells)
    return t.flops / 1e6


def scores(
    p: dict,
    x: np.ndarray,
    labels: np.ndarray,
    ops: tuple,
    n_classes: int,
    cells: int = 1,
) -> dict[str, float]:
    """Every data proxy and the weight-only ones (not zen, which draws its own weights) of the
    network of ``ops``."""
    ops = tuple(int(o) for o in ops)
    return {
        "jacob_cov": jacob_cov(p, x, ops, cells),
        "epe_nas": epe_nas(p, x, labels, ops, n_classes, cells),
        "nwot": nwot(p, x, ops, cells),
        "synflow": synflow(p, x.shape[1:], ops, cells),
        "snip": snip(p, x, labels, ops, cells),
        "grasp": grasp(p, x, labels, ops, cells),
        "fisher": fisher(p, x, labels, ops, cells),
        "grad_norm": grad_norm(p, x, labels, ops, cells),
        "plain": plain(p, x, labels, ops, cells),
        "l2_norm": l2_norm(p, ops, cells),
        "params": params_m(p, ops, cells),
        "flops": flops_m(p, x.shape[1:], ops, cells),
    }
