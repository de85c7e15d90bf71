"""The NAS-Bench-101 network with the cell given as data.

The reference network (Ying et al. 2019; the PyTorch port NASLib uses) gives each interior
vertex its own channel count (the cell's output channels split among the vertices that feed the
output, the others taking the largest of their successors),
so no two cells share tensor shapes. Here every vertex tensor is padded to the cell's output
width ``C`` and carries a channel mask: a vertex with ``c`` channels keeps channels ``[0, c)``
and zeros elsewhere. On those channels the padded network computes exactly what the reference
computes (a convolution's output channel depends only on its own kernel column; batch norm
and ReLU act per channel; truncation to fewer channels is a mask), and the concatenation of the
vertices that feed the output becomes a sum of channel rolls to their offsets. Each vertex's op
is a ``lax.switch`` (only the selected op costs FLOPs) and each input projection a switch
between the projection and nothing, so one compiled program serves all 423,624 cells.

A cell enters as a dict of arrays (see :func:`nb101_cell_data`); passing ``spec`` to the module
instead builds the network of one fixed cell at its own widths (the reference form).
"""

from __future__ import annotations

from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidValueError
from ..graph import nb101 as g
from ._layers import SlotBatchNorm, bias_init, conv2d, kernel_init
from ._nb201 import _probe, _probe_scale, _relu, renormalize

__all__ = ["NB101Net", "nb101_cell_data", "nb101_vertex_channels", "nb101_rescale", "nb101_split", "NB101_INITS"]

NB101_INITS = ("nb101", "pytorch", "flax")
_V = g.MAX_VERTICES  # slots: 0 input, 1..5 interior, 6 output
_CONV3, _CONV1, _POOL, _ABSENT = 0, 1, 2, 3  # interior op labels, and an empty slot


def nb101_vertex_channels(matrix: Any, in_channels: int, out_channels: int) -> list[int]:
    """Channels of each vertex of a pruned cell (the official ``compute_vertex_channels``).

    matrix : array of shape (n, n), 0/1, the pruned cell (vertex 0 input, n - 1 output)
    Returns n ints: the input's and output's channels at the ends, each interior vertex's between.
    """
    m = np.asarray(matrix)
    n = m.shape[0]
    ch = [0] * n
    ch[0], ch[n - 1] = in_channels, out_channels
    if n == 2:
        return ch
    k = int(m[1:, n - 1].sum())
    base, extra = divmod(out_channels, k)
    for v in range(1, n - 1):
        if m[v, n - 1]:
            ch[v] = base + (1 if extra else 0)
            extra -= 1 if extra else 0
    for v in range(n - 3, 0, -1):
        if not m[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if m[v, dst]:
                    ch[v] = max(ch[v], ch[dst])
    return ch


def nb101_cell_data(cells: g.CellBatch, channels: int = 128, stacks: int = 3) -> dict[str, np.ndarray]:
    """Cells as :class:`NB101Net` takes them, each placed on 7 slots (input at 0, interior vertices
    from 1 in order, output at 6; the slots of missing vertices are empty).

    cells : a pruned ``CellBatch`` (``get_space("nb101").check`` returns one)
    Returns a dict of arrays with a leading axis of n_archs:
    ``adj`` (n, 7, 7) float32 adjacency; ``ops`` (n, 7) int32 interior op labels (0 conv3x3,
    1 conv1x1, 2 maxpool3x3; 3 on empty slots and the ends); ``channels`` (n, stacks, 7)
    int32 channels of each vertex in each stack (0 on empty slots and the input); ``offsets``
    (n, stacks, 7) int32 where each vertex that feeds the output starts in the concatenation.
    """
    nv = np.asarray(cells.num_vertices)
    n = len(nv)
    adj = np.zeros((n, _V, _V), np.float32)
    ops = np.full((n, _V), _ABSENT, np.int32)
    ch = np.zeros((n, stacks, _V), np.int32)
    off = np.zeros((n, stacks, _V), np.int32)
    for i in range(n):
        k = int(nv[i])
        slot = list(range(k - 1)) + [_V - 1]
        m = np.asarray(cells.matrices[i, :k, :k])
        adj[i][np.ix_(slot, slot)] = m
        ops[i, slot[1:-1]] = cells.labels[i, 1 : k - 1]
        for s in range(stacks):
            c = channels * 2**s
            vc = nb101_vertex_channels(m, c, c)
            start = 0
            for v in range(1, k - 1):
                ch[i, s, slot[v]] = vc[v]
                if m[v, k - 1]:
                    off[i, s, slot[v]] = start
                    start += vc[v]
            ch[i, s, _V - 1] = c
    return {"adj": adj, "ops": ops, "channels": ch, "offsets": off}


def _kernel_init(init: str, k: int, c_in: int, c_out: int) -> Any:
    if init == "nb101":  # the reference's _initialize_weights: N(0, 2 / (k * k * c_out))
        std = float(np.sqrt(2.0 / (k * k * c_out)))
        return lambda key, shape, dtype=jnp.float32: std * jax.random.normal(key, shape, dtype)
    return kernel_init(init, k * k * c_in)


def _first_max_routing(windows: list[Any], dy: Any) -> list[Any]:
    """The output gradient ``dy`` routed to the first maximum of each window (PyTorch's and XLA's
    choice among ties), one array per window position. The argmax compares the window's own
    elements (never against a separately computed max: XLA may recompute an input in two
    fusions with different rounding, and an equality test would then route to no element)."""
    best, arg = windows[0], jnp.zeros(dy.shape, jnp.int32)
    for k, w in enumerate(windows[1:], start=1):
        better = w > best
        best = jnp.where(better, w, best)
        arg = jnp.where(better, k, arg)
    return [jnp.where(arg == k, dy, jnp.zeros_like(dy)) for k in range(len(windows))]


@jax.custom_vjp
def max_pool_3x3(x: Any) -> Any:
    """3x3 max pool, stride 1, padding 1 (padded with -inf, as PyTorch). Its gradient routes to
    the first maximum of each window with nine elementwise passes (XLA's CPU backend runs the
    select-and-scatter that autodiff emits about 10x slower than the pool)."""
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), ((0, 0), (1, 1), (1, 1), (0, 0)))


def _mp3_fwd(x: Any) -> tuple[Any, Any]:
    return max_pool_3x3(x), x


def _mp3_bwd(x: Any, dy: Any) -> tuple[Any]:
    h, w = x.shape[1], x.shape[2]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-jnp.inf)
    shifts = [(i, j) for i in range(3) for j in range(3)]
    parts = _first_max_routing([xp[:, i : i + h, j : j + w, :] for i, j in shifts], dy)
    dxp = sum(jnp.pad(p, ((0, 0), (i, 2 - i), (j, 2 - j), (0, 0))) for (i, j), p in zip(shifts, parts, strict=True))
    return (dxp[:, 1 : h + 1, 1 : w + 1, :],)


max_pool_3x3.defvjp(_mp3_fwd, _mp3_bwd)


@jax.custom_vjp
def max_pool_2x2(x: Any) -> Any:
    """2x2 max pool with stride 2 (first-maximum gradient routing, as :func:`max_pool_3x3`)."""
    b, h, w, c = x.shape
    return x[:, : h - h % 2, : w - w % 2, :].reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _mp2_fwd(x: Any) -> tuple[Any, Any]:
    return max_pool_2x2(x), x


def _mp2_bwd(x: Any, dy: Any) -> tuple[Any]:
    b, h, w, c = x.shape
    blocks = x[:, : h - h % 2, : w - w % 2, :].reshape(b, h // 2, 2, w // 2, 2, c)
    parts = _first_max_routing([blocks[:, :, i, :, j, :] for i in range(2) for j in range(2)], dy)
    dx = jnp.stack(parts, axis=0).reshape(2, 2, b, h // 2, w // 2, c).transpose(2, 3, 0, 4, 1, 5)
    dx = dx.reshape(b, h - h % 2, w - w % 2, c)
    return (jnp.pad(dx, ((0, 0), (0, h % 2), (0, w % 2), (0, 0))),)


max_pool_2x2.defvjp(_mp2_fwd, _mp2_bwd)


class _Proj(nn.Module):
    """Conv1x1-BN-ReLU from the cell input to ``width`` channels; ``exists`` (data form) switches
    it off, ``mask`` keeps the target vertex's channels."""

    width: int
    weight_init: str
    patches: bool
    in_loop: bool
    bn_identity: bool
    draw_width: int | None = None  # the width whose initialisation scale the kernel is drawn at

    @nn.compact
    def __call__(self, x: Any, train: bool, exists: Any = None, mask: Any = None) -> Any:
        cin = x.shape[-1]
        init = _kernel_init(self.weight_init, 1, cin, self.draw_width or self.width)
        k = self.param("proj", init, (1, 1, cin, self.width))
        bn = SlotBatchNorm(identity=self.bn_identity, features=self.width, name="bn")
        shape = x.shape[:-1] + (self.width,)
        probe = _probe_scale(self, "fisher", shape, x.dtype)

        def conv(v: Any, kernel: Any, p: Any) -> Any:
            y = conv2d(v, kernel, patches=self.patches, in_loop=self.in_loop)
            return y if p is None else y * p

        if exists is None:
            return _relu(self, bn(conv(x, k, probe), train))
        branches = [(lambda v, kk, p: jnp.zeros(shape, v.dtype), None), (conv, 0)]
        e = jnp.asarray(exists, x.dtype)
        y = bn(x, train, e[None], index=e.astype(jnp.int32), branches=branches, operands=(k, probe))
        return _relu(self, y, e, mask) * mask


class _Vertex(nn.Module):
    """An interior vertex's op: conv3x3-BN-ReLU, conv1x1-BN-ReLU or maxpool3x3, at ``width``."""

    width: int
    weight_init: str
    patches: bool
    in_loop: bool
    bn_identity: bool
    op: int | None = None
    draw_width: int | None = None  # the width whose initialisation scale the kernels are drawn at

    @nn.compact
    def __call__(self, x: Any, train: bool, op: Any = None, mask: Any = None) -> Any:
        c = self.width
        d = self.draw_width or c
        k3 = self.param("conv3x3", _kernel_init(self.weight_init, 3, d, d), (3, 3, c, c))
        k1 = self.param("conv1x1", _kernel_init(self.weight_init, 1, d, d), (1, 1, c, c))
        bn = SlotBatchNorm(slots=2, identity=self.bn_identity, name="bn")
        probe = _probe_scale(self, "fisher", x.shape, x.dtype)

        def conv(v: Any, kernel: Any, p: Any) -> Any:
            y = conv2d(v, kernel, patches=self.patches, in_loop=self.in_loop)
            return y if p is None else y * p

        if self.op is not None:
            if self.is_initializing():  # the same parameter tree whatever the op
                bn(jnp.zeros((1, 1, 1, c), x.dtype), False, 0)
            if self.op == _POOL:
                return max_pool_3x3(x)
            if self.op == _CONV1:
                return _relu(self, bn(conv(x, k1, probe), train, 0))
            return _relu(self, bn(conv(x, k3, probe), train, 1))
        branches = [
            (lambda v, a, b, p: conv(v, a, p), 1),  # conv3x3: batch-norm slot 1
            (lambda v, a, b, p: conv(v, b, p), 0),  # conv1x1: slot 0
            (lambda v, a, b, p: max_pool_3x3(v), None),
            (lambda v, a, b, p: jnp.zeros_like(v), None),  # an empty slot
        ]
        is_conv = (op <= _CONV1).astype(x.dtype)
        select = jnp.stack([op == _CONV1, op == _CONV3]).astype(x.dtype)
        y = bn(x, train, select, index=op, branches=branches, operands=(k3, k1, probe))
        # a max pool's output is already >= 0 (its inputs are ReLU outputs), so one ReLU serves all
        return _relu(self, y, is_conv, mask) * mask


class _Cell(nn.Module):
    channels: int
    weight_init: str
    train: bool
    patches: bool
    in_loop: bool
    bn_identity: bool
    spec: tuple | None = None  # (matrix rows, labels, vertex channels) of a fixed pruned cell
    split: int = 1  # interior vertices padded to ceil(channels / split)
    renorm: bool = False

    @nn.compact
    def __call__(self, x: Any, cell: Any) -> tuple[Any, None]:
        args = (self.weight_init, self.patches, self.in_loop, self.bn_identity)
        if self.spec is not None:
            return renormalize(self, self._fixed(x, args), self.renorm), None
        c, train = self.channels, self.train
        w = -(-c // self.split)
        adj, ops, ch, off = cell["adj"], cell["ops"], cell["channels"], cell["offsets"]
        lanes = jnp.arange(w)
        tensors = [x]
        zeros = jnp.zeros(x.shape[:-1] + (w,), x.dtype)
        out = jnp.zeros(x.shape[:-1] + (c,), x.dtype)
        for v in range(1, _V - 1):
            mask = (lanes < ch[v]).astype(x.dtype)
            acc = sum((adj[u, v] * tensors[u] for u in range(1, v)), zeros)
            proj = _Proj(w, *args, draw_width=c, name=f"proj{v}")(x, train, adj[0, v], mask)
            y = _Vertex(w, *args, draw_width=c, name=f"vertex{v}")(acc * mask + proj, train, ops[v], mask)
            tensors.append(y)
            placed = jnp.pad(y, ((0, 0),) * 3 + ((0, c - w),)) if w < c else y
            out = out + adj[v, _V - 1] * jnp.roll(placed, off[v], axis=-1)
        ones = jnp.ones((c,), x.dtype)
        out = out + _Proj(c, *args, name=f"proj{_V - 1}")(x, train, adj[0, _V - 1], ones)
        return renormalize(self, out, self.renorm), None

    def _fixed(self, x: Any, args: tuple) -> Any:
        rows, labels, vc = self.spec
        m = np.asarray(rows)
        n = m.shape[0]
        slot = list(range(n - 1)) + [_V - 1]
        tensors = [x]
        for v in range(1, n - 1):
            fan_in = [tensors[u][..., : vc[v]] for u in range(1, v) if m[u, v]]
            if m[0, v]:
                fan_in.append(_Proj(vc[v], *args, name=f"proj{slot[v]}")(x, self.train))
            tensors.append(_Vertex(vc[v], *args, op=int(labels[v]), name=f"vertex{slot[v]}")(sum(fan_in), self.train))
        feeds = [tensors[v] for v in range(1, n - 1) if m[v, n - 1]]
        if not feeds:
            return _Proj(self.channels, *args, name=f"proj{_V - 1}")(x, self.train)
        out = jnp.concatenate(feeds, axis=-1)
        if m[0, n - 1]:
            out = out + _Proj(self.channels, *args, name=f"proj{_V - 1}")(x, self.train)
        return out


class NB101Net(nn.Module):
    """The NAS-Bench-101 network (Ying et al. 2019, the official model code).

    Stem conv3x3-BN-ReLU to ``channels``; ``stacks`` stacks of ``cells_per_stack`` cells, a 2x2
    max pool and twice the channels before each stack after the first; mean over height and
    width; a linear head. The benchmark's network is ``channels=128, stacks=3,
    cells_per_stack=3``.

    Attributes
    ----------
    channels, stacks, cells_per_stack, n_classes : int
    weight_init : {"nb101", "pytorch", "flax"}
        The reference network's own initialisation (conv N(0, 2 / (k^2 C_out)), linear
        N(0, 0.01), zero biases), PyTorch's default or flax's. In the data form every kernel is
        drawn for the padded width; :func:`nb101_rescale` scales it to the vertex's own width.
    native_conv : bool
        XLA's native convolution instead of im2col + matmul.
    cell_form : {"switch"}
        The data form computes each vertex's op and each projection with ``lax.switch``.
    batch_norm : bool
        False replaces every batch norm by the identity (synflow's ``bn=False``).
    spec : tuple, optional
        ``(matrix, labels)`` of one pruned cell (nested tuples): build that cell's network at its
        own widths instead of taking the cell as data.
    split : int
        Data form: interior vertex tensors are padded to ``ceil(width / split)`` channels instead
        of the stack's width. Every interior vertex of a cell whose output concatenates ``k``
        vertices has at most ``ceil(width / k)`` channels (channels never grow along an edge), so
        a network with ``split=s`` serves every cell with ``k >= s`` (:func:`nb101_split`) at
        close to the cell's own FLOPs; its parameters are the leading slices of the ``split=1``
        network's.
    renorm : bool
        Divide the activations after the stem and every cell by their maximum (see
        :func:`pyengine.nets._nb201.renormalize`; the ``scales`` collection must be mutable).

    Notes
    -----
    Call with ``x`` of shape (batch, height, width, in_channels) and ``cell``, one architecture
    of :func:`nb101_cell_data` (arrays without the leading axis; None when ``spec`` is set);
    returns logits of shape (batch, n_classes), or with ``features=True`` the last stack's
    output of shape (batch, height / 2^(stacks-1), width / 2^(stacks-1), channels *
    2^(stacks-1)). The repeated cells of a stack run under ``nn.scan``.
    """

    channels: int = 128
    stacks: int = 3
    cells_per_stack: int = 3
    n_classes: int = 10
    weight_init: str = "nb101"
    native_conv: bool = False
    cell_form: str = "switch"
    batch_norm: bool = True
    spec: tuple | None = None
    split: int = 1
    renorm: bool = False

    @nn.compact
    def __call__(self, x: Any, cell: Any = None, train: bool = True, features: bool = False) -> Any:
        if (cell is None) == (self.spec is None):
            raise InvalidValueError(
                "NB101Net takes the cell either as the module's spec or as a cell argument, not both."
            )
        if self.weight_init not in NB101_INITS:
            raise InvalidValueError(
                f"The 'weight_init' parameter of NB101Net must be one of {NB101_INITS}. Got {self.weight_init!r}."
            )
        if self.cell_form != "switch":
            raise InvalidValueError(f"The 'cell_form' parameter of NB101Net must be 'switch'. Got {self.cell_form!r}.")
        patches = not self.native_conv
        in_loop = cell is not None
        off = not self.batch_norm
        c = self.channels
        cin = x.shape[-1]
        k = self.param("stem", _kernel_init(self.weight_init, 3, cin, c), (3, 3, cin, c))
        y = _probe(self, "fisher_stem", conv2d(x, k, patches=patches, in_loop=in_loop))
        x = renormalize(self, _relu(self, SlotBatchNorm(identity=off, name="stem_bn")(y, train)), self.renorm)
        for s in range(self.stacks):
            width = c * 2**s
            spec = None
            if self.spec is not None:
                rows, labels = self.spec
                spec = (rows, labels, nb101_vertex_channels(np.asarray(rows), width, width))
            stack_cell = (
                None if cell is None else {**cell, "channels": cell["channels"][s], "offsets": cell["offsets"][s]}
            )
            args = (width, self.weight_init, train, patches, in_loop, off, spec, self.split, self.renorm)
            n = self.cells_per_stack
            if s:
                x = max_pool_2x2(x)
                x, _ = _Cell(*args, name=f"stack{s}_first")(x, stack_cell)
                n -= 1
            if n == 1:
                x, _ = _Cell(*args, name=f"stack{s}")(x, stack_cell)
            elif n > 1:
                scan = nn.scan(
                    _Cell,
                    variable_axes={"params": 0, "batch_stats": 0, "nwot": 0, "perturbations": 0, "scales": 0},
                    split_rngs={"params": True},
                    in_axes=nn.broadcast,
                    length=n,
                )
                x, _ = scan(*args, name=f"stack{s}")(x, stack_cell)
        if features:
            return x
        x = x.mean(axis=(1, 2))
        if self.weight_init == "nb101":
            w_init = lambda key, shape, dtype=jnp.float32: 0.01 * jax.random.normal(key, shape, dtype)  # noqa: E731
            b_init = nn.initializers.zeros
        else:
            w_init, b_init = kernel_init(self.weight_init, x.shape[-1]), bias_init(self.weight_init, x.shape[-1])
        w = self.param("classifier", w_init, (x.shape[-1], self.n_classes))
        b = self.param("classifier_bias", b_init, (self.n_classes,))
        return _probe(self, "fisher_classifier", x @ w + b)


def nb101_split(cells: dict[str, np.ndarray]) -> np.ndarray:
    """Number of interior vertices whose outputs the cell output concatenates (1 when only the
    input feeds the output), per architecture of :func:`nb101_cell_data`: the largest ``split``
    of an :class:`NB101Net` that can run the cell."""
    return np.maximum(cells["adj"][:, 1 : _V - 1, _V - 1].sum(-1), 1).astype(np.int64)


def nb101_rescale(params: Any, cell: Any, weight_init: str = "nb101", channels: int = 128) -> Any:
    """Kernels of the data form (drawn at the scale of the stack's full width) scaled to the
    widths of ``cell`` (one architecture of :func:`nb101_cell_data`): each initialisation's
    scale depends on a vertex's own channels (its fan-in, and for ``"nb101"`` its fan-out), so a
    vertex of ``c`` channels in a stack of width ``C`` has its kernels multiplied by sqrt(C / c)
    (its projection too under ``"nb101"``). Inactive entries are not touched (they never reach
    an active channel). ``channels`` is the network's first stack width."""
    flat = {}
    for path, a in _flatten(params).items():
        name = path[-1]
        module = path[-2] if len(path) >= 2 else ""
        if name in ("conv3x3", "conv1x1", "proj") and module[:-1] in ("vertex", "proj"):
            v = int(module[-1])
            stack = int(path[0][5])  # "stack{s}" or "stack{s}_first"
            if v < _V - 1 and (name != "proj" or weight_init == "nb101"):
                width = channels * 2**stack
                c = jnp.maximum(cell["channels"][stack, v], 1).astype(a.dtype)
                a = a * jnp.sqrt(width / c)
        flat[path] = a
    return _unflatten(flat)


def _flatten(tree: Any) -> dict[tuple[str, ...], Any]:
    return flax.traverse_util.flatten_dict(flax.core.unfreeze(tree))


def _unflatten(flat: dict[tuple[str, ...], Any]) -> Any:
    return flax.traverse_util.unflatten_dict(flat)
