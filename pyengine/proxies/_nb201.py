"""NAS-Bench-201 specifics of the zero-cost proxies: the network, which weights exist for a
cell, the fan-in of each Fisher probe, and the closed-form parameter and FLOP counts."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..graph import nb201 as g
from ..nets import NB201Net, nb201_onehot
from ..nets._layers import init_variables  # noqa: F401  (the space adapter's)

_NONE, _SKIP, _CONV1, _CONV3, _POOL = range(len(g.OPS))
_EDGES = ("01", "02", "12", "03", "13", "23")
# conv / linear weights (the leaves the reference codes score): stem, cell convs, reduction-block
# convs and shortcut, classifier; biases and batch-norm parameters are not among them
WEIGHT_NAMES = frozenset({"stem", "conv3x3", "conv1x1", "conv", "shortcut", "classifier"})
# the benchmark network's size (``network``'s defaults)
CHANNELS = 16
CELLS_PER_STAGE = 5


def network(
    n_classes: int,
    *,
    cell_form: str,
    batch_norm: bool = True,
    native_conv: bool = False,
    renorm: bool = False,
    group: int = 0,
    channels: int = CHANNELS,
    cells_per_stage: int = CELLS_PER_STAGE,
) -> NB201Net:
    """The network as the reference proxies build it (one group: every cell has the same
    shapes); the benchmark's is ``channels=16, cells_per_stage=5`` (the defaults), smaller ones
    serve tests against slow references."""
    return NB201Net(
        channels=channels,
        cells_per_stage=cells_per_stage,
        n_classes=n_classes,
        weight_init="pytorch",
        cell_form=cell_form,
        batch_norm=batch_norm,
        native_conv=native_conv,
        renorm=renorm,
    )


def onehot(batch: Any) -> np.ndarray:
    """(n_archs, 6, 5) float32 one-hot cells of an NB201 batch."""
    return nb201_onehot(np.asarray(batch.ops))


cell_data = onehot


def groups(cells: Any) -> np.ndarray:
    """The program group of each architecture: one for the whole space."""
    return np.zeros(len(cells), np.int64)


def example_cell() -> Any:
    """Shape and dtype of one architecture's cell array."""
    return jax.ShapeDtypeStruct((6, 5), jnp.float32)


def prepare(params: Any, cell: Any) -> Any:
    """The weights as drawn (every cell uses them at their own shapes)."""
    return params


def scanned(path: tuple[str, ...], cells_per_stage: int = CELLS_PER_STAGE) -> bool:
    """Whether the leaf at ``path`` has a leading axis over the cells of a stage (``nn.scan``,
    which the network uses when a stage has more than one cell)."""
    return path[0].startswith("stage") and cells_per_stage > 1


def weight_mask(path: tuple[str, ...], cell: Any, shape: tuple[int, ...] = ()) -> Any:
    """1 where the weight at ``path`` exists in the network of ``cell`` (a (6, 5) one-hot), as a
    scalar (a cell's conv exists only when its edge holds that op)."""
    name = path[-1]
    if name in ("conv3x3", "conv1x1") and len(path) >= 2 and path[-2].startswith("edge"):
        e = _EDGES.index(path[-2][4:])
        return cell[e, _CONV3 if name == "conv3x3" else _CONV1]
    return 1.0


def probe_fan(path: tuple[str, ...], params: dict[tuple[str, ...], Any], cell: Any) -> Any:
    """Fan-in (C_in * k * k) of the layer a Fisher probe at ``path`` sits on, times whether the
    layer exists in ``cell``: the factor Fisher's per-channel score is broadcast over."""
    parent, name = path[:-1], path[-1]
    if name == "fisher_stem":
        k = params[parent + ("stem",)]
    elif name == "fisher_classifier":
        return float(params[parent + ("classifier",)].shape[-2])
    elif parent and parent[-1].startswith("edge"):
        c = params[parent + ("conv1x1",)].shape[-2]
        e = _EDGES.index(parent[-1][4:])
        return cell[e, _CONV1] * c + cell[e, _CONV3] * 9 * c
    elif parent and parent[-1] in ("conv_a", "conv_b"):
        k = params[parent + ("conv",)]
    else:
        k = params[parent + ("shortcut",)]
    return float(np.prod(k.shape[-4:-1]))


def stat_weight(path: tuple[str, ...], cell: Any) -> Any:
    """Per-slot weights of the running statistics at ``path`` that exist for ``cell``: a vector
    over the batch norm's slots (a cell edge's conv1x1 / conv3x3 slots, or the single slot)."""
    if len(path) >= 3 and path[-3].startswith("edge"):
        e = _EDGES.index(path[-3][4:])
        return jnp.stack([cell[e, _CONV1], cell[e, _CONV3]])
    return jnp.ones(1)


def bn_log_sd(path: tuple[str, ...], var: Any, cell: Any) -> Any:
    """Sum over the batch norms at ``path`` that exist for ``cell`` of ln sqrt(mean running
    variance). var : (..., slots, C)."""
    return (stat_weight(path, cell) * 0.5 * jnp.log(var.mean(-1))).sum()


def closed_form(
    name: str,
    batch: Any,
    n_classes: int,
    input_hw: tuple[int, int],
    *,
    channels: int = CHANNELS,
    cells_per_stage: int = CELLS_PER_STAGE,
) -> np.ndarray:
    """``params`` or ``flops`` of every architecture of ``batch`` (network of ``channels`` and
    ``cells_per_stage``, the benchmark's by default)."""
    ops = np.asarray(batch.ops)
    if name == "params":
        return params_m(ops, n_classes, channels, cells_per_stage)
    return flops_m(ops, n_classes, input_hw, channels, cells_per_stage)


def _counts(ops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ops = np.asarray(ops)
    return (ops == _CONV1).sum(-1), (ops == _CONV3).sum(-1), (ops == _POOL).sum(-1)


def params_m(ops: Any, n_classes: int, channels: int = 16, cells: int = 5) -> np.ndarray:
    """Trainable parameters in millions (conv and linear weights and biases, batch-norm affine
    parameters), as NASLib's ``params`` proxy reports them. ops : (n_archs, 6) op indices."""
    n1, n3, _ = _counts(ops)
    widths = [channels, 2 * channels, 4 * channels]
    p = 9 * 3 * channels + 2 * channels
    for c in widths:
        p = p + cells * (n3 * (9 * c * c + 2 * c) + n1 * (c * c + 2 * c))
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        p = p + 9 * a * b + 2 * b + 9 * b * b + 2 * b + a * b
    p = p + 2 * widths[-1] + widths[-1] * n_classes + n_classes
    return np.asarray(p, dtype=np.float64) / 1e6


def flops_m(ops: Any, n_classes: int, input_hw: tuple[int, int], channels: int = 16, cells: int = 5) -> np.ndarray:
    """Forward FLOPs in millions for one image, counted as tensorwatch's ``Flops`` (NASLib's
    ``flops`` proxy): convolutions and the classifier as multiply-adds, plus the per-element
    counts of batch norm, ReLU and pooling. Equal to NASLib's recorded values on CIFAR-10.
    ops : (n_archs, 6) op indices."""
    n1, n3, npool = _counts(ops)
    h, w = input_hw
    hw = [h * w, (h // 2) * (w // 2), (h // 4) * (w // 4)]
    widths = [channels, 2 * channels, 4 * channels]
    f = hw[0] * 27 * channels + 2 * hw[0] * channels  # stem conv + BN
    for s, c in enumerate(widths):
        elems = hw[s] * c
        # conv op: ReLU + conv + BN; pool op: 9 per output element
        f = f + cells * (n3 * (elems * 9 * c + 3 * elems) + n1 * (elems * c + 3 * elems) + npool * 9 * elems)
        if s:
            a, b, hin = widths[s - 1], c, hw[s - 1]
            f = f + hin * a + hw[s] * 9 * a * b + 2 * elems  # ReLU, conv_a (stride 2), BN
            f = f + elems + hw[s] * 9 * b * b + 2 * elems  # ReLU, conv_b, BN
            f = f + 4 * hw[s] * a + hw[s] * a * b  # 2x2 average pool, shortcut 1x1
    last = hw[2] * widths[2]
    # head BN, ReLU; tensorwatch counts an adaptive average pool as (H + 1)(W + 1) per channel
    f = f + 2 * last + last + widths[2] * (h // 4 + 1) * (w // 4 + 1)
    f = f + widths[2] * n_classes
    return np.asarray(f, dtype=np.float64) / 1e6
