"""The base every predictor derives from: its name, its tags, the fitted check, ``score`` as
Kendall tau, and ``save``.

Tags say what a predictor needs and gives, in the style of scikit-learn's ``__sklearn_tags__``:
:func:`get_tags` returns a :class:`PredictorTags` for any estimator (another estimator is read
through the same attributes), and the evaluator, the NASLib adapter and the scoring job read
tags, never class names. A predictor declares its capabilities as the class attributes
``needs_curves``, ``arch_input``, ``graph_input``, ``has_uncertainty`` and ``requires`` (or as
properties where they depend on its parameters, as OMNI's do); ``__pyengine_tags__`` collects them.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar

import numpy as np

__all__ = ["Predictor", "PredictorTags", "get_tags"]


@dataclasses.dataclass(frozen=True)
class PredictorTags:
    """What a predictor needs from its inputs and what it gives.

    Attributes
    ----------
    needs_curves : bool
        ``fit`` and ``predict`` take ``curves=`` (partial learning curves): a learning-curve or
        OMNI-with-curves predictor.
    arch_input : bool
        ``fit`` and ``predict`` take architectures themselves, never an encoding (one-shot).
    graph_input : bool
        The predictor encodes architectures as graphs (adjacency and operations), not as a
        feature vector.
    has_std : bool
        ``predict(X, return_std=True)`` gives a spread (for the fitted parameters).
    requires : tuple of (module, extra) pairs
        Optional libraries the predictor needs, with the distribution extra that installs each.
    """

    needs_curves: bool = False
    arch_input: bool = False
    graph_input: bool = False
    has_std: bool = False
    requires: tuple[tuple[str, str], ...] = ()


def get_tags(est: Any) -> PredictorTags:
    """The :class:`PredictorTags` of ``est``. A pyengine predictor answers through
    ``__pyengine_tags__``; any other estimator is read through the same attributes
    (``needs_curves``, ``arch_input``, ``graph_input``, ``has_uncertainty``, ``requires``),
    each defaulting to "no", so a scikit-learn regressor or a user's duck-typed estimator works."""
    tags = getattr(est, "__pyengine_tags__", None)
    return tags() if callable(tags) else _from_attributes(est)


def _from_attributes(est: Any) -> PredictorTags:
    return PredictorTags(
        needs_curves=getattr(est, "needs_curves", False) is True,
        arch_input=getattr(est, "arch_input", False) is True,
        graph_input=getattr(est, "graph_input", False) is True,
        has_std=getattr(est, "has_uncertainty", False) is True,
        requires=tuple(getattr(est, "requires", ())),
    )


class Predictor:
    """Base of every pyengine predictor; goes before scikit-learn's mixins in the bases.

    Subclasses set ``name`` (their registry name), declare the capability attributes that differ
    from the defaults below, and list in ``_fitted_attributes`` the fitted attributes whose
    presence means the predictor is fitted.
    """

    name: ClassVar[str] = "predictor"
    needs_curves: bool = False
    arch_input: bool = False
    graph_input: bool = False
    has_uncertainty: bool = False
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    _fitted_attributes: ClassVar[tuple[str, ...]] = ("model_",)

    def __pyengine_tags__(self) -> PredictorTags:
        return _from_attributes(self)

    def __sklearn_is_fitted__(self) -> bool:
        return all(hasattr(self, a) for a in self._fitted_attributes)

    def _check_fitted(self) -> None:
        """Raise scikit-learn's ``NotFittedError`` unless the predictor is fitted."""
        if not self.__sklearn_is_fitted__():
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(X, y) first.")

    def score(self, X: Any, y: Any, **inputs: Any) -> float:
        """Kendall tau-b between ``y`` (n,) and ``predict(X, **inputs)``; 1.0 for a perfect
        ranking. ``inputs`` are the further inputs ``predict`` takes (``curves``, ``extra``, ...)."""
        from ..metrics import kendall_tau

        pred = self.predict(X, **inputs)  # type: ignore[attr-defined]
        return kendall_tau(np.asarray(y, dtype=np.float64).reshape(-1), np.asarray(pred, dtype=np.float64))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted predictor to exactly ``path`` (format: docs/formats.md);
        ``pyengine.load(path)`` reads it back."""
        from ._persist import save_predictor

        self._check_fitted()
        save_predictor(self, path)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = False
        archs = getattr(self, "space", None) is not None
        tags.input_tags.string = archs
        tags.input_tags.dict = archs
        own = self.__pyengine_tags__()
        if own.graph_input or own.needs_curves:
            tags.input_tags.two_d_array = False  # graphs or learning curves, not a feature matrix
        return tags
