"""NAS-Bench-101 specifics of the zero-cost proxies: the network (vertex tensors padded to the
cell's width, with channel masks), which weight entries exist for a cell, the fan-in of each
Fisher probe, the batch-norm statistics that exist, and the closed-form parameter and FLOP
counts."""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..nets._layers import init_variables  # noqa: F401  (the space adapter's)
from ..nets._nb101 import NB101Net, nb101_cell_data, nb101_rescale, nb101_split

CHANNELS, STACKS, CELLS = 128, 3, 3
_V = 7
_CONV3, _CONV1, _POOL = 0, 1, 2
_SPLITS = (1, 2, 3, 4)  # a group's network pads interior vertices to ceil(C / split) channels
# conv / linear weights: stem, input projections, vertex convolutions, classifier
WEIGHT_NAMES = frozenset({"stem", "proj", "conv3x3", "conv1x1", "classifier"})


def network(
    n_classes: int,
    *,
    cell_form: str = "switch",
    batch_norm: bool = True,
    native_conv: bool = False,
    renorm: bool = False,
    group: int = 0,
) -> Any:
    """The benchmark network (stem 128, 3 stacks of 3 cells) with the reference's initialisation,
    for the cells of ``group`` (see :func:`groups`). ``cell_form`` is ignored: the vertices are
    always switches (vmapped, a switch runs every op)."""
    del cell_form
    return NB101Net(
        split=_SPLITS[group],
        channels=CHANNELS,
        stacks=STACKS,
        cells_per_stack=CELLS,
        n_classes=n_classes,
        weight_init="nb101",
        batch_norm=batch_norm,
        native_conv=native_conv,
        renorm=renorm,
    )


def cell_data(batch: Any) -> dict[str, np.ndarray]:
    """The network's cell arrays of a (pruned) NB101 batch, leading axis n_archs."""
    return nb101_cell_data(batch, CHANNELS, STACKS)


def groups(cells: dict[str, np.ndarray]) -> np.ndarray:
    """The program group of each architecture: by how many vertices its output concatenates (1,
    2, 3, 4 or more), so that a group's network pads vertex tensors only to ceil(C / k) channels
    instead of C (about k^2 fewer FLOPs in each vertex convolution)."""
    k = nb101_split(cells)
    return np.searchsorted(np.asarray(_SPLITS), k, side="right") - 1


def example_cell() -> dict[str, Any]:
    """Shapes and dtypes of one architecture's cell arrays."""
    return {
        "adj": jax.ShapeDtypeStruct((_V, _V), jnp.float32),
        "ops": jax.ShapeDtypeStruct((_V,), jnp.int32),
        "channels": jax.ShapeDtypeStruct((STACKS, _V), jnp.int32),
        "offsets": jax.ShapeDtypeStruct((STACKS, _V), jnp.int32),
    }


def prepare(params: Any, cell: Any) -> Any:
    """Kernels drawn at the padded widths, scaled as the reference initialises the cell's own widths."""
    return nb101_rescale(params, cell, "nb101")


def scanned(path: tuple[str, ...]) -> bool:
    """Whether the leaf at ``path`` has a leading axis over the cells of a stack (``nn.scan``)."""
    return bool(re.fullmatch(r"stack\d", path[0]))


def _stack(path: tuple[str, ...]) -> int:
    return int(path[0][5])


def _lanes(n: Any, c: int) -> Any:
    return (jnp.arange(c) < n).astype(jnp.float32)


def weight_mask(path: tuple[str, ...], cell: Any, shape: tuple[int, ...]) -> Any:
    """0/1 over the entries of the weight at ``path`` (broadcastable to ``shape``) that exist in
    the network of ``cell``: a vertex's kernels only for its op and its own channels, a
    projection only when the input feeds the vertex."""
    name = path[-1]
    if name not in ("proj", "conv3x3", "conv1x1") or len(path) < 2:
        return 1.0
    v = int(path[-2][-1])
    s = _stack(path)
    c = shape[-1]
    ch = cell["channels"][s, v]
    out = _lanes(ch, c)
    if name == "proj":
        return cell["adj"][0, v] * out if v < _V - 1 else cell["adj"][0, v]
    op = _CONV3 if name == "conv3x3" else _CONV1
    on = (cell["ops"][v] == op).astype(jnp.float32) * (ch > 0)
    return on * _lanes(ch, shape[-2])[:, None] * out[None, :]


def probe_fan(path: tuple[str, ...], params: dict[tuple[str, ...], Any], cell: Any) -> Any:
    """Fan-in (C_in * k * k) of the layer the Fisher probe at ``path`` sits on, times whether the
    layer exists for ``cell``."""
    parent, name = path[:-1], path[-1]
    if name == "fisher_stem":
        return float(np.prod(params[parent + ("stem",)].shape[:-1]))
    if name == "fisher_classifier":
        return float(params[parent + ("classifier",)].shape[-2])
    module = parent[-1]
    v = int(module[-1])
    if module.startswith("proj"):
        cin = params[parent + ("proj",)].shape[-2]
        return cell["adj"][0, v] * cin
    ch = cell["channels"][_stack(path), v]
    ops = cell["ops"][v]
    return jnp.where(ops == _CONV3, 9.0, jnp.where(ops == _CONV1, 1.0, 0.0)) * ch


def bn_log_sd(path: tuple[str, ...], var: Any, cell: Any) -> Any:
    """Sum over the batch norms at ``path`` that exist for ``cell`` of ln sqrt(mean running
    variance over their channels). var : (..., slots, C), a leading cell axis when scanned."""
    module = path[-3] if len(path) >= 3 else ""
    if not (module.startswith("proj") or module.startswith("vertex")):
        return (0.5 * jnp.log(var.mean(-1))).sum()
    v = int(module[-1])
    ch = cell["channels"][_stack(path), v]
    m = _lanes(ch, var.shape[-1])
    mean = (var * m).sum(-1) / jnp.maximum(m.sum(), 1.0)
    if module.startswith("proj"):
        w = jnp.stack([cell["adj"][0, v]])
    else:
        w = jnp.stack([cell["ops"][v] == _CONV1, cell["ops"][v] == _CONV3]).astype(jnp.float32) * (ch > 0)
    return (w * 0.5 * jnp.log(jnp.where(w > 0, mean, 1.0))).sum()


def closed_form(name: str, batch: Any, n_classes: int, input_hw: tuple[int, int]) -> np.ndarray:
    """``params`` or ``flops`` of every architecture of ``batch``."""
    return params_m(batch, n_classes) if name == "params" else flops_m(batch, n_classes, input_hw)


def _structure(batch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = cell_data(batch)
    return d["adj"].astype(np.int64), d["ops"], d["channels"].astype(np.int64)


def params_m(batch: Any, n_classes: int) -> np.ndarray:
    """Trainable parameters in millions (conv and linear weights, the classifier's bias, batch-norm
    affine parameters), as NASLib's ``params`` proxy reports them."""
    adj, ops, ch = _structure(batch)
    p = 27 * CHANNELS + 2 * CHANNELS
    for s in range(STACKS):
        c = CHANNELS * 2**s
        for cell in range(CELLS):
            cin = c // 2 if (s and cell == 0) else c
            for v in range(1, _V - 1):
                vc = ch[:, s, v]
                p = p + adj[:, 0, v] * (cin * vc + 2 * vc)
                p = p + (ops[:, v] == _CONV3) * (vc > 0) * (9 * vc * vc + 2 * vc)
                p = p + (ops[:, v] == _CONV1) * (vc > 0) * (vc * vc + 2 * vc)
            p = p + adj[:, 0, _V - 1] * (cin * c + 2 * c)
    last = CHANNELS * 2 ** (STACKS - 1)
    p = p + last * n_classes + n_classes
    return np.asarray(p, dtype=np.float64) / 1e6


def flops_m(batch: Any, n_classes: int, input_hw: tuple[int, int]) -> np.ndarray:
    """Forward FLOPs in millions for one image, counted as tensorwatch's ``Flops`` (NASLib's
    ``flops`` proxy): convolutions and the classifier as multiply-adds, plus per-element counts
    of batch norm (2), ReLU (1) and pooling (window size per output element). Equal to NASLib's
    recorded values on CIFAR-10."""
    adj, ops, ch = _structure(batch)
    h, w = input_hw
    hw = h * w
    f = hw * (27 * CHANNELS + 3 * CHANNELS)  # stem conv, BN, ReLU
    for s in range(STACKS):
        c = CHANNELS * 2**s
        if s:
            f = f + 4 * (hw // 4) * (c // 2)  # 2x2 max pool
            hw = hw // 4
        for cell in range(CELLS):
            cin = c // 2 if (s and cell == 0) else c
            for v in range(1, _V - 1):
                vc = ch[:, s, v]
                f = f + adj[:, 0, v] * hw * (cin * vc + 3 * vc)
                f = f + (ops[:, v] == _CONV3) * (vc > 0) * hw * (9 * vc * vc + 3 * vc)
                f = f + (ops[:, v] == _CONV1) * (vc > 0) * hw * (vc * vc + 3 * vc)
                f = f + (ops[:, v] == _POOL) * (vc > 0) * hw * 9 * vc
            f = f + adj[:, 0, _V - 1] * hw * (cin * c + 3 * c)
    last = CHANNELS * 2 ** (STACKS - 1)
    f = f + last * n_classes  # the head's mean is a tensor op, not a module: tensorwatch does not count it
    return np.asarray(f, dtype=np.float64) / 1e6
