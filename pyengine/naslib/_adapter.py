"""The NASLib predictor adapter: NASLib's calling convention on the outside, a registered
pyengine predictor (scikit-learn contract) on the inside."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ..errors import InvalidTypeError, InvalidValueError
from ..predictors._base import get_tags

__all__ = ["NASLibPredictor"]

log = logging.getLogger(__name__)

# pyengine curve name -> NASLib ``Metric`` member name (NASLib keys multi-metric curves "<NAME>_lc")
_CURVES = {
    "val_acc": "VAL_ACCURACY",
    "train_acc": "TRAIN_ACCURACY",
    "val_loss": "VAL_LOSS",
    "train_loss": "TRAIN_LOSS",
}


@functools.cache
def _naslib_metric(curve: str) -> Any:
    """NASLib's ``Metric`` member for a curve name where NASLib is installed, else its name."""
    name = _CURVES[curve]
    try:
        from naslib.search_spaces.core.query_metrics import Metric
    except ImportError:
        return name
    return Metric[name]


def _curve_keys(curve: str) -> tuple[str, ...]:
    """The info-dict keys that may hold ``curve``: its own name and NASLib's ``<METRIC>_lc``."""
    return (curve, f"{_CURVES[curve]}_lc")


class NASLibPredictor:
    """A registered predictor behind NASLib's predictor interface.

    Parameters
    ----------
    predictor : str or estimator, default "xgb"
        A name in ``pyengine.predictors.PREDICTORS`` (aliases accepted), or a predictor instance.
        An instance is a template: each ``fit`` fits a clone of it, so the instance itself is never
        changed.
    space : str or SearchSpace, optional
        The search space of the architectures. Default: the wrapped predictor's ``space``
        parameter, else the space NASLib names through ``set_ss_type`` (``"nasbench101"``,
        ``"nasbench201"``, ``"nasbench301"``).
    lc_metric : str or sequence of str, default "val_acc"
        The learning curve(s) a curve-reading predictor asks NASLib for (``val_acc``,
        ``train_acc``, ``val_loss``, ``train_loss``). One name: NASLib passes it as ``"lc"``;
        several: as ``"<METRIC>_lc"`` (``"VAL_ACCURACY_lc"``, ...).
    **params
        Parameters of the predictor (``random_state``, ``epochs``, ...), set on it before any fit.

    Attributes
    ----------
    name : str
        The registered name of the predictor (its class name for an unregistered instance).
    ss_type : str or None
        The space type NASLib set through ``set_ss_type``.
    hyperparams : dict or None
        Parameters set through ``set_hyperparams``; applied to the next ``fit`` over ``params``.
    predictor_ : estimator
        The fitted predictor (after ``fit``).

    Notes
    -----
    ``fit(xtrain, ytrain, train_info=None, **kwargs)`` and ``query(xtest, info=None)`` follow
    NASLib. ``xtrain`` / ``xtest`` hold architectures in any form :meth:`as_batch` reads;
    ``ytrain`` is one finite value per architecture; ``train_info`` / ``info`` are NASLib's lists
    of one dict per architecture, read when the predictor needs learning curves (the curve cut
    at the fidelity, as NASLib's evaluator cuts it; each architecture's fidelity is the length of
    its curve) or zero-cost scores (OMNI: the score under its name, or in a
    ``"zero_cost_scores"`` dict). Hyperparameter search is the wrapped predictor's own
    (``tune=True`` where it has one): ``get_hpo_wrapper()`` is False, so NASLib's evaluator
    does not run its cross-validation around this predictor.

    Examples
    --------
    >>> from pyengine.naslib import NASLibPredictor
    >>> p = NASLibPredictor("xgb", space="nb201", random_state=0)
    >>> _ = p.fit([(0, 2, 3, 2, 3, 1), (1, 1, 1, 1, 1, 1), (2, 2, 2, 2, 2, 2)], [80.1, 10.0, 90.2])
    >>> p.query([(3, 3, 3, 3, 3, 3)]).shape
    (1,)
    """

    def __init__(
        self, predictor: Any = "xgb", space: Any = None, *, lc_metric: str | Sequence[str] = "val_acc", **params: Any
    ) -> None:
        from ..predictors import PREDICTORS, get_predictor

        self.predictor = predictor
        self.space = space
        self.lc_metric = lc_metric
        self.params = dict(params)
        self.ss_type: str | None = None
        self.hyperparams: dict[str, Any] | None = None
        if isinstance(predictor, str):
            self.name = PREDICTORS.canonical_name(predictor)
            self._template = get_predictor(self.name, **params)
        elif hasattr(predictor, "fit") and hasattr(predictor, "predict") and hasattr(predictor, "get_params"):
            own = getattr(predictor, "name", None)
            self.name = PREDICTORS.canonical_name(own) if own in PREDICTORS else type(predictor).__name__
            self._template = clone(predictor)
            if params:
                self._template.set_params(**self._checked_params(params, "NASLibPredictor"))
        else:
            raise InvalidTypeError(
                "The 'predictor' parameter of NASLibPredictor must be a registered predictor name or a predictor "
                f"instance (with fit, predict and get_params). Got {type(predictor).__name__} instead."
            )
        self._curve_names()  # validates lc_metric

    def __repr__(self) -> str:
        space = self.space if self.space is not None else self.ss_type
        return f"NASLibPredictor({self.name!r}, space={space!r})"

    # -- configuration -----------------------------------------------------------------------------
    def _curve_names(self) -> tuple[str, ...]:
        m = self.lc_metric
        names = (m,) if isinstance(m, str) else tuple(m) if isinstance(m, Sequence) else None
        if names is None or not names or not all(isinstance(n, str) for n in names):
            raise InvalidTypeError(
                "The 'lc_metric' parameter of NASLibPredictor must be a curve name or a sequence of them. "
                f"Got {m!r} instead."
            )
        bad = [n for n in names if n not in _CURVES]
        if bad:
            raise InvalidValueError(
                f"The 'lc_metric' parameter of NASLibPredictor must name curves among {sorted(_CURVES)}. "
                f"Got {bad[0]!r} instead."
            )
        return names

    def _checked_params(self, params: Any, who: str) -> dict[str, Any]:
        if not isinstance(params, Mapping):
            raise InvalidTypeError(
                f"The hyperparameters given to {who} must be a dict. Got {type(params).__name__} instead."
            )
        own = self._template.get_params(deep=False)
        bad = [k for k in params if k not in own]
        if bad:
            raise InvalidValueError(
                f"{bad[0]!r} is not a parameter of the {self.name} predictor. "
                f"Valid parameters: {', '.join(sorted(own))}."
            )
        return dict(params)

    def _space_arg(self) -> Any:
        """The space as given (constructor, wrapped predictor or NASLib's ss_type), or None."""
        if self.space is not None:
            return self.space
        own = self._template.get_params(deep=False).get("space")
        return own if own is not None else self.ss_type

    def _space(self) -> Any:
        from ..spaces import get_space

        arg = self._space_arg()
        if arg is None:
            raise InvalidValueError(
                "NASLibPredictor needs a search space to read architectures: pass space=... or call "
                "set_ss_type('nasbench201') (NASLib's evaluator does)."
            )
        space = get_space(arg)
        own = self._template.get_params(deep=False).get("space")
        if own is not None and get_space(own) != space:
            raise InvalidValueError(
                f"The wrapped predictor's space is {get_space(own).name}; the adapter's is {space.name}."
            )
        return space

    # -- NASLib's interface ------------------------------------------------------------------------
    def set_ss_type(self, ss_type: str) -> None:
        """The search-space type NASLib's evaluator sets (``"nasbench201"``, ...). ValueError for a
        space pyengine does not know or one that contradicts ``space``."""
        from ..spaces import get_space

        if not isinstance(ss_type, str):
            raise InvalidTypeError(
                f"The 'ss_type' parameter of NASLibPredictor.set_ss_type must be a str. "
                f"Got {type(ss_type).__name__} instead."
            )
        named = get_space(ss_type)
        given = self.space if self.space is not None else self._template.get_params(deep=False).get("space")
        if given is not None and get_space(given) != named:
            raise InvalidValueError(
                f"The 'ss_type' parameter of NASLibPredictor.set_ss_type must match the space "
                f"{get_space(given).name}. Got {ss_type!r} instead."
            )
        self.ss_type = ss_type

    def pre_process(self) -> None:
        """Checks, before any data is loaded, that the search space resolves and the curve
        names are known (NASLib calls this first)."""
        self._space()
        self._curve_names()

    def pre_compute(self, xtrain: Any, xtest: Any, unlabeled: Any = None) -> None:
        """Checks that every architecture of ``xtrain``, ``xtest`` (and ``unlabeled``) converts, so
        a bad input fails before the first fit. Nothing is cached."""
        for arg, archs in (("xtrain", xtrain), ("xtest", xtest), ("unlabeled", unlabeled)):
            if archs is not None and not (arg == "unlabeled" and len(archs) == 0):
                self.as_batch(archs, arg=arg)

    def get_data_reqs(self) -> dict[str, Any]:
        """What NASLib's evaluator must load besides accuracies: learning curves for curve-reading
        predictors (``metric``: NASLib's ``Metric`` member where NASLib is installed, else its
        name; a list for several curves)."""
        model = clone(self._template)
        if self.hyperparams:
            model.set_params(**self.hyperparams)
        curves = get_tags(model).needs_curves
        names = self._curve_names()
        metric: Any = None
        if curves:
            metric = _naslib_metric(names[0]) if len(names) == 1 else [_naslib_metric(n) for n in names]
        return {
            "requires_partial_lc": curves,
            "metric": metric,
            "requires_hyperparameters": False,
            "hyperparams": None,
            "unlabeled": False,
            "unlabeled_factor": 0,
        }

    def set_hyperparams(self, hyperparams: Mapping[str, Any] | None) -> None:
        """Parameters of the wrapped predictor for the next fits (None clears them); ValueError
        names a key the predictor does not have."""
        self.hyperparams = None if hyperparams is None else self._checked_params(hyperparams, "set_hyperparams")

    def get_hyperparams(self) -> dict[str, Any]:
        """The wrapped predictor's parameters in effect: ``params``, then ``set_hyperparams``."""
        return {**self._template.get_params(deep=False), **(self.hyperparams or {})}

    def reset_hyperparams(self) -> None:
        """Clear what ``set_hyperparams`` set (NASLib's evaluator calls this before each fit)."""
        self.hyperparams = None

    def get_hpo_wrapper(self) -> bool:
        """False: NASLib's cross-validated search does not wrap this predictor (see Notes)."""
        return False

    def fit(self, xtrain: Any, ytrain: Any, train_info: Any = None, **kwargs: Any) -> NASLibPredictor:
        """Fit a fresh copy of the wrapped predictor.

        Parameters
        ----------
        xtrain : sequence of n architectures (see :meth:`as_batch`), or a batch of the space
        ytrain : array-like of shape (n,), finite
        train_info : list of n dicts, optional
            NASLib's extra information per architecture: learning curves (``"lc"`` or
            ``"<METRIC>_lc"``) for curve-reading predictors, zero-cost scores for OMNI.
        **kwargs
            Parameters of the wrapped predictor for this fit only (e.g. ``epochs=50``).

        Returns
        -------
        self
        """
        model = clone(self._template)
        over = {**(self.hyperparams or {}), **self._checked_params(kwargs, "NASLibPredictor.fit")}
        if over:
            model.set_params(**over)
        if "space" in model.get_params(deep=False) and model.get_params(deep=False)["space"] is None:
            model.set_params(space=self._space_arg())
        batch = self.as_batch(xtrain, arg="xtrain")
        n = _batch_len(batch)
        y = _labels(ytrain, n)
        extra = self._extra(model, train_info, n, "train_info")
        model.fit(batch, y, **extra)
        self.predictor_ = model
        log.debug("NASLibPredictor: fitted %s on %d architectures", self.name, n)
        return self

    def query(self, xtest: Any, info: Any = None) -> np.ndarray:
        """Predictions for ``xtest``.

        Parameters
        ----------
        xtest : sequence of n architectures (see :meth:`as_batch`), or a batch of the space
        info : list of n dicts, optional; as ``train_info`` of :meth:`fit`

        Returns
        -------
        array of shape (n,), float64
        """
        if not hasattr(self, "predictor_"):
            raise NotFittedError("This NASLibPredictor is not fitted yet; call fit(xtrain, ytrain) first.")
        batch = self.as_batch(xtest, arg="xtest")
        n = _batch_len(batch)
        extra = self._extra(self.predictor_, info, n, "info")
        pred = np.asarray(self.predictor_.predict(batch, **extra), dtype=np.float64).reshape(-1)
        if pred.shape != (n,):
            raise InvalidValueError(
                f"The {self.name} predictor returned {pred.shape[0]} predictions for {n} architectures."
            )
        return pred

    # -- inputs ------------------------------------------------------------------------------------
    def as_batch(self, archs: Any, *, arg: str = "archs") -> Any:
        """A batch of the space from architectures in any form NASLib or pyengine writes them.

        Parameters
        ----------
        archs : a batch of the space, an int array of shape (n, k) of NASLib tuples, or a sequence
            of n architectures, all of one form: NASLib compact tuples (NB101 56-tuples, NB201
            6-tuples, NB301 two lists of 8 (input, op) pairs) or their string forms; NB101
            ``(matrix, ops)`` pairs (ops as official names or labels); arch strings of the space
            (NB201 strings, DARTS genotypes, NB101 module hashes); record dicts (``{"arch": ...}``,
            ``{"matrix": ..., "ops": ...}``, ...); or NASLib graph objects (read through their
            ``get_spec()`` where they have one, else ``get_hash()``).
        arg : str; the argument name used in error messages

        Returns
        -------
        batch of the space with n rows
        """
        space = self._space()
        if isinstance(archs, space.Batch):
            return space.check(archs)
        if isinstance(archs, np.ndarray) and archs.ndim >= 2 and archs.dtype.kind in "iu":
            archs = list(archs)
        if isinstance(archs, (str, bytes, Mapping, np.ndarray)) or not isinstance(archs, Sequence):
            raise InvalidTypeError(
                f"The '{arg}' parameter of NASLibPredictor must be a list of architectures or a "
                f"{space.Batch.__name__}. Got {type(archs).__name__} instead."
            )
        if len(archs) == 0:
            raise InvalidValueError(f"The '{arg}' parameter of NASLibPredictor must hold at least one architecture.")
        items = [_unwrap(a) for a in archs]
        kinds = [_kind(a) for a in items]
        for i, k in enumerate(kinds):
            if k == "number":
                raise InvalidTypeError(
                    f"The '{arg}' parameter of NASLibPredictor must be a list of architectures. Got a list of "
                    f"{type(items[i]).__name__} (one architecture? wrap it in a list) instead."
                )
            if k == "unknown":
                raise InvalidTypeError(
                    f"Architecture {i} of '{arg}' is not a form NASLibPredictor reads (a NASLib tuple, an arch "
                    f"string, a record dict or a NASLib graph). Got {type(archs[i]).__name__} instead."
                )
        if len(set(kinds)) > 1:
            i = kinds.index(next(k for k in kinds if k != kinds[0]))
            raise InvalidTypeError(
                f"The '{arg}' parameter of NASLibPredictor must hold architectures of one form. Architecture 0 is "
                f"a {kinds[0]} and architecture {i} a {kinds[i]}."
            )
        kind = kinds[0]
        if kind == "dict":
            return space.as_batch(items)
        if kind == "str":
            if all(s.lstrip().startswith(("(", "[")) for s in items):
                return space.check(space.from_naslib(items))
            return space.check(space.from_strings(items))
        if hasattr(space, "from_matrix_ops") and all(_is_matrix_ops(a) for a in items):
            return space.from_matrix_ops(items)
        return space.check(space.from_naslib(items))

    def _extra(self, model: Any, info: Any, n: int, arg: str) -> dict[str, Any]:
        """Keyword arguments of the wrapped predictor's fit / predict read from NASLib's info."""
        from ..predictors import PartialCurves

        extra: dict[str, Any] = {}
        needs = get_tags(model).needs_curves
        zc = list(model.zc_names()) if hasattr(model, "zc_names") else []
        if not needs and not zc:
            return extra
        records = _records(info, n, arg, self.name, needs)
        if needs:
            extra["curves"] = self._curves(records, arg)
        if zc:
            if isinstance(records, PartialCurves):
                raise InvalidTypeError(
                    f"The {self.name} predictor reads zero-cost scores: '{arg}' must be a list of dicts."
                )
            extra["zc"] = _zero_cost(records, zc, arg)
        return extra

    def _curves(self, records: Any, arg: str) -> Any:
        from ..predictors import CurveError, PartialCurves, partial_curves

        if isinstance(records, PartialCurves):
            return records
        lc_name = self._curve_names()[0]
        present: dict[str, list[Any]] = {}
        for i, rec in enumerate(records):
            found = {}
            if "lc" in rec:
                found[lc_name] = rec["lc"]
            for curve in _CURVES:
                for key in _curve_keys(curve):
                    if key in rec and curve not in found:
                        found[curve] = rec[key]
            if not found:
                raise CurveError(
                    f"The {self.name} predictor reads learning curves, but record {i} of '{arg}' has none: give "
                    f"'lc' (the {lc_name} curve) or one of "
                    f"{[k for c in _CURVES for k in _curve_keys(c)]}. Got keys {sorted(rec)} instead."
                )
            if i == 0:
                present = {c: [] for c in found}
            elif set(found) != set(present):
                missing = sorted(set(present) ^ set(found))
                raise CurveError(
                    f"Record {i} of '{arg}' holds the curves {sorted(found)}; record 0 holds {sorted(present)} "
                    f"(differing: {missing})."
                )
            for c, v in found.items():
                a = np.asarray(v, dtype=np.float64) if v is not None else np.empty(0)
                if a.ndim != 1:
                    raise CurveError(f"The {c} curve of record {i} of '{arg}' must be a list of numbers.")
                if a.size == 0:
                    raise CurveError(f"The {c} curve of record {i} of '{arg}' is empty (a fidelity of 0 epochs).")
                present[c].append(a)
        n = len(records)
        fidelity = np.array([min(len(present[c][r]) for c in present) for r in range(n)])
        width = max(len(a) for v in present.values() for a in v)
        padded = {}
        for c, rows in present.items():
            m = np.full((n, width), np.nan)
            for r, a in enumerate(rows):
                m[r, : len(a)] = a
            padded[c] = m
        return partial_curves(padded, fidelity)


# -- helpers ---------------------------------------------------------------------------------------
def _unwrap(arch: Any) -> Any:
    """A NASLib graph object as its spec record (NB101) or compact tuple; anything else as is."""
    if isinstance(arch, (str, bytes, Mapping, Sequence, np.ndarray)):
        return arch
    get_spec = getattr(arch, "get_spec", None)
    if callable(get_spec):
        spec = get_spec()
        if isinstance(spec, Mapping) and "matrix" in spec and "ops" in spec:
            return (np.asarray(spec["matrix"]).tolist(), list(spec["ops"]))
    get_hash = getattr(arch, "get_hash", None)
    if callable(get_hash):
        return get_hash()
    return arch


def _kind(arch: Any) -> str:
    if isinstance(arch, str):
        return "str"
    if isinstance(arch, Mapping):
        return "dict"
    if isinstance(arch, (bool, int, float, np.number)):
        return "number"
    if isinstance(arch, (Sequence, np.ndarray)) and not isinstance(arch, bytes):
        return "sequence"
    return "unknown"


def _is_matrix_ops(arch: Any) -> bool:
    return isinstance(arch, (tuple, list)) and len(arch) == 2 and np.ndim(arch[0]) == 2 and np.ndim(arch[1]) == 1


def _batch_len(batch: Any) -> int:
    return int(np.asarray(batch[0]).shape[0])


def _labels(ytrain: Any, n: int) -> np.ndarray:
    try:
        y = np.asarray(ytrain, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"The 'ytrain' parameter of NASLibPredictor.fit must be a list of numbers. Got {type(ytrain).__name__} "
            "instead."
        ) from None
    if y.ndim != 1 or len(y) != n:
        raise InvalidValueError(
            f"The 'ytrain' parameter of NASLibPredictor.fit must hold one value per architecture ({n}). "
            f"Got shape {y.shape} instead."
        )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise InvalidValueError(
            f"The 'ytrain' parameter of NASLibPredictor.fit must be finite. Got {y[bad[0]]} at position "
            f"{int(bad[0])} instead."
        )
    return y


def _records(info: Any, n: int, arg: str, name: str, needs_curves: bool) -> Any:
    from ..predictors import CurveError, PartialCurves

    if isinstance(info, PartialCurves):
        if len(info) != n:
            raise InvalidValueError(f"The '{arg}' curves cover {len(info)} architectures; there are {n}.")
        return info
    if info is None:
        what = "learning curves ('lc')" if needs_curves else "zero-cost scores"
        err = CurveError if needs_curves else ValueError
        raise err(
            f"The {name} predictor reads {what}: the '{arg}' parameter must be a list of one dict per "
            "architecture. Got None instead."
        )
    if isinstance(info, (str, bytes, Mapping)) or not isinstance(info, Sequence):
        raise InvalidTypeError(
            f"The '{arg}' parameter of NASLibPredictor must be a list of dicts. Got {type(info).__name__} instead."
        )
    if len(info) != n:
        raise InvalidValueError(
            f"The '{arg}' parameter of NASLibPredictor must hold one dict per architecture ({n}). "
            f"Got {len(info)} instead."
        )
    for i, rec in enumerate(info):
        if not isinstance(rec, Mapping):
            raise InvalidTypeError(f"Record {i} of '{arg}' must be a dict. Got {type(rec).__name__} instead.")
    return info


def _zero_cost(records: Any, names: list[str], arg: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in names:
        col = []
        for i, rec in enumerate(records):
            nested = rec.get("zero_cost_scores")
            if name in rec:
                v = rec[name]
            elif isinstance(nested, Mapping) and name in nested:
                v = nested[name]
            else:
                raise InvalidValueError(f"Record {i} of '{arg}' has no zero-cost score {name!r}.")
            col.append(v["score"] if isinstance(v, Mapping) and "score" in v else v)
        out[name] = np.asarray(col, dtype=np.float64)
    return out
