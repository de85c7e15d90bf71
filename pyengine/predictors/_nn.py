"""Shared machinery of the neural predictors: ensembles of flax models trained as one vmapped,
jit-compiled program, and bucketed, streaming inference.

Training: the E members of an ensemble are one ``jax.vmap`` over their PRNG keys; epochs and
minibatch steps are ``lax.fori_loop``s inside one ``jit``. The training set is padded to a power of
two (at least 32 rows) and its real size enters as data, so fits of different sizes in one bucket
share one compiled program. Each epoch draws a permutation of the real rows; minibatches follow
PyTorch's ``drop_last=True`` (a set smaller than one batch gives one masked batch). Gradients are
computed afresh every step (the reference codes that accumulate them lose Kendall tau).

Inference: architectures are encoded on device and scored in chunks padded to ``PREDICT_BUCKETS``
by one compiled program per (model, bucket): no recompilation, memory flat in the number of
architectures, and inputs may be an iterator of batches (streamed). The graph predictors choose
their top bucket (``inference_batch_size``), how many chunks run at once
(``inference_workers``) and the precision of that program (``inference_precision``,
:data:`INFERENCE_PRECISIONS`); training is always float32.
"""

from __future__ import annotations

import collections.abc
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn
from sklearn.base import BaseEstimator, RegressorMixin

from .._compile_cache import cached_programs
from .._validation import check_int, message
from ..encodings import GraphBatch
from ..errors import InvalidTypeError, InvalidValueError, NoUncertaintyError
from ._base import Predictor
from ._contract import check_random_state, is_architectures, usable_cores
from ._zc import ZeroCostInputs

__all__ = [
    "NeuralPredictor",
    "NoUncertaintyError",
    "TrainConfig",
    "PREDICT_BUCKETS",
    "INFERENCE_PRECISIONS",
    "predict_buckets",
    "inference_defaults",
    "inference_options",
    "train_ensemble",
    "ensemble_apply",
]

log = logging.getLogger(__name__)

PREDICT_BUCKETS = (8, 128, 1024)
# inference_precision -> the matmul precision its program is traced under (None: JAX's default)
INFERENCE_PRECISIONS = {"float32": None, "tf32": "tensorfloat32", "bfloat16": None}
_STREAM_ROWS = 65536  # raw architectures encoded per step when scoring a large batch
# graph predictors' inference on a CPU: chunks of this many rows, two compiled calls in flight.
# XLA's CPU programs run their element-wise fusions (layer norms, softmax, GELU, masks) on one
# thread, so one large call leaves a second core half idle; two smaller calls at once fill both
# (transformer, NB201, 10,240 cells on 2 cores: 1024 rows one at a time 30-35k archs/s,
# 256 rows two at a time 52-67k; gcn 46k vs 89k: docs/results.md)
CPU_INFERENCE_ROWS = 256


class TrainConfig(NamedTuple):
    """Static settings of one training program (hashable: a compiled program per distinct value)."""

    loss: str  # "mse", "mae", "rank" (pairwise logistic + mse) or "bce" (logits)
    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float]
    weight_decay: float  # L2 added to the gradient before Adam, as torch.optim.Adam does
    schedule: str  # "cosine" (CosineAnnealingLR stepped per epoch) or "constant"
    patience: int  # early stopping on the validation rows; 0 = off


def _loss(kind: str, pred: jax.Array, y: jax.Array) -> jax.Array:
    if kind in ("mse", "rank"):
        return (pred - y) ** 2
    if kind == "mae":
        return jnp.abs(pred - y)
    return optax.sigmoid_binary_cross_entropy(pred, y)


def _batch_loss(kind: str, pred: jax.Array, y: jax.Array, w: jax.Array) -> jax.Array:
    """The loss of a minibatch: the ``w``-weighted mean of :func:`_loss`; for "rank" plus the
    pairwise logistic loss -log sigmoid(pred_i - pred_j) over the ordered pairs (i, j) of rows
    with y_i > y_j (both weighted)."""
    mean = jnp.sum(_loss(kind, pred, y) * w) / jnp.maximum(jnp.sum(w), 1.0)
    if kind != "rank":
        return mean
    pairs = (y[:, None] > y[None, :]).astype(jnp.float32) * w[:, None] * w[None, :]
    logistic = jax.nn.softplus(-(pred[:, None] - pred[None, :]))
    return mean + jnp.sum(pairs * logistic) / jnp.maximum(jnp.sum(pairs), 1.0)


def _take(x: Any, idx: jax.Array) -> Any:
    return jax.tree_util.tree_map(lambda a: a[idx], x)


@cached_programs(64)
def _train_program(module: nn.Module, cfg: TrainConfig) -> Callable[..., Any]:
    bs = cfg.batch_size
    tx = optax.chain(optax.add_decayed_weights(cfg.weight_decay), optax.scale_by_adam(*cfg.betas))

    def eval_loss(params: Any, x: Any, y: jax.Array, n: jax.Array) -> jax.Array:
        pred = module.apply({"params": params}, x, train=False)
        w = (jnp.arange(y.shape[0]) < n).astype(jnp.float32)
        return _batch_loss(cfg.loss, pred, y, w)

    def member(key: jax.Array, x: Any, y: jax.Array, n: jax.Array, xv: Any, yv: jax.Array, nv: jax.Array) -> Any:
        k_init, k_run = jax.random.split(key)
        params = module.init(k_init, _take(x, jnp.arange(bs) % y.shape[0]), train=False)["params"]
        opt = tx.init(params)
        steps = jnp.maximum(n // bs, 1)
        rows = jnp.arange(y.shape[0])

        def loss_fn(p: Any, idx: jax.Array, w: jax.Array, k: jax.Array) -> jax.Array:
            pred = module.apply({"params": p}, _take(x, idx), train=True, rngs={"dropout": k})
            return _batch_loss(cfg.loss, pred, y[idx], w)

        def epoch(e: jax.Array, carry: tuple) -> tuple:
            params, opt, best, best_loss, since, k = carry
            k, k_perm, k_steps = jax.random.split(k, 3)
            order = jnp.argsort(jnp.where(rows < n, jax.random.uniform(k_perm, rows.shape), 2.0))
            if cfg.schedule == "cosine":
                lr = cfg.lr * 0.5 * (1.0 + jnp.cos(jnp.pi * e / cfg.epochs))
            else:
                lr = jnp.asarray(cfg.lr, jnp.float32)

            def step(s: jax.Array, c: tuple) -> tuple:
                p, o = c
                if y.shape[0] >= bs:
                    idx = jax.lax.dynamic_slice(order, (s * bs,), (bs,))
                else:
                    idx = order[jnp.arange(bs) % y.shape[0]]
                w = ((s * bs + jnp.arange(bs)) < n).astype(jnp.float32)
                grads = jax.grad(loss_fn)(p, idx, w, jax.random.fold_in(k_steps, s))
                upd, o = tx.update(grads, o, p)
                p = jax.tree_util.tree_map(lambda a, u: a - lr * u, p, upd)
                return p, o

            if cfg.patience:
                live = since < cfg.patience
                new_p, new_o = jax.lax.fori_loop(0, steps, step, (params, opt))
                params = jax.tree_util.tree_map(lambda a, b: jnp.where(live, a, b), new_p, params)
                opt = jax.tree_util.tree_map(lambda a, b: jnp.where(live, a, b), new_o, opt)
                vl = eval_loss(params, xv, yv, nv)
                better = live & (vl < best_loss)
                best = jax.tree_util.tree_map(lambda a, b: jnp.where(better, a, b), params, best)
                best_loss = jnp.where(better, vl, best_loss)
                since = jnp.where(better, 0, since + 1)
            else:
                params, opt = jax.lax.fori_loop(0, steps, step, (params, opt))
            return params, opt, best, best_loss, since, k

        init = (params, opt, params, jnp.asarray(jnp.inf, jnp.float32), jnp.asarray(0, jnp.int32), k_run)
        params, _, best, _, _, _ = jax.lax.fori_loop(0, cfg.epochs, epoch, init)
        return best if cfg.patience else params

    def program(keys: jax.Array, x: Any, y: jax.Array, n: jax.Array, xv: Any, yv: jax.Array, nv: jax.Array) -> Any:
        return jax.vmap(member, in_axes=(0, None, None, None, None, None, None))(keys, x, y, n, xv, yv, nv)

    return jax.jit(program)


def _bucket_rows(n: int) -> int:
    return max(32, 1 << (n - 1).bit_length())


def _pad(x: Any, size: int) -> Any:
    def pad(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a)
        if len(a) == size:
            return a
        return np.concatenate([a, np.repeat(a[:1], size - len(a), axis=0)])

    return jax.tree_util.tree_map(pad, x)


def train_ensemble(
    module: nn.Module, cfg: TrainConfig, x: Any, y: np.ndarray, keys: jax.Array, val: tuple[Any, np.ndarray] | None
) -> Any:
    """Train ``len(keys)`` members of ``module`` on inputs ``x`` (an array or tuple of arrays with
    leading axis n) and float32 targets ``y`` (n,); returns the members' params stacked on axis 0.
    With ``cfg.patience`` > 0, ``val`` = (inputs, targets) picks each member's best epoch."""
    n = len(y)
    size = _bucket_rows(n)
    if val is None:
        xv, yv = _take(x, np.arange(1)), y[:1]
    else:
        xv, yv = val
    nv = len(yv)
    vsize = _bucket_rows(nv)
    prog = _train_program(module, cfg)
    params = prog(
        keys,
        _pad(x, size),
        _pad(np.asarray(y, np.float32), size),
        jnp.asarray(n, jnp.int32),
        _pad(xv, vsize),
        _pad(np.asarray(yv, np.float32), vsize),
        jnp.asarray(nv, jnp.int32),
    )
    return jax.block_until_ready(params)  # fit returns trained weights, not a pending computation


@cached_programs(64)
def _apply_program(
    module: nn.Module, encode: Callable[..., Any] | None, matmul_precision: str | None = None
) -> Callable[..., Any]:
    def program(params: Any, *arrays: Any) -> jax.Array:
        x = encode(*arrays) if encode is not None else (arrays[0] if len(arrays) == 1 else arrays)
        return jax.vmap(lambda p: module.apply({"params": p}, x, train=False))(params)

    if matmul_precision is None:
        return jax.jit(program)

    def pinned(params: Any, *arrays: Any) -> jax.Array:
        with jax.default_matmul_precision(matmul_precision):  # read while tracing: fixed in the program
            return program(params, *arrays)

    return jax.jit(pinned)


def predict_buckets(batch_size: int = PREDICT_BUCKETS[-1]) -> tuple[int, ...]:
    """The padded chunk sizes of inference whose largest chunk is ``batch_size`` architectures:
    the default buckets below it, then ``batch_size`` (1024 gives ``PREDICT_BUCKETS``)."""
    return (*(b for b in PREDICT_BUCKETS if b < batch_size), batch_size)


def _plan(n: int, buckets: tuple[int, ...] = PREDICT_BUCKETS) -> list[tuple[int, int, int]]:
    from ..encodings._encoders import plan_chunks

    return plan_chunks(n, buckets[-1], buckets)


def ensemble_apply(
    module: nn.Module,
    params: Any,
    arrays: tuple[np.ndarray, ...],
    encode: Callable[..., Any] | None = None,
    *,
    matmul_precision: str | None = None,
    buckets: tuple[int, ...] = PREDICT_BUCKETS,
    workers: int = 1,
) -> np.ndarray:
    """Member outputs (E, n) for inputs ``arrays`` (leading axis n): raw batch arrays passed
    through ``encode`` on device, or model inputs when ``encode`` is None. Chunks are padded to
    ``buckets`` (ascending; default ``PREDICT_BUCKETS``). With ``workers`` = 1 the next chunk is
    dispatched before the last one is copied out; with more, that many chunks are computed at
    once, each from its own thread (every chunk runs the same program on the same rows either
    way, so the outputs do not depend on ``workers``). ``matmul_precision``: a value of
    ``jax.default_matmul_precision`` that the program's matmuls are traced under (None: JAX's
    default). Outputs are float32 whatever dtype the module computes in."""
    if matmul_precision is None:  # the one cache entry of JAX's default precision
        prog = _apply_program(module, encode)
    else:
        prog = _apply_program(module, encode, matmul_precision)
    n = len(arrays[0])
    plan = _plan(n, buckets)
    if not plan:
        return np.empty((jax.tree_util.tree_leaves(params)[0].shape[0], 0), np.float32)

    def call(chunk: tuple[int, int, int]) -> jax.Array:
        start, stop, size = chunk
        return prog(params, *(_pad(a[start:stop], size) for a in arrays))

    first = call(plan[0])
    out = np.empty((first.shape[0], n), np.float32)

    def store(chunk: tuple[int, int, int], res: jax.Array) -> None:
        out[:, chunk[0] : chunk[1]] = np.asarray(res)[:, : chunk[1] - chunk[0]]

    if workers > 1 and len(plan) > 1:
        store(plan[0], first)  # compiled once, before the threads share the program

        def run(chunk: tuple[int, int, int]) -> None:
            store(chunk, call(chunk))

        pool = ThreadPoolExecutor(min(workers, len(plan) - 1))
        try:
            for done in pool.map(run, plan[1:]):  # re-raises a chunk's error here
                del done
        finally:  # an error or an interrupt drops the chunks not yet started
            pool.shutdown(wait=True, cancel_futures=True)
        return out
    pending = (plan[0], first)
    for chunk in plan[1:]:
        res = call(chunk)
        store(*pending)
        pending = (chunk, res)
    store(*pending)
    return out


def inference_defaults() -> tuple[int, int]:
    """(rows per compiled call, calls in flight) that graph predictors' ``predict`` uses when
    ``inference_batch_size`` / ``inference_workers`` are None: on a CPU
    :data:`CPU_INFERENCE_ROWS` rows and two calls at once (one when the process may use a
    single core); on an accelerator the top of ``PREDICT_BUCKETS``, one call at a time."""
    if jax.default_backend() == "cpu":
        return CPU_INFERENCE_ROWS, min(2, usable_cores())
    return PREDICT_BUCKETS[-1], 1


# ---------------------------------------------------------------------------------------------
# parameter validation (one message template)


def _positive_int(est: Any, name: str, minimum: int = 1) -> None:
    check_int(getattr(est, name), name, type(est).__name__, minimum=minimum)


def _float_in(est: Any, name: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    v = getattr(est, name)
    ok = isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)
    if ok:
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        a, b = "(" if lo_open else "[", ")" if hi_open else "]"
        raise InvalidValueError(
            f"The {name!r} parameter of {type(est).__name__} must be a float in {a}{lo}, {hi}{b}. Got {v!r} instead."
        )


def _validate_inference(est: Any) -> None:
    """Check ``inference_precision`` (one of :data:`INFERENCE_PRECISIONS`),
    ``inference_batch_size`` and ``inference_workers`` (each None or a positive int) of a graph
    predictor."""
    p = est.inference_precision
    if not isinstance(p, str) or p not in INFERENCE_PRECISIONS:
        names = ", ".join(repr(k) for k in INFERENCE_PRECISIONS)
        raise InvalidValueError(message("inference_precision", type(est).__name__, f"one of {names}", p))
    for name in ("inference_batch_size", "inference_workers"):
        check_int(getattr(est, name), name, type(est).__name__, allow_none=True)


def inference_options(est: Any) -> dict[str, Any]:
    """The :func:`ensemble_apply` options of a graph predictor's ``predict``: its precision, its
    buckets up to ``inference_batch_size`` and its ``inference_workers`` (None: see
    :func:`inference_defaults`)."""
    _validate_inference(est)  # here too: set_params after fit reaches predict unchecked
    rows, workers = inference_defaults()
    if est.inference_batch_size is not None:
        rows = int(est.inference_batch_size)
    if est.inference_workers is not None:
        workers = int(est.inference_workers)
    return {
        "matmul_precision": INFERENCE_PRECISIONS[est.inference_precision],
        "buckets": predict_buckets(rows),
        "workers": workers,
    }


def _is_stream(x: Any) -> bool:
    return isinstance(x, (collections.abc.Iterator, collections.abc.Generator))


class NeuralPredictor(ZeroCostInputs, Predictor, RegressorMixin, BaseEstimator):
    """Base of the neural predictors (``gcn``, ``bananas``, ``mlp``).

    Subclasses store their parameters in ``__init__`` and define ``_module()`` (the flax model of
    one member), ``_config()`` and ``_encoding()``. ``fit(X, y)`` takes architectures of
    ``space`` (a batch, strings or records), or already encoded inputs (a feature matrix (n, d),
    or a :class:`~pyengine.encodings.GraphBatch` for graph models). ``predict`` also takes an
    iterator of batches, scored in a stream.

    A subclass with a ``zc`` parameter (``mlp``, ``bananas``, ``dngo``, ``gcn``,
    ``gcn_two_stage``) takes zero-cost scores too: ``fit(X, y, zc=None)``, ``predict(X,
    return_std=False, zc=None)``, given or computed as :mod:`pyengine.predictors._zc` describes.
    Vector models read them appended to the encoding; graph models append them to the pooled
    graph readout, before the head. With zero-cost inputs, architectures are encoded on the
    host (a stream of batches is scored batch by batch, each batch's scores computed).
    """

    name = "neural"
    _fitted_attributes = ("params_",)

    @property
    def has_uncertainty(self) -> bool:
        """True for an ensemble of 2 or more members: ``predict(X, return_std=True)`` gives their
        spread."""
        n = getattr(self, "n_ensemble", 1)
        return isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 2

    def _members_std(self, z: np.ndarray) -> np.ndarray:
        """The standard deviation over the members (axis 0 of ``z``, shape (E, n)), ddof=0."""
        if z.shape[0] < 2:
            raise NoUncertaintyError(
                f"{type(self).__name__} has no uncertainty with n_ensemble={z.shape[0]}: a single member has no "
                "spread to give. Fit with n_ensemble >= 2 to get predict(X, return_std=True)."
            )
        return z.std(axis=0)

    def _check_std(self) -> None:
        """NoUncertaintyError, before any work, when the fitted ensemble has one member."""
        n = int(jax.tree_util.tree_leaves(self.params_)[0].shape[0])
        if n < 2:
            self._members_std(np.zeros((n, 0)))

    # -- what each model defines -------------------------------------------------------------------
    def _module(self, x: Any) -> nn.Module:
        raise NotImplementedError

    def _config(self) -> TrainConfig:
        raise NotImplementedError

    def _encoding(self) -> str:
        return str(self.encoding)  # type: ignore[attr-defined]

    def _inference(self, module: nn.Module) -> tuple[nn.Module, dict[str, Any]]:
        """The module that ``predict`` runs for the fitted ``module`` and the options of
        :func:`ensemble_apply`: here ``module`` itself in float32, in the default buckets. The
        graph predictors (``inference_precision``, ``inference_batch_size``) change both."""
        return module, {}

    def _validate(self) -> None:
        self.zc_names()
        for p in ("n_ensemble", "epochs", "batch_size"):
            _positive_int(self, p)
        if self.lr is not None:  # None: the model's own default
            _float_in(self, "lr", 0.0, 10.0, lo_open=True)
        _float_in(self, "weight_decay", 0.0, 1.0)
        _float_in(self, "validation_fraction", 0.0, 1.0, lo_open=True, hi_open=True)
        _positive_int(self, "patience")
        if not isinstance(self.early_stopping, bool):
            raise InvalidTypeError(
                f"The 'early_stopping' parameter of {type(self).__name__} must be a bool. Got {self.early_stopping!r}."
            )
        check_random_state(self)

    # -- inputs ------------------------------------------------------------------------------------
    def _space(self) -> Any:
        from ..spaces import get_space

        if self.space is None:
            raise InvalidValueError(
                f"{type(self).__name__} got architectures but no 'space'; pass space=... or encoded inputs."
            )
        return get_space(self.space)

    def _is_encoded(self, x: Any) -> bool:
        """Whether X is model input (a GraphBatch, or a 2-D array-like of features: an array, a
        DataFrame, a list of lists) rather than architectures of ``space``."""
        return isinstance(x, GraphBatch) or not (_is_stream(x) or is_architectures(x))

    def _check_encoded(self, x: Any) -> tuple[np.ndarray, ...]:
        if self.graph_input:
            if not isinstance(x, GraphBatch):
                raise InvalidTypeError(
                    f"{type(self).__name__} needs a GraphBatch or architectures. Got {type(x).__name__}."
                )
            a, f, m = (np.asarray(v) for v in x)
            square = a.ndim == 3 and a.shape[1] == a.shape[2]
            if not square or f.ndim != 3 or f.shape[:2] != a.shape[:2] or m.shape != a.shape[:2]:
                raise InvalidValueError(
                    "A GraphBatch needs adjacency (n, v, v), features (n, v, d) and mask (n, v). "
                    f"Got {a.shape}, {f.shape} and {m.shape} instead."
                )
            arrays = (a.astype(np.float32), f.astype(np.float32), m.astype(bool))
        else:
            if isinstance(x, GraphBatch):
                raise InvalidValueError(
                    f"{type(self).__name__} takes vector encodings, not graphs; use the gcn predictor."
                )
            try:
                a = np.asarray(x, np.float32)
            except (TypeError, ValueError):
                raise InvalidTypeError(
                    f"{type(self).__name__} needs architectures or a 2-D array-like of numbers. Got {type(x).__name__}."
                ) from None
            if a.ndim != 2:
                raise InvalidValueError(
                    f"{type(self).__name__} needs architectures or a 2-D feature matrix. Got shape {a.shape} instead."
                )
            arrays = (a,)
        for a in arrays:
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                r = int(np.argwhere(~np.isfinite(a))[0][0])
                raise InvalidValueError(f"Inputs hold a non-finite value at row {r}.")
        return arrays

    def _encode_host(self, x: Any) -> tuple[np.ndarray, ...]:
        if self._is_encoded(x):
            return self._check_encoded(x)
        from ..encodings import encode

        enc = encode(self._space(), self._encoding(), x, **self._encoding_params())
        return tuple(enc) if isinstance(enc, GraphBatch) else (enc,)

    def _encoding_params(self) -> dict[str, Any]:
        return {}

    def _with_zc(self, X: Any, arrays: tuple[np.ndarray, ...], zc: Any, fit: bool) -> tuple[np.ndarray, ...]:
        """``arrays`` with the zero-cost features of X: appended to the vector (n, d + k), or,
        for graph models, as a fourth array (n, k) that the model concatenates to its readout."""
        z = self._zc_features(X, zc, len(arrays[0]), fit=fit, is_archs=not self._is_encoded(X))
        if z is None:
            return arrays
        z = z.astype(np.float32)
        if self.graph_input:
            return (*arrays[:3], z)
        return (np.concatenate([np.asarray(arrays[0], np.float32), z], axis=1),)

    def _input_signature(self, arrays: tuple[np.ndarray, ...]) -> tuple:
        return tuple(a.shape[1:] for a in arrays)

    # -- fit ---------------------------------------------------------------------------------------
    def _targets(self, y: Any, n: int) -> np.ndarray:
        target = np.asarray(y, dtype=np.float64)
        if target.shape != (n,):
            raise InvalidValueError(f"'y' must have shape ({n},). Got {target.shape} instead.")
        if not np.isfinite(target).all():
            bad = int(np.flatnonzero(~np.isfinite(target))[0])
            raise InvalidValueError(f"'y' holds a non-finite value at position {bad}.")
        if n < 2:
            raise InvalidValueError(f"{type(self).__name__} needs at least 2 training architectures. Got {n}.")
        return target

    def _check_random_state(self) -> None:
        check_random_state(self)

    def _seed(self) -> int:
        """``random_state``, or fresh entropy when it is None."""
        if self.random_state is not None:
            return int(self.random_state)
        return int(np.random.SeedSequence().entropy % 2**31)

    def _keys(self, salt: int = 0) -> jax.Array:
        base = jax.random.fold_in(jax.random.key(self._seed()), salt)
        return jax.random.split(base, self.n_ensemble)

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        if not self.early_stopping:
            return np.arange(n), None
        rng = np.random.default_rng(self.random_state)
        perm = rng.permutation(n)
        n_val = max(1, int(round(self.validation_fraction * n)))
        if n - n_val < 2:
            raise InvalidValueError(
                f"Early stopping holds out {n_val} of {n} architectures, leaving fewer than 2 to train on."
            )
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    def _fit_module(
        self, module: nn.Module, cfg: TrainConfig, arrays: tuple[np.ndarray, ...], t: np.ndarray, salt: int = 0
    ) -> Any:
        tr, va = self._split(len(t))
        x = arrays if len(arrays) > 1 else arrays[0]
        xt = _take(x, tr)
        val = None if va is None else (_take(x, va), t[va])
        if va is None:
            cfg = cfg._replace(patience=0)
        return train_ensemble(module, cfg, xt, t[tr], self._keys(salt), val)

    def _target_scaling(self, target: np.ndarray) -> tuple[float, float]:
        """(offset, scale) mapping targets to the units the model trains on: z-scores."""
        return float(target.mean()), float(target.std()) or 1.0

    def _record_inputs(self, X: Any, arrays: tuple[np.ndarray, ...]) -> None:
        self.signature_ = self._input_signature(arrays)
        if self.space is not None and not self._is_encoded(X):
            self.space_name_ = self._space().name
        self.n_features_in_ = int(arrays[1].shape[-1]) if self.graph_input else int(np.prod(arrays[0].shape[1:]))

    def fit(self, X: Any, y: Any, zc: Any = None) -> NeuralPredictor:
        self._validate()
        arrays = self._with_zc(X, self._encode_host(X), zc, fit=True)
        target = self._targets(y, len(arrays[0]))
        self.y_mean_, self.y_scale_ = self._target_scaling(target)
        t = ((target - self.y_mean_) / self.y_scale_).astype(np.float32)
        self.module_ = self._module(arrays)
        self.params_ = self._fit_module(self.module_, self._config(), arrays, t)
        self._record_inputs(X, arrays)
        return self

    # -- predict -----------------------------------------------------------------------------------
    def _host_inputs(self, X: Any, zc: Any = None) -> tuple[np.ndarray, ...]:
        """Encoded inputs of X (architectures, an encoded matrix or GraphBatch, or a stream of
        batches, concatenated), with its zero-cost features, checked against what the predictor
        was fitted on."""
        if _is_stream(X):
            if zc is not None:
                raise InvalidValueError("'zc' goes with a batch of architectures, not a stream; let each be computed.")
            parts = [self._host_inputs(b) for b in X]
            if not parts:
                raise InvalidValueError("The stream of architectures to score was empty.")
            return tuple(np.concatenate(p) for p in zip(*parts, strict=True))
        if not self._is_encoded(X):
            space = self._space()
            if getattr(self, "space_name_", space.name) != space.name:
                raise InvalidValueError(f"The predictor was fitted on {self.space_name_}, not {space.name}.")
        arrays = self._with_zc(X, self._encode_host(X), zc, fit=False)
        if self._input_signature(arrays) != self.signature_:
            raise InvalidValueError(
                f"Inputs have shape {self._input_signature(arrays)} per architecture; the predictor was fitted "
                f"on {self.signature_}."
            )
        if len(arrays[0]) == 0:
            raise InvalidValueError("No architectures to score.")
        return arrays

    def _members(self, module: nn.Module, params: Any, X: Any, zc: Any = None) -> np.ndarray:
        """Raw member outputs (E, n) of ``module`` for X (encoded inputs, architectures or a
        stream of batches) and its zero-cost scores ``zc``."""
        if _is_stream(X):
            if zc is not None:
                raise InvalidValueError("'zc' goes with a batch of architectures, not a stream; let each be computed.")
            parts = [self._members(module, params, b) for b in X]
            if not parts:
                raise InvalidValueError("The stream of architectures to score was empty.")
            return np.concatenate(parts, axis=1)
        module, opts = self._inference(module)
        if self.zc_names():
            return ensemble_apply(module, params, self._host_inputs(X, zc), **opts)
        if self._is_encoded(X):
            arrays = self._check_encoded(X)
            if self._input_signature(arrays) != self.signature_:
                raise InvalidValueError(
                    f"Inputs have shape {self._input_signature(arrays)} per architecture; the predictor was fitted "
                    f"on {self.signature_}."
                )
            return ensemble_apply(module, params, arrays, **opts)
        space = self._space()
        if getattr(self, "space_name_", space.name) != space.name:
            raise InvalidValueError(f"The predictor was fitted on {self.space_name_}, not {space.name}.")
        from ..encodings import kernel

        if isinstance(X, np.ndarray):
            raise InvalidValueError(f"Inputs of shape {X.shape} do not match the encoding the predictor was fitted on.")
        batch = space.as_batch(X)
        enc = kernel(space, self._encoding(), **self._encoding_params())
        raw = tuple(np.asarray(f) for f in batch)
        n = len(raw[0])
        if n == 0:
            raise InvalidValueError("No architectures to score.")
        rows = max(_STREAM_ROWS, opts.get("buckets", PREDICT_BUCKETS)[-1])
        parts = [
            ensemble_apply(module, params, tuple(a[s : s + rows] for a in raw), encode=enc, **opts)
            for s in range(0, n, rows)
        ]
        return np.concatenate(parts, axis=1)

    def predict(self, X: Any, return_std: bool = False, zc: Any = None) -> Any:
        """Predictions (n,) in the units of ``y``: the ensemble mean; with ``return_std`` also the
        standard deviation over the members (ddof=0), shape (n,). An ensemble of one member has
        no spread: ``return_std`` then raises :class:`NoUncertaintyError`. ``zc``: zero-cost
        scores of X, {name: array (n,)}, for a predictor fitted with ``zc`` names."""
        self._check_fitted()
        if return_std:
            self._check_std()
        z = self._members(self.module_, self.params_, X, zc).astype(np.float64) * self.y_scale_ + self.y_mean_
        mean = z.mean(axis=0)
        if not return_std:
            return mean
        return mean, self._members_std(z)

    def predict_members(self, X: Any, zc: Any = None) -> np.ndarray:
        """Each ensemble member's predictions, shape (n_ensemble, n)."""
        self._check_fitted()
        return self._members(self.module_, self.params_, X, zc).astype(np.float64) * self.y_scale_ + self.y_mean_
