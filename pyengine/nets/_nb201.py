"""The NAS-Bench-201 network with the cell given as data.

One compiled program serves every cell of the space: the cell enters as a (6, 5) one-hot over the
ops of its edges, and each edge computes

    y = (s_conv1x1 + s_conv3x3) * BN_s(conv(relu(x), s_conv3x3 * K3 + s_conv1x1 * pad(K1)))
        + s_skip * x + s_pool * avgpool(x)

with the 1x1 kernel zero-padded to 3x3 (a 3x3 convolution whose only non-zero tap is the centre
is the 1x1 convolution), so an edge costs one convolution whatever its op and the program vmaps
over architectures. Passing ``ops`` to the module instead builds the network of one fixed cell
with only its own ops (the form the reference codes build); both forms share one parameter tree,
so a test can check that they compute the same numbers.

``cell_form="switch"`` computes each edge with ``lax.switch`` over its five ops instead, so only
the selected op costs FLOPs (the form for one architecture at a time on CPU; under ``vmap`` a
switch becomes a select that runs every branch).

Two probes serve the zero-cost proxies and cost nothing otherwise: with the ``nwot`` collection
mutable, every ReLU sows the Gram matrix of the binary codes of its input,
``K = (D + s s^T) / 2`` with ``s = sign(z > 0)`` as +-1 (summed over the ReLUs: the NWOT kernel
``N_A - d_H``); with a ``perturbations`` collection (made by ``init``), the output of every
convolution and of the classifier, before batch norm, is multiplied by ``1 + p`` with ``p`` of
shape (batch, 1, 1, channels), so the gradient with respect to ``p`` is the per-sample,
per-channel ``sum_hw a * dL/da`` of Fisher pruning.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidValueError
from ..graph import nb201 as g
from ._layers import SlotBatchNorm, avg_pool_2x2, avg_pool_3x3, bias_init, conv2d, kernel_init

__all__ = ["NB201Net", "nb201_onehot", "NB201_EDGES", "CELL_FORMS"]

CELL_FORMS = ("merged", "switch")

NB201_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_NONE, _SKIP, _CONV1, _CONV3, _POOL = (g.OPS.index(o) for o in g.OPS)


def nb201_onehot(ops: Any) -> np.ndarray:
    """One-hot cells for :class:`NB201Net`.

    ops : array of shape (n_archs, 6), op indices in ``pyengine.graph.nb201.OPS`` order
    Returns an array of shape (n_archs, 6, 5), float32.
    """
    a = np.asarray(ops)
    return np.eye(len(g.OPS), dtype=np.float32)[a]


def _add(a: Any, b: Any) -> Any:
    return a + b


def _relu(module: nn.Module, z: Any, weight: Any = 1.0, mask: Any = None) -> Any:
    """ReLU that sows the NWOT Gram matrix of its input's codes (times ``weight``) when the
    ``nwot`` collection is mutable. ``mask`` (shape (channels,), 0/1) leaves out the channels a
    padded layer does not have."""
    if module.is_mutable_collection("nwot") and not module.is_initializing():
        s = jnp.where(z > 0, 1.0, -1.0).astype(jnp.float32)
        units = float(np.prod(z.shape[1:]))
        if mask is not None:
            m = jnp.asarray(mask, jnp.float32)
            s = s * m
            units = m.sum() * float(np.prod(z.shape[1:-1]))
        s = s.reshape(z.shape[0], -1)
        gram = (units + s @ s.T) * 0.5
        module.sow("nwot", "K", weight * gram, init_fn=lambda: 0.0, reduce_fn=_add)
    return jax.nn.relu(z)


def renormalize(module: nn.Module, h: Any, enabled: bool) -> Any:
    """``h / s`` with ``s = max |h|`` (1 when h is all zero) treated as a constant, sowing ln s
    into the ``scales`` collection. In a network that is positively homogeneous in its input
    (non-negative weights, no batch norm, no biases before the head: synflow's setting) the
    output and every weight gradient then shrink by the product of the scales, so float32
    holds values whose true size (1e50 on NB201) only float64 could."""
    if not enabled:
        return h
    m = jax.lax.stop_gradient(jnp.max(jnp.abs(h)))
    s = jnp.where(m > 0, m, jnp.ones_like(m))
    log_s = jnp.log(s).astype(jnp.float32)
    module.sow("scales", "log", log_s, init_fn=lambda: jnp.zeros((), jnp.float32), reduce_fn=_add)
    return h / s


def _probe_scale(module: nn.Module, name: str, y_shape: tuple[int, ...], dtype: Any) -> Any:
    """``1 + p`` for the Fisher probe ``name`` (None when no ``perturbations`` are given)."""
    if not (module.is_mutable_collection("perturbations") or module.scope.has_variable("perturbations", name)):
        return None
    shape = (y_shape[0],) + (1,) * (len(y_shape) - 2) + (y_shape[-1],)
    return 1.0 + module.perturb(name, jnp.zeros(shape, dtype))


def _probe(module: nn.Module, name: str, y: Any) -> Any:
    scale = _probe_scale(module, name, y.shape, y.dtype)
    return y if scale is None else y * scale


class _Edge(nn.Module):
    channels: int
    weight_init: str
    conv_bias: bool
    bn_affine: bool
    bn_track: bool
    patches: bool = True
    op: int | None = None  # a fixed op builds only that op
    switch: bool = False
    bn_identity: bool = False

    @nn.compact
    def __call__(self, x: Any, select: Any, train: bool) -> Any:
        c = self.channels
        k3 = self.param("conv3x3", kernel_init(self.weight_init, 9 * c), (3, 3, c, c))
        k1 = self.param("conv1x1", kernel_init(self.weight_init, c), (1, 1, c, c))
        b3 = self.param("bias3x3", bias_init(self.weight_init, 9 * c), (c,)) if self.conv_bias else None
        b1 = self.param("bias1x1", bias_init(self.weight_init, c), (c,)) if self.conv_bias else None
        bn = SlotBatchNorm(slots=2, affine=self.bn_affine, track=self.bn_track, identity=self.bn_identity, name="bn")
        probe = _probe_scale(self, "fisher", x.shape, x.dtype)

        def conv(x: Any, kernel: Any, bias: Any, probe: Any = probe) -> Any:
            y = conv2d(jax.nn.relu(x), kernel, bias=bias, patches=self.patches, in_loop=self.switch)
            return y if probe is None else y * probe

        op = self.op
        if op is not None:
            if self.is_initializing():  # the same parameter tree whatever the op
                bn(jnp.zeros((1, 1, 1, c), x.dtype), False, 0)
            if op == _NONE:
                return x * 0.0
            if op == _SKIP:
                return x
            if op == _POOL:
                return avg_pool_3x3(x)
            _relu(self, x)  # NWOT codes of the op's ReLU
            if op == _CONV1:
                return bn(conv(x, k1, b1), train, 0)
            return bn(conv(x, k3, b3), train, 1)
        s_conv = select[_CONV1 : _CONV3 + 1]
        _relu(self, x, s_conv.sum())  # NWOT codes of the conv ops' ReLU (relu(x) is recomputed in the branch)
        if self.switch:
            # branches take the arrays they differentiate as operands: (k1, b1, k3, b3, probe)
            branches = [None] * len(g.OPS)
            branches[_NONE] = (lambda v, *_: v * 0.0, None)
            branches[_SKIP] = (lambda v, *_: v, None)
            branches[_CONV1] = (lambda v, k1, b1, k3, b3, p: conv(v, k1, b1, p), 0)
            branches[_CONV3] = (lambda v, k1, b1, k3, b3, p: conv(v, k3, b3, p), 1)
            branches[_POOL] = (lambda v, *_: avg_pool_3x3(v), None)
            operands = (k1, b1, k3, b3, probe)
            return bn(x, train, s_conv, index=jnp.argmax(select), branches=branches, operands=operands)
        kernel = select[_CONV3] * k3 + select[_CONV1] * jnp.pad(k1, ((1, 1), (1, 1), (0, 0), (0, 0)))
        bias = None if b3 is None else select[_CONV3] * b3 + select[_CONV1] * b1
        y = bn(conv(x, kernel, bias), train, s_conv)
        return s_conv.sum() * y + select[_SKIP] * x + select[_POOL] * avg_pool_3x3(x)


class _Cell(nn.Module):
    channels: int
    weight_init: str
    conv_bias: bool
    bn_affine: bool
    bn_track: bool
    train: bool
    patches: bool
    ops: tuple[int, ...] | None = None
    switch: bool = False
    bn_identity: bool = False
    renorm: bool = False

    @nn.compact
    def __call__(self, x: Any, onehot: Any) -> tuple[Any, None]:
        nodes = [x]
        for e, (src, dst) in enumerate(NB201_EDGES):
            edge = _Edge(
                self.channels,
                self.weight_init,
                self.conv_bias,
                self.bn_affine,
                self.bn_track,
                self.patches,
                None if self.ops is None else int(self.ops[e]),
                self.switch,
                self.bn_identity,
                name=f"edge{src}{dst}",
            )
            y = edge(nodes[src], None if onehot is None else onehot[e], self.train)
            if dst == len(nodes):
                nodes.append(y)
            else:
                nodes[dst] = nodes[dst] + y
        return renormalize(self, nodes[3], self.renorm), None


class _ReLUConvBN(nn.Module):
    channels: int
    stride: int
    weight_init: str
    patches: bool
    bn_identity: bool = False
    in_loop: bool = False

    @nn.compact
    def __call__(self, x: Any, train: bool) -> Any:
        cin = x.shape[-1]
        k = self.param("conv", kernel_init(self.weight_init, 9 * cin), (3, 3, cin, self.channels))
        y = conv2d(_relu(self, x), k, self.stride, patches=self.patches, in_loop=self.in_loop)
        y = _probe(self, "fisher", y)
        return SlotBatchNorm(identity=self.bn_identity, name="bn")(y, train)


class _ResidualBlock(nn.Module):
    channels: int
    weight_init: str
    patches: bool
    bn_identity: bool = False
    in_loop: bool = False

    @nn.compact
    def __call__(self, x: Any, train: bool) -> Any:
        cin = x.shape[-1]
        args = (self.weight_init, self.patches, self.bn_identity, self.in_loop)
        y = _ReLUConvBN(self.channels, 2, *args, name="conv_a")(x, train)
        y = _ReLUConvBN(self.channels, 1, *args, name="conv_b")(y, train)
        k = self.param("shortcut", kernel_init(self.weight_init, cin), (1, 1, cin, self.channels))
        shortcut = conv2d(avg_pool_2x2(x), k, patches=self.patches, in_loop=self.in_loop)
        return _probe(self, "fisher", shortcut) + y


class NB201Net(nn.Module):
    """The NAS-Bench-201 network (Dong & Yang 2020, the official model code).

    Stem conv3x3 + BN; three stages of ``cells_per_stage`` cells at ``channels``, 2x and 4x
    channels with a ResNet basic block (stride 2) between stages; BN, ReLU, global average pool
    and a linear head. The benchmark's network is ``channels=16, cells_per_stage=5``.

    Attributes
    ----------
    channels, cells_per_stage, n_classes : int
    weight_init : {"pytorch", "flax"}
        PyTorch's default initialisation (to compare with published scores) or flax's.
    conv_bias, cell_bn_affine, cell_bn_track : bool
        Cell convolutions with bias, and the cell batch norms' affine parameters and running
        statistics (the benchmark: False, True, True; the zero-cost reference code's network:
        True, False, False).
    native_conv : bool
        XLA's native convolution instead of im2col + matmul: about 2x faster on CPU for one
        architecture, about 40x slower under ``vmap`` over architectures (a grouped convolution).
    ops : tuple of 6 ints, optional
        Build the network of this one cell (ops in ``pyengine.graph.nb201.OPS`` order) instead of
        taking the cell as data.
    cell_form : {"merged", "switch"}
        How a cell given as data computes its edges (see the module docstring).
    batch_norm : bool
        False replaces every batch norm by the identity (synflow's ``bn=False``); the variables
        stay, so the parameter tree does not change.
    renorm : bool
        Divide the activations after the stem, every cell and every reduction block by their
        maximum (see :func:`renormalize`; the ``scales`` collection must be mutable).

    Notes
    -----
    Call with ``x`` of shape (batch, height, width, in_channels) and ``onehot`` of shape (6, 5)
    (None when ``ops`` is set); returns logits of shape (batch, n_classes), or with
    ``features=True`` the feature map before global average pooling, of shape
    (batch, height / 4, width / 4, 4 * channels). Cells repeated within a stage run under
    ``nn.scan``, so compile time does not grow with ``cells_per_stage``.
    """

    channels: int = 16
    cells_per_stage: int = 5
    n_classes: int = 10
    weight_init: str = "pytorch"
    conv_bias: bool = False
    cell_bn_affine: bool = True
    cell_bn_track: bool = True
    native_conv: bool = False
    ops: tuple[int, ...] | None = None
    cell_form: str = "merged"
    batch_norm: bool = True
    renorm: bool = False

    @nn.compact
    def __call__(self, x: Any, onehot: Any = None, train: bool = True, features: bool = False) -> Any:
        if (onehot is None) == (self.ops is None):
            raise InvalidValueError(
                "NB201Net takes the cell either as the module's ops or as a onehot argument, not both."
            )
        if self.cell_form not in CELL_FORMS:
            raise InvalidValueError(
                f"The 'cell_form' parameter of NB201Net must be one of {CELL_FORMS}. Got {self.cell_form!r}."
            )
        patches = not self.native_conv
        off = not self.batch_norm
        switch = self.cell_form == "switch"  # differentiate convolutions the loop-friendly way
        c = self.channels
        cin = x.shape[-1]
        k = self.param("stem", kernel_init(self.weight_init, 9 * cin), (3, 3, cin, c))
        x = SlotBatchNorm(identity=off, name="stem_bn")(
            _probe(self, "fisher_stem", conv2d(x, k, patches=patches, in_loop=switch)), train
        )
        x = renormalize(self, x, self.renorm)
        cell_args = (
            self.weight_init,
            self.conv_bias,
            self.cell_bn_affine,
            self.cell_bn_track,
            train,
            patches,
            self.ops,
            switch,
            off,
            self.renorm,
        )
        for stage in range(3):
            width = c * 2**stage
            if stage:
                x = _ResidualBlock(width, self.weight_init, patches, off, switch, name=f"reduce{stage}")(x, train)
                x = renormalize(self, x, self.renorm)
            if self.cells_per_stage == 1:
                x, _ = _Cell(width, *cell_args, name=f"stage{stage}")(x, onehot)
            else:
                scan = nn.scan(
                    _Cell,
                    variable_axes={"params": 0, "batch_stats": 0, "nwot": 0, "perturbations": 0, "scales": 0},
                    split_rngs={"params": True},
                    in_axes=nn.broadcast,
                    length=self.cells_per_stage,
                )
                x, _ = scan(width, *cell_args, name=f"stage{stage}")(x, onehot)
        x = _relu(self, SlotBatchNorm(identity=off, name="head_bn")(x, train))
        if features:
            return x
        x = x.mean(axis=(1, 2))
        w = self.param("classifier", kernel_init(self.weight_init, x.shape[-1]), (x.shape[-1], self.n_classes))
        b = self.param("classifier_bias", bias_init(self.weight_init, x.shape[-1]), (self.n_classes,))
        return _probe(self, "fisher_classifier", x @ w + b)
