"""Benchmark tables: the architectures of one space and named metric columns, queried in batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .._batch import batch_len, take
from .._validation import check_positive_int
from ..errors import InvalidValueError
from ..spaces import SearchSpace

__all__ = ["Table"]


def _row_keys(batch: Any) -> np.ndarray:
    """One opaque key per row: the bytes of all its fields (exact labelling)."""
    parts = [np.ascontiguousarray(np.asarray(f)).reshape(batch_len(batch), -1).view(np.uint8) for f in batch]
    rows = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return rows.view(f"V{rows.shape[1]}").reshape(-1)


def _lookup(sorted_keys: np.ndarray, order: np.ndarray, query: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(sorted_keys, query), 0, len(sorted_keys) - 1)
    hit = sorted_keys[pos] == query
    return np.where(hit, order[pos], -1)


class Table:
    """Results of trained architectures of one search space.

    Parameters
    ----------
    space : SearchSpace
    archs : batch of ``space`` with n_archs rows
    columns : mapping name -> array of shape (n_archs,), float; any names (``cifar100_valacc``,
        ``ImageNet16-120_valacc``); NaN where a record lacks the value
    name : str
    default_metric : str, optional; the column a user most likely means (a validation accuracy)
    test_metric : str, optional; the column that reports the same architectures' test accuracy
        (what a search reports, never what it optimises)
    curves : mapping name -> array of shape (n_archs, n_epochs), optional; per-epoch values

    Notes
    -----
    Lookups go by exact labelling first and then by isomorphism class, so an isomorph of a
    benchmarked architecture finds a record (the first of its class in table order). Columns are
    never renamed or remapped: validation and test figures stay in the columns they came in.
    """

    def __init__(
        self,
        space: SearchSpace,
        archs: Any,
        columns: Mapping[str, Any],
        *,
        name: str = "table",
        default_metric: str | None = None,
        test_metric: str | None = None,
        curves: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = space
        self.archs = space.check(archs)
        n = batch_len(self.archs)
        self.name = name
        self.columns: dict[str, np.ndarray] = {}
        for key, values in columns.items():
            a = np.asarray(values, dtype=np.float64)
            if a.shape != (n,):
                raise InvalidValueError(
                    f"Column {key!r} of table {name} must have shape ({n},). Got {a.shape} instead."
                )
            self.columns[str(key)] = a
        if not self.columns:
            raise InvalidValueError(f"Table {name} has no metric columns.")
        if default_metric is not None and default_metric not in self.columns:
            raise InvalidValueError(f"default_metric {default_metric!r} is not a column of {name}.")
        self.default_metric = default_metric
        if test_metric is not None and test_metric not in self.columns:
            raise InvalidValueError(f"test_metric {test_metric!r} is not a column of {name}.")
        self.test_metric = test_metric
        self.curves: dict[str, np.ndarray] = {}
        for key, values in (curves or {}).items():
            a = np.asarray(values, dtype=np.float64)
            if a.ndim != 2 or a.shape[0] != n:
                raise InvalidValueError(
                    f"Curve {key!r} of table {name} must have shape ({n}, n_epochs). Got {a.shape}."
                )
            self.curves[str(key)] = a
        rows = _row_keys(self.archs)
        self._row_order = np.argsort(rows, kind="stable")
        self._rows = rows[self._row_order]
        keys = space.canonical_keys(self.archs)
        self._key_order = np.argsort(keys, kind="stable")
        self._keys = keys[self._key_order]

    def __len__(self) -> int:
        return batch_len(self.archs)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, space={self.space.name}, n={len(self)}, columns={list(self.columns)})"

    @property
    def metric_names(self) -> list[str]:
        return list(self.columns)

    def column(self, metric: str | None = None) -> np.ndarray:
        """The values of a column, array of shape (n_archs,); ``None`` means the default metric."""
        if metric is None:
            if self.default_metric is None:
                raise InvalidValueError(f"Table {self.name} has no default metric; pick one of {self.metric_names}.")
            metric = self.default_metric
        if metric not in self.columns:
            raise InvalidValueError(
                f"Unknown metric {metric!r} for table {self.name}. Columns: {', '.join(self.columns)}."
            )
        return self.columns[metric]

    def indices(self, archs: Any, *, exact: bool = False) -> np.ndarray:
        """Row of each architecture (exact labelling, else its isomorphism class unless
        ``exact``), -1 when absent. Array of shape (n,), int64."""
        batch = self.space.as_batch(archs)
        idx = _lookup(self._rows, self._row_order, _row_keys(batch))
        missing = idx < 0
        if missing.any() and not exact:
            idx[missing] = _lookup(self._keys, self._key_order, self.space.canonical_keys(take(batch, missing)))
        return idx

    def query(self, archs: Any, metric: str | None = None) -> np.ndarray:
        """Metric of each architecture, array of shape (n,). ValueError lists absent rows."""
        idx = self.indices(archs)
        if (idx < 0).any():
            rows = np.flatnonzero(idx < 0)
            shown = ", ".join(str(r) for r in rows[:10])
            raise InvalidValueError(f"{len(rows)} architecture(s) are not in table {self.name} (rows {shown}).")
        return self.column(metric)[idx]

    def query_curve(self, archs: Any, curve: str) -> np.ndarray:
        """Per-epoch values of each architecture: array of shape (n, n_epochs)."""
        if curve not in self.curves:
            have = ", ".join(self.curves) or "none"
            raise InvalidValueError(f"Unknown curve {curve!r} for table {self.name}. Curves: {have}.")
        idx = self.indices(archs)
        if (idx < 0).any():
            raise InvalidValueError(f"{int((idx < 0).sum())} architecture(s) are not in table {self.name}.")
        return self.curves[curve][idx]

    def __iter__(self) -> Iterator[tuple[Any, dict[str, float]]]:
        """(architecture as a batch of one, its columns) for every record, in table order."""
        for i in range(len(self)):
            yield take(self.archs, [i]), {k: float(v[i]) for k, v in self.columns.items()}

    def iter_batches(self, batch_size: int = 65536) -> Iterator[tuple[Any, dict[str, np.ndarray]]]:
        """(batch, columns of the batch) in table order."""
        batch_size = check_positive_int(batch_size, "batch_size", "Table.iter_batches")
        for start in range(0, len(self), batch_size):
            r = np.arange(start, min(len(self), start + batch_size))
            yield take(self.archs, r), {k: v[r] for k, v in self.columns.items()}

    def best(self, metric: str | None = None) -> tuple[int, float]:
        """(row, value) of the best (largest) finite value of a column: the oracle."""
        col = self.column(metric)
        finite = np.isfinite(col)
        if not finite.any():
            raise InvalidValueError(f"Column {metric!r} of table {self.name} has no finite value.")
        i = int(np.flatnonzero(finite)[np.argmax(col[finite])])
        return i, float(col[i])

    def subset(self, rows: Any) -> Table:
        """A table of the given rows (in that order)."""
        r = np.asarray(rows)
        return Table(
            self.space,
            take(self.archs, r),
            {k: v[r] for k, v in self.columns.items()},
            name=self.name,
            default_metric=self.default_metric,
            test_metric=self.test_metric,
            curves={k: v[r] for k, v in self.curves.items()},
        )

    def strings(self) -> list[str]:
        """The space's string form of every architecture, in table order."""
        return self.space.to_strings(self.archs)
