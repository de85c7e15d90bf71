"""Performance predictors under the scikit-learn estimator contract (registry ``PREDICTORS``).

Feature-based: ``rf``, ``xgb``, ``lgb``, ``ngb``, ``gp``, ``blr`` on any encoding
(``adjacency_one_hot`` by default), with uncertainty from ``predict(X, return_std=True)`` where the
model has one (rf, ngb, gp, blr).

Learning-curve family (``needs_curves``: ``fit(X, y, curves=...)`` with
:class:`PartialCurves`): ``sotl``, ``sotl_e``, ``early_stop_acc``, ``early_stop_loss``, ``lce``
(parametric extrapolation, one batched jit program) and ``lcsvr``. ``omni``: a feature-based
predictor on the encoding plus curve features plus zero-cost scores, chosen by name or, by
default (``features="auto"``), from what ``fit`` gets (recorded in ``features_``).

Neural (flax + optax, ensembles trained as one vmapped program): ``gcn`` (Wen et al.'s
bidirectional GCN), ``gcn_two_stage`` (its classifier + regressor cascade), ``transformer`` (a
graph transformer: attention masked by the DAG's reachability both ways), ``bananas`` (an
ensemble of 5 MLPs on the path encoding) and ``mlp`` (one MLP on any encoding). With
``n_ensemble >= 2``, ``predict(X, return_std=True)`` gives the standard deviation over the members
(ddof=0); with one member it raises :class:`NoUncertaintyError`.

One-shot: ``oneshot`` (``pyengine.oneshot``): ``fit`` trains a weight-sharing supernet on images,
``predict`` scores architectures by their sub-networks with the inherited weights.

Blend: ``blend`` fits several of the predictors above on the same architectures and averages
their standardized predictions (by default the transformer, a 3-member ensemble, and XGBoost on
``graf`` features).

Bayesian, each fit one jit program: ``bohamiann`` (an MLP whose weights are sampled by
scale-adapted SGHMC) and ``sparse_gp`` (a sparse Gaussian process on inducing points, Titsias'
bound), with ``predict(X, return_std=True)``.

Semi-supervised and embedding-based (White et al.'s study): ``bonas`` (Bayesian linear regression
on the graph embedding of a GCN) and ``seminas`` (an encoder-predictor-decoder ensemble
self-trained on architectures drawn from the space and pseudo-labelled by itself), with
``predict(X, return_std=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    "Predictor",
    "PredictorTags",
    "get_tags",
    "FeaturePredictor",
    "RandomForestPredictor",
    "XGBoostPredictor",
    "LightGBMPredictor",
    "NGBoostPredictor",
    "GaussianProcessPredictor",
    "BayesianLinearPredictor",
    "NeuralPredictor",
    "GCNPredictor",
    "TwoStageGCNPredictor",
    "TransformerPredictor",
    "MLPPredictor",
    "DNGOPredictor",
    "BananasPredictor",
    "BohamiannPredictor",
    "SparseGPPredictor",
    "BONASPredictor",
    "SemiNASPredictor",
    "SoTLPredictor",
    "SoTLEPredictor",
    "EarlyStopAccPredictor",
    "EarlyStopLossPredictor",
    "LCEPredictor",
    "LcSVRPredictor",
    "LCEMPredictor",
    "OmniPredictor",
    "BlendPredictor",
    "BLEND_MEMBER_DEFAULTS",
    "ModelFileError",
    "NoUncertaintyError",
    "CurveError",
    "PartialCurves",
    "partial_curves",
    "point_curves",
    "FORMAT_VERSION",
    "read_header",
]
from ..errors import CurveError, ModelFileError, NoUncertaintyError
from ._base import Predictor, PredictorTags, get_tags
from ._blend import BLEND_MEMBER_DEFAULTS, BlendPredictor
from ._curves import (
    EarlyStopAccPredictor,
    EarlyStopLossPredictor,
    LCEPredictor,
    LcSVRPredictor,
    PartialCurves,
    SoTLEPredictor,
    SoTLPredictor,
    partial_curves,
    point_curves,
)
from ._omni import LCEMPredictor, OmniPredictor
from ._persist import FORMAT_VERSION, read_header

if TYPE_CHECKING:  # the neural predictors import flax and optax: loaded on first use (__getattr__)
    from ._bayes import BohamiannPredictor, SparseGPPredictor
    from ._gcn import GCNPredictor, TwoStageGCNPredictor
    from ._mlp import BananasPredictor, DNGOPredictor, MLPPredictor
    from ._nn import NeuralPredictor
    from ._semi import BONASPredictor, SemiNASPredictor
    from ._transformer import TransformerPredictor

_LAZY = {
    "BohamiannPredictor": "_bayes",
    "SparseGPPredictor": "_bayes",
    "GCNPredictor": "_gcn",
    "TwoStageGCNPredictor": "_gcn",
    "TransformerPredictor": "_transformer",
    "BananasPredictor": "_mlp",
    "DNGOPredictor": "_mlp",
    "MLPPredictor": "_mlp",
    "NeuralPredictor": "_nn",
    "BONASPredictor": "_semi",
    "SemiNASPredictor": "_semi",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


PREDICTORS: Registry[Any] = Registry("predictor")
_F = "pyengine.predictors._feature:"
PREDICTORS.register("rf", _F + "RandomForestPredictor", aliases=("random_forest",))
PREDICTORS.register("xgb", _F + "XGBoostPredictor", aliases=("xgboost",))
PREDICTORS.register("lgb", _F + "LightGBMPredictor", aliases=("lightgbm", "lgbm"))
PREDICTORS.register("ngb", _F + "NGBoostPredictor", aliases=("ngboost",))
PREDICTORS.register("gp", _F + "GaussianProcessPredictor")
PREDICTORS.register("blr", _F + "BayesianLinearPredictor", aliases=("bayesian_linear",))
PREDICTORS.register("gcn", "pyengine.predictors._gcn:GCNPredictor", aliases=("neural_predictor",))
PREDICTORS.register("gcn_two_stage", "pyengine.predictors._gcn:TwoStageGCNPredictor", aliases=("two_stage",))
PREDICTORS.register(
    "transformer", "pyengine.predictors._transformer:TransformerPredictor", aliases=("graph_transformer",)
)
PREDICTORS.register("bananas", "pyengine.predictors._mlp:BananasPredictor")
PREDICTORS.register("mlp", "pyengine.predictors._mlp:MLPPredictor")
PREDICTORS.register("dngo", "pyengine.predictors._mlp:DNGOPredictor")
PREDICTORS.register("oneshot", "pyengine.oneshot._predictor:OneShotPredictor", aliases=("one_shot", "supernet"))
PREDICTORS.register("bohamiann", "pyengine.predictors._bayes:BohamiannPredictor")
PREDICTORS.register("sparse_gp", "pyengine.predictors._bayes:SparseGPPredictor")
PREDICTORS.register("bonas", "pyengine.predictors._semi:BONASPredictor")
PREDICTORS.register("seminas", "pyengine.predictors._semi:SemiNASPredictor", aliases=("semi_nas",))
_C = "pyengine.predictors._curves:"
PREDICTORS.register("sotl", _C + "SoTLPredictor")
PREDICTORS.register("sotl_e", _C + "SoTLEPredictor")
PREDICTORS.register("early_stop_acc", _C + "EarlyStopAccPredictor", aliases=("early_stop",))
PREDICTORS.register("early_stop_loss", _C + "EarlyStopLossPredictor")
PREDICTORS.register("lce", _C + "LCEPredictor")
PREDICTORS.register("lcsvr", _C + "LcSVRPredictor")
PREDICTORS.register("lce_m", "pyengine.predictors._omni:LCEMPredictor", aliases=("lcem",))
PREDICTORS.register("omni", "pyengine.predictors._omni:OmniPredictor")
PREDICTORS.register("blend", "pyengine.predictors._blend:BlendPredictor")


def get_predictor(name: str, **params: Any) -> Any:
    """A fresh predictor registered as ``name`` with ``params``."""
    return PREDICTORS.create(name, **params)
