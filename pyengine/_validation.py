"""Checks of parameters at the public boundary, with one message template:

    "The 'hidden' parameter of GCNPredictor must be a positive int. Got 0 instead."

Wrong types raise :class:`~pyengine.errors.InvalidTypeError`, wrong values
:class:`~pyengine.errors.InvalidValueError` (a ``TypeError`` / ``ValueError``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InvalidTypeError, InvalidValueError

__all__ = ["message", "check_int", "check_positive_int", "check_non_negative", "check_rng", "name_list"]


def message(name: str, owner: str, expected: str, got: Any) -> str:
    """The one template: "The 'name' parameter of owner must be expected. Got got instead."
    (``got`` as its repr, or a type's name)."""
    shown = got.__name__ if isinstance(got, type) else repr(got)
    return f"The {name!r} parameter of {owner} must be {expected}. Got {shown} instead."


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(value: Any, name: str, owner: str, *, minimum: int = 1, allow_none: bool = False) -> Any:
    """``value`` as an int >= ``minimum`` (None passes where ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise InvalidValueError(message(name, owner, what + (" or None" if allow_none else ""), value))
    return int(value)


def check_positive_int(value: Any, name: str, owner: str) -> int:
    """``value`` as an int >= 1."""
    return check_int(value, name, owner)


def check_non_negative(value: Any, name: str, owner: str) -> float:
    """``value`` as a finite float >= 0."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        raise InvalidValueError(message(name, owner, "a non-negative float", value))
    return float(value)


def check_rng(rng: Any, owner: str) -> np.random.Generator:
    """A numpy Generator from a Generator or an int seed; InvalidTypeError for anything else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if _is_int(rng):
        return np.random.default_rng(int(rng))
    raise InvalidTypeError(message("rng", owner, "a numpy.random.Generator or an int seed", type(rng)))


def name_list(value: Any, name: str, owner: str, expected: str) -> list[str]:
    """``value`` (a comma-separated str or a sequence of str) as its names, stripped, empty ones
    dropped; anything else raises InvalidTypeError saying it must be ``expected``."""
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, Sequence) and all(isinstance(s, str) for s in value):
        names = list(value)
    else:
        raise InvalidTypeError(message(name, owner, expected, value))
    return [n for n in (s.strip() for s in names) if n]
