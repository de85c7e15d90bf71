"""The two cost axes of White et al. (2021): initialization seconds (training the labelled set) and
query seconds (per architecture scored), read from a table's training-time column, and the grid of
the best predictor per (initialization, query) budget."""

from __future__ import annotations

import logging
import math
import os
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .. import _plotting
from .._io import write_records
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError
from ..tables import Table

__all__ = ["TrainingTime", "training_time", "cost_grid", "plot_grid"]

log = logging.getLogger(__name__)

# ``train_seconds_108``: total seconds of 108 epochs; ``train_time_per_epoch``: seconds per epoch;
# an optional prefix (``cifar10_train_seconds_200``) is allowed.
_TIME_COLUMN = re.compile(r"^(?:.*_)?train_(?:seconds|time)_(per_epoch|\d+)$")
_EPOCHS_SUFFIX = re.compile(r"_(\d+)$")


class TrainingTime(NamedTuple):
    """A table's training-time column.

    Attributes
    ----------
    column : str; its name
    seconds : array of shape (n_archs,), float64; the values as the table holds them
    epochs : int or None; the epochs each value covers (``train_seconds_108``: 108), None for a
        per-epoch column (``train_seconds_per_epoch``)
    """

    column: str
    seconds: np.ndarray
    epochs: int | None

    def to_epochs(self, rows: Any, epochs: float) -> np.ndarray:
        """Seconds to train the given rows for ``epochs`` epochs, array of shape (len(rows),):
        totals scaled linearly by ``epochs / self.epochs``, per-epoch values times ``epochs``."""
        return self.seconds[rows] * (epochs / (self.epochs or 1))


def training_time(table: Table, column: str | None = None) -> TrainingTime | None:
    """The training-time column of ``table`` (None when it has none).

    A training-time column is named ``[PREFIX_]train_seconds_E`` or ``[PREFIX_]train_time_E``
    (the total seconds of E epochs of training, as NAS-Bench-101's ``train_seconds_108``), or
    ``[PREFIX_]train_seconds_per_epoch`` / ``[PREFIX_]train_time_per_epoch``. ``column`` picks
    one by name; by default the first such column in table order.
    """
    if column is not None:
        if not isinstance(column, str):
            raise InvalidTypeError(f"The 'time_column' parameter must be a str. Got {type(column).__name__} instead.")
        table.column(column)  # raises ValueError listing the columns
        if not _TIME_COLUMN.match(column):
            raise InvalidValueError(
                f"The 'time_column' parameter must name a training-time column (train_seconds_E, "
                f"train_seconds_per_epoch, train_time_E or train_time_per_epoch). Got {column!r} instead."
            )
        names = [column]
    else:
        names = [c for c in table.metric_names if _TIME_COLUMN.match(c)]
        if not names:
            return None
        if len(names) > 1:
            log.info("table %s has training-time columns %s: using %s", table.name, names, names[0])
    name = names[0]
    m = _TIME_COLUMN.match(name)
    epochs = None if m is None or m.group(1) == "per_epoch" else int(m.group(1))
    if epochs is not None and epochs < 1:
        raise InvalidValueError(f"Training-time column {name!r} of table {table.name} covers {epochs} epochs.")
    return TrainingTime(name, table.column(name), epochs)


def metric_epochs(table: Table, metric: str, time: TrainingTime) -> int | None:
    """Epochs of training behind ``metric``: its ``_E`` suffix (``valacc_36``: 36), else the epochs
    of a total-time column (the table's full training), else the length of the table's learning
    curves; None when none of these says."""
    m = _EPOCHS_SUFFIX.search(metric)
    if m and int(m.group(1)) >= 1:
        return int(m.group(1))
    if time.epochs is not None:
        return time.epochs
    if table.curves:
        return max(c.shape[1] for c in table.curves.values())
    return None


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def init_seconds(time: TrainingTime | None, epochs: int | None, train: np.ndarray) -> float | None:
    """Summed seconds to train the labelled set ``train`` (rows) for ``epochs``; None when unknown
    (no time column, no epoch count, or a row without a time)."""
    if time is None or epochs is None:
        return None
    return _finite_or_none(float(time.to_epochs(train, epochs).sum()))


def fidelity_seconds(time: TrainingTime | None, fidelity: int | None, test: np.ndarray) -> float | None:
    """Mean seconds to train one test architecture to ``fidelity`` epochs: 0 without a fidelity,
    None when unknown (no time column, or a test row without a time)."""
    if fidelity is None:
        return 0.0
    if time is None:
        return None
    return _finite_or_none(float(time.to_epochs(test, fidelity).mean()))


# -- the grid ------------------------------------------------------------------------------------
def _configurations(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean init seconds, query seconds and Kendall tau per (predictor, train_size)."""
    if not records:
        raise InvalidValueError("The 'records' parameter must hold at least one evaluator record.")
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        for key in ("init_seconds", "query_seconds"):
            if key not in r:
                raise InvalidValueError(
                    f"Evaluator records must hold {key!r}; a record of {r.get('predictor')!r} lacks it."
                )
            if r[key] is None:
                raise InvalidValueError(
                    f"A record of predictor {r['predictor']!r} (table {r.get('table')}) has no {key}: its table "
                    "has no training-time column (train_seconds_E or train_seconds_per_epoch), so the grid cannot "
                    "place it."
                )
        groups.setdefault((r["predictor"], int(r["train_size"])), []).append(r)
    out = []
    for (pred, n), rs in groups.items():
        taus = [float(r["kendalltau"]) for r in rs if r["kendalltau"] is not None and math.isfinite(r["kendalltau"])]
        if not taus:
            log.warning("predictor %s at train size %d has no finite Kendall tau: left out of the grid", pred, n)
            continue
        out.append(
            {
                "predictor": pred,
                "train_size": n,
                "init_seconds": statistics.fmean(float(r["init_seconds"]) for r in rs),
                "query_seconds": statistics.fmean(float(r["query_seconds"]) for r in rs),
                "kendalltau": statistics.fmean(taus),
            }
        )
    return out


def _budgets(values: list[float], bins: int, given: Sequence[float] | None, name: str) -> np.ndarray:
    if given is not None:
        b = np.asarray(given, dtype=np.float64)
        if b.ndim != 1 or b.size == 0 or not np.isfinite(b).all() or (b < 0).any() or (np.diff(b) <= 0).any():
            raise InvalidValueError(
                f"The {name!r} parameter must be increasing non-negative numbers. Got {given!r} instead."
            )
        return b
    v = np.asarray(values, dtype=np.float64)
    pos = v[v > 0]
    if pos.size == 0:
        return np.array([float(v.max())])
    lo, hi = float(pos.min()), float(pos.max())
    b = np.geomspace(lo, hi, bins) if hi > lo else np.array([hi])
    b[0], b[-1] = lo, hi  # the cheapest configuration fits the first bin, every one fits the last
    return np.unique(b)


def cost_grid(
    records: Sequence[dict[str, Any]],
    *,
    bins: int = 8,
    init_budgets: Sequence[float] | None = None,
    query_budgets: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """White et al.'s grid: the best predictor for each (initialization, query) budget.

    A configuration is a (predictor, train_size) pair of ``records`` (from
    :class:`PredictorEvaluator` on a table with a training-time column) with the means over seeds
    of ``init_seconds``, ``query_seconds`` and ``kendalltau``. A cell with budgets (I, Q) holds,
    among the configurations with mean init seconds <= I and mean query seconds <= Q, the one of
    the highest mean Kendall tau (the first in record order on ties), or nulls when none fits.

    Parameters
    ----------
    records : list of evaluator records
    bins : int, default 8; budgets per axis, log-spaced from the cheapest to the dearest
        configuration (equal budgets merge)
    init_budgets, query_budgets : increasing seconds, optional; the budgets of an axis instead

    Returns
    -------
    list of dict, one per cell, query budget major (rows), init budget minor (columns):
    ``init_budget``, ``query_budget``, ``predictor``, ``train_size``, ``kendalltau``,
    ``init_seconds``, ``query_seconds`` (the chosen configuration's means; None in an empty cell).
    """
    bins = check_positive_int(bins, "bins", "cost_grid")
    confs = _configurations(records)
    if not confs:
        raise InvalidValueError("No record has a finite Kendall tau: the grid would be empty.")
    ib = _budgets([c["init_seconds"] for c in confs], int(bins), init_budgets, "init_budgets")
    qb = _budgets([c["query_seconds"] for c in confs], int(bins), query_budgets, "query_budgets")
    cells = []
    for q in qb:
        for i in ib:
            fits = [c for c in confs if c["init_seconds"] <= i and c["query_seconds"] <= q]
            best = max(fits, key=lambda c: c["kendalltau"]) if fits else None  # max keeps the first of ties
            cell: dict[str, Any] = {"init_budget": float(i), "query_budget": float(q)}
            for key in ("predictor", "train_size", "kendalltau", "init_seconds", "query_seconds"):
                cell[key] = None if best is None else best[key]
            cells.append(cell)
    return cells


def _fmt_seconds(s: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s * 1e6:.3g} µs"


def plot_grid(
    records: Sequence[dict[str, Any]],
    path: str | os.PathLike[str],
    *,
    bins: int = 8,
    init_budgets: Sequence[float] | None = None,
    query_budgets: Sequence[float] | None = None,
    title: str = "",
) -> list[dict[str, Any]]:
    """Draw :func:`cost_grid` as a PNG at ``path`` (cell colour: predictor; text: mean Kendall tau
    and training size) and write its cells as a JSON list at ``path`` with suffix ``.json``.
    Returns the cells."""
    from matplotlib.patches import Patch, Rectangle

    cells = cost_grid(records, bins=bins, init_budgets=init_budgets, query_budgets=query_budgets)
    ib = sorted({c["init_budget"] for c in cells})
    qb = sorted({c["query_budget"] for c in cells})
    preds = list(dict.fromkeys(c["predictor"] for c in cells if c["predictor"] is not None))
    cmap = _plotting.colormap("tab10" if len(preds) <= 10 else "tab20")
    colour = {p: cmap(k % cmap.N) for k, p in enumerate(preds)}
    fig, ax = _plotting.subplots(figsize=(1.1 * len(ib) + 3.2, 0.7 * len(qb) + 1.8), dpi=120)
    for c in cells:
        x, y = ib.index(c["init_budget"]), qb.index(c["query_budget"])
        face = colour[c["predictor"]] if c["predictor"] is not None else (0.95, 0.95, 0.95, 1.0)
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor=face, edgecolor="white", linewidth=1.5))
        if c["predictor"] is not None:
            ax.text(
                x + 0.5, y + 0.5, f"{c['kendalltau']:.2f}\nn={c['train_size']}", ha="center", va="center", fontsize=7
            )
    ax.set_xlim(0, len(ib))
    ax.set_ylim(0, len(qb))
    ax.set_xticks(np.arange(len(ib)) + 0.5, [_fmt_seconds(b) for b in ib], rotation=45, ha="right", fontsize=7)
    ax.set_yticks(np.arange(len(qb)) + 0.5, [_fmt_seconds(b) for b in qb], fontsize=7)
    ax.set_xlabel("initialization budget (training seconds of the labelled set)")
    ax.set_ylabel("query budget (seconds per architecture)")
    ax.set_title(title or "best predictor by mean Kendall tau")
    ax.legend(
        handles=[Patch(facecolor=colour[p], label=p) for p in preds],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )
    _plotting.save(fig, path)
    write_records(cells, Path(path).with_suffix(".json"))
    return cells
