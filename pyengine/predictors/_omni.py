"""OMNI (White et al. 2021): a model-based predictor on the encoding plus learning-curve features
plus zero-cost scores, the combination the seed study finds best at every budget."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from .._validation import name_list
from ..errors import InvalidTypeError, InvalidValueError
from ._base import Predictor, get_tags
from ._curves import PartialCurves, _as_curves
from ._zc import ZC_SETTINGS, signed_log, zc_column

__all__ = ["OmniPredictor", "LCEMPredictor", "OMNI_FEATURES", "signed_log"]

log = logging.getLogger(__name__)

# features computed from the architecture or its partial curve; a registered encoding's name is
# that encoding; any other name is a zero-cost score passed in ``zc``
OMNI_FEATURES = ("onehot", "fidelity", "sotl", "sotl_e", "lce")
_CURVE_FEATURES = ("fidelity", "sotl", "sotl_e", "lce")
# settings of the zero-cost scores that features="auto" computes (pyengine.proxies.cached_scores)
_ZC_SETTINGS = ZC_SETTINGS


def _encoding_name(name: str) -> str | None:
    """The canonical encoding a feature name stands for (``gcn`` is a graph, not a feature row)."""
    from ..encodings import ENCODINGS

    if name == "onehot" or name not in ENCODINGS:
        return None
    canon = ENCODINGS.canonical_name(name)
    return None if canon == "gcn" else canon


class OmniPredictor(Predictor, RegressorMixin, BaseEstimator):
    """A feature-based predictor (``base``: by default a Gaussian process with one length scale
    per feature, ARD) on the features named in ``features`` (``"auto"`` by default: chosen at
    ``fit`` from what it gets, below):

    - ``onehot``: the architecture's encoding (``encoding``, default adjacency one-hot)
    - the name of a registered encoding (``op_counts``, ``path``, ``categorical``, ...): that
      encoding of the architectures
    - ``fidelity``: the validation accuracy at the fidelity (the last epoch seen)
    - ``sotl``, ``sotl_e``, ``lce``: those learning-curve predictors' scores
    - any other name: a zero-cost score given in ``zc`` (``fit(..., zc={"jacob_cov": array})``)

    ``fit(X, y, curves=None, zc=None)``, ``predict(X, curves=None, zc=None, return_std=False)``;
    X holds architectures of ``space``, or an already encoded matrix (n, d) standing for
    ``onehot`` when no other encoding is named.

    ``features="auto"`` fits on what ``fit`` is given: the encoding (``op_counts`` on the
    spaces with proxy networks, NB101, NB201 and DARTS, when ``encoding`` is left None; else
    ``onehot``); the zero-cost scores in ``zc``, or, when ``zc`` is not given, the ``proxies``
    computed from the architectures (:func:`pyengine.proxies.cached_scores`: on disk once per
    architecture; default ``synflow`` on NB201, the data-free closed forms ``flops`` and
    ``params`` elsewhere; skipped where the space has no proxy network or X is an encoded
    matrix); and with ``curves``, ``fidelity`` (when they hold ``val_acc``) and ``sotl_e`` (when
    they hold a loss, or no ``val_acc``). The features used are recorded in ``features_`` (those
    computed in ``zc_computed_``, with ``zc_settings_``); ``predict`` needs the same inputs and
    computes the same scores. These defaults (op counts, synflow, the fidelity value, an ARD
    GP) were chosen by cross-validation inside the training sets of NB201 CIFAR-10 at N = 100
    (docs/results.md, "Learning curves and OMNI"), never on test cells.

    Zero-cost scores pass through ``zc_transform`` (``"signed_log"``, default, or ``"none"``).
    A score of -inf (a degenerate cell, as the proxies document) becomes the lowest finite
    value of that score in the training set minus 1, recorded per score in ``zc_floor_``; NaN
    or +inf raises. With ``standardize`` (default) every column is scaled to zero mean and unit
    variance on the training set. With ``residual`` and the ``fidelity`` feature, the base
    model learns what a straight line through (fidelity value, target) on the training set
    leaves unexplained, and predictions add the line back.
    """

    name = "omni"

    def __init__(
        self,
        space: Any = None,
        features: str | Sequence[str] = "auto",
        base: str = "gp",
        encoding: str | None = None,
        base_params: dict[str, Any] | None = None,
        zc_transform: str = "signed_log",
        standardize: bool = True,
        residual: bool = False,
        proxies: str | Sequence[str] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.features = features
        self.base = base
        self.encoding = encoding
        self.base_params = base_params
        self.zc_transform = zc_transform
        self.standardize = standardize
        self.residual = residual
        self.proxies = proxies
        self.random_state = random_state

    def _is_auto(self) -> bool:
        return isinstance(self.features, str) and self.features.strip() == "auto"

    @property
    def needs_curves(self) -> bool:
        """True when the named features read curves; "auto" reads them only when given."""
        return not self._is_auto() and any(f in _CURVE_FEATURES for f in self._names())

    def zc_names(self) -> list[str]:
        """The zero-cost scores ``fit`` and ``predict`` must be given in ``zc``: the features that
        are neither built in nor an encoding (after fit: those of ``features_`` not computed by
        OMNI itself; none for ``features="auto"`` before fit, which takes what ``zc`` holds)."""
        if hasattr(self, "features_"):
            names, computed = list(self.features_), set(getattr(self, "zc_computed_", ()))
        elif self._is_auto():
            return []
        else:
            names, computed = self._names(), set()
        return [n for n in names if n not in OMNI_FEATURES and _encoding_name(n) is None and n not in computed]

    @property
    def optional_curves(self) -> bool:
        """True when ``fit`` reads curves if it is given them (``features="auto"``): an evaluator
        with a fidelity passes them and counts their cost."""
        return self._is_auto()

    def auto_proxies(self) -> list[str]:
        """The zero-cost scores ``features="auto"`` computes when ``fit`` gets architectures of a
        space with proxy networks and no ``zc`` (an evaluator may compute them first, with their
        seconds, and pass them in ``zc``: the same features); [] for named features."""
        if not self._is_auto() or self._proxy_space() is None:
            return []
        return self._proxy_names()

    @property
    def has_uncertainty(self) -> bool:
        """The base model's: read from the fitted model, else from a fresh one of ``base``."""
        from . import get_predictor

        model = getattr(self, "model_", None)
        return get_tags(model if model is not None else get_predictor(self.base)).has_std

    def _names(self) -> list[str]:
        f = self.features
        names = name_list(f, "features", type(self).__name__, "'auto', a comma-separated str or a sequence of str")
        if not names:
            raise InvalidValueError(
                f"The 'features' parameter of {type(self).__name__} must name at least one feature."
            )
        if "auto" in names and len(names) > 1:
            raise InvalidValueError(
                f"The 'features' parameter of {type(self).__name__} takes 'auto' alone or a list of feature names. "
                f"Got {f!r} instead."
            )
        return names

    def _proxy_names(self) -> list[str]:
        """``proxies`` as canonical names of ``pyengine.proxies.PROXIES`` (None: ``synflow`` on
        NB201, where it costs one pass of the small cell network; the closed forms ``flops`` and
        ``params`` on the other spaces, whose networks compile per cell group and cost more)."""
        from ..proxies import PROXIES

        p = self.proxies
        if p is None:
            return ["synflow"] if self._proxy_space() == "nb201" else ["flops", "params"]
        if isinstance(p, str):
            names = [s.strip() for s in p.split(",") if s.strip()]
        elif isinstance(p, Sequence) and all(isinstance(s, str) for s in p):
            names = [s.strip() for s in p if s.strip()]
        else:
            raise InvalidTypeError(
                f"The 'proxies' parameter of {type(self).__name__} must be a comma-separated str or a sequence "
                f"of str. Got {p!r} instead."
            )
        return list(dict.fromkeys(PROXIES.canonical_name(n) for n in names))

    def _proxy_space(self) -> str | None:
        """The name of ``space`` when it is a space with proxy networks (NB101, NB201, DARTS as
        registered); None without a space or for another one."""
        if self.space is None:
            return None
        from ..proxies._scorer import _SPACES
        from ..spaces import get_space

        sp = get_space(self.space)
        return sp.name if sp.name in _SPACES and sp == get_space(sp.name) else None

    def _encoding_param(self) -> str:
        """The encoding of the ``onehot`` feature (``encoding``; None: adjacency one-hot)."""
        return "adjacency_one_hot" if self.encoding is None else str(self.encoding)

    @property
    def arch_input(self) -> bool:
        """True when a feature names an encoding besides ``onehot``, or with ``features="auto"``
        (which computes zero-cost scores from the architectures): X must then hold
        architectures (the evaluator passes them), which OMNI encodes itself."""
        if self._is_auto():
            return True
        return any(_encoding_name(n) is not None for n in self._names())

    @staticmethod
    def _is_matrix(X: Any) -> bool:
        return isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub"

    def _computable(self, X: Any) -> list[str]:
        """The ``proxies`` that OMNI can compute for X: none for an encoded matrix or a space
        without proxy networks."""
        names = self._proxy_names()
        if not names or self._is_matrix(X):
            return []
        if self.space is None:
            raise InvalidValueError(f"{type(self).__name__} needs 'space' to compute the zero-cost features {names}.")
        if self._proxy_space() is None:
            log.info("OMNI: no proxy network for the space %r; fitting without zero-cost features.", self.space)
            return []
        return names

    def _computed_scores(self, X: Any, names: list[str], settings: dict[str, Any]) -> dict[str, np.ndarray]:
        """The zero-cost scores ``names`` of architectures X (cached on disk per architecture)."""
        if self._is_matrix(X):
            raise InvalidValueError(
                f"OMNI computes its zero-cost features {names} from architectures; X is an encoded matrix. "
                "Pass the architectures."
            )
        from ..proxies import cached_scores
        from ..spaces import get_space

        got = cached_scores(get_space(self.space).name, X, names, **settings)
        return {n: got.scores[n] for n in names}

    def _resolve(self, X: Any, curves: Any, zc: Any) -> tuple[list[str], list[str]]:
        """(features, the zero-cost ones OMNI computes) for a fit on these inputs."""
        if not self._is_auto():
            return self._names(), []
        counts = self.encoding is None and not self._is_matrix(X) and self._proxy_space() is not None
        names, computed = ["op_counts" if counts else "onehot"], []
        if zc is not None and not isinstance(zc, Mapping):
            raise InvalidTypeError(f"'zc' must be a mapping name -> array (n,). Got {type(zc).__name__} instead.")
        given = [str(k) for k in (zc or {}) if str(k) not in OMNI_FEATURES and _encoding_name(str(k)) is None]
        if given:
            names += given
        else:
            computed = self._computable(X)
            names += computed
        if curves is not None:
            c = _as_curves(None, curves)
            if "val_acc" in c.values:
                names.append("fidelity")
            if "val_acc" not in c.values or any(k in c.values for k in ("train_loss", "val_loss")):
                names.append("sotl_e")
        return names, computed

    def _encoded(self, X: Any, encoding: str, feature: str) -> np.ndarray:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub":
            if feature != "onehot":
                raise InvalidValueError(
                    f"OMNI's feature {feature!r} encodes architectures; X is an encoded matrix, which stands "
                    "only for 'onehot'. Pass the architectures."
                )
            return X.astype(np.float64)
        if self.space is None:
            raise InvalidValueError(f"OmniPredictor needs 'space' to encode architectures for {encoding!r}.")
        from ..encodings import encode

        return np.asarray(encode(self.space, encoding, X), dtype=np.float64)

    def _matrix(
        self, names: list[str], X: Any, curves: Any, zc: Mapping[str, Any] | None, fit: bool = False
    ) -> np.ndarray:
        """The raw feature matrix of ``names`` (before standardizing), zero-cost columns transformed."""
        from ._curves import LCEPredictor, SoTLEPredictor, SoTLPredictor

        if self.zc_transform not in ("signed_log", "none"):
            raise InvalidValueError(
                f"The 'zc_transform' parameter of OmniPredictor must be 'signed_log' or 'none'. "
                f"Got {self.zc_transform!r} instead."
            )
        cols: list[np.ndarray] = []
        if fit:
            self.zc_floor_: dict[str, float] = {}
        for name in names:
            enc = _encoding_name(name)
            if name == "onehot" or enc is not None:
                cols.append(self._encoded(X, self._encoding_param() if name == "onehot" else enc, name))
            elif name in _CURVE_FEATURES:
                if curves is None:
                    raise InvalidValueError(f"OMNI feature {name!r} needs partial curves: pass curves=...")
                c = _as_curves(None, curves)
                if name == "fidelity":
                    v = self._fidelity_values(c)
                elif name == "lce":
                    v = LCEPredictor().score_curves(c)
                else:
                    v = (SoTLEPredictor() if name == "sotl_e" else SoTLPredictor()).score_curves(c)
                cols.append(np.asarray(v, dtype=np.float64)[:, None])
            else:
                if zc is None or name not in zc:
                    have = sorted(zc) if zc else []
                    raise InvalidValueError(
                        f"OMNI does not know the feature {name!r}: built in are {list(OMNI_FEATURES)} and the "
                        f"encodings, and the zero-cost scores given are {have}."
                    )
                cols.append(self._zc_column(name, np.asarray(zc[name], dtype=np.float64).reshape(-1), fit)[:, None])
        lengths = {len(c) for c in cols}
        if len(lengths) != 1:
            raise InvalidValueError(f"OMNI's features disagree in length: {sorted(lengths)}.")
        m = np.concatenate(cols, axis=1)
        bad = ~np.isfinite(m)
        if bad.any():
            r, c = (int(v) for v in np.argwhere(bad)[0])
            raise InvalidValueError(f"OMNI feature matrix holds a non-finite value at row {r}, column {c}.")
        return m

    @staticmethod
    def _fidelity_values(c: PartialCurves) -> np.ndarray:
        a = c.values.get("val_acc")
        if a is None:
            raise InvalidValueError(f"OMNI feature 'fidelity' needs a 'val_acc' curve; got {sorted(c.values)}.")
        return a[np.arange(len(c)), c.epochs - 1]

    def _zc_column(self, name: str, v: np.ndarray, fit: bool) -> np.ndarray:
        return zc_column(name, v, self.zc_transform, self.zc_floor_, fit)

    def fit(self, X: Any, y: Any, curves: PartialCurves | None = None, zc: Any = None) -> OmniPredictor:
        from . import PREDICTORS, get_predictor

        base = PREDICTORS.canonical_name(self.base)
        if issubclass(PREDICTORS.get(base), OmniPredictor) or get_tags(get_predictor(base)).needs_curves:
            raise InvalidValueError(f"OMNI's base must be a feature-based predictor. Got {self.base!r}.")
        names, computed = self._resolve(X, curves, zc)
        if self.residual and "fidelity" not in names:
            raise InvalidValueError("OMNI's 'residual' target needs the 'fidelity' feature.")
        settings = dict(_ZC_SETTINGS)
        if computed:
            zc = {**(zc or {}), **self._computed_scores(X, computed, settings)}
        m = self._matrix(names, X, curves, zc, fit=True)
        self.features_, self.zc_computed_, self.zc_settings_ = list(names), list(computed), settings
        y = np.asarray(y, dtype=np.float64)
        if self.standardize:
            self.mean_ = m.mean(axis=0)
            sd = m.std(axis=0)
            self.scale_ = np.where(sd > 0, sd, 1.0)
            m = (m - self.mean_) / self.scale_
        if self.residual:
            fid = self._fidelity_values(_as_curves(None, curves))
            self.line_ = np.polyfit(fid, y, 1) if np.ptp(fid) > 0 else np.array([0.0, float(np.mean(y))])
            y = y - np.polyval(self.line_, fid)
        model = get_predictor(base, random_state=self.random_state)
        if base == "gp" and self.base_params is None:
            model.set_params(ard=True)  # one length scale per feature: OMNI's default base
        elif "params" in model.get_params():  # the feature-based family takes its library's parameters as one dict
            model.set_params(params=self.base_params)
        elif self.base_params:
            model.set_params(**self.base_params)
        self.model_ = model.fit(m, y)
        self.n_features_in_ = m.shape[1]
        return self

    def predict(self, X: Any, curves: Any = None, zc: Any = None, return_std: bool = False) -> Any:
        self._check_fitted()
        names = list(getattr(self, "features_", None) or self._names())  # files before features_: the parameter
        computed = list(getattr(self, "zc_computed_", ()))
        if computed:
            zc = {**(zc or {}), **self._computed_scores(X, computed, self.zc_settings_)}
        m = self._matrix(names, X, curves, zc)
        if m.shape[1] != self.n_features_in_:
            raise InvalidValueError(f"OMNI got {m.shape[1]} features; it was fitted on {self.n_features_in_}.")
        if self.standardize:
            m = (m - self.mean_) / self.scale_
        out = self.model_.predict(m, return_std=return_std)
        if not self.residual:
            return out
        line = np.polyval(self.line_, self._fidelity_values(_as_curves(None, curves)))
        return (out[0] + line, out[1]) if return_std else out + line


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
        zc_transform: str = "signed_log",
        standardize: bool = True,
        residual: bool = False,
        proxies: str | Sequence[str] = ("flops", "params"),
        random_state: int | None = None,
    ) -> None:
        super().__init__(
            space=space,
            features=features,
            base=base,
            encoding=encoding,
            base_params=base_params,
            zc_transform=zc_transform,
            standardize=standardize,
            residual=residual,
            proxies=proxies,
            random_state=random_state,
        )
