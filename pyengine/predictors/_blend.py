"""A blend of predictors: the mean of several fitted predictors' standardized predictions, put
back on the targets' scale. Different model families err differently on small training sets
(a graph transformer on the cell's graph, boosted trees on its graph features), so the blend
ranks better than either alone (docs/results.md, "The published protocol")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from .._validation import check_int, name_list
from ..errors import InvalidTypeError, InvalidValueError
from ._base import Predictor, get_tags
from ._zc import ZeroCostInputs

__all__ = ["BlendPredictor", "BLEND_MEMBER_DEFAULTS"]

# each default member's settings in a blend, under what member_params gives; chosen on folds of
# the published protocol's training sets (docs/results.md), never on test cells
BLEND_MEMBER_DEFAULTS: dict[str, dict[str, Any]] = {
    "transformer": {"n_ensemble": 3},
    "lgb": {"encoding": "graf", "num_leaves": 15},
    "xgb": {"encoding": "graf"},
}


class BlendPredictor(ZeroCostInputs, Predictor, RegressorMixin, BaseEstimator):
    """The weighted mean of its members' standardized predictions, on the targets' scale.

    Each member (a registered predictor that reads architectures or encodes them itself; no
    learning-curve readers) is fitted on the same architectures and targets. At ``fit`` each
    member's predictions on a reference set give it a mean and a standard deviation
    (``member_mean_``, ``member_scale_``): by default (``scale="space"``) ``reference_size``
    architectures drawn from the space (unlabelled, seeded by ``random_state``), which spread the
    way the candidates a user scores do; with ``scale="train"`` the training set, on which a
    boosted model's predictions spread wider than on unseen cells. ``predict`` standardizes each
    member's predictions with them, takes the weighted mean and maps it back with the targets'
    mean and standard deviation (``y_mean_``, ``y_scale_``): the blend ranks by the members'
    consensus and answers in the targets' units. Each prediction depends on that architecture
    alone, never on the rest of the batch.

    ``fit(X, y, zc=None)``, ``predict(X, zc=None)``: X holds architectures of ``space``. The
    fitted members are ``members_``; ``predict(X, return_std=True)`` raises
    :class:`~pyengine.errors.NoUncertaintyError`.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures (as it must: the
        members read different encodings of them)
    members : tuple of str or comma-separated str, default ("transformer", "lgb")
        Registered predictor names (aliases allowed; a name may repeat with other parameters).
    member_params : sequence of dict or None, optional
        One entry per member: parameters over that member's defaults in a blend
        (:data:`BLEND_MEMBER_DEFAULTS`: the transformer with 3 ensemble members, LightGBM on the
        ``graf`` encoding with 15 leaves per tree, XGBoost on ``graf``; a feature-based member not
        listed there reads ``graf`` too).
    weights : sequence of float, optional
        One non-negative weight per member, not all zero (None: equal weights).
    scale : "space" or "train", default "space"
        Where each member's predictions are standardized (above).
    reference_size : int, default 2048
        Architectures drawn from the space for ``scale="space"``.
    zc : tuple of str or comma-separated str, default ()
        Zero-cost scores given to every member that takes them (see :class:`GCNPredictor`); with
        ``scale="space"`` the reference set's scores are computed from its architectures
        (:func:`pyengine.proxies.cached_scores`), whatever ``fit`` is given for the training set.
    random_state : int, optional; every member's seed, and the reference set's (None: 0)
    """

    name = "blend"
    arch_input = True  # the members encode the architectures each in their own way
    _fitted_attributes = ("members_",)

    def __init__(
        self,
        space: Any = None,
        members: str | Sequence[str] = ("transformer", "lgb"),
        member_params: Sequence[Mapping[str, Any] | None] | None = None,
        weights: Sequence[float] | None = None,
        scale: str = "space",
        reference_size: int = 2048,
        zc: str | Sequence[str] = (),
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.members = members
        self.member_params = member_params
        self.weights = weights
        self.scale = scale
        self.reference_size = reference_size
        self.zc = zc
        self.random_state = random_state

    @property
    def requires(self) -> tuple[tuple[str, str], ...]:  # type: ignore[override]
        """The optional libraries the members need (LightGBM for the default blend)."""
        from . import PREDICTORS

        out: list[tuple[str, str]] = []
        try:
            names = self._member_names()
        except (InvalidTypeError, InvalidValueError):
            return ()
        for n in names:
            for r in getattr(PREDICTORS.get(n), "requires", ()):
                if r not in out:
                    out.append(r)
        return tuple(out)

    def _member_names(self) -> list[str]:
        from . import PREDICTORS

        names = name_list(self.members, "members", type(self).__name__, "a tuple of predictor names")
        if not names:
            raise InvalidValueError(f"The 'members' parameter of {type(self).__name__} names no predictor.")
        out = []
        for n in names:
            if n not in PREDICTORS:
                raise InvalidValueError(
                    f"The 'members' parameter of {type(self).__name__} names {n!r}, which is no predictor. "
                    f"Valid names: {', '.join(PREDICTORS.names())}."
                )
            canon = PREDICTORS.canonical_name(n)
            if canon == self.name:
                raise InvalidValueError(f"A {type(self).__name__} cannot hold another blend.")
            out.append(canon)
        return out

    def _weights(self, k: int) -> np.ndarray:
        if self.weights is None:
            return np.full(k, 1.0 / k)
        try:
            w = np.asarray(self.weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidTypeError(
                f"The 'weights' parameter of {type(self).__name__} must be a sequence of numbers. "
                f"Got {self.weights!r} instead."
            ) from None
        if w.shape != (k,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise InvalidValueError(
                f"The 'weights' parameter of {type(self).__name__} must hold {k} finite non-negative numbers, "
                f"one per member, not all zero. Got {self.weights!r} instead."
            )
        return w / w.sum()

    def _member_settings(self, k: int) -> list[dict[str, Any]]:
        mp = self.member_params
        if mp is None:
            return [{} for _ in range(k)]
        if isinstance(mp, (str, bytes, Mapping)) or not isinstance(mp, Sequence) or len(mp) != k:
            raise InvalidValueError(
                f"The 'member_params' parameter of {type(self).__name__} must be a sequence of {k} dicts (or None), "
                f"one per member. Got {mp!r} instead."
            )
        out = []
        for i, p in enumerate(mp):
            if p is not None and not isinstance(p, Mapping):
                raise InvalidTypeError(
                    f"Entry {i} of the 'member_params' parameter of {type(self).__name__} must be a dict or None. "
                    f"Got {type(p).__name__} instead."
                )
            out.append(dict(p or {}))
        return out

    def _make_members(self) -> list[Any]:
        from . import get_predictor

        names = self._member_names()
        settings = self._member_settings(len(names))
        self._weights(len(names))  # bad weights fail before any fit
        if self.scale not in ("space", "train"):
            raise InvalidValueError(
                f"The 'scale' parameter of {type(self).__name__} must be 'space' or 'train'. "
                f"Got {self.scale!r} instead."
            )
        check_int(self.reference_size, "reference_size", type(self).__name__, minimum=2)
        if self.scale == "space" and self.space is None:
            raise InvalidValueError(
                f"{type(self).__name__} with scale='space' needs 'space' to draw its reference architectures."
            )
        zc = self.zc_names()
        made = []
        for name, own in zip(names, settings, strict=True):
            est = get_predictor(name)
            params = est.get_params()
            tags = get_tags(est)
            if tags.needs_curves or getattr(est, "learns_labels", True) is not True:
                raise InvalidValueError(
                    f"Member {name!r} of {type(self).__name__} must learn from architectures and targets alone."
                )
            wanted = dict(BLEND_MEMBER_DEFAULTS.get(name, {}))
            if "encoding" in params and not tags.graph_input:
                wanted.setdefault("encoding", "graf")
            wanted.update({"space": self.space, "random_state": self.random_state})
            if zc:
                wanted["zc"] = tuple(zc)
            unknown = sorted(set(own) - set(params))
            if unknown:
                raise InvalidValueError(f"Member {name!r} of {type(self).__name__} has no parameter {unknown[0]!r}.")
            est.set_params(**{**{k: v for k, v in wanted.items() if k in params}, **own})
            made.append(est)
        return made

    def fit(self, X: Any, y: Any, zc: Any = None) -> BlendPredictor:
        from ._contract import is_architectures

        if not is_architectures(X):
            raise InvalidTypeError(
                f"{type(self).__name__} reads architectures (its members encode them each in their own way); "
                f"got {type(X).__name__}."
            )
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if not np.isfinite(y).all():
            raise InvalidValueError(f"{type(self).__name__} got a NaN or infinite target.")
        if len(y) < 2:
            raise InvalidValueError(f"{type(self).__name__} needs at least 2 training architectures; got {len(y)}.")
        members = self._make_members()
        reference = None
        if self.scale == "space":
            from ..spaces import get_space

            space = get_space(self.space)
            seed = 0 if self.random_state is None else self.random_state
            reference = space.sample(int(self.reference_size), np.random.default_rng(seed))
        means, scales = [], []
        for est in members:
            kw = {"zc": zc} if "zc" in est.get_params() and zc is not None else {}
            est.fit(X, y, **kw)
            p = np.asarray(est.predict(X, **kw) if reference is None else est.predict(reference), dtype=np.float64)
            means.append(float(p.mean()))
            sd = float(p.std())
            scales.append(sd if sd > 0 and math.isfinite(sd) else 1.0)
        self.members_ = members
        self.member_mean_ = np.asarray(means)
        self.member_scale_ = np.asarray(scales)
        self.y_mean_ = float(y.mean())
        sd = float(y.std())
        self.y_scale_ = sd if sd > 0 else 1.0
        return self

    def predict(self, X: Any, zc: Any = None, return_std: bool = False) -> np.ndarray:
        self._check_fitted()
        if return_std:
            from ..errors import NoUncertaintyError

            raise NoUncertaintyError(f"{type(self).__name__} has no uncertainty: predict(X) without return_std.")
        w = self._weights(len(self.members_))
        total = None
        for i, est in enumerate(self.members_):
            kw = {"zc": zc} if "zc" in est.get_params() and zc is not None else {}
            z = (np.asarray(est.predict(X, **kw), dtype=np.float64) - self.member_mean_[i]) / self.member_scale_[i]
            total = w[i] * z if total is None else total + w[i] * z
        return self.y_mean_ + self.y_scale_ * total
