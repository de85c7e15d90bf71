"""Saved predictors: ``predictor.save(path)`` and ``pyengine.load(path)``.

Format (version 1). One file, a zip archive of ``.npy`` arrays (numpy's ``.npz`` layout, read
with ``allow_pickle=False``), written to exactly the path given:

- ``__header__``: a uint8 array holding UTF-8 JSON::

    {"format": "pyengine-predictor", "format_version": 1, "pyengine_version": "0.1.0",
     "predictor": "gcn", "class": "GCNPredictor", "space": "nb201", "encoding": "gcn",
     "params": {...}, "state": {...}, "arrays": {"NAME": {"shape": [...], "dtype": "<f4"}, ...}}

  ``params`` are the estimator's ``get_params()``; ``state`` its fitted attributes (the names
  ending in ``_``). Values are JSON; tuples, dicts, arrays, flax modules and fitted models are
  tagged objects ``{"$type": ...}`` (``tuple``, ``dict``, ``array`` (a reference to an array of
  the archive), ``tree`` (a pytree of arrays: flax parameters), ``module`` (a flax module's
  fields), ``forest``, ``ngboost``, ``xgboost``, ``lightgbm``, ``gp``, ``blr``, ``svr``,
  ``predictor`` (a fitted predictor inside another, described like the file's top level)).
- every other member: an array named in the header, with the recorded shape and dtype.

Format version 2 (written now) adds one tagged object, ``space``: a search space instance that
is not its registered name's default (a ``macro`` chain with other layers, choices or blocks,
the ``proxyless`` chain) is written, where the ``space`` parameter holds it, as
``{"$type": "space", "name": "macro", "params": {"n_layers": 6, "choices": ..., ...}}`` (its
constructor's arguments); loading rebuilds it with ``get_space(name, **params)``. A space equal to
its name's default stays that name (``"nb201"``), as in version 1, and the top-level ``"space"``
is always the name. Version 1 files hold names only and load unchanged: the reader takes every
version up to ``FORMAT_VERSION`` and refuses newer ones.

Loading builds objects only from an allow-list of classes and never unpickles: tree ensembles
come back as arrays walked by numpy, XGBoost and LightGBM models from their own text or binary
model formats.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np

from .._io import atomic_write
from ..errors import InvalidTypeError, InvalidValueError, ModelFileError, require

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "save_predictor",
    "load_predictor",
    "read_header",
    "header_space",
]

FORMAT = "pyengine-predictor"
FORMAT_VERSION = 2
_HEADER = "__header__"


# -- tree ensembles as arrays ---------------------------------------------------------------------
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


# -- encoding values ------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, key: str, a: Any) -> dict[str, Any]:
        self.arrays[key] = np.asarray(a)
        return {"$type": "array", "key": key}

    def value(self, v: Any, key: str) -> Any:
        """JSON for ``v``; its arrays go to the archive under names starting with ``key``."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v)
        if isinstance(v, tuple):
            return {"$type": "tuple", "items": [self.value(x, f"{key}/{i}") for i, x in enumerate(v)]}
        if isinstance(v, list):
            return [self.value(x, f"{key}/{i}") for i, x in enumerate(v)]
        if isinstance(v, np.ndarray) or type(v).__module__.startswith(("jax", "jaxlib")):
            return self.array(key, v)
        if isinstance(v, dict):
            if all(isinstance(x, dict) or _is_array(x) for x in v.values()) and _has_array(v):
                from flax import traverse_util

                flat = traverse_util.flatten_dict(dict(v), sep="/")
                return {"$type": "tree", "keys": {k: self.array(f"{key}/{k}", a)["key"] for k, a in flat.items()}}
            return {"$type": "dict", "items": {str(k): self.value(x, f"{key}/{k}") for k, x in v.items()}}
        return self.model(v, key)

    def model(self, v: Any, key: str) -> dict[str, Any]:
        import dataclasses

        if hasattr(v, "save") and hasattr(v, "get_params") and isinstance(getattr(v, "name", None), str):
            return {"$type": "predictor", **_describe(v, self, key)}  # a fitted predictor inside another

        from ..spaces import SearchSpace

        if isinstance(v, SearchSpace):
            return self.space(v, key)

        from ._feature import _GP, _NGB
        from ._gcn import GCN
        from ._mlp import MLP

        if isinstance(v, (GCN, MLP)):
            fields = {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.name not in ("parent", "name")}
            return {"$type": "module", "class": type(v).__name__, "fields": self.value(fields, key)}
        if isinstance(v, _Forest) or type(v).__name__ == "RandomForestRegressor":
            trees = v.trees if isinstance(v, _Forest) else _Trees.from_sklearn(v.estimators_)
            return {"$type": "forest", "trees": self._trees(trees, key)}
        if isinstance(v, (_NGB, _NGBoostArrays)):
            if isinstance(v, _NGB):
                m = v.model_
                trees = _Trees.from_sklearn([t for stage in m.base_models for t in stage])
                init, scal = np.asarray(m.init_params, np.float64), np.asarray(m.scalings, np.float64)
                cols, lr = np.asarray(m.col_idxs, np.int64), float(m.learning_rate)
            else:
                trees, init, scal, cols, lr = v.trees, v.init, v.scalings, v.columns, v.lr
            return {
                "$type": "ngboost",
                "trees": self._trees(trees, key),
                "init": self.array(f"{key}/init", init),
                "scalings": self.array(f"{key}/scalings", scal),
                "columns": self.array(f"{key}/columns", cols),
                "learning_rate": lr,
            }
        if type(v).__name__ == "XGBRegressor":
            raw = np.frombuffer(bytes(v.get_booster().save_raw(raw_format="ubj")), np.uint8)
            return {"$type": "xgboost", "model": self.array(f"{key}/ubj", raw)}
        if isinstance(v, _LightGBMBooster) or type(v).__name__ == "LGBMRegressor":
            text = v.text if isinstance(v, _LightGBMBooster) else v.booster_.model_to_string()
            return {"$type": "lightgbm", "model": self.array(f"{key}/text", np.frombuffer(text.encode(), np.uint8))}
        if isinstance(v, _GP):
            gp = v.model_
            names = ("X_train_", "y_train_", "alpha_", "L_")
            return {
                "$type": "gp",
                "nu": float(v.nu),
                "ard": bool(v.ard),
                "theta": self.array(f"{key}/theta", gp.kernel_.theta),
                "y_mean": self.array(f"{key}/y_mean", np.asarray(gp._y_train_mean)),
                "y_std": self.array(f"{key}/y_std", np.asarray(gp._y_train_std)),
                **{n: self.array(f"{key}/{n}", getattr(gp, n)) for n in names},
            }
        if isinstance(v, _RBFSVR) or type(v).__name__ == "Pipeline":
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
                "$type": "svr",
                "mean": self.array(f"{key}/mean", mean),
                "scale": self.array(f"{key}/scale", scale),
                "support_vectors": self.array(f"{key}/support_vectors", sv),
                "dual_coef": self.array(f"{key}/dual_coef", coef),
                "intercept": float(b),
                "gamma": float(gamma),
            }
        if type(v).__name__ == "BayesianRidge":
            names = ("coef_", "sigma_")
            return {
                "$type": "blr",
                "params": self.value(v.get_params(), f"{key}/params"),
                "intercept": float(v.intercept_),
                "alpha": float(v.alpha_),
                "lambda": float(v.lambda_),
                **{n: self.array(f"{key}/{n}", getattr(v, n)) for n in names},
            }
        raise InvalidTypeError(f"Cannot save a value of type {type(v).__name__} ({key}).")

    def _trees(self, t: _Trees, key: str) -> dict[str, Any]:
        return {k: self.array(f"{key}/trees/{k}", a)["key"] for k, a in t.arrays().items()}

    def space(self, space: Any, key: str) -> Any:
        """A space's name where it equals that name's default, else its tagged definition."""
        from ..spaces import get_space

        try:
            if get_space(space.name) == space:
                return space.name
        except (KeyError, TypeError, ValueError):
            pass  # a name without a default instance
        return {"$type": "space", "name": space.name, "params": self.value(_space_params(space), f"{key}/space")}


def _space_params(space: Any) -> dict[str, Any]:
    """The constructor arguments that rebuild ``space`` (each stored as an attribute of that name)."""
    import inspect

    out = {}
    for p in list(inspect.signature(type(space).__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or not hasattr(space, p.name):
            raise InvalidTypeError(f"Cannot save the space {space!r}: its parameter {p.name!r} is not an attribute.")
        out[p.name] = getattr(space, p.name)
    return out


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith(("jax", "jaxlib"))


def _has_array(d: dict) -> bool:
    return any(_is_array(x) or (isinstance(x, dict) and _has_array(x)) for x in d.values())


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def array(self, ref: Any) -> np.ndarray:
        key = ref["key"] if isinstance(ref, dict) else ref
        if key not in self.arrays:
            raise ModelFileError(f"The header names an array {key!r} that the file does not hold.")
        return self.arrays[key]

    def value(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, dict):
            return v
        kind = v.get("$type")
        try:
            if kind == "tuple":
                return tuple(self.value(x) for x in v["items"])
            if kind == "dict":
                return {k: self.value(x) for k, x in v["items"].items()}
            if kind == "array":
                return self.array(v)
            if kind == "tree":
                from flax import traverse_util

                return traverse_util.unflatten_dict({k: self.array(a) for k, a in v["keys"].items()}, sep="/")
            return self.model(kind, v)
        except (KeyError, TypeError, AttributeError) as err:
            raise ModelFileError(f"A {kind!r} entry of the header is malformed ({err!r}).") from None

    def _trees(self, refs: dict[str, str]) -> _Trees:
        names = ("left", "right", "feature", "threshold", "value", "roots")
        t = _Trees(*(self.array(refs[k]) for k in names))
        n = len(t.left)
        if not all(len(a) == n for a in (t.right, t.feature, t.threshold, t.value)) or (
            len(t.roots) and (t.roots.max() >= n or max(t.left.max(), t.right.max()) >= n)
        ):
            raise ModelFileError("The tree arrays of the file do not agree in length.")
        return t

    def model(self, kind: Any, v: dict[str, Any]) -> Any:
        if kind == "predictor":
            return _build(v, self, "nested predictor")
        if kind == "space":
            from ..spaces import get_space

            params = self.value(v["params"])
            if not isinstance(params, dict):
                raise InvalidTypeError(f"space parameters are {type(params).__name__}, not a dict")
            try:
                return get_space(v["name"], **params)
            except ValueError as err:
                raise ModelFileError(f"The file's {v['name']!r} space cannot be rebuilt: {err}") from None
        if kind == "module":
            from ._gcn import GCN
            from ._mlp import MLP

            classes = {"GCN": GCN, "MLP": MLP}
            if v["class"] not in classes:
                raise ModelFileError(f"Unknown module class {v['class']!r} in the file (known: {sorted(classes)}).")
            return classes[v["class"]](**self.value(v["fields"]))
        if kind == "forest":
            return _Forest(self._trees(v["trees"]))
        if kind == "ngboost":
            return _NGBoostArrays(
                self._trees(v["trees"]),
                self.array(v["init"]),
                self.array(v["scalings"]),
                self.array(v["columns"]),
                float(v["learning_rate"]),
            )
        if kind == "xgboost":
            xgboost = require("xgboost", extra="boosting", needed_by="A saved XGBoost predictor")
            m = xgboost.XGBRegressor()
            m.load_model(bytearray(self.array(v["model"]).tobytes()))
            return m
        if kind == "lightgbm":
            return _LightGBMBooster(self.array(v["model"]).tobytes().decode())
        if kind == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor

            from ._feature import _GP

            gp_est = _GP(nu=float(v["nu"]), ard=bool(v.get("ard", False)))
            dims = self.array(v["X_train_"]).shape[1] if gp_est.ard else None
            gp = GaussianProcessRegressor(_GP.kernel(gp_est.nu, dims), normalize_y=True)
            gp.kernel_ = gp.kernel.clone_with_theta(self.array(v["theta"]))
            for n in ("X_train_", "y_train_", "alpha_", "L_"):
                setattr(gp, n, self.array(v[n]))
            gp._y_train_mean = self.array(v["y_mean"])
            gp._y_train_std = self.array(v["y_std"])
            gp.n_features_in_ = gp.X_train_.shape[1]
            gp_est.model_ = gp
            return gp_est
        if kind == "svr":
            return _RBFSVR(
                self.array(v["mean"]),
                self.array(v["scale"]),
                self.array(v["support_vectors"]),
                self.array(v["dual_coef"]),
                float(v["intercept"]),
                float(v["gamma"]),
            )
        if kind == "blr":
            from sklearn.linear_model import BayesianRidge

            m = BayesianRidge(**self.value(v["params"]))
            m.coef_, m.sigma_ = self.array(v["coef_"]), self.array(v["sigma_"])
            m.intercept_, m.alpha_, m.lambda_ = float(v["intercept"]), float(v["alpha"]), float(v["lambda"])
            m.n_features_in_ = len(m.coef_)
            return m
        raise ModelFileError(f"Unknown entry type {kind!r} in the file's header.")


# -- files ----------------------------------------------------------------------------------------
def _space_name(space: Any) -> str | None:
    if space is None or isinstance(space, str):
        return space
    return str(getattr(space, "name", space))


def _describe(est: Any, w: _Writer, key: str) -> dict[str, Any]:
    """Name, class, parameters and fitted state of a predictor; arrays go to ``w`` under ``key``."""
    from . import PREDICTORS

    params = est.get_params(deep=False)
    prefix = f"{key}/" if key else ""
    return {
        "predictor": PREDICTORS.canonical_name(est.name),
        "class": type(est).__name__,
        "space": _space_name(params.get("space")),
        "encoding": est._encoding() if hasattr(est, "_encoding") else params.get("encoding"),
        "params": w.value(params, f"{prefix}params"),
        "state": {
            k: w.value(v, f"{prefix}state/{k}")
            for k, v in sorted(vars(est).items())
            if k.endswith("_") and not k.startswith("_")
        },
    }


def save_predictor(est: Any, path: str | os.PathLike) -> None:
    """Write a fitted predictor to exactly ``path`` (no extension added; replaced atomically)."""
    from .. import __version__

    if not any(k.endswith("_") and not k.startswith("_") for k in vars(est)):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(est).__name__} is not fitted yet; call fit(X, y) before save().")
    w = _Writer()
    try:
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "pyengine_version": __version__,
            **_describe(est, w, ""),
        }
    except TypeError as err:
        raise InvalidTypeError(f"{type(est).__name__} cannot be saved: {err}") from None
    header["arrays"] = {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in w.arrays.items()}
    blob = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **{_HEADER: blob}, **w.arrays)


def _open(path: str | os.PathLike) -> tuple[dict[str, Any], Any]:
    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise ModelFileError(f"Cannot read the model file {p}: {err.strerror or err}.") from None
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        if not hasattr(npz, "files"):
            raise InvalidValueError("a bare array")
        if _HEADER not in npz.files:
            raise ModelFileError(f"{p} is not a pyengine model file (no header).")
        header = json.loads(npz[_HEADER].tobytes().decode())
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{p} is not a readable pyengine model file (truncated or corrupt: {err}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{p} is not a pyengine model file (format {header.get('format')!r}).")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p} was written in model format version {version} by pyengine {header.get('pyengine_version')}; "
            f"this pyengine reads format versions up to {FORMAT_VERSION}. Upgrade pyengine to load it."
        )
    return header, npz


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a model file (predictor, space, encoding, parameters), checked."""
    header, _ = _open(path)
    return header


def header_space(header: dict[str, Any]) -> Any:
    """The space a model file's header describes: None, a registered name, or the
    :class:`~pyengine.spaces.SearchSpace` its ``space`` parameter defines (format version 2)."""
    params = header.get("params")
    if isinstance(params, dict) and params.get("$type") == "dict":
        params = params.get("items")
    spec = params.get("space") if isinstance(params, dict) else None
    if isinstance(spec, dict) and spec.get("$type") == "space":
        return _Reader({}).value(spec)
    return header.get("space")


def load_predictor(path: str | os.PathLike) -> Any:
    """The predictor saved at ``path``, fitted, predicting exactly as it did when saved."""

    header, npz = _open(path)
    p = os.fspath(path)
    listed = header.get("arrays")
    if not isinstance(listed, dict):
        raise ModelFileError(f"{p}: the header lists no arrays.")
    present = set(npz.files) - {_HEADER}
    if present != set(listed):
        missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
        raise ModelFileError(f"{p}: the header and the arrays differ (missing {missing[:5]}, unlisted {extra[:5]}).")
    arrays = {}
    for k, meta in listed.items():
        try:
            a = npz[k]
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as err:
            raise ModelFileError(f"{p}: the array {k!r} cannot be read (truncated or corrupt: {err}).") from None
        if list(a.shape) != meta.get("shape") or a.dtype.str != meta.get("dtype"):
            raise ModelFileError(
                f"{p}: the array {k!r} has shape {list(a.shape)} and dtype {a.dtype.str}; "
                f"the header says {meta.get('shape')} and {meta.get('dtype')}."
            )
        arrays[k] = a
    return _build(header, _Reader(arrays), p)


def _build(desc: dict[str, Any], r: _Reader, p: str) -> Any:
    """A predictor from its description (see ``_describe``)."""
    from . import PREDICTORS

    try:
        cls = PREDICTORS.get(desc["predictor"])
    except (KeyError, ValueError) as err:
        raise ModelFileError(f"{p}: unknown predictor in the file ({err}).") from None
    if cls.__name__ != desc.get("class"):
        raise ModelFileError(f"{p}: the predictor {desc['predictor']!r} is {cls.__name__}, not {desc.get('class')}.")
    params = r.value(desc["params"])
    for old, new in getattr(cls, "_renamed_params", {}).items():  # files of earlier parameter names
        if isinstance(params, dict) and old in params and new not in params:
            params[new] = params.pop(old)
    try:
        est = cls(**params)
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"{p}: the saved parameters do not fit {cls.__name__} ({err}).") from None
    for k, v in (desc.get("state") or {}).items():
        if not (isinstance(k, str) and k.endswith("_") and not k.startswith("_")):
            raise ModelFileError(f"{p}: {k!r} is not a fitted attribute.")
        setattr(est, k, r.value(v))
    return est
