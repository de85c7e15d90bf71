"""OMNI (White et al. 2021): a model-based predictor on the encoding plus learning-curve features
plus zero-cost scores, the combination the seed study finds best at every budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from ._curves import PartialCurves, _as_curves

__all__ = ["OmniPredictor", "LCEMPredictor", "OMNI_FEATURES"]

# features computed from the architecture or its partial curve; any other name is a zero-cost
# score passed in ``zc``
OMNI_FEATURES = ("onehot", "fidelity", "sotl", "sotl_e", "lce")


class OmniPredictor(RegressorMixin, BaseEstimator):
    """A feature-based predictor (``base``, NGBoost by default) on the features named in
    ``features``:

    - ``onehot``: the architecture's encoding (``encoding``, default adjacency one-hot)
    - ``fidelity``: the validation accuracy at the fidelity (the last epoch seen)
    - ``sotl``, ``sotl_e``, ``lce``: those learning-curve predictors' scores
    - any other name: a zero-cost score given in ``zc`` (``fit(..., zc={"jacob_cov": array})``)

    ``fit(X, y, curves=None, zc=None)``, ``predict(X, curves=None, zc=None, return_std=False)``;
    X holds architectures of ``space`` or an already encoded matrix (n, d).
    """

    name = "omni"

    def __init__(
        self,
        space: Any = None,
        features: Sequence[str] = ("onehot", "fidelity"),
        base: str = "ngb",
        encoding: str = "adjacency_one_hot",
        base_params: dict[str, Any] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.features = features
        self.base = base
        self.encoding = encoding
        self.base_params = base_params
        self.random_state = random_state

    @property
    def needs_curves(self) -> bool:
        return any(f in ("fidelity", "sotl", "sotl_e", "lce") for f in self._names())

    @property
    def has_uncertainty(self) -> bool:
        from . import PREDICTORS

        return bool(getattr(PREDICTORS.get(self.base), "has_uncertainty", False))

    def _names(self) -> list[str]:
        f = self.features
        names = [s.strip() for s in f.split(",")] if isinstance(f, str) else [str(s) for s in f]
        names = [n for n in names if n]
        if not names:
            raise ValueError("The 'features' parameter of OmniPredictor must name at least one feature.")
        return names

    def _matrix(self, X: Any, curves: Any, zc: Mapping[str, Any] | None, n: int | None = None) -> np.ndarray:
        from ._curves import LCEPredictor, SoTLEPredictor, SoTLPredictor

        cols: list[np.ndarray] = []
        for name in self._names():
            if name == "onehot":
                if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub":
                    cols.append(X.astype(np.float64))
                else:
                    if self.space is None:
                        raise ValueError("OmniPredictor needs 'space' to encode architectures for 'onehot'.")
                    from ..encodings import encode

                    cols.append(np.asarray(encode(self.space, self.encoding, X), dtype=np.float64))
            elif name in ("fidelity", "sotl", "sotl_e", "lce"):
                if curves is None:
                    raise ValueError(f"OMNI feature {name!r} needs partial curves: pass curves=...")
                c = _as_curves(None, curves)
                if name == "fidelity":
                    a = c.values.get("val_acc")
                    if a is None:
                        raise ValueError(f"OMNI feature 'fidelity' needs a 'val_acc' curve; got {sorted(c.values)}.")
                    v = a[np.arange(len(c)), c.epochs - 1]
                elif name == "lce":
                    v = LCEPredictor().score_curves(c)
                else:
                    v = (SoTLEPredictor() if name == "sotl_e" else SoTLPredictor()).score_curves(c)
                cols.append(np.asarray(v, dtype=np.float64)[:, None])
            else:
                if zc is None or name not in zc:
                    have = sorted(zc) if zc else []
                    raise ValueError(
                        f"OMNI does not know the feature {name!r}: built in are {list(OMNI_FEATURES)}, and the "
                        f"zero-cost scores given are {have}."
                    )
                cols.append(np.asarray(zc[name], dtype=np.float64).reshape(-1, 1))
        lengths = {len(c) for c in cols}
        if len(lengths) != 1:
            raise ValueError(f"OMNI's features disagree in length: {sorted(lengths)}.")
        m = np.concatenate(cols, axis=1)
        bad = ~np.isfinite(m)
        if bad.any():
            r, c = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"OMNI feature matrix holds a non-finite value at row {r}, column {c}.")
        return m

    def fit(self, X: Any, y: Any, curves: PartialCurves | None = None, zc: Any = None) -> OmniPredictor:
        from . import PREDICTORS, get_predictor

        base = PREDICTORS.canonical_name(self.base)
        if getattr(PREDICTORS.get(base), "needs_curves", False) or base == "omni":
            raise ValueError(f"OMNI's base must be a feature-based predictor. Got {self.base!r}.")
        m = self._matrix(X, curves, zc)
        model = get_predictor(base, random_state=self.random_state)
        if "params" in model.get_params():  # the feature-based family takes its library's parameters as one dict
            model.set_params(params=self.base_params)
        elif self.base_params:
            model.set_params(**self.base_params)
        self.model_ = model.fit(m, y)
        self.n_features_in_ = m.shape[1]
        return self

    def predict(self, X: Any, curves: Any = None, zc: Any = None, return_std: bool = False) -> Any:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(X, y) first.")
        m = self._matrix(X, curves, zc)
        if m.shape[1] != self.n_features_in_:
            raise ValueError(f"OMNI got {m.shape[1]} features; it was fitted on {self.n_features_in_}.")
        return self.model_.predict(m, return_std=return_std)

    def save(self, path: Any) -> None:
        """Write the fitted predictor to exactly ``path``; ``pyengine.load(path)`` reads it back."""
        from ._persist import save_predictor

        save_predictor(self, path)


class LCEMPredictor(OmniPredictor):
    """LCE-m (Klein et al. 2017's idea, as White et al. 2021 run it): learning-curve extrapolation
    that shares information across architectures. A Bayesian neural network (``bohamiann`` by
    default: SGHMC-sampled weights, as Klein et al.'s LC-BNN) learns, from the labelled
    architectures, the final value from the encoding, each curve's LCE extrapolation and the
    value at the fidelity; so one architecture's curve is read in the light of the others'.
    Features are z-scored with the training set's mean and standard deviation.

    Parameters as :class:`OmniPredictor`; ``features`` default ("onehot", "lce", "fidelity").
    """

    name = "lce_m"

    def __init__(
        self,
        space: Any = None,
        features: Sequence[str] = ("onehot", "lce", "fidelity"),
        base: str = "bohamiann",
        encoding: str = "adjacency_one_hot",
        base_params: dict[str, Any] | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space=space,
            features=features,
            base=base,
            encoding=encoding,
            base_params=base_params,
            random_state=random_state,
        )

    def _matrix(self, X: Any, curves: Any, zc: Mapping[str, Any] | None, n: int | None = None) -> np.ndarray:
        m = super()._matrix(X, curves, zc, n)
        if not hasattr(self, "x_mean_"):  # fitting: the training set's scaling
            self.x_mean_ = m.mean(axis=0)
            scale = m.std(axis=0)
            self.x_scale_ = np.where(scale > 0, scale, 1.0)
        if m.shape[1] != len(self.x_mean_):
            raise ValueError(f"LCE-m got {m.shape[1]} features; it was fitted on {len(self.x_mean_)}.")
        return (m - self.x_mean_) / self.x_scale_

    def fit(self, X: Any, y: Any, curves: PartialCurves | None = None, zc: Any = None) -> LCEMPredictor:
        for k in ("x_mean_", "x_scale_"):
            self.__dict__.pop(k, None)
        super().fit(X, y, curves=curves, zc=zc)
        return self
