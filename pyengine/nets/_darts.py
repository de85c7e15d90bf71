"""The DARTS / NAS-Bench-301 network on which NASLib computes its NB301 zero-cost scores.

NASLib scores NB301 architectures (NAS-Bench-Suite-Zero) on its DARTS search-space graph with the
genotype's ops (``naslib/search_spaces/nasbench301/graph.py``), not on the 20-cell C=36 DARTS
evaluation network. That graph, which this module builds:

* stem: conv3x3 (3 -> 3C, no bias) + BN;
* 8 cells: normal, normal, reduce, normal, normal, reduce, normal, normal, at C, C, 2C, 2C, 2C,
  4C, 4C, 4C channels (C = 32), each reading the outputs of the two cells before it (the first
  cell reads the stem twice). A cell preprocesses its inputs with ReLU-conv1x1-BN (or, when the
  earlier input is at twice the resolution, a factorized reduce: ReLU, two 1x1 stride-2 convs of
  C/2 channels on the input and on the input shifted by one pixel, concatenated, BN), both to C
  channels with affine BN; its 4 intermediate nodes each sum two edges; its output concatenates
  the 4 intermediate nodes (4C channels);
* head: global average pool and a linear layer (with bias), no BN or ReLU.

The ops of the edges (ops in ``pyengine.graph.darts.OPS`` order), all with BN without affine
parameters: max / avg pool 3x3 (padding 1, avg without the padding in the count) followed by BN;
skip_connect (the identity, or in a reduction cell on an edge from an input node a factorized
reduce C -> C); sep_conv kxk (ReLU, depthwise kxk, 1x1, BN, ReLU, depthwise kxk, 1x1, BN);
dil_conv kxk (ReLU, depthwise kxk with dilation 2, 1x1, BN). In a reduction cell the edges from
the two input nodes have stride 2. Batch norms follow PyTorch (momentum 0.1, eps 1e-5).

Two forms share one parameter tree (every edge holds the weights of all its ops):

* ``DartsNet(genotype=...)`` builds only the ops of one architecture (the reference form);
* ``DartsNet()`` called with ``cell_data`` (an int array of shape (2, 8, 2): [cell (0 normal,
  1 reduce), edge, (input node, op index)], one ``DartsBatch.cells`` row) computes each edge
  with :func:`~pyengine.nets._layers.remat_switch` over its ops (times the input kind, input or
  intermediate node, in a reduction cell), so only the selected op costs FLOPs and one compiled
  program serves every architecture (and vmaps over architectures). A cell's 8 edges run under
  ``lax.scan`` over a buffer of its nodes (the input node read by a dynamic index, the result
  added to the edge's node), so each cell's switches are compiled once rather than 8 times.

The variables: ``stem``, ``stem_bn``; per cell ``normal{i}`` / ``reduce{i}`` (``i`` the cell's
position; cells under ``nn.scan`` are ``stage{s}``, with a leading cell axis) holding ``pre0`` /
``pre1`` (``conv``, or ``conv_1`` and ``conv_2`` for a factorized reduce, and ``bn``) and
``edge0`` .. ``edge7`` (kernels ``sep3_dw1``, ``sep3_pw1``, ``sep3_dw2``, ``sep3_pw2``, the same
for ``sep5``, ``dil3_dw``, ``dil3_pw``, ``dil5_dw``, ``dil5_pw``, in reduction cells
``fr_conv_1`` and ``fr_conv_2``; ``bn`` with one slot per op, ``bn_mid`` with one per sep conv);
``classifier`` and ``classifier_bias``. Depthwise kernels are (k, k, 1, C), 1x1 kernels
(1, 1, C_in, C_out).

Probes as in :class:`~pyengine.nets.NB201Net`: with the ``nwot`` collection mutable every ReLU
sows the Gram matrix of its input's codes; with ``perturbations`` (made by ``init``) the output of
every convolution (depthwise and 1x1 separately, probe ``fisher_<kernel name>``) and of the
classifier is multiplied by ``1 + p``, ``p`` of shape (batch, 1, 1, channels), before its batch
norm.

A jitted ``init`` of this network compiles for minutes (about 900 weight tensors, each its own
random draw); :func:`darts_init_variables` draws the same distributions in one draw.
"""

from __future__ import annotations

from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from .._compile_cache import eval_shape_cached
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError
from ..graph import darts as g
from ._layers import (
    SlotBatchNorm,
    avg_pool_3x3,
    bias_init,
    conv2d,
    kernel_init,
    own_vjp,
    remat_switch,
    spread,
)
from ._nb201 import _add, _probe, _probe_scale, _relu, renormalize

__all__ = [
    "DartsNet",
    "darts_cell_data",
    "darts_init_variables",
    "depthwise_conv2d",
    "max_pool_3x3",
    "avg_pool_3x3_stride",
]

MAX_POOL, AVG_POOL, SKIP, SEP3, SEP5, DIL3, DIL5 = range(len(g.OPS))
NUM_OPS = len(g.OPS)
STEM_MULTIPLIER = 3
# the conv weights of each op of an edge: name -> (op, kernel size, dilation, which half of a sep conv)
SEP_OPS = {SEP3: ("sep3", 3), SEP5: ("sep5", 5)}
DIL_OPS = {DIL3: ("dil3", 3), DIL5: ("dil5", 5)}
_DIMS = ("NHWC", "HWIO", "NHWC")


def darts_cell_data(cells: Any) -> np.ndarray:
    """Cell data for :class:`DartsNet` from DARTS architectures, checked.

    cells : array of shape (n_archs, 2, 8, 2) or (2, 8, 2)
        [cell (0 normal, 1 reduce), edge, (input node, op index)], as ``DartsBatch.cells``.

    Returns an int32 array of the same shape. Raises ValueError naming the first bad entry.
    """
    a = np.asarray(cells)
    _check_cells(a[None] if a.ndim == 3 else a, "The 'cells' argument of darts_cell_data", a.shape)
    return a.astype(np.int32)


def _check_cells(a: np.ndarray, label: str, shape: tuple[int, ...]) -> None:
    """ValueError / TypeError unless ``a`` (n, 2, 8, 2) holds valid DARTS cells; ``label`` names
    the argument ("The 'x' argument of F") and ``shape`` is the shape it was given with."""
    if a.ndim != 4 or a.shape[1:] != (2, g.NUM_EDGES, 2):
        raise InvalidValueError(
            f"{label} must have shape (2, {g.NUM_EDGES}, 2) per architecture: [cell, edge, (input node, op"
            f" index)]. Got shape {shape} instead."
        )
    if a.size and a.dtype.kind not in "iu":
        raise InvalidTypeError(f"{label} must hold integers. Got dtype {a.dtype} instead.")
    bad = g.invalid_cells(a.astype(np.int64))
    if bad:
        row = f" (architecture {bad[0][0]})" if len(a) > 1 else ""
        raise InvalidValueError(
            f"{label} must hold valid DARTS architectures{row}: {bad[0][1]}. Got an invalid one instead."
        )


def _views(x: Any, k: int, stride: int, dilation: int, pad: int, fill: float = 0.0) -> list[Any]:
    """The k*k views of ``x`` (B, H, W, C) that a k x k window with ``stride``, ``dilation`` and
    padding ``pad`` (filled with ``fill``) reads, in row-major window order."""
    h, w = x.shape[1], x.shape[2]
    span = dilation * (k - 1) + 1
    ho, wo = (h + 2 * pad - span) // stride + 1, (w + 2 * pad - span) // stride + 1
    xp = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=fill) if pad else x
    return [
        xp[
            :,
            dilation * i : dilation * i + stride * (ho - 1) + 1 : stride,
            dilation * j : dilation * j + stride * (wo - 1) + 1 : stride,
            :,
        ]
        for i in range(k)
        for j in range(k)
    ]


def depthwise_conv2d(x: Any, kernel: Any, stride: int = 1, dilation: int = 1, *, native: bool = False) -> Any:
    """Depthwise 2-D convolution (PyTorch's ``groups=C``), padding ``dilation * (k - 1) // 2``.

    x : array of shape (batch, height, width, channels)
    kernel : array of shape (k, k, 1, channels)
    native : XLA's grouped convolution instead of k*k shifted multiply-adds
    Returns an array of shape (batch, height / stride, width / stride, channels).

    The shifted form has its own gradient: the input's is the same shifted form applied to the
    output gradient (spread back onto the input grid when ``stride`` is 2) with the flipped
    kernel, and the kernel's is a loop over the k*k taps, one compiled body reading each tap's
    view by a dynamic offset. Autodiff of the k*k static slices instead compiles one kernel per
    tap and shape (about a quarter of the kernels of the NB301 synflow program).
    """
    k = kernel.shape[0]
    pad = dilation * (k - 1) // 2
    if native:
        return jax.lax.conv_general_dilated(
            x,
            kernel,
            (stride, stride),
            [(pad, pad)] * 2,
            rhs_dilation=(dilation, dilation),
            dimension_numbers=_DIMS,
            feature_group_count=x.shape[-1],
        )
    return _shifted_depthwise(x, kernel, stride, dilation)


def _shifted(x: Any, kernel: Any, stride: int, dilation: int) -> Any:
    k = kernel.shape[0]
    w = kernel.reshape(k * k, -1)
    views = _views(x, k, stride, dilation, dilation * (k - 1) // 2)
    y = views[0] * w[0]
    for i in range(1, k * k):
        y = y + views[i] * w[i]
    return y


def _shifted_depthwise(x: Any, kernel: Any, stride: int, dilation: int) -> Any:
    k = kernel.shape[0]

    def input_grad(x: Any, kernel: Any, dy: Any) -> Any:
        return _shifted_depthwise(spread(dy, x.shape, stride), jnp.flip(kernel, (0, 1)), 1, dilation)

    def kernel_grad(x: Any, kernel: Any, dy: Any) -> Any:
        pad = dilation * (k - 1) // 2
        xp = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        size = (x.shape[0], stride * (dy.shape[1] - 1) + 1, stride * (dy.shape[2] - 1) + 1, x.shape[3])

        def tap(t: Any) -> Any:
            view = jax.lax.dynamic_slice(xp, (0, dilation * (t // k), dilation * (t % k), 0), size)
            return (view[:, ::stride, ::stride, :] * dy).sum((0, 1, 2))

        return jax.lax.map(tap, jnp.arange(k * k)).reshape(kernel.shape)

    return own_vjp(lambda a, b: _shifted(a, b, stride, dilation), input_grad, kernel_grad)(x, kernel)


def max_pool_3x3(x: Any, stride: int = 1) -> Any:
    """3x3 max pool with padding 1 (padding never wins), NHWC."""
    pads = ((0, 0), (1, 1), (1, 1), (0, 0))  # a Python -inf: lax then uses its max-pool primitive
    return jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 3, 3, 1), (1, stride, stride, 1), pads)


def avg_pool_3x3_stride(x: Any, stride: int = 1) -> Any:
    """3x3 average pool with padding 1 and ``count_include_pad=False``, stride 1 or 2, NHWC."""
    if stride == 1:
        return avg_pool_3x3(x)
    h, w = x.shape[1], x.shape[2]
    total = sum(_views(x, 3, stride, 1, 1))

    def count(n: int) -> np.ndarray:
        centre = np.arange(0, n, stride)
        return np.minimum(centre + 1, n - 1) - np.maximum(centre - 1, 0) + 1

    c = (count(h)[:, None] * count(w)[None, :]).astype(np.float32)
    return total / c[None, :, :, None]


def _scaled(y: Any, scale: Any) -> Any:
    return y if scale is None else y * scale


def _sep_half(x: Any, dw: Any, pw: Any, p_dw: Any, p_pw: Any, stride: int, native: bool) -> Any:
    """ReLU, depthwise conv, 1x1 conv (half of a sep conv, without its batch norm)."""
    y = _scaled(depthwise_conv2d(jax.nn.relu(x), dw, stride, native=native), p_dw)
    return _scaled(conv2d(y, pw), p_pw)


def _dil(x: Any, dw: Any, pw: Any, p_dw: Any, p_pw: Any, stride: int, native: bool) -> Any:
    """ReLU, depthwise conv with dilation 2, 1x1 conv (dil conv without its batch norm)."""
    y = _scaled(depthwise_conv2d(jax.nn.relu(x), dw, stride, 2, native=native), p_dw)
    return _scaled(conv2d(y, pw), p_pw)


def _factorized(z: Any, k1: Any, k2: Any, p1: Any, p2: Any) -> Any:
    """Factorized reduce of ``z`` (already through its ReLU), without its batch norm."""
    a = _scaled(conv2d(z, k1, 2), p1)
    b = _scaled(conv2d(z[:, 1:, 1:, :], k2, 2), p2)
    return jnp.concatenate([a, b], axis=-1)


def _ops(stride: int, native: bool) -> tuple[list[Any], list[Any]]:
    """(first, second): per op, ``(fn, slot)`` of the sep convs' first half (None for the other
    ops) and of the op's output, for an edge of ``stride``. ``fn(x, t, w, p)``: ``x`` the input
    node, ``t`` the normalised first half, ``w`` / ``p`` the edge's kernels / probe scales."""
    first: list[Any] = [None] * NUM_OPS
    second: list[Any] = [None] * NUM_OPS
    second[MAX_POOL] = (lambda x, t, w, p: max_pool_3x3(x, stride), MAX_POOL)
    second[AVG_POOL] = (lambda x, t, w, p: avg_pool_3x3_stride(x, stride), AVG_POOL)
    if stride == 1:
        second[SKIP] = (lambda x, t, w, p: x, None)
    else:

        def fr(x: Any, t: Any, w: Any, p: Any) -> Any:
            return _factorized(jax.nn.relu(x), w["fr_conv_1"], w["fr_conv_2"], p.get("fr_conv_1"), p.get("fr_conv_2"))

        second[SKIP] = (fr, SKIP)
    for op, (name, _) in SEP_OPS.items():

        def half1(x: Any, t: Any, w: Any, p: Any, n: str = name) -> Any:
            return _sep_half(x, w[f"{n}_dw1"], w[f"{n}_pw1"], p.get(f"{n}_dw1"), p.get(f"{n}_pw1"), stride, native)

        def half2(x: Any, t: Any, w: Any, p: Any, n: str = name) -> Any:
            return _sep_half(t, w[f"{n}_dw2"], w[f"{n}_pw2"], p.get(f"{n}_dw2"), p.get(f"{n}_pw2"), 1, native)

        first[op] = (half1, op - SEP3)
        second[op] = (half2, op)
    for op, (name, _) in DIL_OPS.items():

        def dil(x: Any, t: Any, w: Any, p: Any, n: str = name) -> Any:
            return _dil(x, w[f"{n}_dw"], w[f"{n}_pw"], p.get(f"{n}_dw"), p.get(f"{n}_pw"), stride, native)

        second[op] = (dil, op)
    return first, second


# the switch form's branches (shifted depthwise convolutions): the two sep convs share one, their
# 3x3 depthwise kernels set in the middle of 5x5 zeros, and so do the two dil convs (5x5 with
# dilation 2); the branch of each op
_FIRST_BRANCH = np.array([0, 0, 0, 1, 1, 0, 0], np.int32)
_SECOND_BRANCH = np.array([0, 1, 2, 3, 3, 4, 4], np.int32)


def _switch_ops(stride: int, native: bool) -> tuple[list[Any], list[Any], np.ndarray, np.ndarray]:
    """(first, second, first_branch, second_branch) for the switch form: the function of each
    branch (None: zeros), and the branch of each op. The shared branches read the kernels of
    :func:`_merged_weights`; zero taps leave every shifted sum as the 3x3 kernel's, so the
    scores are those of ``_ops``. XLA's grouped convolution (``native``) sums a 5x5 kernel's
    taps in another order than a 3x3's, so it keeps one branch per op."""
    first, second = _ops(stride, native)
    if native:
        ops = np.arange(NUM_OPS, dtype=np.int32)
        return [None if f is None else f[0] for f in first], [fn for fn, _ in second], ops, ops

    def half1(x: Any, t: Any, w: Any, p: Any) -> Any:
        return _sep_half(x, w["sep_dw1"], w["sep_pw1"], p.get("sep_dw1"), p.get("sep_pw1"), stride, native)

    def half2(x: Any, t: Any, w: Any, p: Any) -> Any:
        return _sep_half(t, w["sep_dw2"], w["sep_pw2"], p.get("sep_dw2"), p.get("sep_pw2"), 1, native)

    def dil(x: Any, t: Any, w: Any, p: Any) -> Any:
        return _dil(x, w["dil_dw"], w["dil_pw"], p.get("dil_dw"), p.get("dil_pw"), stride, native)

    return [None, half1], [*(fn for fn, _ in second[:SEP3]), half2, dil], _FIRST_BRANCH, _SECOND_BRANCH


def _merged_weights(op: Any, w: dict[str, Any], p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kernels and probe scales of the switch form's shared branches for the edge's ``op``
    (a traced int): the 3x3 ones padded to 5x5 when the op is a 3x3 conv; ``fr_*`` as given."""
    centre = ((1, 1), (1, 1), (0, 0), (0, 0))

    def pick(small: Any, large: Any, is_small: Any) -> Any:
        return jnp.where(is_small, jnp.pad(small, centre) if small.shape != large.shape else small, large)

    pairs = {
        "sep": ("sep3", "sep5", op == SEP3, ("dw1", "pw1", "dw2", "pw2")),
        "dil": ("dil3", "dil5", op == DIL3, ("dw", "pw")),
    }
    out = ({n: v for n, v in w.items() if n.startswith("fr_")}, {n: v for n, v in p.items() if n.startswith("fr_")})
    for name, (small, large, is_small, parts) in pairs.items():
        for part in parts:
            for src, dst in zip((w, p), out, strict=True):
                if f"{small}_{part}" in src:
                    dst[f"{name}_{part}"] = pick(src[f"{small}_{part}"], src[f"{large}_{part}"], is_small)
    return out


class _Pre(nn.Module):
    """Cell input preprocessing: ReLU-conv1x1-BN, or (``reduce``) the factorized reduce."""

    channels: int
    reduce: bool
    weight_init: str
    bn_identity: bool

    @nn.compact
    def __call__(self, x: Any, train: bool) -> Any:
        c, cin = self.channels, x.shape[-1]
        z = _relu(self, x)
        if self.reduce:
            k1 = self.param("conv_1", kernel_init(self.weight_init, cin), (1, 1, cin, c // 2))
            k2 = self.param("conv_2", kernel_init(self.weight_init, cin), (1, 1, cin, c // 2))
            half = (x.shape[0], 1, 1, c // 2)
            p1 = _probe_scale(self, "fisher_conv_1", half, x.dtype)
            p2 = _probe_scale(self, "fisher_conv_2", half, x.dtype)
            y = _factorized(z, k1, k2, p1, p2)
        else:
            k = self.param("conv", kernel_init(self.weight_init, cin), (1, 1, cin, c))
            y = _probe(self, "fisher_conv", conv2d(z, k))
        return SlotBatchNorm(identity=self.bn_identity, name="bn")(y, train)


class _Edge(nn.Module):
    """The variables of one edge of a cell: the kernels of all its ops, their Fisher probes, and
    two batch norms without affine parameters (``bn``: one slot per op, the skip slot serving the
    factorized reduce; ``bn_mid``: the inner batch norm of the two sep convs).

    With a fixed op (``op``, ``src``) the call computes the edge on ``nodes``. Otherwise it
    returns ``(kernels, probe scales, running statistics)`` for the cell's scan, or, given
    ``stats``, stores updated running statistics."""

    channels: int
    reduce: bool  # in a reduction cell (edges from input nodes have stride 2)
    weight_init: str
    native: bool
    bn_identity: bool
    train: bool
    src: int | None = None
    op: int | None = None

    @nn.compact
    def __call__(self, nodes: Any = None, batch: int = 1, dtype: Any = jnp.float32, stats: Any = None) -> Any:
        c, init = self.channels, self.weight_init
        if nodes is not None:
            batch, dtype = nodes[0].shape[0], nodes[0].dtype
        w: dict[str, Any] = {}
        for name, k in SEP_OPS.values():
            for half in ("1", "2"):
                w[f"{name}_dw{half}"] = self.param(f"{name}_dw{half}", kernel_init(init, k * k), (k, k, 1, c))
                w[f"{name}_pw{half}"] = self.param(f"{name}_pw{half}", kernel_init(init, c), (1, 1, c, c))
        for name, k in DIL_OPS.values():
            w[f"{name}_dw"] = self.param(f"{name}_dw", kernel_init(init, k * k), (k, k, 1, c))
            w[f"{name}_pw"] = self.param(f"{name}_pw", kernel_init(init, c), (1, 1, c, c))
        if self.reduce:
            for name in ("fr_conv_1", "fr_conv_2"):
                w[name] = self.param(name, kernel_init(init, c), (1, 1, c, c // 2))
        p = {n: _probe_scale(self, f"fisher_{n}", (batch, 1, 1, k.shape[-1]), dtype) for n, k in w.items()}
        p = {n: s for n, s in p.items() if s is not None}
        bns = (
            SlotBatchNorm(slots=NUM_OPS, affine=False, identity=self.bn_identity, name="bn"),
            SlotBatchNorm(slots=len(SEP_OPS), affine=False, identity=self.bn_identity, name="bn_mid"),
        )
        if self.op is not None:
            return self._fixed(nodes, w, p, *bns)
        if stats is not None:
            for m, new in zip(bns, stats, strict=True):
                for key in ("mean", "var"):
                    m.put_variable("batch_stats", key, new[key])
            return None
        for m in bns:  # binds them (and creates their variables at init); costs nothing
            m(jnp.zeros((1, 1, 1, c), dtype), False, 0)
        if self.bn_identity:
            return w, p, None
        return w, p, tuple(m.variables["batch_stats"] for m in bns)

    def _fixed(self, nodes: list[Any], w: Any, p: Any, bn: Any, bn_mid: Any) -> Any:
        c, train, op = self.channels, self.train, self.op
        if self.is_initializing():  # the same variables whatever the op
            bn(jnp.zeros((1, 1, 1, c), nodes[0].dtype), False, 0)
            bn_mid(jnp.zeros((1, 1, 1, c), nodes[0].dtype), False, 0)
        x = nodes[self.src]
        stride = 2 if self.reduce and self.src < 2 else 1
        first, second = _ops(stride, self.native)
        fn, slot = second[op]
        t = None
        if first[op] is not None:
            f, mid_slot = first[op]
            t = bn_mid(f(x, None, w, p), train, mid_slot)
        if op >= SEP3 or (op == SKIP and stride == 2):
            _relu(self, x)
        if t is not None:
            _relu(self, t)
        y = fn(x, t, w, p)
        return y if slot is None else bn(y, train, slot)


class _Codes(nn.Module):
    """Applied on its own inside the cell's scan: the NWOT Gram matrix ``_relu`` sows."""

    @nn.compact
    def __call__(self, z: Any, weight: Any) -> Any:
        return _relu(self, z, weight)


def _stack(trees: list[Any]) -> Any:
    return jax.tree.map(lambda *a: jnp.stack(a), *trees)


class _Cell(nn.Module):
    """A normal or reduction cell: ``((s0, s1), cell) -> ((s1, out), None)`` (the scan's form).

    With the cell as data (``cell`` of shape (8, 2)), the 8 edges run under ``lax.scan`` over
    node buffers (the nodes computed so far, zeros for the others), so their switches compile
    once per cell; each edge's variables stay its own (``edge0`` .. ``edge7``), as in the fixed
    form, and are stacked for the scan."""

    channels: int
    reduce: bool
    weight_init: str
    native: bool
    bn_identity: bool
    train: bool
    ops: tuple[tuple[int, int], ...] | None = None  # ((input, op) x 8) of a fixed cell
    renorm: bool = False

    @nn.compact
    def __call__(self, carry: tuple[Any, Any], cell: Any) -> tuple[tuple[Any, Any], None]:
        s0, s1 = carry
        c = self.channels
        common = (self.weight_init, self.bn_identity)
        inputs = [
            _Pre(c, s0.shape[1] != s1.shape[1], *common, name="pre0")(s0, self.train),
            _Pre(c, False, *common, name="pre1")(s1, self.train),
        ]
        args = (c, self.reduce, self.weight_init, self.native, self.bn_identity, self.train)
        if self.ops is not None:
            nodes = list(inputs)
            for k in range(4):
                total = None
                for e in (2 * k, 2 * k + 1):
                    src, op = (int(v) for v in self.ops[e])
                    y = _Edge(*args, src=src, op=op, name=f"edge{e}")(nodes)
                    total = y if total is None else total + y
                nodes.append(total)
            mids = nodes[2:]
        else:
            mids = self._scan_edges(inputs, cell, [_Edge(*args, name=f"edge{e}") for e in range(g.NUM_EDGES)])
        out = jnp.concatenate(mids, axis=-1)
        if self.renorm:  # the next cell's two inputs divided by one scale (their max), so they stay comparable
            flat = renormalize(self, jnp.concatenate([s1.reshape(-1), out.reshape(-1)]), True)
            s1, out = flat[: s1.size].reshape(s1.shape), flat[s1.size :].reshape(out.shape)
        return (s1, out), None

    def _scan_edges(self, inputs: list[Any], cell: Any, edges: list[_Edge]) -> list[Any]:
        x0 = inputs[0]
        b, dtype, c, train = x0.shape[0], x0.dtype, self.channels, self.train
        out_shape = (b, x0.shape[1] // 2, x0.shape[2] // 2, c) if self.reduce else x0.shape
        ws, ps, ss = zip(*[edge(batch=b, dtype=dtype) for edge in edges], strict=True)
        bn_args = {"affine": False, "identity": self.bn_identity, "parent": None}
        bn = SlotBatchNorm(slots=NUM_OPS, **bn_args)
        bn_mid = SlotBatchNorm(slots=len(SEP_OPS), **bn_args)
        codes = self.is_mutable_collection("nwot") and not self.is_initializing()
        # inputs of kind 0 (the cell's inputs, stride 2 in a reduction cell) and 1 (intermediate nodes)
        strides = (2, 1) if self.reduce else (1,)
        firsts: list[Any] = []
        seconds: list[Any] = []
        for i, stride in enumerate(strides):
            first, second, first_branch, second_branch = _switch_ops(stride, self.native)

            def on(fn: Any, i: int = i) -> Any:  # the branch reading the input of kind i
                return lambda v, xm, t, w, p: fn(xm if i else v, t, w, p)

            def zeros(*_: Any) -> Any:
                return jnp.zeros(out_shape, dtype)

            firsts += [zeros if fn is None else on(fn) for fn in first]
            seconds += [on(fn) for fn in second]

        # the scan's carry: the nodes (in a reduction cell, the intermediate ones at half resolution;
        # the inputs are constants), zeros until computed
        if self.reduce:
            stacked_inputs = jnp.stack(inputs)
            buf = jnp.zeros((4, *out_shape), dtype)
        else:
            stacked_inputs = None
            buf = jnp.stack([*inputs, *[jnp.zeros_like(x0)] * 4])

        def step(buf: Any, xs: Any) -> tuple[Any, Any]:
            (src, op), e, w, p, st = xs
            src, op = src.astype(jnp.int32), op.astype(jnp.int32)
            if stacked_inputs is not None:  # a reduction cell
                x = jax.lax.dynamic_index_in_dim(stacked_inputs, jnp.minimum(src, 1), keepdims=False)
                xm = jax.lax.dynamic_index_in_dim(buf, jnp.clip(src - 2, 0, 3), keepdims=False)
                kind = (src >= 2).astype(jnp.int32)
            else:
                x = jax.lax.dynamic_index_in_dim(buf, src, keepdims=False)
                xm, kind = None, 0
            index_first = jnp.asarray(first_branch)[op] + len(first) * kind
            index_second = jnp.asarray(second_branch)[op] + len(second) * kind
            if not self.native:
                w, p = _merged_weights(op, w, p)
            is_sep = (op == SEP3) | (op == SEP5)
            sel_mid = jnp.stack([op == SEP3, op == SEP5]).astype(dtype)
            stride1_skip = (op == SKIP) & ((kind == 1) if self.reduce else True)
            sel_out = jax.nn.one_hot(op, NUM_OPS, dtype=dtype) * (1 - stride1_skip.astype(dtype))
            variables = [{} if st is None else {"batch_stats": s} for s in (st or (None, None))]
            kw = {"mutable": ["batch_stats"]}
            # each batch norm runs once after its switch, its slot picked by the one-hot vector,
            # instead of inside every branch: fewer kernels to compile
            t = remat_switch(index_first, firsts, x, xm, None, w, p)
            t, new_mid = bn_mid.apply(variables[1], t, train, sel_mid, **kw)  # zeros stay zeros
            y = remat_switch(index_second, seconds, x, xm, t, w, p)
            y_bn, new_out = bn.apply(variables[0], y, train, sel_out, **kw)
            y = jnp.where(stride1_skip, y, y_bn)
            gram = None
            if codes:  # NWOT codes of the op's ReLUs (recomputed in the branches)
                has_relu = (op >= SEP3) | ((op == SKIP) & ~stride1_skip)
                zs = [(x, has_relu & (kind == 0))] + ([(xm, has_relu & (kind == 1))] if self.reduce else [])
                zs.append((t, is_sep))
                gram = sum(
                    _Codes(parent=None).apply({}, z, wt.astype(jnp.float32), mutable=["nwot"])[1]["nwot"]["K"]
                    for z, wt in zs
                )
            node = e // 2 + (0 if self.reduce else 2)
            buf = jax.lax.dynamic_update_index_in_dim(buf, jax.lax.dynamic_index_in_dim(buf, node) + y[None], node, 0)
            new = None if st is None else (new_out["batch_stats"], new_mid["batch_stats"])
            return buf, (new, gram)

        xs = (
            (cell[:, 0], cell[:, 1]),
            jnp.arange(g.NUM_EDGES),
            _stack(list(ws)),
            _stack(list(ps)),
            None if ss[0] is None else _stack(list(ss)),
        )
        buf, (new_stats, grams) = jax.lax.scan(step, buf, xs)
        if codes:
            self.sow("nwot", "K", grams.sum(0), init_fn=lambda: 0.0, reduce_fn=_add)
        if new_stats is not None and self.is_mutable_collection("batch_stats") and not self.is_initializing():
            for e, edge in enumerate(edges):
                edge(stats=jax.tree.map(lambda a, e=e: a[e], new_stats))
        mids = buf if self.reduce else buf[2:]
        return [mids[k] for k in range(4)]


_SCAN_AXES = {"params": 0, "batch_stats": 0, "nwot": 0, "perturbations": 0, "scales": 0}


class DartsNet(nn.Module):
    """The DARTS / NAS-Bench-301 network NASLib computes NB301 zero-cost scores on (see the
    module docstring for its layers).

    Attributes
    ----------
    channels : int
        C, the channels of the first stage's cells (stem 3C; stages C, 2C, 4C). NASLib: 32.
    cells_per_stage : int
        Normal cells per stage (a reduction cell between stages). NASLib: 2.
    n_classes : int
    weight_init : {"pytorch", "flax"}
        PyTorch's default initialisation (to compare with published scores) or flax's.
    native_conv : bool
        XLA's convolutions (the stem, and the depthwise convolutions as grouped ones) instead of
        im2col + matmul and shifted multiply-adds.
    genotype : tuple, optional
        Build the network of this one architecture: NASLib's compact tuple
        ``((input, op) x 8, (input, op) x 8)`` (normal cell, reduction cell; as
        ``get_space("darts").to_naslib`` returns it) instead of taking the cells as data.
    batch_norm : bool
        False replaces every batch norm by the identity (synflow's ``bn=False``); the variables
        stay, so the parameter tree does not change.
    renorm : bool
        Divide the stem's output, and after each cell the next cell's two inputs, by their largest
        magnitude, sowing the log of each divisor into the ``scales`` collection (which must then
        be mutable; see :func:`~pyengine.nets._nb201.renormalize`). Without batch norm and with a
        zero classifier bias the network is positively homogeneous in its input, so the logits and
        every weight gradient shrink by the product of the divisors: synflow in float32.

    Notes
    -----
    Call with ``x`` of shape (batch, height, width, in_channels) (height and width multiples of
    4) and ``cell_data`` an int array of shape (2, 8, 2) ([cell (0 normal, 1 reduce), edge,
    (input node, op index)], see :func:`darts_cell_data`; None when ``genotype`` is set). Returns
    logits of shape (batch, n_classes), or with ``features=True`` the feature map before global
    average pooling, of shape (batch, height / 4, width / 4, 16 * channels). Normal cells whose
    inputs have the shapes of their outputs (from the third of stage 0 and the second of later
    stages), when there are two or more in a stage, run under ``nn.scan``.
    """

    channels: int = 32
    cells_per_stage: int = 2
    n_classes: int = 10
    weight_init: str = "pytorch"
    native_conv: bool = False
    genotype: tuple | None = None
    batch_norm: bool = True
    renorm: bool = False

    def _validate(self, x: Any, cell_data: Any) -> tuple[Any, tuple | None]:
        if (cell_data is None) == (self.genotype is None):
            raise InvalidValueError(
                "DartsNet takes the cells either as the module's genotype or as cell_data, not both."
            )
        for name in ("channels", "cells_per_stage", "n_classes"):
            check_positive_int(getattr(self, name), name, "DartsNet")
        if x.ndim != 4 or x.shape[1] % 4 or x.shape[2] % 4:
            raise InvalidValueError(
                "The 'x' argument of DartsNet must have shape (batch, height, width, channels) with height and"
                f" width multiples of 4. Got shape {x.shape} instead."
            )
        genotype = None
        if self.genotype is not None:
            try:
                a = np.asarray(self.genotype)
            except ValueError:
                a = np.zeros(0)
            _check_cells(a[None], "The 'genotype' parameter of DartsNet", a.shape)
            genotype = tuple(tuple((int(i), int(o)) for i, o in cell) for cell in a)
        else:
            cell_data = jnp.asarray(cell_data)
            if cell_data.shape != (2, g.NUM_EDGES, 2):
                raise InvalidValueError(
                    f"The 'cell_data' argument of DartsNet must have shape (2, {g.NUM_EDGES}, 2): [cell, edge,"
                    f" (input node, op)]. Got shape {cell_data.shape} instead."
                )
            if not jnp.issubdtype(cell_data.dtype, jnp.integer):
                raise InvalidTypeError(
                    f"The 'cell_data' argument of DartsNet must hold integers. Got {cell_data.dtype}."
                )
            if not isinstance(cell_data, jax.core.Tracer):
                _check_cells(np.asarray(cell_data)[None], "The 'cell_data' argument of DartsNet", cell_data.shape)
        return cell_data, genotype

    @nn.compact
    def __call__(self, x: Any, cell_data: Any = None, train: bool = True, features: bool = False) -> Any:
        cell_data, genotype = self._validate(x, cell_data)
        native = self.native_conv
        off = not self.batch_norm
        init = self.weight_init
        cin = x.shape[-1]
        c0 = self.channels * STEM_MULTIPLIER
        k = self.param("stem", kernel_init(init, 9 * cin), (3, 3, cin, c0))
        y = _probe(self, "fisher_stem", conv2d(x, k, patches=not native))
        y = renormalize(self, SlotBatchNorm(identity=off, name="stem_bn")(y, train), self.renorm)
        carry = (y, y)
        n = self.cells_per_stage
        index = 0

        def run(reduce: bool, width: int, name: str, length: int = 1) -> None:
            nonlocal carry
            c = 1 if reduce else 0
            ops = None if genotype is None else genotype[c]
            data = None if cell_data is None else cell_data[c]
            args = (width, reduce, init, native, off, train, ops, self.renorm)
            if length == 1:
                carry, _ = _Cell(*args, name=name)(carry, data)
            else:
                scan = nn.scan(
                    _Cell,
                    variable_axes=_SCAN_AXES,
                    split_rngs={"params": True},
                    in_axes=nn.broadcast,
                    length=length,
                )
                carry, _ = scan(*args, name=name)(carry, data)

        for stage in range(3):
            width = self.channels * 2**stage
            if stage:
                run(True, width, f"reduce{index}")
                index += 1
            lead = min(n, 2 if stage == 0 else 1)  # cells whose inputs differ in shape from their outputs
            for _ in range(lead):
                run(False, width, f"normal{index}")
                index += 1
            rest = n - lead
            if rest == 1:
                run(False, width, f"normal{index}")
            elif rest > 1:
                run(False, width, f"stage{stage}", rest)
            index += rest
        x = carry[1]
        if features:
            return x
        x = x.mean(axis=(1, 2))
        w = self.param("classifier", kernel_init(init, x.shape[-1]), (x.shape[-1], self.n_classes))
        b = self.param("classifier_bias", bias_init(init, x.shape[-1]), (self.n_classes,))
        return _probe(self, "fisher_classifier", x @ w + b)


def darts_init_variables(net: DartsNet, key: Any, x: Any, cell_data: Any = None) -> dict[str, Any]:
    """Variables of ``net`` for inputs shaped like ``x``, drawn from the distributions ``net.init``
    draws from, in one random draw per initialiser instead of one per tensor.

    The network holds about 900 weight tensors (every edge keeps the kernels of all its ops), so a
    jitted ``net.init`` spends minutes compiling random draws; this takes the shapes from
    ``jax.eval_shape`` and fills them: conv kernels and the classifier from ``U(-1/sqrt(fan_in),
    1/sqrt(fan_in))`` (``weight_init="pytorch"``; the classifier's bias too) or LeCun normal
    (``"flax"``; zero bias), batch-norm scales 1 and biases 0, running means 0 and variances 1,
    Fisher probes 0.

    x : array (or ``jax.ShapeDtypeStruct``) of shape (batch, height, width, in_channels)
    cell_data : int array (or ``jax.ShapeDtypeStruct``) of shape (2, 8, 2), optional (None when
        ``net.genotype`` is set)
    Returns the variables dict (``params``, ``batch_stats``, ``perturbations``).
    """
    args = (x,) if cell_data is None else (x, cell_data)
    shapes = eval_shape_cached(
        lambda k, *a: net.init(k, *a, train=False), (jax.random.key(0), *args), tag=f"darts variables {net!r}"
    )
    flat = flax.traverse_util.flatten_dict(shapes)
    drawn = {}
    for path, s in flat.items():
        if path[0] == "params" and path[-1] not in ("scale", "bias"):
            drawn[path] = s
    sizes = [int(np.prod(s.shape)) for s in drawn.values()]
    total = int(np.sum(sizes))
    if net.weight_init == "pytorch":
        unit = jax.random.uniform(key, (total,), jnp.float32, -1.0, 1.0)
    else:  # flax's lecun_normal: a truncated normal of variance 1 / fan_in
        unit = jax.random.truncated_normal(key, -2.0, 2.0, (total,), jnp.float32) / 0.87962566103423978
    out = {}
    offset = 0
    for (path, s), size in zip(drawn.items(), sizes, strict=True):
        name = path[-1]
        shape = s.shape
        if name == "classifier_bias":
            fan = flat[path[:-1] + ("classifier",)].shape[-2]
        elif len(shape) >= 4:
            fan = int(np.prod(shape[-4:-1]))
        else:
            fan = shape[-2]
        value = unit[offset : offset + size].reshape(shape) / np.sqrt(fan)
        if name == "classifier_bias" and net.weight_init != "pytorch":
            value = jnp.zeros(shape, s.dtype)
        out[path] = value.astype(s.dtype)
        offset += size
    for path, s in flat.items():
        if path not in out:
            one = path[-1] in ("scale", "var")
            out[path] = (jnp.ones if one else jnp.zeros)(s.shape, s.dtype)
    return flax.traverse_util.unflatten_dict(out)
