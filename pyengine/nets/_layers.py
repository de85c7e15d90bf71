"""Layers shared by the benchmark networks: convolution as patches times a matrix, batch norm
with one slot per candidate op, pooling with PyTorch's padding rules, and the two initialisations.

Convolutions are written as im2col (shifted slices stacked on the channel axis) followed by one
matmul. Under ``jax.vmap`` over architectures that becomes a batched matmul; XLA's CPU backend
lowers a vmapped ``conv_general_dilated`` with per-architecture kernels to a grouped convolution
that is about 40x slower.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "INITS",
    "init_variables",
    "kernel_init",
    "bias_init",
    "conv2d",
    "avg_pool_3x3",
    "avg_pool_2x2",
    "SlotBatchNorm",
]

INITS = ("pytorch", "flax")


def kernel_init(init: str, fan_in: int) -> Any:
    """Weight initialiser: PyTorch's default (``kaiming_uniform_(a=sqrt(5))``, i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))) or flax's default (LeCun normal)."""
    if init == "pytorch":
        bound = 1.0 / np.sqrt(fan_in)

        def uniform(key: Any, shape: Sequence[int], dtype: Any = jnp.float32) -> Any:
            return jax.random.uniform(key, shape, dtype, -bound, bound)

        return uniform
    return nn.initializers.lecun_normal()


def bias_init(init: str, fan_in: int) -> Any:
    """Bias initialiser: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) or flax's zeros."""
    if init == "pytorch":
        return kernel_init("pytorch", fan_in)
    return nn.initializers.zeros


def _shifts(x: Any, k: int, stride: int, pad: int) -> list[Any]:
    """The k*k shifted views of ``x`` (B, H, W, C) a k x k window with ``stride`` and zero padding
    ``pad`` reads, in row-major window order."""
    h, w = x.shape[1], x.shape[2]
    ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    xp = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))) if pad else x
    return [
        xp[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride, :]
        for i in range(k)
        for j in range(k)
    ]


def conv2d(x: Any, kernel: Any, stride: int = 1, bias: Any = None, *, patches: bool = True) -> Any:
    """2-D convolution, NHWC input and HWIO kernel, padding k // 2 (PyTorch's ``padding=1`` for
    3x3 and 0 for 1x1).

    x : array of shape (batch, height, width, in_channels)
    kernel : array of shape (k, k, in_channels, out_channels)
    patches : im2col and a matmul (fast under ``vmap`` over kernels) or XLA's native convolution
        (about 2x faster on CPU for one kernel, about 40x slower when vmapped over kernels)
    """
    k, _, cin, cout = kernel.shape
    if not patches:
        y = jax.lax.conv_general_dilated(
            x, kernel, (stride, stride), [(k // 2, k // 2)] * 2, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
    elif k == 1:
        y = x[:, ::stride, ::stride, :] @ kernel[0, 0]
    else:
        cols = jnp.concatenate(_shifts(x, k, stride, k // 2), axis=-1)
        y = cols @ kernel.reshape(k * k * cin, cout)
    return y if bias is None else y + bias


def avg_pool_3x3(x: Any) -> Any:
    """3x3 average pool, stride 1, padding 1, ``count_include_pad=False``."""
    h, w = x.shape[1], x.shape[2]
    total = sum(_shifts(x, 3, 1, 1))
    rows = np.minimum(np.arange(h) + 1, h - 1) - np.maximum(np.arange(h) - 1, 0) + 1
    cols = np.minimum(np.arange(w) + 1, w - 1) - np.maximum(np.arange(w) - 1, 0) + 1
    count = (rows[:, None] * cols[None, :]).astype(np.float32)
    return total / count[None, :, :, None]


def avg_pool_2x2(x: Any) -> Any:
    """2x2 average pool with stride 2 (odd trailing rows and columns dropped, as PyTorch does)."""
    b, h, w, c = x.shape
    x = x[:, : h - h % 2, : w - w % 2, :]
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


class SlotBatchNorm(nn.Module):
    """Batch norm (PyTorch semantics: momentum 0.1, eps 1e-5, biased variance to normalise and
    unbiased variance in the running estimate) holding ``slots`` sets of statistics and affine
    parameters, one per candidate op of an edge.

    ``select`` picks the slot: a static int, or a float vector of shape (slots,) that is one-hot
    (or all zeros, when the edge's op has no batch norm: nothing is updated then). Running
    statistics update only when the ``batch_stats`` collection is mutable.
    """

    slots: int = 1
    affine: bool = True
    track: bool = True
    momentum: float = 0.1
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: Any, train: bool, select: Any = 0) -> Any:
        c = x.shape[-1]
        static = isinstance(select, int)
        mean_v = self.variable("batch_stats", "mean", lambda: jnp.zeros((self.slots, c), jnp.float32))
        var_v = self.variable("batch_stats", "var", lambda: jnp.ones((self.slots, c), jnp.float32))

        def pick(a: Any) -> Any:
            return a[select] if static else select @ a

        if train or not self.track:
            axes = tuple(range(x.ndim - 1))
            mean = x.mean(axes)
            var = jnp.square(x - mean).mean(axes)
            if self.track and self.is_mutable_collection("batch_stats") and not self.is_initializing():
                n = int(np.prod([x.shape[a] for a in axes]))
                unbiased = var * (n / max(n - 1, 1))
                w = (jnp.zeros(self.slots).at[select].set(1.0) if static else select)[:, None] * self.momentum
                mean_v.value = mean_v.value + w * (mean[None] - mean_v.value)
                var_v.value = var_v.value + w * (unbiased[None] - var_v.value)
        else:
            mean, var = pick(mean_v.value), pick(var_v.value)
        y = (x - mean) * jax.lax.rsqrt(var + self.epsilon)
        if self.affine:
            scale = self.param("scale", nn.initializers.ones, (self.slots, c))
            bias = self.param("bias", nn.initializers.zeros, (self.slots, c))
            y = y * pick(scale) + pick(bias)
        return y


@functools.lru_cache(maxsize=16)
def _compiled_init(model: nn.Module, shapes: tuple[tuple[tuple[int, ...], str], ...], kwargs: tuple) -> Any:
    def init(key: Any) -> Any:
        args = [jnp.zeros(shape, dtype) for shape, dtype in shapes]
        return model.init(key, *args, **dict(kwargs))

    return jax.jit(init)


def init_variables(model: nn.Module, key: Any, *example_args: Any, **kwargs: Any) -> Any:
    """``model.init(key, *example_args, **kwargs)`` compiled once per (model, argument shapes)
    in this process. Random draws use threefry's non-partitionable bit generation, which
    compiles about 3x faster for networks with many parameter tensors (the values are a
    deterministic function of the key either way).

    example_args : arrays or ``jax.ShapeDtypeStruct`` (only their shapes and dtypes are read)
    """
    shapes = tuple((tuple(int(d) for d in a.shape), str(np.dtype(a.dtype))) for a in example_args)
    with jax.threefry_partitionable(False):
        return _compiled_init(model, shapes, tuple(sorted(kwargs.items())))(key)
