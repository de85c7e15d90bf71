"""The fitted scikit-learn and boosting models inside feature and curve predictors, as a model
file holds them: their codecs (registered with :mod:`._persist` at import) and the array forms
they load back as.

A random forest or NGBoost model is saved as its trees' node arrays and loads back as
:class:`_Forest` / :class:`_NGBoostArrays`, walked by numpy; an XGBoost model as its UBJSON
bytes, a LightGBM one as its model string, an RBF-SVR pipeline as its support vectors
(:class:`_RBFSVR`), a ``BayesianRidge`` as its coefficients. Nothing is unpickled. The modules
whose predictors hold these models import this one, so loading any of them registers its codecs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidTypeError, InvalidValueError, ModelFileError, require
from ._persist import register_codec


class _Trees:
    """Decision trees (scikit-learn's regression trees) as concatenated node arrays.

    left, right : int32 (n_nodes,) global child indices, -1 at leaves
    feature : int32 (n_nodes,); threshold : float64 (n_nodes,); value : float64 (n_nodes,)
    roots : int64 (n_trees,) the root node of each tree
    A row goes left when its feature, cast to float32 as scikit-learn does, is <= the threshold.
    """

    def __init__(self, left, right, feature, threshold, value, roots) -> None:
        self.left, self.right, self.feature = left, right, feature
        self.threshold, self.value, self.roots = threshold, value, roots

    @classmethod
    def from_sklearn(cls, trees: list[Any]) -> _Trees:
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("left", "right", "feature", "threshold", "value")}
        roots, offset = [], 0
        for t in trees:
            tree = t.tree_
            if tree.n_outputs != 1:
                raise InvalidValueError("Only single-output regression trees can be saved.")
            roots.append(offset)
            for k, a in (("left", tree.children_left), ("right", tree.children_right)):
                parts[k].append(np.where(a >= 0, a + offset, -1).astype(np.int32))
            parts["feature"].append(np.maximum(tree.feature, 0).astype(np.int32))
            parts["threshold"].append(tree.threshold.astype(np.float64))
            parts["value"].append(tree.value.reshape(tree.node_count, -1)[:, 0].astype(np.float64))
            offset += tree.node_count
        return cls(*(np.concatenate(parts[k]) for k in parts), np.asarray(roots, np.int64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("left", "right", "feature", "threshold", "value", "roots")}

    def predict(self, x: np.ndarray, trees: Any = None) -> np.ndarray:
        """Predictions of the given trees (default all), shape (n_trees, n_rows)."""
        x32 = np.asarray(x, np.float32)
        roots = self.roots if trees is None else self.roots[trees]
        rows = np.arange(len(x32))
        out = np.empty((len(roots), len(x32)))
        for i, root in enumerate(roots):
            node = np.full(len(x32), root, np.int64)
            while True:
                inner = self.left[node] >= 0
                if not inner.any():
                    break
                go_left = x32[rows, self.feature[node]] <= self.threshold[node]
                nxt = np.where(go_left, self.left[node], self.right[node])
                node = np.where(inner, nxt, node)
            out[i] = self.value[node]
        return out


class _Forest:
    """A random forest restored from a file: the mean of its trees, and their spread."""

    def __init__(self, trees: _Trees) -> None:
        self.trees = trees

    def per_tree(self, x: np.ndarray) -> np.ndarray:
        return self.trees.predict(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.per_tree(x).mean(axis=0)


class _NGBoostArrays:
    """An NGBoost Normal regressor restored from a file (its trees, scalings and columns)."""

    def __init__(self, trees: _Trees, init: np.ndarray, scalings: np.ndarray, columns: np.ndarray, lr: float) -> None:
        self.trees, self.init, self.scalings, self.columns, self.lr = trees, init, scalings, columns, lr

    def params(self, x: np.ndarray) -> np.ndarray:
        out = np.ones((len(x), len(self.init))) * self.init
        k = len(self.init)
        for i, s in enumerate(self.scalings):
            resid = self.trees.predict(x[:, self.columns[i]], np.arange(i * k, (i + 1) * k)).T
            out -= self.lr * resid * s
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.params(x)[:, 0]

    def scale(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.params(x)[:, 1])


class _LightGBMBooster:
    """A LightGBM model restored from its model string."""

    def __init__(self, text: str) -> None:
        lightgbm = require("lightgbm", extra="boosting", needed_by="A saved LightGBM predictor")
        self.text = text
        self.booster = lightgbm.Booster(model_str=text)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.booster.predict(x)


class _RBFSVR:
    """A standardise-then-RBF-SVR pipeline restored from a file (its support vectors)."""

    def __init__(self, mean, scale, sv, coef, intercept: float, gamma: float) -> None:
        self.mean, self.scale, self.sv, self.coef = mean, scale, sv, coef
        self.intercept, self.gamma = intercept, gamma

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float64) - self.mean) / self.scale
        d2 = (z**2).sum(1)[:, None] + (self.sv**2).sum(1)[None, :] - 2.0 * z @ self.sv.T
        return np.exp(-self.gamma * np.maximum(d2, 0.0)) @ self.coef + self.intercept


def _is(v: Any, module: str, name: str) -> bool:
    """``v`` is an instance of the class ``name`` of the library ``module`` (not imported here)."""
    return type(v).__name__ == name and type(v).__module__.split(".")[0] == module


def write_trees(w: Any, t: _Trees, key: str) -> dict[str, Any]:
    """The header entry of a tree ensemble's node arrays (written to ``w`` under ``key``)."""
    return {k: w.array(f"{key}/trees/{k}", a)["key"] for k, a in t.arrays().items()}


def read_trees(r: Any, refs: dict[str, str]) -> _Trees:
    """A tree ensemble from its node arrays, checked for consistent lengths and indices."""
    names = ("left", "right", "feature", "threshold", "value", "roots")
    t = _Trees(*(r.array(refs[k]) for k in names))
    n = len(t.left)
    if not all(len(a) == n for a in (t.right, t.feature, t.threshold, t.value)) or (
        len(t.roots) and (t.roots.max() >= n or max(t.left.max(), t.right.max()) >= n)
    ):
        raise ModelFileError("The tree arrays of the file do not agree in length.")
    return t


def _encode_forest(w: Any, v: Any, key: str) -> dict[str, Any]:
    trees = v.trees if isinstance(v, _Forest) else _Trees.from_sklearn(v.estimators_)
    return {"trees": write_trees(w, trees, key)}


register_codec(
    "forest",
    lambda v: isinstance(v, _Forest) or _is(v, "sklearn", "RandomForestRegressor"),
    _encode_forest,
    lambda r, v: _Forest(read_trees(r, v["trees"])),
)


def _encode_xgboost(w: Any, v: Any, key: str) -> dict[str, Any]:
    raw = np.frombuffer(bytes(v.get_booster().save_raw(raw_format="ubj")), np.uint8)
    return {"model": w.array(f"{key}/ubj", raw)}


def _decode_xgboost(r: Any, v: dict[str, Any]) -> Any:
    xgboost = require("xgboost", extra="boosting", needed_by="A saved XGBoost predictor")
    m = xgboost.XGBRegressor()
    m.load_model(bytearray(r.array(v["model"]).tobytes()))
    return m


register_codec("xgboost", lambda v: _is(v, "xgboost", "XGBRegressor"), _encode_xgboost, _decode_xgboost)


def _encode_lightgbm(w: Any, v: Any, key: str) -> dict[str, Any]:
    text = v.text if isinstance(v, _LightGBMBooster) else v.booster_.model_to_string()
    return {"model": w.array(f"{key}/text", np.frombuffer(text.encode(), np.uint8))}


register_codec(
    "lightgbm",
    lambda v: isinstance(v, _LightGBMBooster) or _is(v, "lightgbm", "LGBMRegressor"),
    _encode_lightgbm,
    lambda r, v: _LightGBMBooster(r.array(v["model"]).tobytes().decode()),
)


def _encode_svr(w: Any, v: Any, key: str) -> dict[str, Any]:
    if isinstance(v, _RBFSVR):
        mean, scale, sv, coef, b, gamma = v.mean, v.scale, v.sv, v.coef, v.intercept, v.gamma
    else:
        steps = [type(m).__name__ for _, m in v.steps]
        svr = v.steps[-1][1]
        if steps != ["StandardScaler", "SVR"] or svr.kernel != "rbf":
            raise InvalidTypeError(f"Cannot save a pipeline of {steps} ({key}).")
        sc = v.steps[0][1]
        mean, scale = sc.mean_, sc.scale_
        sv, coef, b, gamma = svr.support_vectors_, svr.dual_coef_[0], float(svr.intercept_[0]), svr._gamma
    return {
        "mean": w.array(f"{key}/mean", mean),
        "scale": w.array(f"{key}/scale", scale),
        "support_vectors": w.array(f"{key}/support_vectors", sv),
        "dual_coef": w.array(f"{key}/dual_coef", coef),
        "intercept": float(b),
        "gamma": float(gamma),
    }


def _decode_svr(r: Any, v: dict[str, Any]) -> _RBFSVR:
    arrays = (r.array(v[k]) for k in ("mean", "scale", "support_vectors", "dual_coef"))
    return _RBFSVR(*arrays, float(v["intercept"]), float(v["gamma"]))


register_codec("svr", lambda v: isinstance(v, _RBFSVR) or _is(v, "sklearn", "Pipeline"), _encode_svr, _decode_svr)

_BLR_ARRAYS = ("coef_", "sigma_")


def _encode_blr(w: Any, v: Any, key: str) -> dict[str, Any]:
    return {
        "params": w.value(v.get_params(), f"{key}/params"),
        "intercept": float(v.intercept_),
        "alpha": float(v.alpha_),
        "lambda": float(v.lambda_),
        **{n: w.array(f"{key}/{n}", getattr(v, n)) for n in _BLR_ARRAYS},
    }


def _decode_blr(r: Any, v: dict[str, Any]) -> Any:
    from sklearn.linear_model import BayesianRidge

    m = BayesianRidge(**r.value(v["params"]))
    m.coef_, m.sigma_ = r.array(v["coef_"]), r.array(v["sigma_"])
    m.intercept_, m.alpha_, m.lambda_ = float(v["intercept"]), float(v["alpha"]), float(v["lambda"])
    m.n_features_in_ = len(m.coef_)
    return m


register_codec("blr", lambda v: _is(v, "sklearn", "BayesianRidge"), _encode_blr, _decode_blr)
