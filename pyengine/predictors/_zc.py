"""Zero-cost scores as input features of the feature-based and neural predictors.

A predictor with ``zc=("synflow", "params", "flops")`` appends those scores, one column each,
to the features it reads. ``fit`` and ``predict`` take them as ``zc={"synflow": array (n,), ...}``
(scores of one's own, or a NAS-Bench-Suite-Zero JSON through
:func:`pyengine.tables.join_naslib_zc`); a score not given is computed from the architectures X
by :func:`pyengine.proxies.cached_scores` (kept on disk, once per architecture and machine) with
the settings :data:`ZC_SETTINGS`. The data-free proxies (``synflow``, ``params``, ``flops``,
``l2_norm``, ``zen``) read no data; the others read one Gaussian-noise minibatch of CIFAR-10
shape (32 images, labels drawn uniformly) from seed 0, the weights drawn from the same seed.

Each score passes through :func:`signed_log`; -inf (a degenerate cell, as the proxies document)
becomes the lowest finite training value minus 1 (``zc_floor_``); the columns are then z-scored
with the training set's mean and standard deviation (``zc_mean_``, ``zc_scale_``). NaN, +inf,
a score missing for some rows or an array of the wrong length raises
:class:`~pyengine.errors.InvalidValueError`, before anything is fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import name_list
from ..errors import InvalidTypeError, InvalidValueError

__all__ = ["ZC_SETTINGS", "ZeroCostInputs", "signed_log", "zc_column"]

# settings of the zero-cost scores a predictor computes itself (pyengine.proxies.cached_scores)
ZC_SETTINGS: dict[str, Any] = {"dataset": "cifar10", "batch_size": 32, "seed": 0}


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): zero-cost scores span many orders of magnitude (synflow reaches
    1e50, nwot -1e6), which a kernel or a network reads badly; ranks are unchanged."""
    return np.sign(x) * np.log1p(np.abs(x))


def zc_column(name: str, v: np.ndarray, transform: str, floors: dict[str, float], fit: bool) -> np.ndarray:
    """One zero-cost score ``v`` (n,) as a feature column (n,): ``transform`` ("signed_log" or
    "none") applied, -inf replaced by ``floors[name]``, which a fit (``fit=True``) sets to the
    lowest finite transformed value minus 1. NaN or +inf raises."""
    bad = np.isnan(v) | (v == np.inf)
    if bad.any():
        raise InvalidValueError(f"Zero-cost score {name!r} is {v[bad][0]} for architecture {int(np.argmax(bad))}.")
    low = v == -np.inf
    if transform == "signed_log":
        v = signed_log(v)
    if fit:
        finite = v[~low]
        if finite.size == 0:
            raise InvalidValueError(f"Zero-cost score {name!r} is -inf for every training architecture.")
        floors[name] = float(finite.min() - 1.0)
    return np.where(low, floors[name], v)


class ZeroCostInputs:
    """Mixin of the predictors that take a ``zc`` parameter: the scores' names, and their
    feature columns for a fit or a prediction (see the module's docstring)."""

    zc: Any = ()
    space: Any = None

    def zc_names(self) -> list[str]:
        """The zero-cost scores of ``zc``, validated (names of ``pyengine.proxies.PROXIES`` or
        their aliases, such as NASLib's ``jacov``), in order, without repeats."""
        from ..proxies import PROXIES

        z = getattr(self, "zc", ())
        if z is None:
            return []
        names = name_list(z, "zc", type(self).__name__, "a tuple of zero-cost proxy names or a comma-separated str")
        out: dict[str, str] = {}
        for n in names:
            if n not in PROXIES:
                raise InvalidValueError(
                    f"The 'zc' parameter of {type(self).__name__} names {n!r}, which is no zero-cost proxy. "
                    f"Valid names: {', '.join(PROXIES.names())}."
                )
            out.setdefault(PROXIES.canonical_name(n), n)
        return list(out.values())

    def _zc_scores(self, X: Any, zc: Any, n: int, names: list[str], is_archs: bool) -> dict[str, np.ndarray]:
        """The raw scores (n,) of ``names``: from ``zc`` (under the name or an alias of it), the
        others computed from the architectures X."""
        from ..proxies import PROXIES

        if zc is not None and not isinstance(zc, Mapping):
            raise InvalidTypeError(
                f"'zc' must be a mapping from zero-cost proxy name to an array of shape (n,). Got "
                f"{type(zc).__name__} instead."
            )
        given: dict[str, Any] = {}
        for k, v in (zc or {}).items():
            if isinstance(k, str) and k in PROXIES:
                given.setdefault(PROXIES.canonical_name(k), v)
        out: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for name in names:
            canon = PROXIES.canonical_name(name)
            if name in (zc or {}):
                raw = zc[name]
            elif canon in given:
                raw = given[canon]
            else:
                missing.append(name)
                continue
            try:
                v = np.asarray(raw, dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidTypeError(f"Zero-cost score {name!r} must be an array of numbers.") from None
            if v.shape != (n,):
                raise InvalidValueError(
                    f"Zero-cost score {name!r} must have shape ({n},), one score per architecture. Got {v.shape} "
                    "instead."
                )
            if np.isnan(v).any():
                rows = np.flatnonzero(np.isnan(v))
                raise InvalidValueError(
                    f"Zero-cost score {name!r} is missing (NaN) for {len(rows)} of {n} architectures, the first "
                    f"at row {int(rows[0])}."
                )
            out[name] = v
        if missing:
            if not is_archs:
                raise InvalidValueError(
                    f"{type(self).__name__} needs the zero-cost scores {missing}: pass them in zc={{name: array}}, "
                    "or pass architectures (with 'space') so that they are computed."
                )
            if self.space is None:
                raise InvalidValueError(
                    f"{type(self).__name__} needs 'space' to compute the zero-cost scores {missing}."
                )
            from ..proxies import cached_scores
            from ..spaces import get_space

            got = cached_scores(get_space(self.space).name, X, missing, **ZC_SETTINGS)
            for name in missing:
                out[name] = np.asarray(got.scores[PROXIES.canonical_name(name)], dtype=np.float64)
        return out

    def _zc_features(self, X: Any, zc: Any, n: int, fit: bool, is_archs: bool) -> np.ndarray | None:
        """The zero-cost feature columns (n, len(zc_names())) of X, transformed and z-scored
        (a fit sets ``zc_floor_``, ``zc_mean_`` and ``zc_scale_``); None when ``zc`` is empty."""
        names = self.zc_names()
        if not names:
            return None
        raw = self._zc_scores(X, zc, n, names, is_archs)
        if fit:
            self.zc_floor_: dict[str, float] = {}
        cols = [zc_column(name, raw[name], "signed_log", self.zc_floor_, fit) for name in names]
        m = np.stack(cols, axis=1)
        if fit:
            self.zc_mean_ = m.mean(axis=0)
            sd = m.std(axis=0)
            self.zc_scale_ = np.where(sd > 0, sd, 1.0)
        elif m.shape[1] != len(self.zc_mean_):
            raise InvalidValueError(
                f"{type(self).__name__} was fitted on {len(self.zc_mean_)} zero-cost scores; 'zc' now names "
                f"{m.shape[1]}. Refit after changing 'zc'."
            )
        return (m - self.zc_mean_) / self.zc_scale_
