"""Learning-curve predictors (White et al. 2021's learning-curve family): SoTL, SoTL-E, early
stopping, LCE (parametric curve extrapolation fitted as one batched JAX program) and LcSVR.

Inputs are partial curves: :class:`PartialCurves` holds named curves padded to a common length
with the epochs each architecture has seen (the fidelity). ``fit(X, y, curves=...)`` and
``predict(X, curves=...)``; the curve-only predictors also take the curves as ``X``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ..errors import CurveError, InvalidTypeError, InvalidValueError
from . import _fitted_models  # noqa: F401  (registers the SVR codec LcSVR's state needs)
from ._base import Predictor
from ._contract import is_architectures

log = logging.getLogger(__name__)


class PartialCurves(NamedTuple):
    """Learning curves observed up to each architecture's fidelity.

    values : mapping name -> array of shape (n_archs, n_epochs), float64; entries past an
        architecture's ``epochs`` are NaN (padding). Names in use: ``val_acc``, ``train_acc``
        (percent), ``val_loss``, ``train_loss``.
    epochs : array of shape (n_archs,), int; the epochs seen (1-based count), each >= 1.
    first : array of shape (n_archs,), int, optional; the first epoch held (default 1). A
        low-fidelity table gives one value per architecture: ``first == epochs`` (see
        :func:`point_curves`); predictors that read earlier epochs refuse such curves.
    """

    values: Mapping[str, np.ndarray]
    epochs: np.ndarray
    first: np.ndarray | None = None

    def __len__(self) -> int:  # type: ignore[override]
        return int(len(self.epochs))

    def first_epoch(self) -> np.ndarray:
        return np.ones_like(self.epochs) if self.first is None else self.first

    def take(self, rows: Any) -> PartialCurves:
        first = None if self.first is None else self.first[rows]
        return PartialCurves({k: v[rows] for k, v in self.values.items()}, self.epochs[rows], first)

    def require(self, epochs_back: int | None, who: str) -> None:
        """CurveError unless each curve holds its last ``epochs_back`` epochs (None: all from 1)."""
        first = self.first_epoch()
        need = np.ones_like(self.epochs) if epochs_back is None else self.epochs - epochs_back + 1
        bad = np.flatnonzero(first > np.maximum(need, 1))
        if bad.size:
            r = int(bad[0])
            raise CurveError(
                f"{who} reads epochs {int(max(need[r], 1))}-{int(self.epochs[r])}, but architecture {r}'s curve "
                f"holds only epochs from {int(first[r])} on (a low-fidelity table gives one value)."
            )


def point_curves(values: Any, fidelity: int, name: str = "val_acc") -> PartialCurves:
    """One value per architecture at epoch ``fidelity`` (e.g. a 12-epoch table's accuracy) as
    partial curves holding that epoch only. CurveError names a non-finite value."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise CurveError(f"Low-fidelity values must have shape (n_archs,). Got {v.shape}.")
    if isinstance(fidelity, bool) or not isinstance(fidelity, (int, np.integer)) or fidelity < 1:
        raise CurveError(f"The fidelity must be an int >= 1. Got {fidelity!r}.")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise CurveError(f"The low-fidelity value of architecture {int(bad[0])} is NaN or infinite.")
    a = np.full((len(v), int(fidelity)), np.nan)
    a[:, -1] = v
    ep = np.full(len(v), int(fidelity))
    return PartialCurves({name: a}, ep, ep.copy())


def partial_curves(curves: Mapping[str, Any], fidelity: Any) -> PartialCurves:
    """Full or partial curves cut to ``fidelity`` epochs (an int, or one per architecture) and
    checked: every curve must reach the fidelity with finite values.

    Raises CurveError naming the curve, the architecture (row) and the epoch at fault.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise CurveError("Learning curves must be a non-empty mapping name -> array (n_archs, n_epochs).")
    arrays = {}
    n = None
    for name, v in curves.items():
        a = np.asarray(v, dtype=np.float64)
        if a.ndim != 2:
            raise CurveError(f"Curve {name!r} must have shape (n_archs, n_epochs). Got {a.shape}.")
        if n is not None and a.shape[0] != n:
            raise CurveError(f"Curve {name!r} has {a.shape[0]} architectures; the others have {n}.")
        n = a.shape[0]
        arrays[str(name)] = a
    n = int(n or 0)
    fid = np.asarray(fidelity)
    if fid.ndim == 0:
        fid = np.full(n, fid)
    if fid.shape != (n,) or not np.issubdtype(fid.dtype, np.number) or np.any(fid != np.round(fid)):
        raise CurveError(f"The fidelity must be an int or one int per architecture ({n}). Got {fidelity!r}.")
    fid = fid.astype(np.int64)
    if fid.min() < 1:
        raise CurveError(f"The fidelity must be >= 1 epoch. Got {int(fid.min())}.")
    out = {}
    cols = np.arange(max(a.shape[1] for a in arrays.values()))
    for name, a in arrays.items():
        if fid.max() > a.shape[1]:
            r = int(np.argmax(fid > a.shape[1]))
            raise CurveError(
                f"Curve {name!r} has {a.shape[1]} epochs; architecture {r} asks for fidelity {int(fid[r])}."
            )
        seen = cols[None, : a.shape[1]] < fid[:, None]
        bad = seen & ~np.isfinite(a)
        if bad.any():
            r, e = (int(v) for v in np.argwhere(bad)[0])
            raise CurveError(
                f"Curve {name!r} of architecture {r} is NaN or infinite at epoch {e + 1} (within its fidelity "
                f"{int(fid[r])}): diverged training? Drop the architecture or lower the fidelity."
            )
        out[name] = np.where(seen, a, np.nan)
    return PartialCurves(out, fid)


def _as_curves(X: Any, curves: Any) -> PartialCurves:
    c = curves if curves is not None else X
    if not isinstance(c, PartialCurves):
        raise InvalidTypeError(
            "Learning-curve predictors need partial curves: pass curves=partial_curves(table.curves, fidelity). "
            f"Got {type(c).__name__}."
        )
    return c


def _pick(c: PartialCurves, names: tuple[str, ...], who: str) -> tuple[str, np.ndarray]:
    for name in names:
        if name in c.values:
            return name, c.values[name]
    raise CurveError(f"{who} needs one of the curves {list(names)}; the input has {sorted(c.values)}.")


class _ScoreCurvePredictor(Predictor, RegressorMixin, BaseEstimator):
    """A score of each curve, mapped to the target's units by a least-squares line fitted on the
    training set (a ranking is unchanged by it)."""

    name = "curve"
    needs_curves = True
    _fitted_attributes = ("slope_",)

    def _score(self, c: PartialCurves) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: Any, y: Any, curves: Any = None) -> _ScoreCurvePredictor:
        c = _as_curves(X, curves)
        s = self._score(c)
        t = np.asarray(y, dtype=np.float64)
        if t.shape != s.shape:
            raise InvalidValueError(f"'y' must have shape {s.shape}. Got {t.shape} instead.")
        if not np.isfinite(t).all():
            raise InvalidValueError(
                f"'y' holds a non-finite value at position {int(np.flatnonzero(~np.isfinite(t))[0])}."
            )
        if len(t) < 2:
            raise InvalidValueError(f"{type(self).__name__} needs at least 2 training architectures. Got {len(t)}.")
        if np.ptp(s) == 0:
            # constant training scores: keep the ranking, centre on the training mean (recorded)
            self.slope_, self.intercept_ = 1.0, float(t.mean() - s.mean())
            self.fallback_ = "constant training scores: slope 1, predictions centred on the training mean"
            log.warning("%s: %s", type(self).__name__, self.fallback_)
        else:
            slope, intercept = np.polyfit(s, t, 1)
            self.slope_, self.intercept_ = float(slope), float(intercept)
            self.fallback_ = None
        return self

    def predict(self, X: Any, curves: Any = None, return_std: bool = False) -> Any:
        self._check_fitted()
        if return_std:
            raise InvalidValueError(f"The {self.name} predictor has no uncertainty estimate.")
        return self.slope_ * self._score(_as_curves(X, curves)) + self.intercept_

    def score_curves(self, curves: PartialCurves) -> np.ndarray:
        """The raw score of each curve (no fit needed): what ranks the architectures."""
        return self._score(curves)


class SoTLPredictor(_ScoreCurvePredictor):
    """Sum over training losses (Ru et al.), negated, over every epoch seen (``last`` None) or the
    last ``last`` epochs (SoTL-E). Without losses: the sum of validation (then training)
    accuracies, as White et al. do for benchmarks that record no losses.

    Parameters
    ----------
    last : int, optional; sum only the last E epochs seen
    curve : str, optional; the curve to sum (default: the first of train_loss, val_loss,
        val_acc, train_acc the input has)
    """

    name = "sotl"

    def __init__(self, last: int | None = None, curve: str | None = None) -> None:
        self.last = last
        self.curve = curve

    def _score(self, c: PartialCurves) -> np.ndarray:
        if self.last is not None and (isinstance(self.last, bool) or not isinstance(self.last, int) or self.last < 1):
            who = type(self).__name__
            raise InvalidValueError(f"The 'last' parameter of {who} must be a positive int. Got {self.last!r}.")
        names = (self.curve,) if self.curve else ("train_loss", "val_loss", "val_acc", "train_acc")
        c.require(self.last, type(self).__name__)
        name, a = _pick(c, names, type(self).__name__)
        cols = np.arange(a.shape[1])[None, :]
        use = cols < c.epochs[:, None]
        if self.last is not None:
            use &= cols >= (c.epochs[:, None] - self.last)
        total = np.where(use, a, 0.0).sum(axis=1)
        return -total if name.endswith("loss") else total


class SoTLEPredictor(SoTLPredictor):
    """SoTL over the last E epochs seen (default E = 1: the latest epoch's sum)."""

    name = "sotl_e"

    def __init__(self, last: int | None = 1, curve: str | None = None) -> None:
        super().__init__(last=last, curve=curve)


class EarlyStopAccPredictor(_ScoreCurvePredictor):
    """Early stopping (accuracy): the validation accuracy at the last epoch seen."""

    name = "early_stop_acc"
    _sign = 1.0  # higher is better

    def __init__(self, curve: str = "val_acc") -> None:
        self.curve = curve

    def _score(self, c: PartialCurves) -> np.ndarray:
        _, a = _pick(c, (self.curve,), type(self).__name__)
        return self._sign * a[np.arange(len(a)), c.epochs - 1]


class EarlyStopLossPredictor(EarlyStopAccPredictor):
    """Early stopping (loss): the validation loss at the last epoch seen, negated."""

    name = "early_stop_loss"
    _sign = -1.0  # lower is better

    def __init__(self, curve: str = "val_loss") -> None:
        self.curve = curve


# -- LCE: parametric curve families, fitted in one batched program --------------------------------
def _families() -> dict[str, Any]:
    import jax.numpy as jnp
    from jax.nn import softplus

    sp = softplus

    # each family: f(params (P,), x (T,)) -> (T,), on curves scaled to [0, 1]; unconstrained params
    return {
        "pow3": lambda p, x: p[0] - sp(p[1]) * x ** (-sp(p[2])),
        "log_power": lambda p, x: p[0] / (1.0 + (x / jnp.exp(p[1])) ** (-sp(p[2]))),
        "vapor_pressure": lambda p, x: jnp.exp(jnp.clip(p[0] + p[1] / x + 0.1 * p[2] * jnp.log(x), -20.0, 3.0)),
        "janoschek": lambda p, x: p[0] - (p[0] - p[1]) * jnp.exp(-sp(p[2]) * x ** sp(p[3])),
        "mmf": lambda p, x: p[0] - (p[0] - p[1]) / (1.0 + (sp(p[2]) * x) ** sp(p[3])),
        "weibull": lambda p, x: p[0] - (p[0] - p[1]) * jnp.exp(-((sp(p[2]) * x) ** sp(p[3]))),
        "ilog2": lambda p, x: p[0] - sp(p[1]) / jnp.log(x + 1.0),
    }


CURVE_FAMILIES = ("pow3", "log_power", "vapor_pressure", "janoschek", "mmf", "weibull", "ilog2")
_N_PARAMS = 4


def _init_params(last: Any, first: Any) -> Any:
    """Starting points per family from each curve's first and last observed values: (n, K, 4)."""
    import jax.numpy as jnp

    n = last.shape[0]
    z = jnp.zeros(n)
    lg = jnp.log(jnp.clip(last, 1e-3, None))
    rows = {
        "pow3": [last + 0.05, z + 0.5, z, z],
        "log_power": [last + 0.05, z, z + 1.0, z],
        "vapor_pressure": [lg, z - 0.1, z, z],
        "janoschek": [last + 0.05, first, z - 2.0, z],
        "mmf": [last + 0.05, first, z - 2.0, z + 1.0],
        "weibull": [last + 0.05, first, z - 2.0, z],
        "ilog2": [last + 0.2, z - 1.0, z, z],
    }
    return jnp.stack([jnp.stack(rows[f], axis=-1) for f in CURVE_FAMILIES], axis=1)


def _lce_program(steps: int, lr: float) -> Any:
    import jax
    import jax.numpy as jnp
    import optax

    fams = _families()
    fns = [fams[f] for f in CURVE_FAMILIES]

    def predict_all(params: Any, x: Any) -> Any:  # params (K, 4), x (T,) -> (K, T)
        return jnp.stack([fns[k](params[k], x) for k in range(len(fns))])

    def loss(params: Any, x: Any, y: Any, m: Any) -> Any:  # one curve, every family
        r = (predict_all(params, x) - y[None, :]) * m[None, :]
        return jnp.sum(r**2) / jnp.maximum(m.sum(), 1.0)

    opt = optax.adam(lr)

    def fit_one(p0: Any, x: Any, y: Any, m: Any) -> Any:
        def step(carry: Any, _: Any) -> Any:
            p, s = carry
            g = jax.grad(loss)(p, x, y, m)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (p0, opt.init(p0)), None, length=steps)
        return p

    @jax.jit
    def program(p0: Any, x: Any, y: Any, m: Any, target: Any) -> Any:
        params = jax.vmap(fit_one, in_axes=(0, None, 0, 0))(p0, x, y, m)
        fit = jax.vmap(predict_all, in_axes=(0, None))(params, x)  # (n, K, T)
        mse = jnp.sum(((fit - y[:, None, :]) * m[:, None, :]) ** 2, axis=-1) / jnp.maximum(m.sum(-1), 1.0)[:, None]
        ext = jax.vmap(predict_all, in_axes=(0, None))(params, target[None])[..., 0]  # (n, K)
        return ext, mse

    return program


_LCE_CACHE: dict[tuple, Any] = {}


class LCEPredictor(_ScoreCurvePredictor):
    """Learning-curve extrapolation (after Domhan et al. 2015): each architecture's validation
    curve is fitted by every family of ``CURVE_FAMILIES`` (least squares, Adam, one batched jit
    program over architectures and families) and each fit extrapolated to ``target_epoch``. The
    families are mixed with equal weights (``weighting="uniform"``, default) or with weights
    proportional to their likelihood under Gaussian noise of each fit's own residual variance
    (``"likelihood"``). Mean and std of that mixture (plus the residual noise) are returned.
    Extrapolations are clipped to [last value seen, ``upper``]. On the 200 NB201 curves equal
    weights rank better: the four-parameter saturating families fit the first epochs' noise best
    and extrapolate worst (Kendall tau at 12 epochs 0.62 uniform, 0.46 by likelihood).

    Parameters
    ----------
    target_epoch : int, default 200; the epoch predicted
    curve : str, default "val_acc"
    upper : float, default 100; the largest possible value (accuracy in percent)
    steps : int, default 300; Adam steps per fit
    lr : float, default 0.1
    weighting : "uniform" or "likelihood", default "uniform"
    calibrate : bool, default False; map the extrapolation to the target by a line fitted on the
        training set (off: LCE needs no training set; fit only records settings)
    """

    name = "lce"
    has_uncertainty = True

    def __init__(
        self,
        target_epoch: int = 200,
        curve: str = "val_acc",
        upper: float = 100.0,
        steps: int = 300,
        lr: float = 0.1,
        weighting: str = "uniform",
        calibrate: bool = False,
    ) -> None:
        self.target_epoch = target_epoch
        self.curve = curve
        self.upper = upper
        self.steps = steps
        self.lr = lr
        self.weighting = weighting
        self.calibrate = calibrate

    def extrapolate(self, curves: PartialCurves) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) at ``target_epoch`` for every curve, shape (n,) each."""
        import jax.numpy as jnp

        for p in ("target_epoch", "steps"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InvalidValueError(f"The '{p}' parameter of LCEPredictor must be a positive int. Got {v!r}.")
        if self.weighting not in ("uniform", "likelihood"):
            raise InvalidValueError(
                f"The 'weighting' parameter of LCEPredictor must be 'uniform' or 'likelihood'. Got {self.weighting!r}."
            )
        curves.require(None, "LCEPredictor")
        _, a = _pick(curves, (self.curve,), "LCEPredictor")
        a = a[:, : int(curves.epochs.max())]  # only the epochs seen cost time
        if int(curves.epochs.max()) > self.target_epoch:
            raise CurveError(
                f"The fidelity ({int(curves.epochs.max())} epochs) is beyond the target epoch {self.target_epoch}."
            )
        scale = float(self.upper)
        n, t = a.shape
        m = np.arange(t)[None, :] < curves.epochs[:, None]
        y = np.where(m, a / scale, 0.0)
        last = y[np.arange(n), curves.epochs - 1]
        first = y[:, 0]
        key = (int(self.steps), float(self.lr))
        if key not in _LCE_CACHE:
            _LCE_CACHE[key] = _lce_program(int(self.steps), float(self.lr))
        pad = 1 << max(0, int(np.ceil(np.log2(max(n, 1)))))  # bucket rows: few shapes, few compiles
        rows = np.minimum(np.arange(pad), n - 1)
        x = jnp.arange(1, t + 1, dtype=jnp.float32)
        p0 = _init_params(jnp.asarray(last[rows], jnp.float32), jnp.asarray(first[rows], jnp.float32))
        ext, mse = _LCE_CACHE[key](
            p0, x, jnp.asarray(y[rows], jnp.float32), jnp.asarray(m[rows], jnp.float32), jnp.float32(self.target_epoch)
        )
        ext = np.asarray(ext, np.float64)[:n]
        mse = np.asarray(mse, np.float64)[:n]
        ok = np.isfinite(ext) & np.isfinite(mse)
        ext = np.clip(np.where(ok, ext, 0.0), last[:, None], 1.0)
        k = m.sum(axis=1)[:, None]
        var = np.maximum(np.where(ok, mse, np.inf), 1e-10)
        logw = np.where(ok, -0.5 * k * np.log(var) if self.weighting == "likelihood" else 0.0, -np.inf)
        logw -= logw.max(axis=1, keepdims=True)
        w = np.exp(logw)
        w /= w.sum(axis=1, keepdims=True)
        mean = (w * ext).sum(axis=1)
        noise = (w * np.where(ok, var, 0.0)).sum(axis=1)
        std = np.sqrt((w * (ext - mean[:, None]) ** 2).sum(axis=1) + noise)
        return mean * scale, std * scale

    def _score(self, c: PartialCurves) -> np.ndarray:
        return self.extrapolate(c)[0]

    def fit(self, X: Any, y: Any, curves: Any = None) -> LCEPredictor:
        if self.calibrate:
            return super().fit(X, y, curves)  # type: ignore[return-value]
        t = np.asarray(y, dtype=np.float64)
        if not np.isfinite(t).all():
            raise InvalidValueError(
                f"'y' holds a non-finite value at position {int(np.flatnonzero(~np.isfinite(t))[0])}."
            )
        self.slope_, self.intercept_, self.fallback_ = 1.0, 0.0, None
        return self

    def predict(self, X: Any, curves: Any = None, return_std: bool = False) -> Any:
        self._check_fitted()
        mean, std = self.extrapolate(_as_curves(X, curves))
        mean = self.slope_ * mean + self.intercept_
        return (mean, abs(self.slope_) * std) if return_std else mean


class LcSVRPredictor(Predictor, RegressorMixin, BaseEstimator):
    """LcSVR (Baker et al. 2017): support-vector regression on the partial curve (its last
    ``window`` values and their first and second differences, per curve) plus the encoding of the
    architecture; features standardised on the training set.

    Parameters
    ----------
    space : str, optional; needed to encode architectures (else no encoding features)
    encoding : str, default "adjacency_one_hot"
    window : int, default 5
    C, epsilon : SVR parameters on standardised targets (defaults 10 and 0.05)
    """

    name = "lcsvr"
    needs_curves = True

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        window: int = 5,
        C: float = 10.0,
        epsilon: float = 0.05,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.window = window
        self.C = C
        self.epsilon = epsilon

    def _features(self, X: Any, curves: Any) -> np.ndarray:
        c = _as_curves(X, curves)
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise InvalidValueError(
                f"The 'window' parameter of LcSVRPredictor must be a positive int. Got {self.window!r}."
            )
        c.require(self.window, "LcSVRPredictor")
        if int(c.epochs.min()) < self.window:
            raise CurveError(f"LcSVR's window of {self.window} epochs exceeds a fidelity of {int(c.epochs.min())}.")
        parts = []
        rows = np.arange(len(c))
        for name in sorted(c.values):
            a = c.values[name]
            idx = c.epochs[:, None] - self.window + np.arange(self.window)[None, :]
            w = a[rows[:, None], idx]
            d1 = np.diff(w, axis=1)
            parts += [w, d1, np.diff(d1, axis=1)]
        if X is not None and not isinstance(X, PartialCurves) and not is_architectures(X):
            enc = np.asarray(X, dtype=np.float64)  # an encoding already computed (any 2-D array-like)
            if enc.ndim != 2 or len(enc) != len(c):
                raise InvalidValueError(
                    f"X must be architectures or a matrix ({len(c)}, d). Got shape {enc.shape} instead."
                )
            parts.append(enc)
        elif self.space is not None and X is not None and not isinstance(X, PartialCurves):
            from ..encodings import encode

            parts.append(np.asarray(encode(self.space, self.encoding, X), dtype=np.float64))
        return np.concatenate(parts, axis=1)

    def fit(self, X: Any, y: Any, curves: Any = None) -> LcSVRPredictor:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVR

        f = self._features(X, curves)
        t = np.asarray(y, dtype=np.float64)
        if t.shape != (len(f),) or not np.isfinite(t).all():
            raise InvalidValueError(f"'y' must be ({len(f)},) finite values.")
        if len(t) < 2:
            raise InvalidValueError(f"LcSVRPredictor needs at least 2 training architectures. Got {len(t)}.")
        self.y_mean_, self.y_scale_ = float(t.mean()), float(t.std()) or 1.0
        self.model_ = make_pipeline(StandardScaler(), SVR(C=float(self.C), epsilon=float(self.epsilon)))
        self.model_.fit(f, (t - self.y_mean_) / self.y_scale_)
        self.n_features_in_ = f.shape[1]
        return self

    def predict(self, X: Any, curves: Any = None, return_std: bool = False) -> Any:
        self._check_fitted()
        if return_std:
            raise InvalidValueError("The lcsvr predictor has no uncertainty estimate.")
        f = self._features(X, curves)
        if f.shape[1] != self.n_features_in_:
            raise InvalidValueError(
                f"X gives {f.shape[1]} features; the predictor was fitted on {self.n_features_in_}."
            )
        return self.model_.predict(f) * self.y_scale_ + self.y_mean_
