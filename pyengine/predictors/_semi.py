"""Two model-based predictors of White et al.'s (2021) study: BONAS (Bayesian linear regression
on a GCN's graph embedding) and SemiNAS (an encoder-predictor-decoder self-trained on
architectures drawn from the space and pseudo-labelled by itself).

BONAS trains :class:`~pyengine.predictors._gcn.GCN` exactly as the ``gcn`` predictor does (the
shared ensemble program of :mod:`._nn`, one member), then fits scikit-learn's ``BayesianRidge`` to
the GCN's last hidden layer.

SemiNAS runs its whole self-training loop as one jit-compiled program per training-set bucket:
the members of the ensemble are one ``jax.vmap`` over their PRNG keys; each training phase is a
``lax.scan`` over epochs whose minibatch steps are a ``lax.fori_loop``; between phases every
member pseudo-labels the unlabelled architectures with its own predictions. The labelled and the
unlabelled sets are each padded to a power of two (at least 32 rows) and their real sizes enter as
data, so fits of different sizes in one bucket share one compiled program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from .._compile_cache import cached_programs
from ..errors import InvalidTypeError, InvalidValueError
from . import _fitted_models  # noqa: F401  (registers the BayesianRidge codec BONAS's state needs)
from ._gcn import GCN, GCNPredictor
from ._nn import (
    NeuralPredictor,
    _bucket_rows,
    _float_in,
    _pad,
    _plan,
    _positive_int,
)

__all__ = ["BONASPredictor", "SemiNASPredictor", "SemiNASNetwork", "SemiConfig", "gcn_embedding"]


# ---------------------------------------------------------------------------------------------
# BONAS: GCN embedding + Bayesian linear regression


def gcn_embedding(module: GCN, params: Any, graph: tuple[jax.Array, jax.Array, jax.Array]) -> jax.Array:
    """The last hidden layer of a GCN (its ``fc1`` output), shape (B, fc_hidden), for one member's
    ``params``.

    The GCN's readout is linear from ``fc1`` to its output (``pooled @ fc1 @ fc2``), so column j of
    the embedding is the module's own evaluation output with ``fc2`` set to the unit vector e_j.
    The columns are one ``jax.vmap`` over those vectors; the trunk does not depend on them and is
    computed once.
    """
    if module.bounded:
        raise InvalidValueError("gcn_embedding needs a GCN with a linear output (bounded=False).")
    units = jnp.eye(module.fc_hidden, dtype=jnp.float32)[:, :, None]  # (fc_hidden, fc_hidden, 1)

    def column(unit: jax.Array) -> jax.Array:
        return module.apply({"params": {**params, "fc2": unit}}, graph, train=False)

    return jax.vmap(column, out_axes=1)(units)


@cached_programs(16)
def _embed_program(module: GCN) -> Callable[..., Any]:
    return jax.jit(lambda params, a, f, m: gcn_embedding(module, params, (a, f, m)))


class BONASPredictor(GCNPredictor):
    """BONAS (Shi et al. 2020): a GCN trained on the labelled architectures, then Bayesian linear
    regression on its graph embedding (the last hidden layer, as DNGO does on an MLP's).

    The GCN is :class:`~pyengine.predictors._gcn.GCN` (Wen et al.'s bidirectional layers and
    masked-mean readout), one member trained by the shared program of the ``gcn`` predictor (one
    jit program, minibatch Adam with a cosine schedule). The embedding phi (fc_hidden,) is the
    output of ``fc1``; scikit-learn's ``BayesianRidge`` (noise and prior precisions by the
    marginal likelihood) regresses the z-scored targets on it, in float64.
    ``predict(X, return_std=True)`` returns the predictive mean and standard deviation (the
    learned observation noise included).

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures rather than a GraphBatch
    n_layers : int, default 4
    hidden : int, default 64
    fc_hidden : int, default 64
        The GCN's layers and width (4 layers of 64, as NASLib's BONAS GCN), and the width of the
        embedding.
    dropout : float, default 0.1
    loss : "mse" or "mae", default "mse"
    epochs : int, default 100
    batch_size : int, default 32
    lr : float, default 0.01
        Adam, cosine annealed per epoch to 0. NASLib's 1e-4 (and 1e-3) underfit NB201 in 100
        epochs: Kendall tau 0.43-0.48 at 100 training cells against 0.61 with 0.01.
    weight_decay : float, default 0.0; L2 added to the gradient (as torch.optim.Adam)
    early_stopping, validation_fraction, patience : as in :class:`GCNPredictor`
    random_state : int, optional

    Notes
    -----
    Unlike ``gcn`` there is no ensemble: the uncertainty is the Bayesian regression's. The readout
    is the GCN's masked mean over vertices rather than BONAS' extra global node.
    """

    name = "bonas"
    has_uncertainty = True  # the Bayesian linear model's predictive std
    _fitted_attributes = ("params_", "blr_")
    bounds = None  # a linear output: the regression reads the embedding

    def __init__(
        self,
        space: Any = None,
        n_layers: int = 4,
        hidden: int = 64,
        fc_hidden: int = 64,
        dropout: float = 0.1,
        loss: str = "mse",
        epochs: int = 100,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.n_layers = n_layers
        self.hidden = hidden
        self.fc_hidden = fc_hidden
        self.dropout = dropout
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state

    def _setting(self, name: str) -> Any:
        return getattr(self, name)

    def _validate(self) -> None:
        for p in ("epochs", "batch_size", "n_layers", "hidden", "fc_hidden", "patience"):
            _positive_int(self, p)
        _float_in(self, "lr", 0.0, 10.0, lo_open=True)
        _float_in(self, "weight_decay", 0.0, 1.0)
        _float_in(self, "dropout", 0.0, 1.0, hi_open=True)
        _float_in(self, "validation_fraction", 0.0, 1.0, lo_open=True, hi_open=True)
        if self.loss not in ("mse", "mae"):
            raise InvalidValueError(
                f"The 'loss' parameter of {type(self).__name__} must be 'mse' or 'mae'. Got {self.loss!r} instead."
            )
        if not isinstance(self.early_stopping, bool):
            raise InvalidTypeError(
                f"The 'early_stopping' parameter of {type(self).__name__} must be a bool. Got {self.early_stopping!r}."
            )
        self._check_random_state()

    def _keys(self, salt: int = 0) -> jax.Array:
        return jax.random.split(jax.random.fold_in(jax.random.key(self._seed()), salt), 1)

    def _embed(self, arrays: tuple[np.ndarray, ...]) -> np.ndarray:
        """Embeddings (n, fc_hidden), float64, scored in chunks padded to ``PREDICT_BUCKETS``."""
        prog = _embed_program(self.module_)
        params = jax.tree_util.tree_map(lambda a: a[0], self.params_)
        n = len(arrays[0])
        out = np.empty((n, int(self.module_.fc_hidden)), np.float64)
        for start, stop, size in _plan(n):
            phi = prog(params, *(_pad(a[start:stop], size) for a in arrays))
            out[start:stop] = np.asarray(phi)[: stop - start]
        return out

    def fit(self, X: Any, y: Any) -> BONASPredictor:
        from sklearn.linear_model import BayesianRidge

        self._validate()
        arrays = self._encode_host(X)
        target = self._targets(y, len(arrays[0]))
        self.y_mean_, self.y_scale_ = self._target_scaling(target)
        t = (target - self.y_mean_) / self.y_scale_
        self.module_ = self._module(arrays, bounded=False)
        self.params_ = self._fit_module(self.module_, self._config(), arrays, t.astype(np.float32))
        phi = self._embed(arrays)
        if not np.isfinite(phi).all():
            raise FloatingPointError(
                f"The GCN of {type(self).__name__} diverged (non-finite embeddings); lower 'lr' (now {self.lr!r})."
            )
        self.blr_ = BayesianRidge(fit_intercept=True).fit(phi, t)
        self._record_inputs(X, arrays)
        return self

    def _inputs(self, X: Any) -> tuple[np.ndarray, ...]:
        """GCN inputs (adjacency, features, mask) of architectures, a GraphBatch or a stream."""
        return self._host_inputs(X)

    def embed(self, X: Any) -> np.ndarray:
        """The GCN's graph embeddings (n, fc_hidden) that the Bayesian regression reads."""
        self._check_fitted()
        return self._embed(self._inputs(X))

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predictive mean (n,) in the units of ``y``; with ``return_std`` also the predictive
        standard deviation (n,), observation noise included."""
        self._check_fitted()
        mean, std = self.blr_.predict(self.embed(X), return_std=True)
        mean = mean * self.y_scale_ + self.y_mean_
        return (mean, std * self.y_scale_) if return_std else mean

    def predict_members(self, X: Any) -> np.ndarray:
        """Not defined: BONAS has one network; use ``predict(X, return_std=True)``."""
        raise InvalidValueError(f"{type(self).__name__} has no ensemble members; use predict(X, return_std=True).")


# ---------------------------------------------------------------------------------------------
# SemiNAS: encoder-predictor-decoder with self-training


class SemiNASNetwork(nn.Module):
    """Encoder -> embedding -> predictor, with a decoder from the embedding back to the input.

    Input x (B, d), a vector encoding. The encoder is ``n_layers`` Dense(width) + ReLU and a
    linear Dense(embedding); the predictor head Dense(width) + ReLU, Dense(1); the decoder
    Dense(width) + ReLU, Dense(d). ``__call__`` gives the predictions (B,), ``outputs`` the
    predictions and the reconstructions (B, d). Xavier-uniform weights, zero biases.
    """

    n_features: int
    n_layers: int = 2
    width: int = 64
    embedding: int = 16

    def setup(self) -> None:
        init = nn.initializers.xavier_uniform()
        self.encoder = [nn.Dense(self.width, kernel_init=init) for _ in range(self.n_layers)]
        self.to_embedding = nn.Dense(self.embedding, kernel_init=init)
        self.head = [nn.Dense(self.width, kernel_init=init), nn.Dense(1, kernel_init=init)]
        self.decoder = [nn.Dense(self.width, kernel_init=init), nn.Dense(self.n_features, kernel_init=init)]

    def embed(self, x: jax.Array) -> jax.Array:
        h = x.astype(jnp.float32)
        for layer in self.encoder:
            h = jax.nn.relu(layer(h))
        return self.to_embedding(h)

    def _predict(self, e: jax.Array) -> jax.Array:
        return self.head[1](jax.nn.relu(self.head[0](e)))[:, 0]

    def outputs(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        e = self.embed(x)
        return self._predict(e), self.decoder[1](jax.nn.relu(self.decoder[0](e)))

    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        return self._predict(self.embed(x))


class SemiConfig(NamedTuple):
    """Static settings of one SemiNAS program (hashable: a compiled program per distinct value)."""

    epochs: int  # per training phase
    batch_size: int
    lr: float  # Adam, constant rate
    weight_decay: float  # L2 added to the gradient before Adam
    trade_off: float  # weight of the prediction loss; the reconstruction loss has 1 - trade_off
    rounds: int  # self-training rounds after the labelled phase (0: no unlabelled architectures)


@cached_programs(16)
def _semi_program(module: SemiNASNetwork, cfg: SemiConfig) -> Callable[..., Any]:
    bs = cfg.batch_size
    tx = optax.chain(optax.add_decayed_weights(cfg.weight_decay), optax.scale_by_adam(), optax.scale(-cfg.lr))

    def loss_fn(params: Any, x: jax.Array, y: jax.Array, w: jax.Array) -> jax.Array:
        pred, rec = module.apply({"params": params}, x, method=module.outputs)
        per_row = cfg.trade_off * (pred - y) ** 2 + (1.0 - cfg.trade_off) * jnp.mean((rec - x) ** 2, axis=-1)
        return jnp.sum(per_row * w) / jnp.maximum(jnp.sum(w), 1e-12)

    def phase(params: Any, key: jax.Array, x: jax.Array, y: jax.Array, w: jax.Array, valid: jax.Array) -> Any:
        """``cfg.epochs`` epochs of minibatch Adam on the rows where ``valid`` holds, each row's
        loss weighted by ``w``; a fresh optimizer state."""
        rows = x.shape[0]
        n = jnp.sum(valid)
        steps = jnp.maximum(n // bs, 1)

        def epoch(carry: tuple, _: None) -> tuple[tuple, None]:
            p, o, k = carry
            k, k_perm = jax.random.split(k)
            order = jnp.argsort(jnp.where(valid, jax.random.uniform(k_perm, (rows,)), 2.0))

            def step(s: jax.Array, c: tuple) -> tuple:
                p, o = c
                if rows >= bs:
                    idx = jax.lax.dynamic_slice(order, (s * bs,), (bs,))
                else:
                    idx = order[jnp.arange(bs) % rows]
                live = ((s * bs + jnp.arange(bs)) < n).astype(jnp.float32)
                grads = jax.grad(loss_fn)(p, x[idx], y[idx], w[idx] * live)
                upd, o = tx.update(grads, o, p)
                return optax.apply_updates(p, upd), o

            p, o = jax.lax.fori_loop(0, steps, step, (p, o))
            return (p, o, k), None

        (params, _, _), _ = jax.lax.scan(epoch, (params, tx.init(params), key), None, length=cfg.epochs)
        return params

    def member(key: jax.Array, xl: jax.Array, yl: jax.Array, nl: jax.Array, xu: jax.Array, nu: jax.Array) -> Any:
        k_init, k_phases = jax.random.split(key)
        params = module.init(k_init, xl[:1], method=module.outputs)["params"]
        # every phase sees the labelled rows then the unlabelled ones; the first trains on the
        # labelled rows only, and the labelled rows are weighted as if up-sampled to the size of
        # the unlabelled set
        x = jnp.concatenate([xl, xu])
        labelled = jnp.concatenate([jnp.arange(xl.shape[0]) < nl, jnp.zeros(xu.shape[0], bool)])
        both = labelled | jnp.concatenate([jnp.zeros(xl.shape[0], bool), jnp.arange(xu.shape[0]) < nu])
        up = jnp.maximum(jnp.ceil(nu / jnp.maximum(nl, 1)), 1.0)
        w = jnp.concatenate([jnp.full(yl.shape, up, jnp.float32), jnp.ones(xu.shape[0], jnp.float32)])

        def run(p: Any, xs: tuple[jax.Array, jax.Array]) -> tuple[Any, None]:
            r, k = xs
            pseudo = module.apply({"params": p}, xu)  # this member's own predictions
            y = jnp.concatenate([yl, jax.lax.stop_gradient(pseudo)])
            return phase(p, k, x, y, w, jnp.where(r > 0, both, labelled)), None

        params, _ = jax.lax.scan(run, params, (jnp.arange(cfg.rounds + 1), jax.random.split(k_phases, cfg.rounds + 1)))
        return params

    def program(keys: jax.Array, xl: jax.Array, yl: jax.Array, nl: jax.Array, xu: jax.Array, nu: jax.Array) -> Any:
        return jax.vmap(member, in_axes=(0, None, None, None, None, None))(keys, xl, yl, nl, xu, nu)

    return jax.jit(program)


class SemiNASPredictor(NeuralPredictor):
    """SemiNAS (Luo et al. 2020): an encoder-predictor-decoder trained on the labelled
    architectures, then self-trained on unlabelled architectures drawn from the space and
    pseudo-labelled by the model itself.

    The network (:class:`SemiNASNetwork`) maps a vector encoding to an embedding, from which a
    head predicts the z-scored target and a decoder reconstructs the encoding; the loss is
    ``trade_off`` * squared error + (1 - ``trade_off``) * mean squared reconstruction error. After
    ``epochs`` on the labelled set, ``n_unlabelled`` architectures are drawn from ``space``
    (``space.sample(n_unlabelled, rng)``, ``rng`` seeded by ``random_state``); each of
    ``n_rounds`` rounds pseudo-labels them with the model's predictions and trains ``epochs`` more
    on labelled + pseudo-labelled architectures (continuing from the current weights, with a fresh
    Adam state, as the SemiNAS code does), the labelled rows weighted as if up-sampled
    ceil(n_unlabelled / n) times (NASLib's port fixes that ratio at 10). Every member of the
    ensemble self-trains on its own pseudo-labels; the whole loop is one jit program.

    Parameters
    ----------
    space : str or SearchSpace, optional
        Needed when X holds architectures, and to draw unlabelled architectures (with encoded
        inputs, they are encoded with ``encoding`` and must match the inputs' width).
    encoding : str, default "adjacency_one_hot"; any vector encoding
    n_layers : int, default 2
    width : int, default 64
    embedding : int, default 16
    trade_off : float, default 0.8
        Weight of the prediction loss (SemiNAS' lambda); 1.0 trains no decoder.
    n_unlabelled : int, default 1000
        Unlabelled architectures drawn from the space; 0 turns self-training off.
    n_rounds : int, default 1
        Self-training rounds (pseudo-label, then train on both sets).
    n_ensemble : int, default 5
        Members trained in one vmapped program; ``predict(X, return_std=True)`` gives their mean
        and standard deviation.
    epochs : int, default 100
        Epochs of each training phase.
    batch_size : int, default 32
    lr : float, default 0.003; Adam, constant rate
    weight_decay : float, default 0.0; L2 added to the gradient
    random_state : int, optional
        Seeds the members' initialisation and minibatches and the draw of unlabelled architectures.

    Notes
    -----
    The encoder is an MLP over the encoding rather than the paper's LSTM over the token sequence
    (the one-hot encoding holds the same tokens at fixed positions); there is no early stopping.
    """

    name = "seminas"

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        n_layers: int = 2,
        width: int = 64,
        embedding: int = 16,
        trade_off: float = 0.8,
        n_unlabelled: int = 1000,
        n_rounds: int = 1,
        n_ensemble: int = 5,
        epochs: int = 100,
        batch_size: int = 32,
        lr: float = 0.003,
        weight_decay: float = 0.0,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_layers = n_layers
        self.width = width
        self.embedding = embedding
        self.trade_off = trade_off
        self.n_unlabelled = n_unlabelled
        self.n_rounds = n_rounds
        self.n_ensemble = n_ensemble
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _validate(self) -> None:
        for p in ("n_layers", "width", "embedding", "n_rounds", "n_ensemble", "epochs", "batch_size"):
            _positive_int(self, p)
        _positive_int(self, "n_unlabelled", minimum=0)
        _float_in(self, "trade_off", 0.0, 1.0, lo_open=True)
        _float_in(self, "lr", 0.0, 10.0, lo_open=True)
        _float_in(self, "weight_decay", 0.0, 1.0)
        self._check_random_state()
        from ..encodings import ENCODINGS

        if ENCODINGS.canonical_name(self.encoding) == "gcn":
            raise InvalidValueError(
                f"The 'encoding' parameter of {type(self).__name__} must be a vector encoding, not 'gcn'."
            )

    def _network(self, n_features: int) -> SemiNASNetwork:
        return SemiNASNetwork(
            n_features=int(n_features),
            n_layers=int(self.n_layers),
            width=int(self.width),
            embedding=int(self.embedding),
        )

    def _config(self) -> SemiConfig:
        return SemiConfig(
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            trade_off=float(self.trade_off),
            rounds=int(self.n_rounds) if self.n_unlabelled > 0 else 0,
        )

    def _draw_unlabelled(self, seed: int) -> Any:
        """The ``n_unlabelled`` architectures (a batch of ``space``) that a fit with seed ``seed``
        pseudo-labels: ``space.sample(n_unlabelled, numpy.random.default_rng(seed))``."""
        if self.space is None:
            raise InvalidValueError(
                f"{type(self).__name__} draws unlabelled architectures from 'space'; pass space=... or n_unlabelled=0."
            )
        return self._space().sample(int(self.n_unlabelled), np.random.default_rng(seed))

    def _unlabelled(self, seed: int, n_features: int) -> np.ndarray:
        """Encoded unlabelled architectures (n_unlabelled, d) float32; (0, d) without any."""
        if self.n_unlabelled == 0:
            return np.zeros((0, n_features), np.float32)
        from ..encodings import encode

        batch = self._draw_unlabelled(seed)
        xu = np.asarray(encode(self._space(), self._encoding(), batch), np.float32)
        if xu.shape[1:] != (n_features,):
            raise InvalidValueError(
                f"Architectures of {self._space().name} encode to width {xu.shape[1]} with {self.encoding!r}; "
                f"the inputs have width {n_features}."
            )
        return xu

    def fit(self, X: Any, y: Any) -> SemiNASPredictor:
        self._validate()
        arrays = self._encode_host(X)
        x = arrays[0]
        target = self._targets(y, len(x))
        self.y_mean_, self.y_scale_ = self._target_scaling(target)
        t = ((target - self.y_mean_) / self.y_scale_).astype(np.float32)
        seed = self._seed()
        xu = self._unlabelled(seed, x.shape[1])
        module = self._network(x.shape[1])
        prog = _semi_program(module, self._config())
        keys = jax.random.split(jax.random.key(seed), int(self.n_ensemble))
        size, usize = _bucket_rows(len(t)), _bucket_rows(max(len(xu), 1))
        xu_padded = _pad(xu, usize) if len(xu) else np.zeros((usize, x.shape[1]), np.float32)
        params = prog(
            keys,
            _pad(x, size),
            _pad(t, size),
            jnp.asarray(len(t), jnp.int32),
            xu_padded,
            jnp.asarray(len(xu), jnp.int32),
        )
        params = jax.block_until_ready(params)
        if not all(np.isfinite(np.asarray(a)).all() for a in jax.tree_util.tree_leaves(params)):
            raise FloatingPointError(f"Training of {type(self).__name__} diverged; lower 'lr' (now {self.lr!r}).")
        self.params_ = params
        self.n_unlabelled_ = len(xu)
        self._record_inputs(X, arrays)
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predictions (n,) in the units of ``y``: the ensemble mean; with ``return_std`` also the
        standard deviation over the members (ddof=0); :class:`NoUncertaintyError` for an
        ensemble of one member."""
        if return_std:
            self._check_fitted()
            self._check_std()
        z = self.predict_members(X)
        mean = z.mean(axis=0)
        return (mean, self._members_std(z)) if return_std else mean

    def predict_members(self, X: Any) -> np.ndarray:
        """Each member's predictions, shape (n_ensemble, n)."""
        self._check_fitted()
        z = self._members(self._network(self.n_features_in_), self.params_, X)
        if z.shape[1] == 0:
            raise InvalidValueError("No architectures to score.")
        return z.astype(np.float64) * self.y_scale_ + self.y_mean_
