"""Bayesian model-based predictors on vector encodings: BOHAMIANN (an MLP whose weights are
sampled by scale-adapted stochastic gradient Hamiltonian Monte Carlo) and a sparse Gaussian
process with inducing points (Titsias' variational bound).

Each fit is one jit-compiled program. BOHAMIANN's sampler is one ``lax.scan`` over all its steps
(burn-in, then sampling); every step draws its minibatch with ``jax.random``, and every
``keep_every``-th state after burn-in is written into a buffer of samples that the scan carries.
The sparse GP's kernel hyperparameters and inducing locations are optimised by optax Adam in one
``lax.scan``. As in :mod:`._nn`, the training set is padded to a power of two (at least 32 rows)
and its real size enters as data, so fits of different sizes in one bucket share one compiled
program.

Both models train on z-scored targets and return the predictive mean and standard deviation in
the units of ``y``; the standard deviation includes the learned observation noise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from .._compile_cache import cached_programs
from ..errors import InvalidTypeError, InvalidValueError
from ._mlp import MLP
from ._nn import NeuralPredictor, _bucket_rows, _float_in, _pad, _positive_int

__all__ = [
    "BohamiannPredictor",
    "SparseGPPredictor",
    "SGHMCConfig",
    "SGHMCState",
    "sghmc_init",
    "sghmc_step",
    "sgpr_bound",
]

_EPS = 1e-10  # keeps the SGHMC preconditioner finite where a gradient has been zero


class _BayesPredictor(NeuralPredictor):
    """Input handling of :class:`NeuralPredictor` (architectures of ``space`` encoded on the host,
    or an already encoded matrix (n, d)) for models whose predictive distribution is not an
    ensemble average. Subclasses define ``_validate``, ``fit`` and ``_moments``."""

    has_uncertainty = True

    def _validate_common(self) -> None:
        from ..encodings import ENCODINGS

        if ENCODINGS.canonical_name(self.encoding) == "gcn":
            raise InvalidValueError(
                f"The 'encoding' parameter of {type(self).__name__} must be a vector encoding, not 'gcn'."
            )
        self._check_random_state()

    def _training_set(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Encoded inputs (n, d) float32 and z-scored targets (n,) float32; records the scaling
        and the input signature."""
        arrays = self._encode_host(X)
        target = self._targets(y, len(arrays[0]))
        self.y_mean_, self.y_scale_ = self._target_scaling(target)
        self._record_inputs(X, arrays)
        return arrays[0], ((target - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _inputs(self, X: Any) -> np.ndarray:
        """Encoded inputs (n, d) of architectures, an encoded matrix or a stream of batches."""
        return self._host_inputs(X)[0]

    def _moments(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and variance (n,), float64, in z-scored units."""
        raise NotImplementedError

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predictive mean (n,) in the units of ``y``; with ``return_std`` also the predictive
        standard deviation (n,), observation noise included."""
        self._check_fitted()
        mean, var = self._moments(X)
        mean = mean * self.y_scale_ + self.y_mean_
        if not return_std:
            return mean
        return mean, np.sqrt(np.maximum(var, 0.0)) * self.y_scale_


# ---------------------------------------------------------------------------------------------
# BOHAMIANN: scale-adapted SGHMC


class SGHMCConfig(NamedTuple):
    """Static settings of one sampler program (hashable: a compiled program per distinct value)."""

    burn_in: int  # steps that adapt the preconditioner; their states are discarded
    n_samples: int  # samples kept after burn-in
    keep_every: int  # steps between kept samples
    batch_size: int
    lr: float  # the step size of Springenberg et al. (its square scales the gradient)
    mdecay: float  # momentum decay (friction)
    weight_precision: float  # precision of the zero-mean Gaussian prior on the weights
    noise_shape: float  # Gamma(shape, rate) prior on the observation noise precision
    noise_rate: float


class SGHMCState(NamedTuple):
    """The sampler's state; every field is a pytree shaped like ``theta``."""

    theta: Any  # the sampled parameters
    momentum: Any
    tau: Any  # the adaptive window length of the gradient moment estimates
    g: Any  # running mean of the gradient
    v_hat: Any  # running mean of the squared gradient (the preconditioner is its root)


def sghmc_init(theta: Any) -> SGHMCState:
    """The initial sampler state at parameters ``theta``: zero momentum, unit moment estimates."""
    ones = jax.tree_util.tree_map(jnp.ones_like, theta)
    return SGHMCState(theta, jax.tree_util.tree_map(jnp.zeros_like, theta), ones, ones, ones)


def sghmc_step(state: SGHMCState, grad: Any, key: jax.Array, lr: float, mdecay: float, adapt: Any) -> SGHMCState:
    """One step of scale-adapted SGHMC (Springenberg et al. 2016, equations 8-10).

    ``grad`` is a stochastic estimate of the gradient of the negative log posterior at
    ``state.theta`` (a minibatch mean scaled to the full training set). Where ``adapt`` (a bool,
    or a traced boolean scalar) holds, as during burn-in, the gradient moment estimates are
    updated before the preconditioner is formed; otherwise they are frozen.
    """
    leaves, treedef = jax.tree_util.tree_flatten(state.theta)
    rest = [treedef.flatten_up_to(f) for f in (state.momentum, state.tau, state.g, state.v_hat, grad)]
    keys = jax.random.split(key, len(leaves))

    def leaf(theta: jax.Array, p: jax.Array, tau: jax.Array, g: jax.Array, v: jax.Array, gr: jax.Array, k: jax.Array):
        r = 1.0 / (tau + 1.0)
        new = (tau - tau * g * g / (v + _EPS) + 1.0, g - g * r + r * gr, v - v * r + r * gr * gr)
        tau, g, v = (jnp.where(adapt, a, b) for a, b in zip(new, (tau, g, v), strict=True))
        minv = 1.0 / (jnp.sqrt(v) + _EPS)
        sigma = jnp.sqrt(jnp.maximum(2.0 * lr**2 * mdecay * minv - lr**4, 1e-16))
        p = p - lr**2 * minv * gr - mdecay * p + sigma * jax.random.normal(k, p.shape, p.dtype)
        return theta + p, p, tau, g, v

    out = [leaf(*args, keys[i]) for i, args in enumerate(zip(leaves, *rest, strict=True))]
    return SGHMCState(*(treedef.unflatten([o[j] for o in out]) for j in range(5)))


@cached_programs(16)
def _sampler_program(module: nn.Module, cfg: SGHMCConfig) -> Callable[..., Any]:
    def potential(theta: Any, unravel: Callable[..., Any], x: jax.Array, y: jax.Array, n: jax.Array) -> jax.Array:
        """Negative log posterior of the full training set, estimated from a minibatch."""
        w, log_var = unravel(theta)
        f = module.apply({"params": w}, x, train=False)
        nll = 0.5 * jnp.mean((y - f) ** 2) * jnp.exp(-log_var) + 0.5 * log_var
        prior_w = 0.5 * cfg.weight_precision * sum(jnp.sum(a * a) for a in jax.tree_util.tree_leaves(w))
        prior_noise = cfg.noise_shape * log_var + cfg.noise_rate * jnp.exp(-log_var)  # Gamma on exp(-log_var)
        return n * nll + prior_w + prior_noise

    grad_fn = jax.grad(potential)
    total = cfg.burn_in + cfg.n_samples * cfg.keep_every

    def program(key: jax.Array, x: jax.Array, y: jax.Array, n: jax.Array) -> tuple[Any, jax.Array]:
        k_init, k_run = jax.random.split(key)
        w = module.init(k_init, x[:1], train=False)["params"]
        # the sampler runs on one flat vector (weights, then the log noise variance)
        flat, unravel = jax.flatten_util.ravel_pytree((w, jnp.zeros((), jnp.float32)))
        state = sghmc_init(flat)
        kept = jnp.zeros((cfg.n_samples, flat.shape[0]), flat.dtype)
        nf = n.astype(jnp.float32)

        def step(carry: tuple[SGHMCState, jax.Array], t: jax.Array) -> tuple[tuple[SGHMCState, jax.Array], None]:
            s, kept = carry
            k_batch, k_noise = jax.random.split(jax.random.fold_in(k_run, t))
            idx = jax.random.randint(k_batch, (cfg.batch_size,), 0, n)
            grad = grad_fn(s.theta, unravel, x[idx], y[idx], nf)
            s = sghmc_step(s, grad, k_noise, cfg.lr, cfg.mdecay, adapt=t < cfg.burn_in)
            # after burn-in, every keep_every-th state goes to row j of the kept samples
            after = t - cfg.burn_in + 1
            keep = (after > 0) & (after % cfg.keep_every == 0)
            j = jnp.clip(after // cfg.keep_every - 1, 0, cfg.n_samples - 1)
            kept = kept.at[j].set(jnp.where(keep, s.theta, kept[j]))
            return (s, kept), None

        (_, kept), _ = jax.lax.scan(step, (state, kept), jnp.arange(total))
        return jax.vmap(unravel)(kept)

    return jax.jit(program)


class BohamiannPredictor(_BayesPredictor):
    """BOHAMIANN (Springenberg et al. 2016): a Bayesian MLP whose weights, and the observation
    noise, are sampled by scale-adapted SGHMC; predictions average the kept samples.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures
    encoding : str, default "adjacency_one_hot"; any vector encoding
    n_layers : int, default 2
    width : int, default 50
        Hidden layers of ``width`` ReLU units (the :class:`~pyengine.predictors._mlp.MLP` module).
    burn_in : int, default 3000
        Sampler steps that adapt the preconditioner before samples are kept.
    n_samples : int, default 50
    keep_every : int, default 100
        One sample is kept every ``keep_every`` steps after burn-in.
    batch_size : int, default 20
        Minibatch drawn (with replacement) at every step.
    lr : float, default 0.01
    mdecay : float, default 0.05
        Step size and momentum decay of the sampler (the reference code's defaults).
    weight_precision : float, default 3.0
        Precision of the zero-mean Gaussian prior on every weight and bias (3.0 ranks NB201
        better than the reference code's 1.0 at 100 training cells).
    random_state : int, optional

    Notes
    -----
    ``fit(X, y)`` takes architectures of ``space`` or an encoded matrix (n, d); targets are
    z-scored internally. ``predict(X, return_std=True)`` gives the mean over samples and the
    standard deviation of the predictive mixture: the spread of the samples' outputs plus their
    sampled observation noise. ``predict_members(X)`` gives every sample's output (n_samples, n).
    The noise precision has a Gamma(1, 0.1) prior in z-scored units.
    """

    name = "bohamiann"

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        n_layers: int = 2,
        width: int = 50,
        burn_in: int = 3000,
        n_samples: int = 50,
        keep_every: int = 100,
        batch_size: int = 20,
        lr: float = 0.01,
        mdecay: float = 0.05,
        weight_precision: float = 3.0,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_layers = n_layers
        self.width = width
        self.burn_in = burn_in
        self.n_samples = n_samples
        self.keep_every = keep_every
        self.batch_size = batch_size
        self.lr = lr
        self.mdecay = mdecay
        self.weight_precision = weight_precision
        self.random_state = random_state

    def _validate(self) -> None:
        self._validate_common()
        for p in ("n_layers", "width", "n_samples", "keep_every", "batch_size"):
            _positive_int(self, p)
        _positive_int(self, "burn_in", minimum=0)
        _float_in(self, "lr", 0.0, 1.0, lo_open=True)
        _float_in(self, "mdecay", 0.0, 1.0, lo_open=True)
        _float_in(self, "weight_precision", 0.0, math.inf, lo_open=True, hi_open=True)

    def _config(self) -> SGHMCConfig:
        return SGHMCConfig(
            burn_in=int(self.burn_in),
            n_samples=int(self.n_samples),
            keep_every=int(self.keep_every),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            mdecay=float(self.mdecay),
            weight_precision=float(self.weight_precision),
            noise_shape=1.0,
            noise_rate=0.1,
        )

    def fit(self, X: Any, y: Any) -> BohamiannPredictor:
        self._validate()
        x, t = self._training_set(X, y)
        module = MLP(n_layers=int(self.n_layers), width=int(self.width))
        size = _bucket_rows(len(t))
        prog = _sampler_program(module, self._config())
        params, log_var = prog(
            jax.random.key(self._seed()), _pad(x, size), _pad(t, size), jnp.asarray(len(t), jnp.int32)
        )
        log_var = np.asarray(log_var)
        if not (np.isfinite(log_var).all() and all(np.isfinite(a).all() for a in jax.tree_util.tree_leaves(params))):
            raise FloatingPointError(
                f"The SGHMC sampler of {type(self).__name__} diverged; lower 'lr' (now {self.lr!r})."
            )
        self.module_ = module
        self.noise_var_ = np.exp(log_var.astype(np.float64))
        self.params_ = jax.block_until_ready(params)
        return self

    def _moments(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        f = self._members(self.module_, self.params_, X).astype(np.float64)
        if f.shape[1] == 0:
            raise InvalidValueError("No architectures to score.")
        mean = f.mean(axis=0)
        return mean, f.var(axis=0) + self.noise_var_.mean()


# ---------------------------------------------------------------------------------------------
# sparse GP: Titsias' collapsed bound


def _one_blas_thread() -> Any:
    """A context in which LAPACK/BLAS (which XLA's CPU factorizations and scipy call) runs on one
    thread: the matrices here are small (m x n with m inducing points), so threads only add
    synchronisation, and on a busy machine spinning BLAS threads slow a triangular solve a
    hundredfold. (threadpoolctl comes with scikit-learn.)"""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


_CUTOFF = 60.0  # squared scaled distance beyond which the kernel is exactly 0 (exp(-30) ~ 1e-13)


def _rbf(a: Any, b: Any, lengthscale: Any, signal_var: Any, xp: Any = jnp) -> Any:
    """RBF (ARD when ``lengthscale`` has one entry per column) kernel matrix (len(a), len(b)).

    Values below exp(-_CUTOFF / 2) are set to 0: float32 subnormals from the far tail would
    otherwise slow CPU arithmetic by orders of magnitude.
    """
    a, b = a / lengthscale, b / lengthscale
    d2 = xp.clip((a * a).sum(-1)[:, None] + (b * b).sum(-1)[None, :] - 2.0 * a @ b.T, 0.0, _CUTOFF)
    return signal_var * xp.where(d2 < _CUTOFF, xp.exp(-0.5 * d2), 0.0)


def _constrain(hyp: dict[str, Any], xp: Any = jnp) -> tuple[Any, Any, Any]:
    """(lengthscale, signal variance, noise variance) from the unconstrained parameters."""
    return xp.exp(hyp["log_lengthscale"]), xp.exp(hyp["log_signal_var"]), xp.exp(hyp["log_noise_var"]) + 1e-6


def sgpr_bound(hyp: dict[str, jax.Array], x: jax.Array, y: jax.Array, mask: jax.Array, jitter: float) -> jax.Array:
    """Titsias' (2009) collapsed evidence lower bound of an RBF-kernel GP with inducing points.

    Parameters
    ----------
    hyp : dict with ``inducing`` (m, d), ``log_lengthscale`` (d,) or (1,), ``log_signal_var`` ()
        and ``log_noise_var`` ()
    x : array of shape (n_pad, d); rows where ``mask`` is False are padding and do not count
    y : array of shape (n_pad,), zero-mean targets
    mask : bool array of shape (n_pad,)
    jitter : added to the diagonal of K_mm, relative to the signal variance
    """
    z = hyp["inducing"]
    ls, sf2, s2 = _constrain(hyp)
    w = mask.astype(x.dtype)
    n = w.sum()
    m = z.shape[0]
    eye = jnp.eye(m, dtype=x.dtype)
    kmm = _rbf(z, z, ls, sf2) + jitter * sf2 * eye
    kmn = _rbf(z, x, ls, sf2) * w[None, :]
    yw = y * w
    chol = jnp.linalg.cholesky(kmm)
    a = jax.scipy.linalg.solve_triangular(chol, kmn, lower=True) / jnp.sqrt(s2)
    aat = a @ a.T
    chol_b = jnp.linalg.cholesky(eye + aat)
    c = jax.scipy.linalg.solve_triangular(chol_b, a @ yw, lower=True) / jnp.sqrt(s2)
    return (
        -0.5 * n * jnp.log(2.0 * jnp.pi)
        - jnp.sum(jnp.log(jnp.diag(chol_b)))
        - 0.5 * n * jnp.log(s2)
        - 0.5 * jnp.sum(yw * yw) / s2
        + 0.5 * jnp.sum(c * c)
        - 0.5 * n * sf2 / s2
        + 0.5 * jnp.trace(aat)
    )


class SGPRConfig(NamedTuple):
    """Static settings of one sparse GP optimisation program."""

    steps: int
    lr: float
    jitter: float


@cached_programs(16)
def _sgpr_program(cfg: SGPRConfig) -> Callable[..., Any]:
    tx = optax.adam(cfg.lr)

    def program(hyp: dict[str, jax.Array], x: jax.Array, y: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:
        n = jnp.maximum(mask.sum(), 1).astype(x.dtype)

        def loss(h: dict[str, jax.Array]) -> jax.Array:
            return -sgpr_bound(h, x, y, mask, cfg.jitter) / n

        def step(carry: tuple, _: None) -> tuple[tuple, None]:
            h, opt = carry
            value, grads = jax.value_and_grad(loss)(h)
            upd, new_opt = tx.update(grads, opt, h)
            new_h = optax.apply_updates(h, upd)
            finite = jnp.isfinite(value) & jnp.all(
                jnp.stack([jnp.isfinite(g).all() for g in jax.tree_util.tree_leaves(grads)])
            )
            # a float32 Cholesky that fails leaves the parameters where they were
            h = jax.tree_util.tree_map(lambda a, b: jnp.where(finite, a, b), new_h, h)
            opt = jax.tree_util.tree_map(lambda a, b: jnp.where(finite, a, b), new_opt, opt)
            return (h, opt), None

        (hyp, _), _ = jax.lax.scan(step, (hyp, tx.init(hyp)), None, length=cfg.steps)
        return hyp

    return jax.jit(program)


class SparseGPPredictor(_BayesPredictor):
    """A sparse Gaussian process (SGPR: Titsias' variational bound) with an RBF kernel and
    ``n_inducing`` inducing points.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures
    encoding : str, default "adjacency_one_hot"; any vector encoding
    n_inducing : int, default 100
        Inducing points, capped at the number of training architectures; initialised by k-means
        on the training inputs.
    ard : bool, default False
        One lengthscale per input column (ARD) rather than one shared lengthscale; ARD
        overfits NB201 at 100 training cells.
    steps : int, default 300
    lr : float, default 0.05
        Adam steps and learning rate optimising the lengthscales, signal and noise variances and
        inducing locations on the bound.
    random_state : int, optional
        Seeds the k-means initialisation of the inducing points.

    Notes
    -----
    Targets are z-scored internally; the mean function is zero in those units.
    ``predict(X, return_std=True)`` gives the predictive mean and standard deviation of the
    observations (the learned noise included), computed in float64 from the fitted arrays.
    """

    name = "sparse_gp"
    _fitted_attributes = ("c_",)
    _jitter = 1e-4

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        n_inducing: int = 100,
        ard: bool = False,
        steps: int = 300,
        lr: float = 0.05,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_inducing = n_inducing
        self.ard = ard
        self.steps = steps
        self.lr = lr
        self.random_state = random_state

    def _validate(self) -> None:
        self._validate_common()
        _positive_int(self, "n_inducing")
        _positive_int(self, "steps", minimum=0)
        _float_in(self, "lr", 0.0, 10.0, lo_open=True)
        if not isinstance(self.ard, bool):
            raise InvalidTypeError(
                f"The 'ard' parameter of {type(self).__name__} must be a bool. Got {self.ard!r} instead."
            )

    def _initial(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Inducing points by k-means on ``x`` (n, d); lengthscales at the median distance."""
        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        m = min(int(self.n_inducing), len(x))
        seed = self._seed()
        with warnings.catch_warnings():  # fewer distinct rows than centres: duplicates, kept apart by jitter
            warnings.simplefilter("ignore", ConvergenceWarning)
            z = KMeans(n_clusters=m, n_init=1, random_state=seed).fit(x).cluster_centers_
        rows = x[np.random.default_rng(seed).permutation(len(x))[:256]]  # bounded memory
        d2 = ((rows[:, None, :] - rows[None, :, :]) ** 2).sum(-1)
        med = float(np.sqrt(np.median(d2[np.triu_indices(len(rows), 1)])))
        dims = x.shape[1] if self.ard else 1
        return {
            "inducing": z.astype(np.float32),
            "log_lengthscale": np.full(dims, np.log(med if med > 0 else 1.0), np.float32),
            "log_signal_var": np.zeros((), np.float32),
            "log_noise_var": np.asarray(np.log(0.1), np.float32),
        }

    def fit(self, X: Any, y: Any) -> SparseGPPredictor:
        self._validate()
        x, t = self._training_set(X, y)
        size = _bucket_rows(len(t))
        mask = np.arange(size) < len(t)
        prog = _sgpr_program(SGPRConfig(steps=int(self.steps), lr=float(self.lr), jitter=self._jitter))
        with _one_blas_thread():
            hyp = jax.block_until_ready(prog(self._initial(x), _pad(x, size), _pad(t, size), mask))
        hyp = {k: np.asarray(v, np.float64) for k, v in hyp.items()}
        if not all(np.isfinite(v).all() for v in hyp.values()):
            raise FloatingPointError(f"The bound of {type(self).__name__} diverged; lower 'lr' (now {self.lr!r}).")
        self.inducing_ = hyp["inducing"]
        ls, sf2, s2 = _constrain(hyp, np)
        self.lengthscale_, self.signal_var_, self.noise_var_ = ls, float(sf2), float(s2)
        with _one_blas_thread():
            self._posterior(x.astype(np.float64), t.astype(np.float64))
        return self

    def _posterior(self, x: np.ndarray, t: np.ndarray) -> None:
        """The Cholesky factors and projected targets that ``predict`` reads (float64)."""
        from scipy.linalg import cholesky, solve_triangular

        z, ls, sf2, s2 = self.inducing_, self.lengthscale_, self.signal_var_, self.noise_var_
        kmm = _rbf(z, z, ls, sf2, np) + self._jitter * sf2 * np.eye(len(z))
        self.chol_ = cholesky(kmm, lower=True)
        a = solve_triangular(self.chol_, _rbf(z, x, ls, sf2, np), lower=True) / np.sqrt(s2)
        self.chol_b_ = cholesky(np.eye(len(z)) + a @ a.T, lower=True)
        self.c_ = solve_triangular(self.chol_b_, a @ t, lower=True) / np.sqrt(s2)

    def _moments(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        from scipy.linalg import solve_triangular

        x = self._inputs(X).astype(np.float64)
        kms = _rbf(self.inducing_, x, self.lengthscale_, self.signal_var_, np)
        with _one_blas_thread():
            t1 = solve_triangular(self.chol_, kms, lower=True)
            t2 = solve_triangular(self.chol_b_, t1, lower=True)
        mean = t2.T @ self.c_
        var = np.maximum(self.signal_var_ - (t1 * t1).sum(0) + (t2 * t2).sum(0), 0.0) + self.noise_var_
        return mean, var

    def predict_members(self, X: Any) -> np.ndarray:
        """Not defined: a Gaussian process has no members; use ``predict(X, return_std=True)``."""
        raise InvalidValueError(f"{type(self).__name__} has no ensemble members; use predict(X, return_std=True).")
