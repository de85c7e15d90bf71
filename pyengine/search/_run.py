"""The loop that drives a searcher: ask, evaluate, record, tell, until the budget is spent."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._batch import batch_len, take
from .._validation import check_int
from ..errors import InvalidTypeError
from ._base import ExhaustedError, Searcher
from ._history import History, HistoryError
from ._objective import FunctionObjective, as_objective

__all__ = ["run"]

log = logging.getLogger(__name__)


def _start(searcher: Searcher, history: Any) -> tuple[History, list[dict]]:
    """The history to record into and the entries of an earlier run to replay."""
    fresh = History(searcher.space.name, searcher.name, searcher.params())
    if history is None:
        return fresh, []
    if isinstance(history, History):
        prior = list(history.entries)
        history.entries = []
        return history, prior
    if not isinstance(history, (str, os.PathLike)):
        raise InvalidTypeError(
            f"'history' must be None, a History or a file path. Got {type(history).__name__} instead."
        )
    path = Path(history)
    prior = []
    if path.exists() and path.stat().st_size > 0:
        old = History.load(path)
        if old.space != fresh.space or old.searcher != fresh.searcher:
            raise HistoryError(
                f"{path} records {old.searcher!r} on {old.space!r}; this run is {fresh.searcher!r} on {fresh.space!r}."
            )
        if old.params != json.loads(json.dumps(fresh.params)):
            raise HistoryError(f"{path} was recorded with parameters {old.params}; this run has {fresh.params}.")
        prior = old.entries
    fresh.attach(path, prior)
    return fresh, prior


def run(
    searcher: Searcher,
    objective: Any,
    budget: int,
    *,
    batch_size: int | None = None,
    history: Any = None,
    progress: bool = False,
) -> History:
    """Search for ``budget`` queries and return the :class:`History`.

    Parameters
    ----------
    searcher : Searcher (see ``SEARCHERS``)
    objective : Table, Objective or callable
        A table is simulated NAS: the searcher maximises its default metric (a validation
        accuracy) and the table's ``test_metric`` is recorded for reporting only. A callable
        ``fn(arch_string) -> value`` (or ``(value, test)``) is real NAS; an exception or a
        non-finite value marks that query failed (recorded with the reason, told to the searcher
        as NaN) and the run goes on.
    budget : int; number of queries, failed ones included
    batch_size : int, optional; queries per ask (default: the searcher's ``ask_size``)
    history : None, History or path
        A path records every query to a JSON Lines file as it finishes. If the file already holds
        a run of the same searcher, parameters and space, that run is resumed: the searcher is
        replayed through the recorded values (the objective is not called again for them) and the
        run continues. A History is resumed the same way in memory.
    progress : bool; show a progress bar

    Notes
    -----
    The history stops short of the budget only when the pool or space has nothing left to propose
    (``history.stop_reason == "exhausted"``).
    """
    if not isinstance(searcher, Searcher):
        raise InvalidTypeError(f"run() needs a Searcher (see SEARCHERS). Got {type(searcher).__name__} instead.")
    obj = as_objective(objective, searcher.space)
    searcher.plan(budget)
    batch_size = check_int(batch_size, "batch_size", "run", allow_none=True)
    step = batch_size or searcher.ask_size
    hist, prior = _start(searcher, history)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=budget, desc=searcher.name, unit="query")
    try:
        while len(hist) < budget:
            try:
                batch = searcher.ask(min(step, budget - len(hist)))
            except ExhaustedError:
                hist.stop_reason = "exhausted"
                log.info("%s ran out of architectures after %d queries", searcher.name, len(hist))
                break
            n = batch_len(batch)
            if n == 0:
                hist.stop_reason = "exhausted"
                break
            strings = searcher.space.to_strings(batch)
            values = np.full(n, np.nan)
            for i in range(n):
                q = len(hist)
                if q < len(prior):
                    e = prior[q]
                    if e["arch"] != strings[i]:
                        raise HistoryError(
                            f"The recorded run diverges at query {q + 1}: it evaluated {e['arch']}, the searcher now "
                            f"proposes {strings[i]}. Resume with the same searcher, parameters and seed."
                        )
                    hist.replay(e)
                    values[i] = np.nan if e["value"] is None else e["value"]
                    continue
                if isinstance(obj, FunctionObjective) and not obj.batched:
                    rows = [i]  # one at a time: a crash keeps every finished architecture
                else:
                    rows = [r for r in range(i, n)]
                ev = obj.evaluate(take(batch, rows))
                for j, r in enumerate(rows):
                    test = None if ev.test is None else float(ev.test[j])
                    hist.append(strings[r], float(ev.value[j]), test, ev.error[j], float(ev.seconds[j]))
                    values[r] = ev.value[j]
                if len(rows) > 1:
                    break
            searcher.tell(batch, values)
            if bar is not None:
                bar.update(n)
    finally:
        if bar is not None:
            bar.close()
        hist.close()
    if hist.failures:
        log.warning("%d of %d queries failed; see the history's 'error' fields", len(hist.failures), len(hist))
    return hist
