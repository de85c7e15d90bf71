"""Simulated NAS on a table: every searcher over many seeds, one record per (searcher, seed), the
summary against the oracle, and the trajectory plot (Wen et al.'s Figure 4)."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from .. import _plotting
from .._batch import take
from .._progress import reporting
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError
from ..tables import Table
from ._history import History
from ._objective import TableObjective

__all__ = ["simulate", "summarize", "plot_trajectories", "oracle", "default_tolerance"]

log = logging.getLogger(__name__)

_TABLE: Table | None = None  # the table of a worker process


def oracle(
    table: Table, metric: str | None = None, test_metric: str | None = "default", *, mask: Any = None
) -> dict[str, Any]:
    """The best architecture of the table by ``metric`` (among the rows where ``mask``, a bool
    array of shape (n_rows,), is true, e.g. those within a latency bound): its value and test."""
    obj = TableObjective(table, metric, test_metric)
    if mask is None:
        row, value = table.best(obj.metric)
    else:
        m = np.asarray(mask, dtype=bool)
        if m.shape != (len(table),):
            raise InvalidValueError(f"The oracle's mask must have shape ({len(table)},). Got {m.shape} instead.")
        col = np.where(m, table.column(obj.metric), np.nan)
        if not np.isfinite(col).any():
            raise InvalidValueError(f"No row of table {table.name} is allowed by the mask.")
        row = int(np.nanargmax(col))
        value = float(col[row])
    test = None if obj.test_metric is None else float(table.column(obj.test_metric)[row])
    arch = table.space.to_strings(take(table.archs, [row]))[0]
    return {"metric": obj.metric, "test_metric": obj.test_metric, "valid": value, "test": test, "arch": arch}


def default_tolerance(table: Table, metric: str | None = None) -> float:
    """0.1 points of accuracy in the column's units: 0.1 for percentages, 0.001 for fractions."""
    col = table.column(metric)
    finite = col[np.isfinite(col)]
    return 0.001 if len(finite) and finite.min() >= 0.0 and finite.max() <= 1.0 else 0.1


def _record(name: str, seed: int, hist: History, seconds: float) -> dict[str, Any]:
    bv, bt = hist.best_so_far()
    best = hist.best()

    def clean(a: np.ndarray) -> list[float | None]:
        return [None if not math.isfinite(x) else float(x) for x in a]

    has_test = any(e["test"] is not None for e in hist.entries)
    return {
        "searcher": name,
        "seed": seed,
        "queries": list(range(1, len(hist) + 1)),
        "best_valid": clean(bv),
        "best_test": clean(bt) if has_test else None,
        "values": clean(hist.values),
        "n_failed": len(hist.failures),
        "best_arch": None if best is None else best["arch"],
        "stop_reason": hist.stop_reason,
        "wall_seconds": seconds,
        "params": hist.params,
    }


def _one(
    table: Table | None,
    name: str,
    seed: int,
    budget: int,
    metric: str | None,
    test_metric: str | None,
    use_pool: bool,
    params: dict[str, Any],
    cost: Any,
) -> dict[str, Any]:
    from . import SEARCHERS, run

    table = table if table is not None else _TABLE
    if table is None:
        raise RuntimeError("A search worker started without its table.")
    kwargs = dict(params)
    if use_pool:
        kwargs["pool"] = table.archs
    if cost is not None:
        kwargs["cost"] = cost
    t0 = time.perf_counter()
    searcher = SEARCHERS.create(name, space=table.space, random_state=seed, **kwargs)
    hist = run(searcher, TableObjective(table, metric, test_metric), budget)
    return _record(SEARCHERS.canonical_name(name), seed, hist, time.perf_counter() - t0)


def _init_worker(table: Table) -> None:
    global _TABLE
    _TABLE = table
    logging.getLogger("pyengine").setLevel(logging.ERROR)


def simulate(
    table: Table,
    searchers: Sequence[str],
    budget: int,
    seeds: int | Sequence[int],
    *,
    metric: str | None = None,
    test_metric: str | None = "default",
    pool: str = "table",
    searcher_params: dict[str, dict[str, Any]] | None = None,
    cost: Callable[[Any], Any] | None = None,
    jobs: int = 1,
    progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    ray: str | None = None,
) -> list[dict[str, Any]]:
    """Run every searcher for every seed on ``table`` for ``budget`` queries.

    Parameters
    ----------
    table : Table; the searched ``metric`` (default: the table's validation metric) and the
        reported ``test_metric`` (default: the table's, None for none)
    searchers : names in ``SEARCHERS``
    seeds : int n (seeds 0..n-1) or a list of seeds
    pool : ``"table"`` searches only the table's architectures; ``"space"`` the whole space
        (architectures the table lacks then count as failed queries)
    searcher_params : {searcher name: {parameter: value}}
    cost : callable, optional; ``cost(batch)`` for ``max_cost`` / ``pareto_j`` parameters
    jobs : int; worker processes (seeds and searchers run in parallel; 1 runs in this process)
    ray : optional Ray address ("local" or HOST:PORT): the (searcher, seed) runs as Ray tasks
        instead (``jobs`` then sets the CPUs of a local runtime)
    on_record : called with each finished record (in completion order)

    Notes
    -----
    Returns records in (searcher, seed) order: ``searcher``, ``seed``, ``queries`` (1..n),
    ``best_valid`` and ``best_test`` (best so far after each query; ``best_test`` is the test
    metric of the best-by-validation architecture, None when the table has no test metric),
    ``values`` (each query's value), ``n_failed``, ``best_arch``, ``stop_reason``,
    ``wall_seconds``, ``params``.
    """
    from . import SEARCHERS

    if not isinstance(table, Table):
        raise InvalidTypeError(f"simulate needs a Table. Got {type(table).__name__} instead.")
    names = [SEARCHERS.canonical_name(s) for s in searchers]
    if not names:
        raise InvalidValueError("simulate needs at least one searcher.")
    seed_list = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not seed_list:
        raise InvalidValueError("simulate needs at least one seed.")
    if pool not in ("table", "space"):
        raise InvalidValueError(f"The 'pool' parameter of simulate must be 'table' or 'space'. Got {pool!r} instead.")
    jobs = check_positive_int(jobs, "jobs", "simulate")
    TableObjective(table, metric, test_metric)  # unknown columns fail before any work
    params = {SEARCHERS.canonical_name(k): dict(v) for k, v in (searcher_params or {}).items()}
    for key in params:
        if key not in names:
            raise InvalidValueError(f"Parameters given for searcher {key!r}, which is not among {', '.join(names)}.")
    for name in names:  # bad parameters and budgets fail before any work
        extra = {} if cost is None else {"cost": cost}
        probe = SEARCHERS.create(name, space=table.space, random_state=0, **params.get(name, {}), **extra)
        probe.plan(budget)
    units = [(name, seed) for name in names for seed in seed_list]
    use_pool = pool == "table"
    done: dict[tuple[str, int], dict[str, Any]] = {}
    with reporting(len(units), "search", "run", progress=progress, on_record=on_record) as report:

        def finished(rec: dict[str, Any]) -> None:
            done[(rec["searcher"], rec["seed"])] = rec
            report(rec)

        if ray is not None:
            from .._ray import map_unordered

            args = [
                (name, seed, budget, metric, test_metric, use_pool, params.get(name, {}), cost) for name, seed in units
            ]
            for _, rec in map_unordered(ray, _one, args, shared=table, workers=jobs if jobs > 1 else None):
                finished(rec)
        elif jobs == 1:
            for name, seed in units:
                finished(_one(table, name, seed, budget, metric, test_metric, use_pool, params.get(name, {}), cost))
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(table,)) as pool_ex:
                futures = [
                    pool_ex.submit(
                        _one, None, name, seed, budget, metric, test_metric, use_pool, params.get(name, {}), cost
                    )
                    for name, seed in units
                ]
                try:
                    for fut in as_completed(futures):
                        finished(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    return [done[u] for u in units if u in done]


def _padded(rows: list[list[float | None]], length: int) -> np.ndarray:
    """Trajectories as an array (n_runs, length): None as NaN, a short run held at its last value."""
    out = np.full((len(rows), length), np.nan)
    for i, r in enumerate(rows):
        a = np.array([np.nan if x is None else x for x in r], dtype=np.float64)
        out[i, : len(a)] = a
        if 0 < len(a) < length:
            out[i, len(a) :] = a[-1]
    return out


def _mean_se(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.isfinite(a).sum(axis=0)
        mean = np.where(n > 0, np.nansum(a, axis=0) / np.maximum(n, 1), np.nan)
        var = np.where(n > 1, np.nansum((a - mean) ** 2, axis=0) / np.maximum(n - 1, 1), 0.0)
        se = np.sqrt(var / np.maximum(n, 1))
    spread = np.nanmax(np.abs(a), axis=0, initial=0.0) * 1e-12
    se[se <= spread] = 0.0  # rounding noise of identical values
    return mean, se


def _groups(records: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for name in dict.fromkeys(r["searcher"] for r in records):
        yield name, [r for r in records if r["searcher"] == name]


def summarize(
    records: list[dict[str, Any]],
    oracle_valid: float,
    *,
    tolerance: float = 0.1,
    checkpoints: Sequence[int] = (50, 100, 150, 300),
) -> list[dict[str, Any]]:
    """Per searcher: mean and standard error over seeds of the best validation value and of its
    test metric after each checkpoint's number of queries, and the queries needed to come within
    ``tolerance`` of ``oracle_valid`` (mean and median over the seeds that did; ``reached`` counts
    them)."""
    out = []
    for name, rs in _groups(records):
        length = max(len(r["queries"]) for r in rs)
        bv = _padded([r["best_valid"] for r in rs], length)
        has_test = all(r["best_test"] is not None for r in rs)
        bt = _padded([r["best_test"] for r in rs], length) if has_test else None
        mv, sv = _mean_se(bv)
        row: dict[str, Any] = {"searcher": name, "runs": len(rs), "checkpoints": {}}
        for c in checkpoints:
            if c > length:
                continue
            point: dict[str, Any] = {"valid_mean": float(mv[c - 1]), "valid_se": float(sv[c - 1])}
            if bt is not None:
                mt, st = _mean_se(bt[:, c - 1 : c])
                point.update(test_mean=float(mt[0]), test_se=float(st[0]))
            row["checkpoints"][int(c)] = point
        hit = bv >= oracle_valid - tolerance
        first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
        reached = first[first > 0]
        row["queries_to_oracle_mean"] = float(reached.mean()) if len(reached) else None
        row["queries_to_oracle_median"] = float(np.median(reached)) if len(reached) else None
        row["reached"] = int(len(reached))
        row["n_failed"] = int(sum(r["n_failed"] for r in rs))
        row["wall_seconds_mean"] = float(np.mean([r["wall_seconds"] for r in rs]))
        out.append(row)
    return out


def plot_trajectories(
    records: list[dict[str, Any]],
    path: str | os.PathLike[str],
    *,
    oracle_info: dict[str, Any] | None = None,
    title: str = "",
) -> None:
    """PNG of best-found validation (and test, where recorded) against queries: mean over seeds
    with a band of one standard error, one line per searcher, the oracle dashed."""
    has_test = all(r["best_test"] is not None for r in records)
    panels = [("best_valid", "best validation found")] + ([("best_test", "its test accuracy")] if has_test else [])
    fig, axes = _plotting.subplots(1, len(panels), figsize=(6.0 * len(panels), 4.2), dpi=120, squeeze=False)
    for ax, (field, label) in zip(axes[0], panels, strict=True):
        lows = []
        for name, rs in _groups(records):
            length = max(len(r["queries"]) for r in rs)
            mean, se = _mean_se(_padded([r[field] for r in rs], length))
            x = np.arange(1, length + 1)
            ax.plot(x, mean, label=f"{name} ({len(rs)} seeds)")
            ax.fill_between(x, mean - se, mean + se, alpha=0.2)
            lows.append(np.nanpercentile(mean, 10))
        if oracle_info is not None:
            ref = oracle_info["valid"] if field == "best_valid" else oracle_info.get("test")
            if ref is not None:
                ax.axhline(ref, color="k", ls="--", lw=1, label="oracle")
                span = ref - min(lows) if lows else 1.0
                ax.set_ylim(min(lows) - 0.1 * span, ref + 0.25 * span)
        ax.set_xlabel("queries (architectures evaluated)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    _plotting.save(fig, path)
