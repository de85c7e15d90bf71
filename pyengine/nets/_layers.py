"""Layers shared by the benchmark networks: convolution as patches times a matrix, batch norm
with one slot per candidate op, pooling with PyTorch's padding rules, and the two initialisations.

Convolutions are written as im2col (shifted slices stacked on the channel axis) followed by one
matmul. Under ``jax.vmap`` over architectures that becomes a batched matmul; XLA's CPU backend
lowers a vmapped ``conv_general_dilated`` with per-architecture kernels to a grouped convolution
that is about 40x slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from .._compile_cache import cached_programs, compile_program

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


_DIMS = ("NHWC", "HWIO", "NHWC")


def _xla_conv(x: Any, kernel: Any, stride: int = 1) -> Any:
    p = kernel.shape[0] // 2
    return jax.lax.conv_general_dilated(x, kernel, (stride, stride), [(p, p)] * 2, dimension_numbers=_DIMS)


def _values(args: Any) -> tuple[Any, list[bool]]:
    """Values and perturbed flags of ``symbolic_zeros`` custom-VJP primals (leaves of ``args``)."""
    leaves, tree = jax.tree.flatten(args, is_leaf=lambda a: isinstance(a, jax.custom_derivatives.CustomVJPPrimal))
    values = [a.value for a in leaves]
    return jax.tree.unflatten(tree, values), [bool(a.perturbed) for a in leaves]


def _dense(ct: Any) -> Any:
    """Cotangents with symbolic zeros made concrete."""
    return jax.tree.map(
        lambda c: jnp.zeros(c.shape, c.dtype) if isinstance(c, jax.custom_derivatives.SymbolicZero) else c,
        ct,
        is_leaf=lambda c: isinstance(c, jax.custom_derivatives.SymbolicZero),
    )


def spread(dy: Any, x_shape: Sequence[int], stride: int) -> Any:
    """The output gradient of a window op with ``stride`` spread back onto its input's grid of
    ``x_shape`` (B, H, W, C), zeros between."""
    if stride == 1:
        return dy
    return jnp.zeros(tuple(x_shape[:3]) + dy.shape[3:], dy.dtype).at[:, ::stride, ::stride, :].set(dy)


def own_vjp(forward: Any, input_grad: Any, kernel_grad: Any) -> Any:
    """``forward(x, kernel)`` with its gradient written by hand: ``input_grad(x, kernel, dy)``
    and ``kernel_grad(x, kernel, dy)``, each computed only when the caller differentiates that
    argument. Returns the function of (x, kernel)."""
    flags: list[bool] = []  # which of (x, kernel) the caller differentiates, set when tracing fwd

    @jax.custom_vjp
    def run(x: Any, kernel: Any) -> Any:
        return forward(x, kernel)

    def fwd(x: Any, kernel: Any) -> tuple[Any, tuple[Any, Any]]:
        (xv, kv), flags[:] = _values((x, kernel))
        # the primal through a fresh instance of this function: differentiating the gradient
        # (grasp's Hessian-vector product) then meets these hand-written gradients again instead
        # of the convolutions autodiff emits (XLA's CPU backend runs those filter gradients slowly)
        return own_vjp(forward, input_grad, kernel_grad)(xv, kv), (xv, kv)

    def bwd(res: tuple[Any, Any], dy: Any) -> tuple[Any, Any]:
        x, kernel = res
        dy = _dense(dy)
        return (
            input_grad(x, kernel, dy) if flags[0] else None,
            kernel_grad(x, kernel, dy) if flags[1] else None,
        )

    run.defvjp(fwd, bwd, symbolic_zeros=True)
    return run


def _loop_conv(x: Any, kernel: Any, stride: int) -> Any:
    def input_grad(x: Any, kernel: Any, dy: Any) -> Any:
        # itself a forward-style convolution with this gradient, so that differentiating the
        # gradient (grasp's Hessian-vector product) stays off the convolutions autodiff emits
        return _loop_conv(spread(dy, x.shape, stride), jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2), 1)

    def kernel_grad(x: Any, kernel: Any, dy: Any) -> Any:
        k = kernel.shape[0]
        cols = jnp.stack(_shifts(x, k, stride, k // 2))  # (k*k, B, H_out, W_out, C_in)
        return jnp.einsum("sbhwc,bhwo->sco", cols, dy).reshape(kernel.shape)

    return own_vjp(lambda a, b: _xla_conv(a, b, stride), input_grad, kernel_grad)(x, kernel)


def conv2d(
    x: Any, kernel: Any, stride: int = 1, bias: Any = None, *, patches: bool = True, in_loop: bool = False
) -> Any:
    """2-D convolution, NHWC input and HWIO kernel, padding k // 2 (PyTorch's ``padding=1`` for
    3x3 and 0 for 1x1).

    x : array of shape (batch, height, width, in_channels)
    kernel : array of shape (k, k, in_channels, out_channels)
    patches : im2col and a matmul (fast under ``vmap`` over kernels) or XLA's native convolution
        (about 2x faster on CPU for one kernel, about 40x slower when vmapped over kernels)
    in_loop : with ``patches=False``, differentiate through forward-style convolutions (the
        input gradient as a stride-1 convolution of the output gradient, spread back onto the
        input grid, with the flipped kernel; the kernel gradient as patches times the output
        gradient; each computed only when the caller differentiates that argument). XLA's CPU
        backend runs the convolutions autodiff emits 6-20x slower inside ``lax.scan`` /
        ``lax.switch`` bodies and for strides above 1; these do not.
    """
    k, _, cin, cout = kernel.shape
    if not patches:
        y = _loop_conv(x, kernel, stride) if in_loop else _xla_conv(x, kernel, stride)
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


def remat_switch(index: Any, branches: Sequence[Any], *operands: Any) -> Any:
    """``lax.switch(index, branches, *operands)`` whose gradient recomputes the selected branch.

    Differentiating ``lax.switch`` directly makes every branch return the residuals of all the
    others (zeros when not selected), so an edge whose op is ``none`` still writes the zero
    activations a convolution branch would have saved; on CPU that costs as much as the convolution. Here
    the only residuals are the operands, and the backward pass runs the selected branch's VJP.
    Operands must be passed explicitly (a branch may not close over values it differentiates).
    """

    flags: list[bool] = []  # perturbed flags of the operands' leaves, set when tracing fwd

    @jax.custom_vjp
    def run(idx: Any, *args: Any) -> Any:
        return jax.lax.switch(idx, branches, *args)

    def fwd(idx: Any, *args: Any) -> tuple[Any, tuple[Any, Any]]:
        (iv, av), flags[:] = _values((idx, args))
        # a fresh recomputing switch for the primal, so that a second differentiation recomputes
        # the selected branch as the first does (see own_vjp)
        return remat_switch(iv, branches, *av), (iv, av)

    def bwd(res: tuple[Any, Any], ct: Any) -> tuple[Any, ...]:
        idx, args = res
        leaves, tree = jax.tree.flatten(args)
        wrt = [i for i, p in enumerate(flags[1:]) if p]  # only what the caller differentiates

        def vjp_of(fn: Any) -> Any:
            def run_vjp(leaves: list[Any], c: Any) -> Any:
                def f(*diff: Any) -> Any:
                    full = list(leaves)
                    for i, d in zip(wrt, diff, strict=True):
                        full[i] = d
                    return fn(*jax.tree.unflatten(tree, full))

                return jax.vjp(f, *[leaves[i] for i in wrt])[1](c)

            return run_vjp

        # a recomputing switch again, so that differentiating the gradient (grasp's
        # Hessian-vector product) does not save every branch's residuals either
        grads = remat_switch(idx, [vjp_of(fn) for fn in branches], leaves, _dense(ct)) if wrt else ()
        out: list[Any] = [None] * len(leaves)
        for i, gr in zip(wrt, grads, strict=True):
            out[i] = gr
        return (None, *jax.tree.unflatten(tree, out))

    run.defvjp(fwd, bwd, symbolic_zeros=True)
    return run(index, *operands)


def _normalize(x: Any, mean: Any, var: Any, scale: Any, bias: Any, epsilon: float) -> Any:
    y = (x - mean) * jax.lax.rsqrt(var + epsilon)
    return y if scale is None else y * scale + bias


class SlotBatchNorm(nn.Module):
    """Batch norm (PyTorch semantics: momentum 0.1, eps 1e-5, biased variance to normalise and
    unbiased variance in the running estimate) holding ``slots`` sets of statistics and affine
    parameters, one per candidate op of an edge.

    ``select`` picks the slot: a static int, or a float vector of shape (slots,) that is one-hot
    (or all zeros, when the edge's op has no batch norm: nothing is updated then). Running
    statistics update only when the ``batch_stats`` collection is mutable. ``identity=True``
    turns the layer off (the zero-cost proxies' ``bn=False``) while keeping its variables.

    ``branches`` (with ``index`` and ``operands``) runs a switch over candidate ops, each a pair
    ``(fn, slot)``: the branch computes ``fn(x, *operands)`` and, when ``slot`` is not None,
    normalises it with that slot, so only the selected op costs FLOPs and the normalisation
    happens inside its branch (differentiated by :func:`remat_switch`). ``select`` must then be
    the float vector of the slots' weights.
    """

    slots: int = 1
    affine: bool = True
    track: bool = True
    momentum: float = 0.1
    epsilon: float = 1e-5
    identity: bool = False
    features: int | None = None  # channels normalised (default: the input's; set it when branches change them)

    @nn.compact
    def __call__(
        self,
        x: Any,
        train: bool,
        select: Any = 0,
        *,
        index: Any = None,
        branches: Sequence[Any] | None = None,
        operands: tuple[Any, ...] = (),
    ) -> Any:
        static = isinstance(select, int)
        if self.identity and not self.is_initializing():  # no variables read: none need exist
            if branches is None:
                return x
            return remat_switch(index, [fn for fn, _ in branches], x, *operands)
        c = x.shape[-1] if self.features is None else self.features
        mean_v = self.variable("batch_stats", "mean", lambda: jnp.zeros((self.slots, c), jnp.float32))
        var_v = self.variable("batch_stats", "var", lambda: jnp.ones((self.slots, c), jnp.float32))
        scale = bias = None
        if self.affine:
            scale = self.param("scale", nn.initializers.ones, (self.slots, c))
            bias = self.param("bias", nn.initializers.zeros, (self.slots, c))
        batch_mode = train or not self.track

        def norm(v: Any, slot: Any, mean_r: Any, var_r: Any, sc: Any, bi: Any) -> tuple[Any, Any, Any]:
            """Normalise ``v`` with ``slot`` (an int or a one-hot vector): (y, batch mean, batch var)."""
            if self.identity:
                zero = jnp.zeros(v.shape[-1], v.dtype)
                return v, zero, zero
            pick = (lambda a: a[slot]) if isinstance(slot, int) else (lambda a: slot @ a)
            sc = None if sc is None else pick(sc)
            bi = None if bi is None else pick(bi)
            if batch_mode:
                axes = tuple(range(v.ndim - 1))
                mean = v.mean(axes)
                var = jnp.square(v - mean).mean(axes)
                return _normalize(v, mean, var, sc, bi, self.epsilon), mean, var
            mean, var = pick(mean_r), pick(var_r)
            return _normalize(v, mean, var, sc, bi, self.epsilon), mean, var

        bn_vars = (mean_v.value, var_v.value, scale, bias)
        if branches is None:
            y, mean, var = norm(x, select, *bn_vars)
        else:

            def branch(fn: Any, slot: int | None) -> Any:
                def run(v: Any, bnv: Any, *ops: Any) -> tuple[Any, Any, Any]:
                    out = fn(v, *ops)
                    if slot is None:
                        zero = jnp.zeros(out.shape[-1], out.dtype)
                        return out, zero, zero
                    return norm(out, slot, *bnv)

                return run

            y, mean, var = remat_switch(index, [branch(fn, slot) for fn, slot in branches], x, bn_vars, *operands)
        update = batch_mode and self.track and not self.identity
        if update and self.is_mutable_collection("batch_stats") and not self.is_initializing():
            n = int(np.prod(y.shape[:-1]))
            unbiased = var * (n / max(n - 1, 1))
            w = (jnp.zeros(self.slots).at[select].set(1.0) if static else select)[:, None] * self.momentum
            mean_v.value = mean_v.value + w * (mean[None] - mean_v.value)
            var_v.value = var_v.value + w * (unbiased[None] - var_v.value)
        return y


def key_spec(key: Any) -> Any:
    return jax.ShapeDtypeStruct(tuple(key.shape), key.dtype)


def compiled_key_program(fn: Any, key: Any, tag: str) -> Any:
    """``jax.jit(fn)`` compiled for keys shaped like ``key``, through the program cache (see
    :func:`pyengine._compile_cache.compile_program`), under threefry's non-partitionable bit
    generation (about 3x faster to compile for networks with many parameter tensors; the values
    are a deterministic function of the key either way)."""
    with jax.threefry_partitionable(False):
        return compile_program(jax.jit(fn), (key_spec(key),), tag=tag)


@cached_programs(16)
def _compiled_init(
    model: nn.Module, tree: Any, shapes: tuple[tuple[tuple[int, ...], str], ...], kwargs: tuple, key: Any
) -> Any:
    def init(k: Any) -> Any:
        args = jax.tree.unflatten(tree, [jnp.zeros(shape, dtype) for shape, dtype in shapes])
        return model.init(k, *args, **dict(kwargs))

    return compiled_key_program(init, key, tag=f"init {model!r} {tree} {shapes} {kwargs}")


def init_variables(model: nn.Module, key: Any, *example_args: Any, **kwargs: Any) -> Any:
    """``model.init(key, *example_args, **kwargs)`` compiled once per (model, argument shapes)
    in this process (see :func:`compiled_key_program`).

    example_args : arrays, ``jax.ShapeDtypeStruct`` or pytrees of them (only shapes and dtypes
        are read)
    """
    leaves, tree = jax.tree.flatten(example_args)
    shapes = tuple((tuple(int(d) for d in a.shape), str(np.dtype(a.dtype))) for a in leaves)
    program = _compiled_init(model, tree, shapes, tuple(sorted(kwargs.items())), key_spec(key))
    return program(key)
