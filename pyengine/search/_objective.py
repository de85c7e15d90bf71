"""What a search optimises: a table of trained architectures (simulated NAS) or a user's function
(real NAS), both evaluated one batch at a time, with failures recorded instead of raised."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._batch import batch_len
from ..errors import InvalidTypeError, InvalidValueError
from ..spaces import SearchSpace
from ..tables import Table

__all__ = ["Evaluation", "Objective", "TableObjective", "FunctionObjective", "TableColumn", "as_objective"]

log = logging.getLogger(__name__)


class Evaluation(NamedTuple):
    """Results of one batch of n architectures.

    value : array of shape (n,), float64; the metric the search maximises, NaN where it failed
    test : array of shape (n,), float64, or None; a reported-only metric (NaN where absent)
    error : list of n str or None; why each failed architecture failed
    seconds : array of shape (n,), float64; time spent evaluating each architecture
    """

    value: np.ndarray
    test: np.ndarray | None
    error: list[str | None]
    seconds: np.ndarray


class Objective:
    """Base of objectives: ``evaluate(batch) -> Evaluation``; ``space`` may be None (any space)."""

    space: SearchSpace | None = None
    has_test = False

    def evaluate(self, batch: Any) -> Evaluation:
        raise NotImplementedError


class TableColumn:
    """One column of a table as a function of architectures: ``column(batch) -> array (n,)``, NaN
    for architectures the table lacks. Used for costs such as latency."""

    def __init__(self, table: Table, metric: str | None = None) -> None:
        if not isinstance(table, Table):
            raise InvalidTypeError(f"TableColumn needs a Table. Got {type(table).__name__} instead.")
        self.table = table
        self.metric = metric if metric is not None else table.default_metric
        table.column(self.metric)  # unknown names raise here, listing the columns

    @property
    def space(self) -> SearchSpace:
        return self.table.space

    def __call__(self, batch: Any) -> np.ndarray:
        idx = self.table.indices(batch)
        out = np.full(len(idx), np.nan)
        hit = idx >= 0
        out[hit] = self.table.column(self.metric)[idx[hit]]
        return out

    def __repr__(self) -> str:
        return f"TableColumn({self.table.name!r}, {self.metric!r})"


class TableObjective(Objective):
    """Simulated NAS: the value of an architecture is its ``metric`` in ``table`` (a validation
    accuracy by default) and ``test_metric`` is reported alongside, never optimised. An
    architecture the table lacks, or a NaN in the table, is a failed evaluation."""

    def __init__(self, table: Table, metric: str | None = None, test_metric: str | None = "default") -> None:
        self.value_column = TableColumn(table, metric)
        self.table = table
        self.metric = self.value_column.metric
        if test_metric == "default":
            test_metric = table.test_metric
        self.test_column = None if test_metric is None else TableColumn(table, test_metric)
        self.test_metric = test_metric
        self.has_test = test_metric is not None

    @property
    def space(self) -> SearchSpace:  # type: ignore[override]
        return self.table.space

    def evaluate(self, batch: Any) -> Evaluation:
        value = self.value_column(batch)
        test = None if self.test_column is None else self.test_column(batch)
        idx = self.table.indices(batch)
        error: list[str | None] = []
        for i, v in zip(idx, value, strict=True):
            if i < 0:
                error.append(f"not in table {self.table.name}")
            elif not math.isfinite(v):
                error.append(f"table {self.table.name} has no finite {self.metric}")
            else:
                error.append(None)
        value = np.where([e is None for e in error], value, np.nan)
        return Evaluation(value, test, error, np.zeros(len(value)))


class FunctionObjective(Objective):
    """Real NAS: ``fn`` trains and evaluates architectures.

    Parameters
    ----------
    fn : callable
        ``fn(arch) -> float`` called once per architecture with its string form (the space's
        ``to_strings``), or with ``batched=True`` ``fn(batch) -> array of shape (n,)``. A return of
        ``(value, test)`` also reports a test metric. An exception or a non-finite return marks
        that architecture failed (recorded with the reason); the search goes on.
    space : SearchSpace
    batched : bool, default False
    """

    def __init__(self, fn: Callable[..., Any], space: SearchSpace, *, batched: bool = False) -> None:
        if not callable(fn):
            raise InvalidTypeError(f"The objective must be callable. Got {type(fn).__name__} instead.")
        self.fn = fn
        self.space = space
        self.batched = batched
        self.has_test = True

    def _one(self, out: Any) -> tuple[float, float, str | None]:
        test = math.nan
        if isinstance(out, tuple) and len(out) == 2:
            out, test = out
        try:
            v = float(out)
            t = float(test)
        except (TypeError, ValueError):
            return math.nan, math.nan, f"returned {type(out).__name__}, not a number"
        if not math.isfinite(v):
            return math.nan, t, f"returned {v}"
        return v, t, None

    def evaluate(self, batch: Any) -> Evaluation:
        n = batch_len(batch)
        value, test, secs = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
        error: list[str | None] = [None] * n
        if self.batched:
            t0 = time.perf_counter()
            try:
                out = self.fn(batch)
            except Exception as exc:  # a user's training code failing is data, not a crash
                log.warning("objective raised %s on a batch of %d", exc, n)
                return Evaluation(value, None, [f"raised {type(exc).__name__}: {exc}"] * n, np.full(n, math.nan))
            tests = None
            if isinstance(out, tuple) and len(out) == 2:
                out, tests = out
            arr = np.asarray(out, dtype=np.float64).reshape(-1)
            if arr.shape != (n,):
                return Evaluation(value, None, [f"returned shape {arr.shape}, expected ({n},)"] * n, secs)
            secs[:] = (time.perf_counter() - t0) / n
            for i in range(n):
                t = math.nan if tests is None else np.asarray(tests, np.float64).reshape(-1)[i]
                value[i], test[i], error[i] = self._one((arr[i], t))
            return Evaluation(value, test, error, secs)
        strings = self.space.to_strings(batch)
        for i, arch in enumerate(strings):
            t0 = time.perf_counter()
            try:
                out = self.fn(arch)
            except Exception as exc:  # a user's training code failing is data, not a crash
                log.warning("objective raised %s on %s", exc, arch)
                error[i] = f"raised {type(exc).__name__}: {exc}"
                secs[i] = time.perf_counter() - t0
                continue
            secs[i] = time.perf_counter() - t0
            value[i], test[i], error[i] = self._one(out)
        return Evaluation(value, test, error, secs)


def as_objective(objective: Any, space: SearchSpace, **kwargs: Any) -> Objective:
    """An :class:`Objective` from a Table, an Objective or a callable; its space must be ``space``."""
    if isinstance(objective, Table):
        objective = TableObjective(objective, **kwargs)
    elif isinstance(objective, Objective):
        pass
    elif callable(objective):
        objective = FunctionObjective(objective, space, **kwargs)
    else:
        raise InvalidTypeError(
            f"The objective must be a Table, an Objective or a callable. Got {type(objective).__name__} instead."
        )
    if objective.space is not None and objective.space != space:
        raise InvalidValueError(f"The objective is over {objective.space.name}; the searcher searches {space.name}.")
    return objective
