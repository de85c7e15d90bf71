"""DARTS / NAS-Bench-301 specifics of the zero-cost proxies: the network, which weights exist for
an architecture, the fan-in of each Fisher probe, the running statistics in use, and the
closed-form parameter and FLOP counts.

The closed forms count NASLib's NB301 graph (see :mod:`pyengine.nets._darts`): stem conv3x3
(3 -> 3C) + BN; 2 normal cells per stage at C, 2C, 4C (C = 32) with a reduction cell at 2C and
4C between stages; each cell's inputs preprocessed by ReLU-conv1x1-BN, or a factorized reduce
when the earlier input is at twice the resolution, all with affine BN; edge ops with BN without
affine parameters (max / avg pool + BN, skip as identity or, on the stride-2 edges of a reduction
cell, a factorized reduce C -> C, sep conv (two ReLU-depthwise-1x1-BN), dil conv
(ReLU-depthwise dilated-1x1-BN)); cells output the concatenation of their 4 intermediate nodes;
global average pool and a linear layer with bias. ``params_m`` equals NASLib's recorded
``params`` on all 725 CIFAR-10 records of ``zc_nasbench301.json`` and ``flops_m`` its ``flops``
exactly (float64 rounding only).
"""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_positive_int
from ..errors import InvalidValueError
from ..nets._darts import (
    AVG_POOL,
    DIL3,
    DIL5,
    MAX_POOL,
    NUM_OPS,
    SEP3,
    SEP5,
    SKIP,
    STEM_MULTIPLIER,
    DartsNet,
    _check_cells,
    darts_cell_data,
)
from ..nets._darts import darts_init_variables as init_variables  # noqa: F401  (the space adapter's)

# the conv kernels of an edge and the op each belongs to (the factorized reduce: skip_connect)
_EDGE_WEIGHTS = {
    **{f"sep3_{k}": SEP3 for k in ("dw1", "pw1", "dw2", "pw2")},
    **{f"sep5_{k}": SEP5 for k in ("dw1", "pw1", "dw2", "pw2")},
    **{f"dil3_{k}": DIL3 for k in ("dw", "pw")},
    **{f"dil5_{k}": DIL5 for k in ("dw", "pw")},
    "fr_conv_1": SKIP,
    "fr_conv_2": SKIP,
}
# conv / linear weights (the leaves the reference codes score): stem, preprocessing convs (conv,
# conv_1, conv_2), edge kernels, classifier; biases and batch-norm parameters are not among them
WEIGHT_NAMES = frozenset({"stem", "conv", "conv_1", "conv_2", "classifier", *_EDGE_WEIGHTS})
_PROBE = "fisher_"


def network(
    n_classes: int,
    *,
    cell_form: str = "switch",
    batch_norm: bool = True,
    native_conv: bool = False,
    renorm: bool = False,
    group: int = 0,
) -> DartsNet:
    """NASLib's NB301 network (C=32, 2 normal cells per stage) with the cells as data.

    ``cell_form`` ("merged" or "switch") and ``group`` are accepted for the common signature:
    every edge is a switch over its ops (vmapped, a switch runs every op), and the space is one
    group. ``native_conv`` is accepted and ignored: the depthwise convolutions are always
    shifted multiply-adds. XLA's CPU backend runs their grouped-convolution form 3-20x slower
    inside the edge switches, and its kernel gradient far slower still (snip: 38 s per
    architecture against 1.7 s; jacob_cov 2.6 s against 1.0 s; synflow 0.41 s against 0.12 s).
    """
    if cell_form not in ("merged", "switch"):
        raise InvalidValueError(
            f"The 'cell_form' parameter of network must be 'merged' or 'switch'. Got {cell_form!r} instead."
        )
    del group, native_conv
    return DartsNet(
        channels=32,
        cells_per_stage=2,
        n_classes=n_classes,
        weight_init="pytorch",
        batch_norm=batch_norm,
        native_conv=False,
        renorm=renorm,
    )


def onehot(batch: Any) -> np.ndarray:
    """The network's cell data for a DARTS batch: an int32 array of shape (n_archs, 2, 8, 2)
    ([cell, edge, (input node, op index)]; named as NB201's one-hot input it stands for)."""
    return darts_cell_data(np.asarray(batch.cells))


cell_data = onehot


def groups(cells: Any) -> np.ndarray:
    """The program group of each architecture: one for the whole space."""
    return np.zeros(len(cells), np.int64)


def example_cell() -> Any:
    """Shape and dtype of one architecture's cell array."""
    return jax.ShapeDtypeStruct((2, 8, 2), jnp.int32)


def prepare(params: Any, cell: Any) -> Any:
    """The weights as drawn (every architecture uses them at their own shapes)."""
    return params


def scanned(path: tuple[str, ...]) -> bool:
    """Whether the leaf at ``path`` has a leading axis over the cells of a stage (``nn.scan``;
    none in NASLib's network, whose stages have 2 normal cells)."""
    return path[0].startswith("stage")


def _edge(path: tuple[str, ...], depth: int) -> tuple[int, int] | None:
    """(cell kind, edge) of a path whose component ``depth`` from the end is ``edgeK``."""
    if len(path) < depth or not path[-depth].startswith("edge"):
        return None
    kind = 1 if any(p.startswith("reduce") for p in path[:-depth]) else 0
    return kind, int(path[-depth][4:])


def weight_groups(paths: list[tuple[str, ...]]) -> list[list[tuple[str, ...]]]:
    """The weights in groups that differ only in the edge (``edge0`` .. ``edge7`` of a cell, in
    edge order): the network stacks each group for its scan over edges, and the proxies sum
    over a group at once."""
    groups: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = {}
    for p in paths:
        edge = [i for i, part in enumerate(p) if re.fullmatch(r"edge\d+", part)]
        key = p if not edge else p[: edge[0]] + ("edge",) + p[edge[0] + 1 :]
        groups.setdefault(key, []).append((int(p[edge[0]][4:]) if edge else 0, p))
    return [[p for _, p in sorted(members)] for members in groups.values()]


def weight_mask(path: tuple[str, ...], cell: Any, shape: tuple[int, ...] = ()) -> Any:
    """1 where the weight at ``path`` exists in the network of ``cell`` (an int array of shape
    (2, 8, 2), or (..., 2, 8, 2) for one mask per architecture): an edge's kernel exists only when
    the edge holds its op (the factorized reduce: skip_connect from an input node of a reduction
    cell). A scalar (or an array of shape (...,)), 1.0 for the weights every network has;
    ``shape`` (the weight's) is not needed."""
    name = path[-1]
    where = _edge(path, 2)
    if where is None or name not in _EDGE_WEIGHTS:
        return 1.0
    c, e = where
    cell = jnp.asarray(cell)
    exists = cell[..., c, e, 1] == _EDGE_WEIGHTS[name]
    if name.startswith("fr_"):
        exists = exists & (cell[..., c, e, 0] < 2)
    return exists.astype(jnp.float32)


def probe_fan(path: tuple[str, ...], params: dict[tuple[str, ...], Any], cell: Any) -> Any:
    """Fan-in (C_in / groups * k * k) of the layer a Fisher probe at ``path`` sits on, times whether
    the layer exists in ``cell``: the factor Fisher's per-channel score is broadcast over."""
    parent, name = path[:-1], path[-1]
    weight = parent + (name[len(_PROBE) :],)
    kernel = params[weight]
    if name == "fisher_classifier":
        return float(kernel.shape[-2])
    return float(np.prod(kernel.shape[-4:-1])) * weight_mask(weight, cell)


def stat_weight(path: tuple[str, ...], cell: Any) -> Any:
    """Per-slot weights of the running statistics at ``path`` that exist for ``cell``: a vector
    over the batch norm's slots (an edge's ``bn``: one per op, zero for a skip that is the
    identity; ``bn_mid``: the two sep convs), or the single slot."""
    where = _edge(path, 3)
    if where is None:
        return jnp.ones(1)
    c, e = where
    cell = jnp.asarray(cell)
    op, src = cell[c, e, 1], cell[c, e, 0]
    if path[-2] == "bn_mid":
        return jnp.stack([op == SEP3, op == SEP5]).astype(jnp.float32)
    identity = (op == SKIP) & ((c == 0) | (src >= 2))
    return (jnp.arange(NUM_OPS) == op).astype(jnp.float32) * (1.0 - identity.astype(jnp.float32))


def bn_log_sd(path: tuple[str, ...], var: Any, cell: Any) -> Any:
    """Sum over the batch norms at ``path`` that exist for ``cell`` of ln sqrt(mean running
    variance). var : (..., slots, C), a leading cell axis when scanned."""
    w = stat_weight(path, cell)
    mean = var.mean(-1)
    return (w * 0.5 * jnp.log(jnp.where(w > 0, mean, 1.0))).sum()


def closed_form(name: str, batch: Any, n_classes: int, input_hw: tuple[int, int]) -> np.ndarray:
    """``params`` or ``flops`` of every architecture of ``batch``."""
    cells = np.asarray(batch.cells)
    return params_m(cells, n_classes) if name == "params" else flops_m(cells, n_classes, input_hw)


def _layout(channels: int, cells_per_stage: int, h: int, w: int) -> tuple[list[tuple[bool, int, tuple, tuple]], tuple]:
    """Per cell in order: (reduce, C, (channels, height, width) of input 0, same of input 1); and
    the (channels, height, width) of the last cell's output."""
    stem = (STEM_MULTIPLIER * channels, h, w)
    prev_prev, prev = stem, stem
    out = []
    for stage in range(3):
        c = channels * 2**stage
        kinds = ([True] if stage else []) + [False] * cells_per_stage
        for reduce in kinds:
            out.append((reduce, c, prev_prev, prev))
            f = 2 if reduce else 1
            prev_prev, prev = prev, (4 * c, prev[1] // f, prev[2] // f)
    return out, prev


def _check(cells: Any, input_hw: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(input nodes, ops), each of shape (n_archs, 2, 8), of checked cells."""
    a = np.asarray(cells)
    _check_cells(a[None] if a.ndim == 3 else a, f"The 'cells' argument of {where}", a.shape)
    a = a.reshape(-1, 2, 8, 2).astype(np.int64)
    hw = tuple(np.asarray(input_hw).reshape(-1).tolist())
    if len(hw) != 2 or any(not isinstance(v, int) or v < 4 or v % 4 for v in hw):
        raise InvalidValueError(
            f"The 'input_hw' argument of {where} must be (height, width), positive multiples of 4. Got {input_hw!r}"
            " instead."
        )
    return a[..., 0], a[..., 1]


def _pre_counts(c: int, s0: tuple, s1: tuple) -> tuple[int, int]:
    """(params, flops) of a cell's two preprocessing layers."""
    c0, h0, w0 = s0
    c1, h1, w1 = s1
    hw0, hw1 = h0 * w0, h1 * w1
    if (h0, w0) != (h1, w1):  # factorized reduce: ReLU, two 1x1 stride-2 convs, affine BN
        p0 = 2 * c0 * (c // 2) + 2 * c
        f0 = c0 * hw0 + 2 * c0 * (c // 2) * hw1 + 2 * c * hw1
    else:  # ReLU, conv1x1, affine BN
        p0 = c0 * c + 2 * c
        f0 = c0 * hw0 + c0 * c * hw0 + 2 * c * hw0
    return p0 + c1 * c + 2 * c, f0 + c1 * hw1 + c1 * c * hw1 + 2 * c * hw1


def _edge_counts(c: int, ops: np.ndarray, stride2: np.ndarray, hw_in: Any, hw_out: Any) -> tuple[Any, Any]:
    """(params, flops) of edges with ``ops`` (any shape), vectorised; ``stride2`` marks the
    stride-2 edges, ``hw_in`` / ``hw_out`` their input / output pixels."""
    p = np.zeros(ops.shape, np.int64)
    f = np.zeros(ops.shape, np.int64)
    pool = 9 * c * hw_out + c * hw_out  # pool (k*k per output) + BN
    f = np.where((ops == MAX_POOL) | (ops == AVG_POOL), pool, f)
    fr = stride2 & (ops == SKIP)
    p = np.where(fr, c * c, p)
    f = np.where(fr, c * hw_in + c * c * hw_out + c * hw_out, f)  # ReLU, two 1x1 convs to C/2, BN
    for op, k in ((SEP3, 3), (SEP5, 5)):
        half = k * k * c + c * c
        p = np.where(ops == op, 2 * half, p)
        # ReLU, depthwise, 1x1, BN; ReLU, depthwise, 1x1, BN
        f = np.where(ops == op, c * hw_in + half * hw_out + c * hw_out + c * hw_out + half * hw_out + c * hw_out, f)
    for op, k in ((DIL3, 3), (DIL5, 5)):
        half = k * k * c + c * c
        p = np.where(ops == op, half, p)
        f = np.where(ops == op, c * hw_in + half * hw_out + c * hw_out, f)
    return p.sum(-1), f.sum(-1)


def _counts(
    cells: Any, n_classes: int, input_hw: Any, channels: int, cells_per_stage: int, where: str
) -> tuple[np.ndarray, np.ndarray]:
    src, ops = _check(cells, input_hw, where)
    for name, v in (("n_classes", n_classes), ("channels", channels), ("cells_per_stage", cells_per_stage)):
        check_positive_int(v, name, where)
    h, w = input_hw
    c_stem = STEM_MULTIPLIER * channels
    params = np.full(len(ops), 27 * c_stem + 2 * c_stem, np.int64)
    flops = np.full(len(ops), 27 * c_stem * h * w + 2 * c_stem * h * w, np.int64)
    layout, (c_last, h_last, w_last) = _layout(channels, cells_per_stage, h, w)
    for reduce, c, s0, s1 in layout:
        pp, pf = _pre_counts(c, s0, s1)
        hw = s1[1] * s1[2]
        if reduce:
            stride2 = src[:, 1] < 2
            ep, ef = _edge_counts(c, ops[:, 1], stride2, np.where(stride2, hw, hw // 4), hw // 4)
        else:
            ep, ef = _edge_counts(c, ops[:, 0], np.zeros_like(src[:, 0], bool), hw, hw)
        params = params + pp + ep
        flops = flops + pf + ef
    params = params + c_last * n_classes + n_classes
    # tensorwatch counts a global average pool as (H + 1) * (W + 1) per channel, the linear layer
    # as its multiply-adds (no bias)
    flops = flops + c_last * (h_last + 1) * (w_last + 1) + c_last * n_classes
    return params, flops


def params_m(cells: Any, n_classes: int, channels: int = 32, cells_per_stage: int = 2) -> np.ndarray:
    """Trainable parameters in millions (conv and linear weights and biases, batch-norm affine
    parameters) of NASLib's NB301 network, as its ``params`` proxy reports them.

    cells : int array of shape (n_archs, 2, 8, 2) or (2, 8, 2) (``DartsBatch.cells``)
    Returns a float64 array of shape (n_archs,).
    """
    return _counts(cells, n_classes, (32, 32), channels, cells_per_stage, "params_m")[0].astype(np.float64) / 1e6


def flops_m(
    cells: Any, n_classes: int, input_hw: tuple[int, int], channels: int = 32, cells_per_stage: int = 2
) -> np.ndarray:
    """Forward FLOPs in millions for one image, counted as tensorwatch's ``Flops`` (NASLib's
    ``flops`` proxy): convolutions and the classifier as multiply-adds, batch norm 2 per element
    (affine) or 1 (not), ReLU 1 per input element, pooling k*k per output element, and the global
    average pool (H + 1) * (W + 1) per channel (tensorwatch's adaptive-pool count). Equal to
    NASLib's recorded values on CIFAR-10 (all 725 records, to float64 rounding).

    cells : int array of shape (n_archs, 2, 8, 2) or (2, 8, 2)
    input_hw : (height, width), multiples of 4
    Returns a float64 array of shape (n_archs,).
    """
    return _counts(cells, n_classes, input_hw, channels, cells_per_stage, "flops_m")[1].astype(np.float64) / 1e6
