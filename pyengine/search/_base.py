"""What every searcher shares: the ask/tell bookkeeping (what was proposed, what was told, never
proposing an isomorph of either twice), a candidate pool and cost constraint, random draws and
mutation-based children that respect them."""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._batch import batch_len, concat, first_unique, take
from ..errors import ExhaustedError, InvalidTypeError, InvalidValueError
from ..spaces import SearchSpace, get_space
from ..spaces._base import check_count

__all__ = ["Searcher", "ExhaustedError"]


def _check_seed(seed: Any, owner: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidTypeError(f"The 'random_state' parameter of {owner} must be an int. Got {seed!r} instead.")
    return int(seed)


class Searcher(abc.ABC):
    """Base of the search strategies (registry ``SEARCHERS``), driven by ask and tell.

    ``ask(n)`` proposes up to ``n`` architectures never proposed before (no isomorph of an asked
    or told architecture is proposed twice); ``tell(batch, values)`` reports their values (NaN for
    a failed evaluation, which is remembered but never chosen as a parent or fitted on).

    Parameters shared by every searcher
    -----------------------------------
    space : str or SearchSpace
    pool : batch of ``space``, optional
        Search only within these architectures (e.g. the rows of a table that covers part of a
        space). Random draws pick pool rows; mutations keep to children in the pool (one edit,
        else two edits, else a random pool member).
    cost : callable, optional
        ``cost(batch) -> array of shape (n,)``, e.g. a latency column
        (:class:`~pyengine.search.TableColumn`).
    max_cost : float, optional
        Hard bound: architectures with ``cost > max_cost`` (or a NaN cost) are never proposed.
    random_state : int, default 0
        Seed of every random choice the searcher makes.
    """

    name: ClassVar[str] = "searcher"
    #: queries per ask that :func:`~pyengine.search.run` uses unless told otherwise
    ask_size: ClassVar[int] = 1

    def __init__(
        self,
        space: Any,
        *,
        pool: Any = None,
        cost: Callable[[Any], Any] | None = None,
        max_cost: float | None = None,
        random_state: int = 0,
    ) -> None:
        owner = type(self).__name__
        self.space: SearchSpace = get_space(space)
        self.random_state = _check_seed(random_state, owner)
        self._rng = np.random.default_rng(self.random_state)
        if cost is not None and not callable(cost):
            raise InvalidTypeError(
                f"The 'cost' parameter of {owner} must be callable. Got {type(cost).__name__} instead."
            )
        if max_cost is not None:
            if cost is None:
                raise InvalidValueError(f"The 'max_cost' parameter of {owner} needs a 'cost' function.")
            if isinstance(max_cost, bool) or not isinstance(max_cost, (int, float)) or not math.isfinite(max_cost):
                raise InvalidValueError(
                    f"The 'max_cost' parameter of {owner} must be a finite number. Got {max_cost!r}."
                )
        self.cost = cost
        self.max_cost = max_cost
        self._seen: set = set()
        self._pending: dict = {}
        self._obs: list[Any] = []
        self._obs_values: list[np.ndarray] = []
        self._obs_cache: tuple[Any, np.ndarray] | None = None
        self.pool = None
        if pool is not None:
            self.pool = self.space.as_batch(pool)
            keys = self.space.canonical_keys(self.pool)
            ok = self._feasible(self.pool)
            first = first_unique(keys)
            keep = first[ok[first]]
            if len(keep) == 0:
                raise InvalidValueError(f"The pool of {owner} holds no architecture within max_cost={max_cost}.")
            self._pool_rows = keep  # one feasible row per class, in pool order
            self._pool_keys = keys[keep]
            self._pool_order = np.argsort(self._pool_keys, kind="stable")
            self._pool_sorted = self._pool_keys[self._pool_order]
            self._pool_free = np.ones(len(keep), dtype=bool)

    # -- what each searcher defines ----------------------------------------------------------------
    @abc.abstractmethod
    def _ask(self, n: int) -> Any:
        """Up to n fresh architectures (a batch); may use the helpers below."""

    def _tell(self, batch: Any, values: np.ndarray) -> None:
        """React to values of a batch (already recorded in the observations)."""
        return None

    def plan(self, budget: int) -> None:
        """Learn the budget of a run before the first ask; ValueError when it is too small for
        the searcher's initial design."""
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
            raise InvalidValueError(f"The budget must be a positive int. Got {budget!r} instead.")

    def params(self) -> dict:
        """The searcher's parameters as JSON values (for history headers)."""
        out: dict = {"random_state": self.random_state, "pool": None if self.pool is None else len(self._pool_rows)}
        if self.max_cost is not None:
            out["max_cost"] = self.max_cost
        return out

    # -- ask / tell --------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> Any:
        """Up to ``n`` architectures to evaluate next (a batch of ``space``); fewer only when the
        searcher must wait for values it asked for, or when the pool runs out. Raises
        :class:`ExhaustedError` when nothing at all is left to propose."""
        n = check_count(n, f"{type(self).__name__}.ask")
        batch = self._ask(n)
        if batch is None or batch_len(batch) == 0:
            if self._pending:
                return self._empty()
            raise ExhaustedError(f"{type(self).__name__} has no architecture left to propose in {self.space.name}.")
        keys = self.space.canonical_keys(batch)
        for k in keys.tolist():
            self._pending[k] = self._pending.get(k, 0) + 1
        self._mark(keys)
        return batch

    def tell(self, batch: Any, values: Any) -> None:
        """Report ``values`` (array of shape (n,); NaN marks a failed evaluation) of architectures
        this searcher asked for. ValueError names rows never asked (or already told)."""
        batch = self.space.as_batch(batch)
        n = batch_len(batch)
        try:
            v = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidTypeError(f"tell() needs numeric values. Got {type(values).__name__}.") from None
        if v.shape != (n,):
            raise InvalidValueError(f"tell() got {n} architectures and {v.size} values.")
        v = np.where(np.isfinite(v), v, np.nan)
        keys = self.space.canonical_keys(batch).tolist()
        left = dict(self._pending)
        bad = []
        for i, k in enumerate(keys):
            if left.get(k, 0) > 0:
                left[k] -= 1
            else:
                bad.append(i)
        if bad:
            shown = ", ".join(str(r) for r in bad[:10])
            raise InvalidValueError(
                f"tell() got {len(bad)} architecture(s) this {type(self).__name__} did not ask for, "
                f"or already told (rows {shown})."
            )
        self._pending = {k: c for k, c in left.items() if c > 0}
        self._obs.append(batch)
        self._obs_values.append(v)
        self._obs_cache = None
        self._tell(batch, v)

    @property
    def n_told(self) -> int:
        return int(sum(len(v) for v in self._obs_values))

    @property
    def n_pending(self) -> int:
        return int(sum(self._pending.values()))

    def observed(self) -> tuple[Any, np.ndarray]:
        """Every told architecture (a batch) and its value (NaN where failed), in tell order."""
        if self._obs_cache is None:
            if not self._obs:
                raise InvalidValueError(f"{type(self).__name__} has been told no values yet.")
            self._obs_cache = (concat(self._obs), np.concatenate(self._obs_values))
        return self._obs_cache

    # -- helpers -----------------------------------------------------------------------------------
    def _empty(self) -> Any:
        return self.space.Batch(*(np.asarray(f)[:0] for f in self.space.sample(1, 0)))

    def _mark(self, keys: np.ndarray) -> None:
        self._seen.update(keys.tolist())
        if self.pool is not None:
            pos = np.searchsorted(self._pool_sorted, keys)
            pos = np.clip(pos, 0, len(self._pool_sorted) - 1)
            hit = self._pool_sorted[pos] == keys
            self._pool_free[self._pool_order[pos[hit]]] = False

    def _feasible(self, batch: Any) -> np.ndarray:
        n = batch_len(batch)
        if self.max_cost is None or n == 0:
            return np.ones(n, dtype=bool)
        c = np.asarray(self.cost(batch), dtype=np.float64).reshape(-1)  # type: ignore[misc]
        if c.shape != (n,):
            raise InvalidValueError(f"The cost function returned shape {c.shape} for {n} architectures.")
        return np.isfinite(c) & (c <= self.max_cost)

    def _in_pool(self, keys: np.ndarray) -> np.ndarray:
        if self.pool is None:
            return np.ones(len(keys), dtype=bool)
        pos = np.clip(np.searchsorted(self._pool_sorted, keys), 0, len(self._pool_sorted) - 1)
        return self._pool_sorted[pos] == keys

    def _fresh(self, batch: Any, keys: np.ndarray | None = None) -> np.ndarray:
        """Rows that may be proposed: unseen, in the pool, feasible, first of their class."""
        if keys is None:
            keys = self.space.canonical_keys(batch)
        ok = np.zeros(len(keys), dtype=bool)
        ok[first_unique(keys)] = True
        ok &= np.fromiter((k not in self._seen for k in keys.tolist()), bool, len(keys))
        ok &= self._in_pool(keys)
        if self.pool is None and ok.any():
            idx = np.flatnonzero(ok)
            ok[idx] = self._feasible(take(batch, idx))
        return ok

    def _random(self, n: int, *, unique: bool = False, reserve: bool = True) -> Any:
        """Up to n fresh architectures drawn at random: pool rows uniformly (one per class), or
        the space's draw (over labellings, or over classes with ``unique``). ``reserve`` marks
        them proposed, so later draws of the same ask avoid them."""
        out = self._draw_random(n, unique)
        if reserve and out is not None:
            self._mark(self.space.canonical_keys(out))
        return out

    def _draw_random(self, n: int, unique: bool) -> Any:
        if self.pool is not None:
            free = np.flatnonzero(self._pool_free)
            if len(free) == 0:
                return None
            pick = self._rng.choice(free, size=min(n, len(free)), replace=False)
            return take(self.pool, self._pool_rows[pick])
        got: list[Any] = []
        have = 0
        taken: set = set()
        for _ in range(64):
            draw = self.space.sample(max(2 * (n - have), 8), self._rng, unique=unique)
            keys = self.space.canonical_keys(draw)
            ok = self._fresh(draw, keys) & np.fromiter((k not in taken for k in keys.tolist()), bool, len(keys))
            idx = np.flatnonzero(ok)[: n - have]
            if len(idx):
                got.append(take(draw, idx))
                taken.update(keys[idx].tolist())
                have += len(idx)
            if have >= n:
                break
        return concat(got) if got else None

    def _neighbourhood(self, parents: Any, *, max_edits: int = 1) -> tuple[Any, np.ndarray]:
        """Fresh children of each parent: its one-edit children, plus two-edit children for
        every parent when ``max_edits`` is 2, or only for parents with no fresh one-edit child
        when it is 1. Returns (batch, parent row of each), one child per class, in generation
        order."""
        cand, par = self.space.edits(parents)
        pk = self.space.canonical_keys(parents)
        keys = self.space.canonical_keys(cand)
        ok = (keys != pk[par]) & self._fresh(cand, keys)
        parts, owners, kparts = [take(cand, np.flatnonzero(ok))], [par[ok]], [keys[ok]]
        has = np.zeros(batch_len(parents), dtype=bool)
        has[par[ok]] = True
        second = np.arange(batch_len(parents)) if max_edits >= 2 else np.flatnonzero(~has)
        if len(second):
            rows = np.flatnonzero(np.isin(par, second))
            cand2, par2 = self.space.edits(take(cand, rows))
            par2 = par[rows][par2]
            keys2 = self.space.canonical_keys(cand2)
            ok2 = (keys2 != pk[par2]) & self._fresh(cand2, keys2)
            parts.append(take(cand2, np.flatnonzero(ok2)))
            owners.append(par2[ok2])
            kparts.append(keys2[ok2])
        allc = concat(parts)
        keep = first_unique(np.concatenate(kparts))
        return take(allc, keep), np.concatenate(owners)[keep]

    def _child(self, parent: Any) -> Any:
        """One fresh child of a parent (a batch of one), chosen uniformly among its nearest fresh
        children, else a random fresh architecture; reserved like :meth:`_random`."""
        cand, _ = self._neighbourhood(parent)
        if batch_len(cand):
            child = take(cand, [int(self._rng.integers(batch_len(cand)))])
            self._mark(self.space.canonical_keys(child))
            return child
        return self._random(1)
