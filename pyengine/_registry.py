"""Typed registries: the one list of the members of a family (spaces, encodings, predictors, ...).

A member is registered under a name with a factory given as ``"module:attribute"``; the module is
imported on first use, so heavy dependencies load only when a member that needs them is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import InvalidTypeError, InvalidValueError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Name -> lazily imported factory, with aliases.

    Parameters
    ----------
    family : str
        What the members are, for messages ("search space", "encoding").
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._targets: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._loaded: dict[str, Callable[..., T]] = {}

    def register(self, name: str, target: str, *, aliases: tuple[str, ...] = ()) -> None:
        """Register ``name`` for the factory at ``"module:attribute"`` (plus optional aliases)."""
        if name in self._targets or name in self._aliases:
            raise InvalidValueError(f"The {self.family} {name!r} is already registered.")
        self._targets[name] = target
        for alias in aliases:
            self._aliases[alias] = name

    def names(self) -> list[str]:
        """Registered names (aliases excluded), sorted."""
        return sorted(self._targets)

    def canonical_name(self, name: str) -> str:
        """The registered name of ``name`` or of its alias; ValueError listing valid names otherwise."""
        if not isinstance(name, str):
            raise InvalidTypeError(f"A {self.family} name must be a str. Got {type(name).__name__} instead.")
        key = self._aliases.get(name, name)
        if key not in self._targets:
            valid = ", ".join(self.names() + sorted(self._aliases))
            raise InvalidValueError(f"Unknown {self.family} {name!r}. Valid names: {valid}.")
        return key

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under ``name`` (importing its module on first use)."""
        key = self.canonical_name(name)
        if key not in self._loaded:
            module, _, attr = self._targets[key].partition(":")
            obj: object = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            self._loaded[key] = obj  # type: ignore[assignment]
        return self._loaded[key]

    def create(self, name: str, **kwargs: object) -> T:
        """Call the factory of ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._targets or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
