"""Model-free searchers: random search, regularized (aging) evolution, local search."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from .._batch import batch_len, concat, take
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError
from ._base import Searcher

__all__ = ["RandomSearch", "RegularizedEvolution", "LocalSearch"]


class RandomSearch(Searcher):
    """Random search: fresh architectures drawn the way the benchmark draws them, or with
    ``deiso=True`` uniformly over isomorphism classes (Ning et al.'s de-isomorphic sampling).
    Isomorphs of evaluated architectures are never proposed again."""

    name = "rs"

    def __init__(self, space: Any, *, deiso: bool = False, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        if not isinstance(deiso, bool):
            raise InvalidTypeError(f"The 'deiso' parameter of RandomSearch must be a bool. Got {deiso!r} instead.")
        self.deiso = deiso

    def params(self) -> dict:
        return {**super().params(), "deiso": self.deiso}

    def _ask(self, n: int) -> Any:
        return self._random(n, unique=self.deiso)


class RegularizedEvolution(Searcher):
    """Regularized (aging) evolution of Real et al.: ``population_size`` random architectures,
    then each query mutates the best of ``tournament_size`` members drawn from the population and
    the child replaces the oldest member. A mutation is one edit to a fresh architecture
    (:meth:`SearchSpace.mutate`'s edit, restricted to unseen classes in the pool). Failed
    evaluations join the population with value -inf, so they age out without ever being chosen.
    """

    name = "re"

    def __init__(self, space: Any, *, population_size: int = 20, tournament_size: int = 5, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        self.population_size = check_positive_int(population_size, "population_size", "RegularizedEvolution")
        self.tournament_size = check_positive_int(tournament_size, "tournament_size", "RegularizedEvolution")
        if self.tournament_size > self.population_size:
            raise InvalidValueError(
                f"The 'tournament_size' parameter of RegularizedEvolution ({tournament_size}) cannot exceed "
                f"'population_size' ({population_size})."
            )
        self._population: deque[tuple[Any, float]] = deque()
        self._n_asked = 0

    def params(self) -> dict:
        return {**super().params(), "population_size": self.population_size, "tournament_size": self.tournament_size}

    def plan(self, budget: int) -> None:
        super().plan(budget)
        if budget < self.population_size:
            raise InvalidValueError(
                f"A budget of {budget} is smaller than the initial population of {self.population_size} random "
                "architectures; lower 'population_size' or raise the budget."
            )

    def _ask(self, n: int) -> Any:
        parts = []
        n_init = max(0, min(n, self.population_size - self._n_asked))
        if n_init:
            got = self._random(n_init)
            if got is not None:
                parts.append(got)
        for _ in range(n - n_init):
            if not self._population:
                break  # the initial population is still being evaluated
            pop = list(self._population)
            pick = self._rng.choice(len(pop), size=min(self.tournament_size, len(pop)), replace=False)
            best = max(pick, key=lambda i: pop[i][1])
            child = self._child(pop[best][0])
            if child is None:
                break
            parts.append(child)
        self._n_asked += sum(batch_len(p) for p in parts)
        return concat(parts) if parts else None

    def _tell(self, batch: Any, values: np.ndarray) -> None:
        for i in range(batch_len(batch)):
            v = float(values[i])
            self._population.append((take(batch, [i]), v if math.isfinite(v) else -math.inf))
            if len(self._population) > self.population_size:
                self._population.popleft()


class LocalSearch(Searcher):
    """Local search over one-edit neighbourhoods (White et al., "Local search is state of the art
    for NAS benchmarks"): start from the best of ``n_init`` random architectures; evaluate the
    current architecture's unseen neighbours in random order; ``mode="first"`` moves to the first
    neighbour that beats it, ``"best"`` evaluates the whole neighbourhood and moves to its best
    if that beats it. At a local optimum it restarts from a fresh random architecture. Asked for
    more than the neighbourhood holds, it fills the ask with random architectures, which count as
    restart points only."""

    name = "ls"

    def __init__(self, space: Any, *, n_init: int = 10, mode: str = "first", **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        self.n_init = check_positive_int(n_init, "n_init", "LocalSearch")
        if mode not in ("first", "best"):
            raise InvalidValueError(
                f"The 'mode' parameter of LocalSearch must be 'first' or 'best'. Got {mode!r} instead."
            )
        self.mode = mode
        self._n_asked = 0
        self._current: tuple[Any, float] | None = None
        self._queue: list[Any] = []  # neighbours of the current architecture still to ask
        self._round: list[tuple[Any, float]] = []  # neighbours told in the current round
        self._round_keys: set = set()
        self._restart_key: Any = None  # None until the initial design is in

    def params(self) -> dict:
        return {**super().params(), "n_init": self.n_init, "mode": self.mode}

    def plan(self, budget: int) -> None:
        super().plan(budget)
        if budget < self.n_init:
            raise InvalidValueError(
                f"A budget of {budget} is smaller than LocalSearch's {self.n_init} initial random architectures; "
                "lower 'n_init' or raise the budget."
            )

    def _move_to(self, arch: Any, value: float) -> None:
        self._current = (arch, value)
        self._round, self._round_keys = [], set()
        nb, _ = self._neighbourhood(arch)
        order = self._rng.permutation(batch_len(nb))
        self._queue = [take(nb, [i]) for i in order]

    def _ask(self, n: int) -> Any:
        if self._n_asked < self.n_init:  # the initial design
            got = self._random(min(n, self.n_init - self._n_asked))
            self._n_asked += 0 if got is None else batch_len(got)
            return got
        if self._current is None:  # waiting for the initial design, or restarting
            if self._pending:
                return None
            got = self._random(1)
            if got is not None:
                self._restart_key = self.space.canonical_keys(got).tolist()[0]
                self._n_asked += 1
            return got
        parts = []
        while self._queue and len(parts) < n:
            arch = self._queue.pop(0)
            keys = self.space.canonical_keys(arch)
            key = keys.tolist()[0]
            if key in self._seen:
                continue  # proposed meanwhile as a filler
            self._mark(keys)
            self._round_keys.add(key)
            parts.append(arch)
        if not parts and not self._pending:
            self._finish_round()
            return self._ask(n)
        if parts and len(parts) < n:
            got = self._random(n - len(parts))
            if got is not None:
                parts.append(got)
        self._n_asked += sum(batch_len(p) for p in parts)
        return concat(parts) if parts else None

    def _finish_round(self) -> None:
        """Neighbourhood exhausted: move to its best if it improves (mode 'best'), else restart."""
        if self._current is not None and self.mode == "best" and self._round:
            arch, value = max(self._round, key=lambda t: t[1])
            if value > self._current[1]:
                self._move_to(arch, value)
                return
        self._current = None  # a local optimum: the next ask draws a random restart point

    def _tell(self, batch: Any, values: np.ndarray) -> None:
        keys = self.space.canonical_keys(batch).tolist()
        for i in range(batch_len(batch)):
            arch, v = take(batch, [i]), float(values[i])
            v = v if math.isfinite(v) else -math.inf
            if self._current is None:
                if keys[i] == self._restart_key and v > -math.inf:
                    self._move_to(arch, v)
                continue
            if keys[i] in self._round_keys:
                self._round.append((arch, v))
                if self.mode == "first" and v > self._current[1]:
                    self._move_to(arch, v)
        if self._current is None and self._restart_key is None and self.n_told >= self.n_init and not self._pending:
            obs, vals = self.observed()  # the initial design is in: start from its best
            if np.isfinite(vals).any():
                b = int(np.nanargmax(vals))
                self._move_to(take(obs, [b]), float(vals[b]))
            self._restart_key = -1
