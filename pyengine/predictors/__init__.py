"""Performance predictors under the scikit-learn estimator contract (registry ``PREDICTORS``).

Feature-based: ``rf``, ``xgb``, ``lgb``, ``ngb``, ``gp``, ``blr`` on any encoding
(``adjacency_one_hot`` by default), with uncertainty from ``predict(X, return_std=True)`` where the
model has one (rf, ngb, gp, blr).
"""

from __future__ import annotations

from typing import Any

from .._registry import Registry
from ._feature import (
    BayesianLinearPredictor,
    FeaturePredictor,
    GaussianProcessPredictor,
    LightGBMPredictor,
    NGBoostPredictor,
    RandomForestPredictor,
    XGBoostPredictor,
)

__all__ = [
    "PREDICTORS",
    "get_predictor",
    "FeaturePredictor",
    "RandomForestPredictor",
    "XGBoostPredictor",
    "LightGBMPredictor",
    "NGBoostPredictor",
    "GaussianProcessPredictor",
    "BayesianLinearPredictor",
]

PREDICTORS: Registry[Any] = Registry("predictor")
_F = "pyengine.predictors._feature:"
PREDICTORS.register("rf", _F + "RandomForestPredictor", aliases=("random_forest",))
PREDICTORS.register("xgb", _F + "XGBoostPredictor", aliases=("xgboost",))
PREDICTORS.register("lgb", _F + "LightGBMPredictor", aliases=("lightgbm", "lgbm"))
PREDICTORS.register("ngb", _F + "NGBoostPredictor", aliases=("ngboost",))
PREDICTORS.register("gp", _F + "GaussianProcessPredictor")
PREDICTORS.register("blr", _F + "BayesianLinearPredictor", aliases=("bayesian_linear",))


def get_predictor(name: str, **params: Any) -> Any:
    """A fresh predictor registered as ``name`` with ``params``."""
    return PREDICTORS.create(name, **params)
