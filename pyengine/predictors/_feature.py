"""Feature-based predictors: tree ensembles, boosting, NGBoost, Gaussian processes and Bayesian
linear regression on any encoding, under the scikit-learn estimator contract."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import KFold, RandomizedSearchCV
from sklearn.utils.validation import _check_feature_names, check_array

from .._validation import check_int
from ..encodings import GraphBatch
from ..errors import InvalidTypeError, InvalidValueError, require
from ..metrics import kendall_tau
from ._base import Predictor
from ._contract import blas_threads, check_n_jobs, check_random_state, fit_threads, is_architectures
from ._fitted_models import _NGBoostArrays, _Trees, read_trees, write_trees
from ._persist import register_codec
from ._zc import ZeroCostInputs

log = logging.getLogger(__name__)


def _kendall_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return kendall_tau(y_true, y_pred)


class FeaturePredictor(ZeroCostInputs, Predictor, RegressorMixin, BaseEstimator):
    """Base of the feature-based predictors.

    Parameters
    ----------
    space : str or SearchSpace, optional
        Needed when ``fit`` / ``predict`` get architectures rather than a feature matrix.
    encoding : str, default "adjacency_one_hot"
        Encoding of architectures (a name in ``pyengine.encodings.ENCODINGS``).
    zc : tuple of str or comma-separated str, default ()
        Zero-cost scores appended to the features (names of ``pyengine.proxies.PROXIES``, e.g.
        ``("synflow", "params", "flops")``): given to ``fit`` / ``predict`` as ``zc={name: array
        (n,)}``, or computed from the architectures X (cached on disk); signed-log transformed
        and z-scored on the training set. See :mod:`pyengine.predictors._zc`.
    params : dict, optional
        Further keyword arguments of the underlying model (any of its parameters), over the
        defaults; a key that is also a parameter of the predictor must not be set both ways.
    defaults : "tuned" or "library", default "tuned"
        "tuned": this engine's defaults (chosen on NB201 and NB101 evaluator runs); "library": the
        underlying library's own defaults (the baseline NASLib-style comparisons use).
    tune : bool, default False
        Cross-validated random search over ``param_distributions`` (less what was set explicitly)
        on the training set only, scored by Kendall tau (skipped below 10 training architectures).
    n_iter : int, default 12
        Configurations tried when tuning.
    random_state : int, optional

    Notes
    -----
    Each subclass's model hyperparameters (``n_estimators``, ``max_depth``, ...) are parameters of
    its own, reachable by ``set_params`` and ``GridSearchCV``; None takes the default that
    ``defaults`` picks.

    ``fit(X, y, extra=None, zc=None)``: X is a feature matrix of shape (n, d) (any 2-D array-like: an array,
    a DataFrame, a list of lists) or architectures of ``space`` (a batch, strings or records);
    ``extra`` (n, m) holds further features appended to the encoding (zero-cost scores,
    learning-curve statistics), then the ``zc`` columns. ``predict(X, extra=None,
    return_std=False, zc=None)`` returns (n,)
    predictions, and their standard deviation where the model has one. ``score(X, y)`` is the
    Kendall tau of the predictions.
    """

    name = "feature"

    def _library(self) -> Any:
        """The model library this predictor's ``requires`` names, imported, or
        :class:`~pyengine.errors.MissingDependencyError` naming its extra."""
        ((module, extra),) = self.requires
        return require(module, extra=extra, needed_by=type(self).__name__)

    tuned: dict[str, Any] = {}
    param_distributions: dict[str, list[Any]] = {}
    hyperparameters: tuple[str, ...] = ()  # predictor parameters passed to the model under the same name

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.zc = zc
        self.params = params
        self.defaults = defaults
        self.tune = tune
        self.n_iter = n_iter
        self.random_state = random_state

    # -- what each model defines -------------------------------------------------------------------
    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        """The unfitted model with keyword arguments ``params``, for a fit on ``n_rows`` rows."""
        raise NotImplementedError

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        raise InvalidValueError(f"The {self.name} predictor has no uncertainty estimate; use one of rf, ngb, gp, blr.")

    # -- shared ----------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.params is not None and not isinstance(self.params, dict):
            raise InvalidTypeError(
                f"The 'params' parameter of {type(self).__name__} must be a dict or None. Got {self.params!r} instead."
            )
        if self.defaults not in ("tuned", "library"):
            raise InvalidValueError(
                f"The 'defaults' parameter of {type(self).__name__} must be 'tuned' or 'library'. "
                f"Got {self.defaults!r} instead."
            )
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) or self.n_iter < 1:
            raise InvalidValueError(
                f"The 'n_iter' parameter of {type(self).__name__} must be a positive int. Got {self.n_iter!r} instead."
            )
        check_random_state(self)
        if hasattr(self, "n_jobs"):
            check_n_jobs(self)
        self.zc_names()

    def _explicit(self) -> dict[str, Any]:
        """The model's keyword arguments set on this predictor: ``params`` and the hyperparameters
        that are not None."""
        given = {k: getattr(self, k) for k in self.hyperparameters if getattr(self, k) is not None}
        both = sorted(k for k in given if k in (self.params or {}) and (self.params or {})[k] != given[k])
        if both:
            raise InvalidValueError(
                f"{type(self).__name__} got {both[0]!r} both as a parameter ({given[both[0]]!r}) and in 'params' "
                f"({(self.params or {})[both[0]]!r}); set it one way."
            )
        return {**(self.params or {}), **given}

    def _features(self, x: Any, extra: Any, reset: bool, zc: Any = None) -> np.ndarray:
        archs = is_architectures(x)
        if archs:
            if self.space is None:
                raise InvalidValueError(
                    f"{type(self).__name__} got architectures but no 'space'; pass space=... or a feature matrix."
                )
            from ..encodings import encode

            enc = encode(self.space, self.encoding, x)
            if isinstance(enc, GraphBatch):
                raise InvalidValueError(
                    f"The {self.encoding!r} encoding gives graphs; feature predictors need vectors."
                )
            feats = np.asarray(enc, dtype=np.float64)
            if reset and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            if isinstance(x, GraphBatch):
                raise InvalidValueError(
                    f"{type(self).__name__} takes a feature matrix or architectures, not a GraphBatch."
                )
            _check_feature_names(self, x, reset=reset)
            if reset and hasattr(self, "feature_names_in_"):
                self.feature_names_in_ = np.asarray(self.feature_names_in_, dtype=str)  # storable without pickle
            feats = check_array(x, dtype=np.float64, ensure_min_samples=2 if reset else 1, input_name="X")
        if extra is not None:
            e = np.asarray(extra, dtype=np.float64)
            if e.ndim == 1:
                e = e[:, None]
            if e.ndim != 2 or e.shape[0] != feats.shape[0]:
                raise InvalidValueError(f"'extra' must have shape ({feats.shape[0]}, m). Got {e.shape} instead.")
            if not np.isfinite(e).all():
                r, c = (int(v) for v in np.argwhere(~np.isfinite(e))[0])
                raise InvalidValueError(f"'extra' holds NaN or infinity at row {r}, column {c}.")
            feats = np.concatenate([feats, e], axis=1)
        z = self._zc_features(x, zc, feats.shape[0], fit=reset, is_archs=archs)
        if z is not None:
            feats = np.concatenate([feats, z], axis=1)
        if not np.isfinite(feats).all():
            r, c = (int(v) for v in np.argwhere(~np.isfinite(feats))[0])
            raise InvalidValueError(f"Features hold NaN or infinity at row {r}, column {c}.")
        if not reset and feats.shape[1] != self.n_features_in_:
            raise InvalidValueError(
                f"X has {feats.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                "features as input."
            )
        return feats

    def fit(self, X: Any, y: Any, extra: Any = None, zc: Any = None) -> FeaturePredictor:
        self._validate_params()
        if y is None:
            raise InvalidValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        feats = self._features(X, extra, reset=True, zc=zc)
        target = np.asarray(y)
        if target.ndim == 2 and target.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is read as shape (n_samples,).",
                DataConversionWarning,
                stacklevel=2,
            )
            target = target.ravel()
        try:
            target = target.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidValueError(f"'y' must hold numbers. Got dtype {target.dtype} instead.") from None
        if target.shape != (feats.shape[0],):
            raise InvalidValueError(f"'y' must have shape ({feats.shape[0]},). Got {target.shape} instead.")
        if not np.isfinite(target).all():
            raise InvalidValueError(
                f"'y' holds a non-finite value at position {int(np.flatnonzero(~np.isfinite(target))[0])}."
            )
        if len(target) < 2:
            raise InvalidValueError(
                f"{type(self).__name__} needs at least 2 training architectures. Got {len(target)}."
            )
        explicit = self._explicit()
        params = {**(self.tuned if self.defaults == "tuned" else {}), **explicit}
        best = dict(params)
        n = len(target)
        with blas_threads(n):
            if self.tune and n >= 10 and self.param_distributions:
                search = RandomizedSearchCV(
                    self._make(params, n),
                    {k: v for k, v in self.param_distributions.items() if k not in explicit},
                    n_iter=self.n_iter,
                    cv=KFold(n_splits=3, shuffle=True, random_state=self.random_state),
                    scoring=make_scorer(_kendall_score),
                    random_state=self.random_state,
                    error_score=np.nan,
                )
                search.fit(feats, target)
                best = {**params, **search.best_params_}
            model = self._make(best, n)
            model.fit(feats, target)
        self.best_params_ = best
        self.model_ = model
        self.n_features_in_ = feats.shape[1]
        return self

    def predict(self, X: Any, extra: Any = None, return_std: bool = False, zc: Any = None) -> Any:
        self._check_fitted()
        feats = self._features(X, extra, reset=False, zc=zc)
        with blas_threads(len(feats)):
            mean = np.asarray(self.model_.predict(feats), dtype=np.float64).reshape(-1)
            if not return_std:
                return mean
            return mean, np.asarray(self._std(self.model_, feats), dtype=np.float64).reshape(-1)


class RandomForestPredictor(FeaturePredictor):
    """Random forest (scikit-learn); uncertainty is the spread of the trees' predictions.

    ``n_estimators``, ``max_depth``, ``max_features``, ``min_samples_split``, ``min_samples_leaf``
    and ``bootstrap`` are scikit-learn's ``RandomForestRegressor`` parameters (None: the default
    ``defaults`` picks; ``max_depth=None`` means unlimited depth unless ``params`` sets one).
    ``n_jobs``: threads (-1: every core this process may use; None: every such core, or one for
    training sets under 10,000 rows, where threads cost more than they save). Other parameters of
    the forest go in ``params``; see :class:`FeaturePredictor` for the rest.
    """

    name = "rf"
    has_uncertainty = True
    tuned = {"n_estimators": 500, "max_features": 0.33}
    param_distributions = {
        "n_estimators": [200, 500],
        "max_features": [0.2, 0.33, 0.5, 0.8, 1.0],
        "min_samples_leaf": [1, 2, 4],
        "max_depth": [None, 10, 20],
    }
    hyperparameters = (
        "n_estimators",
        "max_depth",
        "max_features",
        "min_samples_split",
        "min_samples_leaf",
        "bootstrap",
    )

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        n_estimators: int | None = None,
        max_depth: int | None = None,
        max_features: float | str | None = None,
        min_samples_split: int | float | None = None,
        min_samples_leaf: int | float | None = None,
        bootstrap: bool | None = None,
        n_jobs: int | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_features = max_features
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        kw = {"random_state": self.random_state, "n_jobs": fit_threads(self.n_jobs, n_rows), **params}
        return RandomForestRegressor(**kw)

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        if hasattr(model, "per_tree"):  # a forest restored from a file
            return model.per_tree(x).std(axis=0)
        per_tree = np.stack([t.predict(x) for t in model.estimators_])
        return per_tree.std(axis=0)


class XGBoostPredictor(FeaturePredictor):
    """Gradient-boosted trees (XGBoost); no uncertainty.

    ``n_estimators``, ``learning_rate``, ``max_depth``, ``subsample``, ``colsample_bytree``,
    ``min_child_weight``, ``gamma``, ``reg_alpha`` and ``reg_lambda`` are ``XGBRegressor``'s
    parameters (None: the default ``defaults`` picks). ``n_jobs``: threads (-1: every core this
    process may use; None: every such core, or one for training sets under 10,000 rows). Other
    parameters of XGBoost go in ``params``; see :class:`FeaturePredictor` for the rest.
    """

    name = "xgb"
    requires = (("xgboost", "boosting"),)
    tuned = {"n_estimators": 500, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8, "colsample_bytree": 0.8}
    param_distributions = {
        "n_estimators": [200, 500, 1000],
        "learning_rate": [0.01, 0.03, 0.05, 0.1],
        "max_depth": [3, 4, 6, 8],
        "subsample": [0.6, 0.8, 1.0],
        "colsample_bytree": [0.5, 0.8, 1.0],
        "min_child_weight": [1, 3, 5],
    }
    hyperparameters = (
        "n_estimators",
        "learning_rate",
        "max_depth",
        "subsample",
        "colsample_bytree",
        "min_child_weight",
        "gamma",
        "reg_alpha",
        "reg_lambda",
    )

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        n_estimators: int | None = None,
        learning_rate: float | None = None,
        max_depth: int | None = None,
        subsample: float | None = None,
        colsample_bytree: float | None = None,
        min_child_weight: float | None = None,
        gamma: float | None = None,
        reg_alpha: float | None = None,
        reg_lambda: float | None = None,
        n_jobs: int | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.gamma = gamma
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        XGBRegressor = self._library().XGBRegressor
        kw = {"random_state": self.random_state or 0, "n_jobs": fit_threads(self.n_jobs, n_rows), "verbosity": 0}
        return XGBRegressor(**{**kw, **params})


class LightGBMPredictor(FeaturePredictor):
    """Gradient-boosted trees (LightGBM); no uncertainty.

    ``n_estimators``, ``learning_rate``, ``num_leaves``, ``max_depth``, ``min_child_samples``,
    ``min_data_in_bin``, ``subsample``, ``subsample_freq``, ``colsample_bytree``, ``reg_alpha``
    and ``reg_lambda`` are ``LGBMRegressor``'s parameters (None: the default ``defaults`` picks).
    ``n_jobs``: threads (-1: every core this process may use; None: every such core, or one for
    training sets under 10,000 rows). Other parameters of LightGBM go in ``params``; see
    :class:`FeaturePredictor` for the rest.
    """

    name = "lgb"
    requires = (("lightgbm", "boosting"),)
    tuned = {
        "n_estimators": 500,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 1,
        "min_data_in_bin": 1,
        "reg_lambda": 1.0,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
    }
    param_distributions = {
        "n_estimators": [200, 500, 1000],
        "learning_rate": [0.01, 0.03, 0.05, 0.1],
        "num_leaves": [7, 15, 31],
        "min_child_samples": [2, 3, 5, 10, 20],
        "colsample_bytree": [0.5, 0.8, 1.0],
    }
    hyperparameters = (
        "n_estimators",
        "learning_rate",
        "num_leaves",
        "max_depth",
        "min_child_samples",
        "min_data_in_bin",
        "subsample",
        "subsample_freq",
        "colsample_bytree",
        "reg_alpha",
        "reg_lambda",
    )

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        n_estimators: int | None = None,
        learning_rate: float | None = None,
        num_leaves: int | None = None,
        max_depth: int | None = None,
        min_child_samples: int | None = None,
        min_data_in_bin: int | None = None,
        subsample: float | None = None,
        subsample_freq: int | None = None,
        colsample_bytree: float | None = None,
        reg_alpha: float | None = None,
        reg_lambda: float | None = None,
        n_jobs: int | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.min_data_in_bin = min_data_in_bin
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        LGBMRegressor = self._library().LGBMRegressor
        kw = {"random_state": self.random_state or 0, "n_jobs": fit_threads(self.n_jobs, n_rows), "verbose": -1}
        return LGBMRegressor(**{**kw, **params})


class NGBoostPredictor(FeaturePredictor):
    """NGBoost with a Normal output: the predicted scale is the uncertainty.

    ``n_estimators``, ``learning_rate``, ``minibatch_frac`` are ``NGBRegressor``'s parameters and
    ``max_depth`` its base trees' (None: the default ``defaults`` picks). NGBoost fits its stages
    one after another on single-threaded trees, so it has no ``n_jobs``. See
    :class:`FeaturePredictor` for the rest.
    """

    name = "ngb"
    requires = (("ngboost", "boosting"),)
    has_uncertainty = True
    tuned = {"n_estimators": 500, "learning_rate": 0.04, "max_depth": 4, "minibatch_frac": 1.0}
    param_distributions = {
        "n_estimators": [200, 500, 1000],
        "learning_rate": [0.01, 0.04, 0.1],
        "max_depth": [2, 3, 4, 6],
        "minibatch_frac": [0.5, 1.0],
    }
    hyperparameters = ("n_estimators", "learning_rate", "max_depth", "minibatch_frac")

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        n_estimators: int | None = None,
        learning_rate: float | None = None,
        max_depth: int | None = None,
        minibatch_frac: float | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.minibatch_frac = minibatch_frac

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        self._library()  # a missing ngboost is named before any work
        return _NGB(**{"random_state": self.random_state, **params})

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.scale(x)


class _NGB(RegressorMixin, BaseEstimator):
    """NGBRegressor with its tree depth as a plain parameter (so random search can tune it); the
    defaults here are NGBoost's own."""

    def __init__(self, n_estimators=500, learning_rate=0.01, max_depth=3, minibatch_frac=1.0, random_state=None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.minibatch_frac = minibatch_frac
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> _NGB:
        from ngboost import NGBRegressor
        from sklearn.tree import DecisionTreeRegressor

        base = DecisionTreeRegressor(criterion="friedman_mse", max_depth=self.max_depth, random_state=self.random_state)
        self.model_ = NGBRegressor(
            Base=base,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            minibatch_frac=self.minibatch_frac,
            random_state=self.random_state,
            verbose=False,
        )
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            try:
                self.model_.fit(x, y)
            except ValueError as err:
                if "NaN" not in str(err):
                    raise
                raise InvalidValueError(
                    "NGBoost diverged: its predicted scale collapsed to 0 on targets its trees fit exactly, "
                    "giving NaN gradients. Use fewer 'n_estimators' or a lower 'learning_rate'."
                ) from err
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.predict(x)

    def scale(self, x: np.ndarray) -> np.ndarray:
        """The predicted Normal's standard deviation."""
        return self.model_.pred_dist(x).params["scale"]


class GaussianProcessPredictor(FeaturePredictor):
    """Gaussian process (scikit-learn) with a Matern kernel plus noise, targets normalised.

    ``nu``: the Matern smoothness (0.5, 1.5 or 2.5; None: the default ``defaults`` picks);
    ``ard=True`` gives each feature its own length scale. ``optimizer_rows`` bounds the fit's
    cost: with more training rows than that, the kernel's hyperparameters are fitted on a random
    subset of that many rows (drawn from ``random_state``) and the posterior is then conditioned on
    every row with them (None: 1,000; the marginal likelihood's optimisation costs O(n^3) per step,
    about 100 s at 2,000 rows with ``ard=True`` on 2 cores). See :class:`FeaturePredictor` for the
    rest.
    """

    name = "gp"
    has_uncertainty = True
    tuned = {"nu": 2.5}
    param_distributions = {"nu": [0.5, 1.5, 2.5], "ard": [False, True]}
    hyperparameters = ("nu", "ard", "optimizer_rows")

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        nu: float | None = None,
        ard: bool | None = None,
        optimizer_rows: int | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.nu = nu
        self.ard = ard
        self.optimizer_rows = optimizer_rows

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self.optimizer_rows, "optimizer_rows", type(self).__name__, minimum=2, allow_none=True)

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        return _GP(**{"random_state": self.random_state, **params})

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.model_.predict(x, return_std=True)[1]


# rows the Gaussian process's kernel hyperparameters are fitted on at most (GaussianProcessPredictor's
# ``optimizer_rows=None``, and files written before the parameter existed)
GP_OPTIMIZER_ROWS = 1000


class _GP(RegressorMixin, BaseEstimator):
    def __init__(self, nu=2.5, ard=False, optimizer_rows=GP_OPTIMIZER_ROWS, random_state=None):
        self.nu = nu
        self.ard = ard
        self.optimizer_rows = optimizer_rows
        self.random_state = random_state

    @staticmethod
    def kernel(nu: float, dims: int | None = None) -> Any:
        """The kernel before fitting: a scaled Matern plus white noise; with ``dims``, one length
        scale per feature (automatic relevance determination)."""
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        scale: Any = 3.0 if dims is None else np.full(dims, 3.0)
        return ConstantKernel(1.0) * Matern(length_scale=scale, length_scale_bounds=(1e-2, 1e3), nu=nu) + WhiteKernel(
            0.1
        )

    def fit(self, x: np.ndarray, y: np.ndarray) -> _GP:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.utils import check_random_state as sklearn_rng

        kernel = self.kernel(self.nu, x.shape[1] if self.ard else None)
        rng = sklearn_rng(self.random_state)
        model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=rng, n_restarts_optimizer=1)
        with warnings.catch_warnings():  # a hyperparameter at its bound is an answer, not a failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            if len(x) <= self.optimizer_rows:
                self.model_ = model.fit(x, y)
            else:
                rows = np.sort(rng.choice(len(x), self.optimizer_rows, replace=False))
                tuned = model.fit(x[rows], y[rows]).kernel_
                # every row, the hyperparameters kept: one O(n^3) factorisation
                self.model_ = GaussianProcessRegressor(tuned, normalize_y=True, optimizer=None).fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.predict(x)


class BayesianLinearPredictor(FeaturePredictor):
    """Bayesian linear regression (scikit-learn's BayesianRidge); predictive std as uncertainty.

    ``max_iter``, ``tol``, ``alpha_1``, ``alpha_2``, ``lambda_1`` and ``lambda_2`` are
    ``BayesianRidge``'s parameters (None: its defaults). See :class:`FeaturePredictor` for the rest.
    """

    name = "blr"
    has_uncertainty = True
    tuned: dict[str, Any] = {}
    param_distributions = {"alpha_1": [1e-6, 1e-4, 1e-2], "lambda_1": [1e-6, 1e-4, 1e-2]}
    hyperparameters = ("max_iter", "tol", "alpha_1", "alpha_2", "lambda_1", "lambda_2")

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        *,
        max_iter: int | None = None,
        tol: float | None = None,
        alpha_1: float | None = None,
        alpha_2: float | None = None,
        lambda_1: float | None = None,
        lambda_2: float | None = None,
        zc: str | Sequence[str] = (),
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space,
            encoding,
            zc=zc,
            params=params,
            defaults=defaults,
            tune=tune,
            n_iter=n_iter,
            random_state=random_state,
        )
        self.max_iter = max_iter
        self.tol = tol
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2

    def _make(self, params: dict[str, Any], n_rows: int) -> Any:
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge(**params)

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x, return_std=True)[1]

    def fit(self, X: Any, y: Any, extra: Any = None, zc: Any = None) -> BayesianLinearPredictor:
        super().fit(X, y, extra, zc=zc)
        self.n_iter_ = int(self.model_.n_iter_)  # iterations BayesianRidge ran (its max_iter caps them)
        return self


# -- model-file codecs of the wrappers above -----------------------------------------------------
def _encode_ngboost(w: Any, v: Any, key: str) -> dict[str, Any]:
    if isinstance(v, _NGB):
        m = v.model_
        trees = _Trees.from_sklearn([t for stage in m.base_models for t in stage])
        init, scal = np.asarray(m.init_params, np.float64), np.asarray(m.scalings, np.float64)
        cols, lr = np.asarray(m.col_idxs, np.int64), float(m.learning_rate)
    else:
        trees, init, scal, cols, lr = v.trees, v.init, v.scalings, v.columns, v.lr
    return {
        "trees": write_trees(w, trees, key),
        "init": w.array(f"{key}/init", init),
        "scalings": w.array(f"{key}/scalings", scal),
        "columns": w.array(f"{key}/columns", cols),
        "learning_rate": lr,
    }


def _decode_ngboost(r: Any, v: dict[str, Any]) -> _NGBoostArrays:
    arrays = (r.array(v[k]) for k in ("init", "scalings", "columns"))
    return _NGBoostArrays(read_trees(r, v["trees"]), *arrays, float(v["learning_rate"]))


register_codec("ngboost", lambda v: isinstance(v, (_NGB, _NGBoostArrays)), _encode_ngboost, _decode_ngboost)

_GP_ARRAYS = ("X_train_", "y_train_", "alpha_", "L_")


def _encode_gp(w: Any, v: _GP, key: str) -> dict[str, Any]:
    gp = v.model_
    return {
        "nu": float(v.nu),
        "ard": bool(v.ard),
        "optimizer_rows": int(v.optimizer_rows),
        "theta": w.array(f"{key}/theta", gp.kernel_.theta),
        "y_mean": w.array(f"{key}/y_mean", np.asarray(gp._y_train_mean)),
        "y_std": w.array(f"{key}/y_std", np.asarray(gp._y_train_std)),
        **{n: w.array(f"{key}/{n}", getattr(gp, n)) for n in _GP_ARRAYS},
    }


def _decode_gp(r: Any, v: dict[str, Any]) -> _GP:
    from sklearn.gaussian_process import GaussianProcessRegressor

    rows = int(v.get("optimizer_rows", GP_OPTIMIZER_ROWS))
    gp_est = _GP(nu=float(v["nu"]), ard=bool(v.get("ard", False)), optimizer_rows=rows)
    dims = r.array(v["X_train_"]).shape[1] if gp_est.ard else None
    gp = GaussianProcessRegressor(_GP.kernel(gp_est.nu, dims), normalize_y=True)
    gp.kernel_ = gp.kernel.clone_with_theta(r.array(v["theta"]))
    for n in _GP_ARRAYS:
        setattr(gp, n, r.array(v[n]))
    gp._y_train_mean = r.array(v["y_mean"])
    gp._y_train_std = r.array(v["y_std"])
    gp.n_features_in_ = gp.X_train_.shape[1]
    gp_est.model_ = gp
    return gp_est


register_codec("gp", lambda v: isinstance(v, _GP), _encode_gp, _decode_gp)
