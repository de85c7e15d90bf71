"""The Neural Predictor of Wen et al.: a bidirectional GCN regressor, and the two-stage
classifier + regressor cascade, as flax models trained by the shared ensemble program."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from ..errors import InvalidValueError
from ._nn import (
    NeuralPredictor,
    TrainConfig,
    _float_in,
    _is_stream,
    _positive_int,
    _validate_inference,
    inference_options,
)
from ._persist import register_module

__all__ = ["GCN", "GCNPredictor", "TwoStageGCNPredictor", "normalized_adjacency"]

log = logging.getLogger(__name__)

_torch_linear_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")  # U(+-1/sqrt(fan_in))


def normalized_adjacency(adjacency: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Â = rownorm(A + I) and Â_T = rownorm(Âᵀ), each of shape (..., v, v)."""
    v = adjacency.shape[-1]
    a = adjacency + jnp.eye(v, dtype=adjacency.dtype)
    a_hat = a / jnp.sum(a, axis=-1, keepdims=True)
    a_t = jnp.swapaxes(a_hat, -1, -2)
    return a_hat, a_t / jnp.sum(a_t, axis=-1, keepdims=True)


@register_module
class GCN(nn.Module):
    """Bidirectional GCN of one architecture batch.

    Input: (adjacency (B, v, v), features (B, v, d), mask (B, v)), optionally with graph-level
    features (B, k) (zero-cost scores) that are concatenated to the pooled readout, so the head
    reads hidden + k values. Each layer is
    H' = Dropout(½ ReLU(Â H W_f) + ½ ReLU(Â_T H W_b)), with W_f and W_b (no bias, Xavier-uniform)
    applied as one matmul with [W_f | W_b]. With ``gather_first`` the features are one-hot and the
    first layer's matmul is a row gather of [W_f | W_b]. Readout: masked mean over real vertices,
    fc (hidden -> fc_hidden, no bias), dropout, fc (fc_hidden -> 1, no bias); in evaluation the two
    fcs (no nonlinearity between them) are applied as one vector. Output (B,): a linear value, or
    sigmoid(value) with ``bounded``.

    ``dtype`` is the dtype of the layers' matmul operands: "float32", or "bfloat16" for
    low-precision inference (the normalized adjacency, the weights and the activations rounded
    to bfloat16 as they enter each matmul, which accumulates and returns float32; the parameters
    stay float32 and are cast where used; ReLU, the readout and the head in float32). The
    output is float32 either way.
    """

    n_layers: int = 3
    hidden: int = 144
    fc_hidden: int = 128
    dropout: float = 0.1
    gather_first: bool = False
    bounded: bool = False
    dtype: str = "float32"

    @nn.compact
    def __call__(self, graph: tuple[jax.Array, jax.Array, jax.Array], train: bool = False) -> jax.Array:
        adjacency, features, mask = graph[:3]
        a_hat, a_t = normalized_adjacency(adjacency.astype(jnp.float32))
        h = features.astype(jnp.float32)
        low = self.dtype != "float32"
        acc = jnp.float32 if low else None  # the matmuls' accumulation and result in low precision

        def cast(a: jax.Array) -> jax.Array:
            return a.astype(self.dtype) if low else a

        xavier = nn.initializers.xavier_uniform()
        for layer in range(self.n_layers):
            d = h.shape[-1]
            w = jnp.concatenate(
                [
                    self.param(f"w_forward_{layer}", xavier, (d, self.hidden)),
                    self.param(f"w_backward_{layer}", xavier, (d, self.hidden)),
                ],
                axis=1,
            )
            if layer == 0 and self.gather_first:
                hw = cast(w)[jnp.argmax(h, axis=-1)] * (jnp.sum(h, axis=-1, keepdims=True) > 0)
            else:
                hw = jnp.matmul(cast(h), cast(w), preferred_element_type=acc)
            hw = cast(hw)
            fwd = jnp.einsum("bij,bjk->bik", cast(a_hat), hw[..., : self.hidden], preferred_element_type=acc)
            bwd = jnp.einsum("bij,bjk->bik", cast(a_t), hw[..., self.hidden :], preferred_element_type=acc)
            h = 0.5 * jax.nn.relu(fwd) + 0.5 * jax.nn.relu(bwd)
            h = nn.Dropout(self.dropout, deterministic=not train)(h)
        m = mask.astype(jnp.float32)
        pooled = jnp.einsum("bv,bvk->bk", m, h) / jnp.maximum(jnp.sum(m, axis=1, keepdims=True), 1.0)
        if len(graph) > 3:  # graph-level features join the readout, before the head
            pooled = jnp.concatenate([pooled, graph[3].astype(jnp.float32)], axis=-1)
        w1 = self.param("fc1", _torch_linear_init, (pooled.shape[-1], self.fc_hidden))
        w2 = self.param("fc2", _torch_linear_init, (self.fc_hidden, 1))
        if train:
            z = nn.Dropout(self.dropout, deterministic=False)(pooled @ w1) @ w2
        else:
            z = pooled @ (w1 @ w2)
        z = z[:, 0]
        return jax.nn.sigmoid(z) if self.bounded else z


def _one_hot(features: np.ndarray) -> bool:
    s = features.sum(axis=-1)
    return bool(np.isin(features, (0.0, 1.0)).all() and (s <= 1).all())


class GCNPredictor(NeuralPredictor):
    """The Neural Predictor (Wen et al. 2020): a bidirectional GCN on the ``gcn`` encoding.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures rather than a GraphBatch
    n_layers : int, default 3
    hidden : int, default 144
    fc_hidden : int, default 128
    dropout : float, default 0.1
    bounds : (lo, hi), optional
        The paper's bounded output: predictions lo + (hi - lo) * sigmoid(z), e.g. (10, 100) for
        accuracies in percent. Default: a linear output on z-scored targets.
    loss : "mse" or "mae", optional; default from ``defaults``
    n_ensemble : int, default 1; members trained in one vmapped program, their mean returned
        (and, with 2 or more, their standard deviation for ``return_std``)
    epochs : int, default 300
    batch_size : int, default 10
    lr : float, optional; Adam, cosine annealed per epoch to 0; default from ``defaults``
    weight_decay : float, default 1e-3; L2 added to the gradient (as torch.optim.Adam)
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training set and keep each member's epoch of
        lowest validation loss; training of a member stops after ``patience`` epochs without
        improvement.
    validation_fraction : float, default 0.1
    patience : int, default 30
    defaults : "reference", "library" or "tuned", default "reference"
        "reference" (alias "library"): section 3 of the reference as the Neural Predictor
        reproductions set it, MSE loss and learning rate 1e-4. "tuned": this engine's choice on
        NB201 evaluator runs, MAE loss and learning rate 1e-3 (everything else unchanged); it
        fits the training set better (the reference settings underfit NB201, whose few
        near-10% cells dominate a squared loss). ``loss`` and ``lr``, when given, override both.
    random_state : int, optional
    zc : tuple of str or comma-separated str, default ()
        Zero-cost scores (names of ``pyengine.proxies.PROXIES``) concatenated, signed-log
        transformed and z-scored, to the pooled graph readout before the fully connected head;
        given as ``fit(X, y, zc={name: array})`` / ``predict(X, zc=...)`` or computed from the
        architectures (:mod:`pyengine.predictors._zc`).
    inference_precision : "float32", "tf32" or "bfloat16", default "float32"
        The arithmetic of ``predict`` (training is always float32). "float32": float32 arrays
        and JAX's default matmul precision, as without this option (on NVIDIA Ampere and newer
        GPUs JAX's default already computes float32 matmuls in TensorFloat-32; setting
        ``jax_default_matmul_precision`` to "highest" there gives full float32). "tf32": every
        matmul of the program pinned to TensorFloat-32 whatever JAX's default is; on CPU it has
        no effect (the CPU computes float32). "bfloat16": the layers' weights and activations
        cast to bfloat16 inside the compiled program, the readout and head in float32; the model's
        output is float32 and ``predict`` returns what it returns in float32 mode (float64
        values in the units of ``y``). Meant for GPUs with bfloat16 units; on a CPU its speed
        depends on the CPU and the model (``pyengine bench predict --precision`` measures it).
    inference_batch_size : int, optional
        The most architectures ``predict`` scores in one compiled call: the largest padded
        chunk (remainders pad to 8 or 128 below it). Default (None): 256 on a CPU, 1024 on a
        GPU. Larger values (e.g. 16384) cut the number of calls per batch on a GPU; one
        program is compiled per chunk size used. Predictions do not depend on it beyond float
        rounding.
    inference_workers : int, optional
        Compiled calls of ``predict`` in flight at once, each from its own thread. Default
        (None): 2 on a CPU when the process may use 2 or more cores (XLA runs a call's
        element-wise kernels on one core; two smaller calls at once keep both busy: 1.3-2x
        the archs/s of one 1024-row call), 1 on a GPU. Predictions do not depend on it.
    """

    name = "gcn"
    graph_input = True

    def __init__(
        self,
        space: Any = None,
        n_layers: int = 3,
        hidden: int = 144,
        fc_hidden: int = 128,
        dropout: float = 0.1,
        bounds: tuple[float, float] | None = None,
        loss: str | None = None,
        n_ensemble: int = 1,
        epochs: int = 300,
        batch_size: int = 10,
        lr: float | None = None,
        weight_decay: float = 1e-3,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        defaults: str = "reference",
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
        inference_precision: str = "float32",
        inference_batch_size: int | None = None,
        inference_workers: int | None = None,
    ) -> None:
        self.space = space
        self.n_layers = n_layers
        self.hidden = hidden
        self.fc_hidden = fc_hidden
        self.dropout = dropout
        self.bounds = bounds
        self.loss = loss
        self.n_ensemble = n_ensemble
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.defaults = defaults
        self.random_state = random_state
        self.zc = zc
        self.inference_precision = inference_precision
        self.inference_batch_size = inference_batch_size
        self.inference_workers = inference_workers

    _DEFAULTS = {
        "reference": {"loss": "mse", "lr": 1e-4},
        "library": {"loss": "mse", "lr": 1e-4},
        "tuned": {"loss": "mae", "lr": 1e-3},
    }

    def _setting(self, name: str) -> Any:
        value = getattr(self, name)
        return self._DEFAULTS[self.defaults][name] if value is None else value

    def _encoding(self) -> str:
        return "gcn"

    def _validate(self) -> None:
        if self.defaults not in self._DEFAULTS:
            raise InvalidValueError(
                f"The 'defaults' parameter of {type(self).__name__} must be one of {sorted(self._DEFAULTS)}. "
                f"Got {self.defaults!r} instead."
            )
        super()._validate()
        for p in ("n_layers", "hidden", "fc_hidden"):
            _positive_int(self, p)
        _float_in(self, "dropout", 0.0, 1.0, hi_open=True)
        if self._setting("loss") not in ("mse", "mae"):
            raise InvalidValueError(
                f"The 'loss' parameter of {type(self).__name__} must be 'mse' or 'mae'. Got {self.loss!r} instead."
            )
        self._validate_bounds()
        _validate_inference(self)

    def _validate_bounds(self) -> None:
        if self.bounds is not None:
            b = self.bounds
            if (
                not isinstance(b, (tuple, list))
                or len(b) != 2
                or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in b)
                or not b[0] < b[1]
            ):
                raise InvalidValueError(
                    f"The 'bounds' parameter of {type(self).__name__} must be None or (lo, hi) with lo < hi. "
                    f"Got {b!r} instead."
                )

    def _module(self, arrays: tuple[np.ndarray, ...], bounded: bool | None = None) -> nn.Module:
        return GCN(
            n_layers=int(self.n_layers),
            hidden=int(self.hidden),
            fc_hidden=int(self.fc_hidden),
            dropout=float(self.dropout),
            gather_first=_one_hot(arrays[1]),
            bounded=self.bounds is not None if bounded is None else bounded,
        )

    def _inference(self, module: nn.Module) -> tuple[nn.Module, dict[str, Any]]:
        opts = inference_options(self)
        if self.inference_precision == "bfloat16":
            module = module.clone(dtype="bfloat16")
        return module, opts

    def _config(self, loss: str | None = None) -> TrainConfig:
        return TrainConfig(
            loss=loss or str(self._setting("loss")),
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self._setting("lr")),
            betas=(0.9, 0.999),
            weight_decay=float(self.weight_decay),
            schedule="cosine",
            patience=int(self.patience) if self.early_stopping else 0,
        )

    def _target_scaling(self, target: np.ndarray) -> tuple[float, float]:
        if self.bounds is None:
            return super()._target_scaling(target)
        lo, hi = (float(v) for v in self.bounds)  # targets outside still train (MSE); outputs stay inside
        return lo, hi - lo

    def _check_encoded(self, x: Any) -> tuple[np.ndarray, ...]:
        arrays = super()._check_encoded(x)
        module = getattr(self, "module_", None)
        if module is not None and module.gather_first and not _one_hot(arrays[1]):
            raise InvalidValueError(
                "The predictor was fitted on one-hot node features; these features are not one-hot."
            )
        return arrays


class TwoStageGCNPredictor(GCNPredictor):
    """Wen et al.'s two-stage Neural Predictor: a GCN classifier filters architectures below
    ``threshold``, a GCN regressor fitted on the architectures at or above it ranks the rest.

    Both stages have the GCN trunk and settings of :class:`GCNPredictor` (separate weights; the
    classifier has a logit output trained with binary cross-entropy). ``predict`` returns the
    regressor's value, at least ``threshold``, for architectures the classifier passes
    (probability >= 0.5), and a value below ``threshold`` ordered by the classifier's probability
    for the filtered ones, so one ranking covers every architecture. ``predict_proba(X)`` gives the
    probability of reaching the threshold.

    Parameters (beyond those of GCNPredictor)
    ----------
    threshold : float, optional
        In the units of ``y`` (the paper: 91% on NB101, i.e. 0.91 or 91). Default: the
        ``quantile`` of the training targets.
    quantile : float, default 0.5
    inference_precision, inference_batch_size, inference_workers : as :class:`GCNPredictor`,
        for both stages
    """

    name = "gcn_two_stage"

    def __init__(
        self,
        space: Any = None,
        threshold: float | None = None,
        quantile: float = 0.5,
        n_layers: int = 3,
        hidden: int = 144,
        fc_hidden: int = 128,
        dropout: float = 0.1,
        bounds: tuple[float, float] | None = None,
        loss: str | None = None,
        n_ensemble: int = 1,
        epochs: int = 300,
        batch_size: int = 10,
        lr: float | None = None,
        weight_decay: float = 1e-3,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        defaults: str = "reference",
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
        inference_precision: str = "float32",
        inference_batch_size: int | None = None,
        inference_workers: int | None = None,
    ) -> None:
        super().__init__(
            space=space,
            n_layers=n_layers,
            hidden=hidden,
            fc_hidden=fc_hidden,
            dropout=dropout,
            bounds=bounds,
            loss=loss,
            n_ensemble=n_ensemble,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            defaults=defaults,
            random_state=random_state,
            zc=zc,
            inference_precision=inference_precision,
            inference_batch_size=inference_batch_size,
            inference_workers=inference_workers,
        )
        self.threshold = threshold
        self.quantile = quantile

    def fit(self, X: Any, y: Any, zc: Any = None) -> TwoStageGCNPredictor:
        self._validate()
        if self.threshold is not None:
            _float_in(self, "threshold", -np.inf, np.inf)
        _float_in(self, "quantile", 0.0, 1.0, lo_open=True, hi_open=True)
        arrays = self._with_zc(X, self._encode_host(X), zc, fit=True)
        target = self._targets(y, len(arrays[0]))
        thr = float(self.threshold) if self.threshold is not None else float(np.quantile(target, self.quantile))
        good = target >= thr
        self.threshold_ = thr
        n_good = int(good.sum())
        if n_good < 2:
            raise InvalidValueError(
                f"Only {n_good} training architectures reach the threshold {thr:g}; the regressor needs at least 2."
            )
        below = target[~good]
        self.gap_ = float(thr - below.mean()) if len(below) else float(target.std() or 1.0)
        self.gap_ = self.gap_ if self.gap_ > 0 else 1.0
        self.module_ = self._module(arrays)
        sub = tuple(a[good] for a in arrays)
        reg_t = target[good]
        self.y_mean_, self.y_scale_ = self._target_scaling(reg_t)
        self.params_ = self._fit_module(
            self.module_, self._config(), sub, ((reg_t - self.y_mean_) / self.y_scale_).astype(np.float32)
        )
        self.classifier_module_ = self._module(arrays, bounded=False)
        if good.all():
            log.warning("Every training architecture reaches the threshold %g; the classifier passes all.", thr)
            self.classifier_params_ = None
        else:
            self.classifier_params_ = self._fit_module(
                self.classifier_module_,
                self._config("bce"),
                arrays,
                good.astype(np.float32),
                salt=1,
            )
        self._record_inputs(X, arrays)
        return self

    def _proba(self, X: Any, n: int, zc: Any = None) -> np.ndarray:
        if self.classifier_params_ is None:
            return np.ones(n)
        logits = self._members(self.classifier_module_, self.classifier_params_, X, zc).astype(np.float64)
        return (1.0 / (1.0 + np.exp(-logits))).mean(axis=0)

    def predict_proba(self, X: Any, zc: Any = None) -> np.ndarray:
        """Probability (n,) that each architecture reaches the threshold (ensemble mean)."""
        self._check_fitted()
        if _is_stream(X):
            if zc is not None:
                raise InvalidValueError("'zc' goes with a batch of architectures, not a stream; let each be computed.")
            return np.concatenate([self.predict_proba(b) for b in _nonempty(X)])
        if self.classifier_params_ is None:
            return np.ones(self._members(self.module_, self.params_, X, zc).shape[1])
        return self._proba(X, 0, zc)

    def predict(self, X: Any, return_std: bool = False, zc: Any = None) -> Any:
        """Predictions (n,); with ``return_std`` also the regressors' standard deviation over the
        members (ddof=0) where the classifier passes an architecture, 0 where it does not.
        An ensemble of one member raises :class:`NoUncertaintyError` for ``return_std``."""
        self._check_fitted()
        if return_std:
            self._check_std()
        if _is_stream(X):  # batch by batch: memory stays flat
            if zc is not None:
                raise InvalidValueError("'zc' goes with a batch of architectures, not a stream; let each be computed.")
            parts = [self.predict(b, return_std=return_std) for b in _nonempty(X)]
            if not return_std:
                return np.concatenate(parts)
            mean, std = (np.concatenate(p) for p in zip(*parts, strict=True))
            return mean, std
        z = self._members(self.module_, self.params_, X, zc).astype(np.float64) * self.y_scale_ + self.y_mean_
        reg = z.mean(axis=0)
        p = self._proba(X, len(reg), zc)
        passed = p >= 0.5
        out = np.where(passed, np.maximum(reg, self.threshold_), self.threshold_ - (1.0 - p) * self.gap_)
        if not return_std:
            return out
        return out, np.where(passed, self._members_std(z), 0.0)


def _nonempty(stream: Any) -> Iterator[Any]:
    """The batches of a stream, one at a time; an empty stream is an error."""
    empty = True
    for batch in stream:
        empty = False
        yield batch
    if empty:
        raise InvalidValueError("The stream of architectures to score was empty.")
