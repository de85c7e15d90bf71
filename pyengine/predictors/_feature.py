"""Feature-based predictors: tree ensembles, boosting, NGBoost, Gaussian processes and Bayesian
linear regression on any encoding, under the scikit-learn estimator contract."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import make_scorer
from sklearn.model_selection import KFold, RandomizedSearchCV

from ..metrics import kendall_tau

__all__ = [
    "FeaturePredictor",
    "RandomForestPredictor",
    "XGBoostPredictor",
    "LightGBMPredictor",
    "NGBoostPredictor",
    "GaussianProcessPredictor",
    "BayesianLinearPredictor",
]

log = logging.getLogger(__name__)


def _kendall_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return kendall_tau(y_true, y_pred)


class FeaturePredictor(RegressorMixin, BaseEstimator):
    """Base of the feature-based predictors.

    Parameters
    ----------
    space : str or SearchSpace, optional
        Needed when ``fit`` / ``predict`` get architectures rather than a feature matrix.
    encoding : str, default "adjacency_one_hot"
        Encoding of architectures (a name in ``pyengine.encodings.ENCODINGS``).
    params : dict, optional
        Hyperparameters of the underlying model, over the defaults.
    defaults : "tuned" or "library", default "tuned"
        "tuned": this engine's defaults (chosen on NB201 and NB101 evaluator runs); "library": the
        underlying library's own defaults (the baseline NASLib-style comparisons use).
    tune : bool, default False
        Cross-validated random search over ``param_distributions`` on the training set only,
        scored by Kendall tau (skipped below 10 training architectures).
    n_iter : int, default 12
        Configurations tried when tuning.
    random_state : int, optional

    ``fit(X, y, extra=None)``: X is a feature matrix of shape (n, d) or architectures of
    ``space`` (a batch, strings or records); ``extra`` (n, m) holds further features appended to
    the encoding (zero-cost scores, learning-curve statistics). ``predict(X, extra=None,
    return_std=False)`` returns (n,) predictions, and their standard deviation where the model has
    one.
    """

    name = "feature"
    has_uncertainty = False
    tuned: dict[str, Any] = {}
    param_distributions: dict[str, list[Any]] = {}

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        params: dict[str, Any] | None = None,
        defaults: str = "tuned",
        tune: bool = False,
        n_iter: int = 12,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.params = params
        self.defaults = defaults
        self.tune = tune
        self.n_iter = n_iter
        self.random_state = random_state

    # -- what each model defines -------------------------------------------------------------------
    def _make(self, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        raise ValueError(f"The {self.name} predictor has no uncertainty estimate; use one of rf, ngb, gp, blr.")

    # -- shared ----------------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if self.params is not None and not isinstance(self.params, dict):
            raise TypeError(f"The 'params' parameter of {type(self).__name__} must be a dict. Got {self.params!r}.")
        if self.defaults not in ("tuned", "library"):
            raise ValueError(
                f"The 'defaults' parameter of {type(self).__name__} must be 'tuned' or 'library'. "
                f"Got {self.defaults!r}."
            )
        if not isinstance(self.n_iter, int) or self.n_iter < 1:
            raise ValueError(
                f"The 'n_iter' parameter of {type(self).__name__} must be a positive int. Got {self.n_iter!r}."
            )
        if self.random_state is not None and not isinstance(self.random_state, (int, np.integer)):
            raise TypeError(f"The 'random_state' parameter of {type(self).__name__} must be an int or None.")

    def _features(self, x: Any, extra: Any) -> np.ndarray:
        if isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype.kind in "fiub":
            feats = x.astype(np.float64)
        else:
            if self.space is None:
                raise ValueError(
                    f"{type(self).__name__} got architectures but no 'space'; pass space=... or a feature matrix."
                )
            from ..encodings import GraphBatch, encode

            enc = encode(self.space, self.encoding, x)
            if isinstance(enc, GraphBatch):
                raise ValueError(f"The {self.encoding!r} encoding gives graphs; feature predictors need vectors.")
            feats = np.asarray(enc, dtype=np.float64)
        if extra is not None:
            e = np.asarray(extra, dtype=np.float64)
            if e.ndim == 1:
                e = e[:, None]
            if e.ndim != 2 or e.shape[0] != feats.shape[0]:
                raise ValueError(f"'extra' must have shape ({feats.shape[0]}, m). Got {e.shape} instead.")
            feats = np.concatenate([feats, e], axis=1)
        if not np.isfinite(feats).all():
            r, c = (int(v) for v in np.argwhere(~np.isfinite(feats))[0])
            raise ValueError(f"Features hold a non-finite value at row {r}, column {c}.")
        return feats

    def fit(self, X: Any, y: Any, extra: Any = None) -> FeaturePredictor:
        self._validate_params()
        feats = self._features(X, extra)
        target = np.asarray(y, dtype=np.float64)
        if target.shape != (feats.shape[0],):
            raise ValueError(f"'y' must have shape ({feats.shape[0]},). Got {target.shape} instead.")
        if not np.isfinite(target).all():
            raise ValueError(
                f"'y' holds a non-finite value at position {int(np.flatnonzero(~np.isfinite(target))[0])}."
            )
        if len(target) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 training architectures. Got {len(target)}.")
        params = {**(self.tuned if self.defaults == "tuned" else {}), **(self.params or {})}
        self.best_params_ = dict(params)
        if self.tune and len(target) >= 10 and self.param_distributions:
            search = RandomizedSearchCV(
                self._make(params),
                {k: v for k, v in self.param_distributions.items() if k not in (self.params or {})},
                n_iter=self.n_iter,
                cv=KFold(n_splits=3, shuffle=True, random_state=self.random_state),
                scoring=make_scorer(_kendall_score),
                random_state=self.random_state,
                error_score=np.nan,
            )
            search.fit(feats, target)
            self.best_params_ = {**params, **search.best_params_}
        self.model_ = self._make(self.best_params_)
        self.model_.fit(feats, target)
        self.n_features_in_ = feats.shape[1]
        return self

    def predict(self, X: Any, extra: Any = None, return_std: bool = False) -> Any:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(X, y) first.")
        feats = self._features(X, extra)
        if feats.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {feats.shape[1]} features; the predictor was fitted on {self.n_features_in_}.")
        mean = np.asarray(self.model_.predict(feats), dtype=np.float64).reshape(-1)
        if not return_std:
            return mean
        return mean, np.asarray(self._std(self.model_, feats), dtype=np.float64).reshape(-1)

    def save(self, path: Any) -> None:
        """Write the fitted predictor to exactly ``path`` (format: ``pyengine.predictors._persist``);
        ``pyengine.load(path)`` reads it back."""
        from ._persist import save_predictor

        save_predictor(self, path)


class RandomForestPredictor(FeaturePredictor):
    """Random forest (scikit-learn); uncertainty is the spread of the trees' predictions."""

    name = "rf"
    has_uncertainty = True
    tuned = {"n_estimators": 500, "max_features": 0.33}
    param_distributions = {
        "n_estimators": [200, 500],
        "max_features": [0.2, 0.33, 0.5, 0.8, 1.0],
        "min_samples_leaf": [1, 2, 4],
        "max_depth": [None, 10, 20],
    }

    def _make(self, params: dict[str, Any]) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(random_state=self.random_state, n_jobs=-1, **params)

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        if hasattr(model, "per_tree"):  # a forest restored from a file
            return model.per_tree(x).std(axis=0)
        per_tree = np.stack([t.predict(x) for t in model.estimators_])
        return per_tree.std(axis=0)


class XGBoostPredictor(FeaturePredictor):
    """Gradient-boosted trees (XGBoost); no uncertainty."""

    name = "xgb"
    tuned = {"n_estimators": 500, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8, "colsample_bytree": 0.8}
    param_distributions = {
        "n_estimators": [200, 500, 1000],
        "learning_rate": [0.01, 0.03, 0.05, 0.1],
        "max_depth": [3, 4, 6, 8],
        "subsample": [0.6, 0.8, 1.0],
        "colsample_bytree": [0.5, 0.8, 1.0],
        "min_child_weight": [1, 3, 5],
    }

    def _make(self, params: dict[str, Any]) -> Any:
        from xgboost import XGBRegressor

        return XGBRegressor(random_state=self.random_state or 0, n_jobs=2, verbosity=0, **params)


class LightGBMPredictor(FeaturePredictor):
    """Gradient-boosted trees (LightGBM); no uncertainty."""

    name = "lgb"
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

    def _make(self, params: dict[str, Any]) -> Any:
        from lightgbm import LGBMRegressor

        return LGBMRegressor(random_state=self.random_state or 0, n_jobs=2, verbose=-1, **params)


class NGBoostPredictor(FeaturePredictor):
    """NGBoost with a Normal output: the predicted scale is the uncertainty."""

    name = "ngb"
    has_uncertainty = True
    tuned = {"n_estimators": 500, "learning_rate": 0.04, "max_depth": 4, "minibatch_frac": 1.0}
    param_distributions = {
        "n_estimators": [200, 500, 1000],
        "learning_rate": [0.01, 0.04, 0.1],
        "max_depth": [2, 3, 4, 6],
        "minibatch_frac": [0.5, 1.0],
    }

    def _make(self, params: dict[str, Any]) -> Any:
        return _NGB(random_state=self.random_state, **params)

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
        self.model_.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.predict(x)

    def scale(self, x: np.ndarray) -> np.ndarray:
        """The predicted Normal's standard deviation."""
        return self.model_.pred_dist(x).params["scale"]


class GaussianProcessPredictor(FeaturePredictor):
    """Gaussian process (scikit-learn) with a Matern kernel plus noise, targets normalised;
    ``params={"ard": True}`` gives each feature its own length scale."""

    name = "gp"
    has_uncertainty = True
    tuned = {"nu": 2.5}
    param_distributions = {"nu": [0.5, 1.5, 2.5], "ard": [False, True]}

    def _make(self, params: dict[str, Any]) -> Any:
        return _GP(random_state=self.random_state, **params)

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.model_.predict(x, return_std=True)[1]


class _GP(RegressorMixin, BaseEstimator):
    def __init__(self, nu=2.5, ard=False, random_state=None):
        self.nu = nu
        self.ard = ard
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

        kernel = self.kernel(self.nu, x.shape[1] if self.ard else None)
        self.model_ = GaussianProcessRegressor(
            kernel, normalize_y=True, random_state=self.random_state, n_restarts_optimizer=1
        )
        with warnings.catch_warnings():  # a hyperparameter at its bound is an answer, not a failure
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.predict(x)


class BayesianLinearPredictor(FeaturePredictor):
    """Bayesian linear regression (scikit-learn's BayesianRidge); predictive std as uncertainty."""

    name = "blr"
    has_uncertainty = True
    tuned: dict[str, Any] = {}
    param_distributions = {"alpha_1": [1e-6, 1e-4, 1e-2], "lambda_1": [1e-6, 1e-4, 1e-2]}

    def _make(self, params: dict[str, Any]) -> Any:
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge(**params)

    def _std(self, model: Any, x: np.ndarray) -> np.ndarray:
        return model.predict(x, return_std=True)[1]
