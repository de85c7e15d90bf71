"""Benchmark tables and the readers behind them (the formats of ``../shared/data``, or a user's
own files of the same format).

``load_table(name_or_path)`` gives a :class:`Table` for a registered benchmark name (``TABLES``)
or for any CSV with an architecture column and numeric metric columns. ``default_data_dir()``
finds the data folder: ``$PYENGINE_DATA`` if set, else the first ``shared/data`` beside or above
the working directory. ``join_naslib_zc(table, path)`` matches a NAS-Bench-Suite-Zero file's
zero-cost scores to a table's rows.
"""

from __future__ import annotations

import os
from typing import Any

from .._registry import Registry
from ._files import (
    DataFileError,
    MacroRecords,
    NaslibZcRecords,
    Nb101CellRecords,
    default_data_dir,
    read_csv_columns,
    read_nas_bench_macro,
    read_naslib_zc,
    read_nb101_cells_json,
)
from ._table import Table
from ._zero_cost import ZeroCostScores, join_naslib_zc

__all__ = [
    "TABLES",
    "Table",
    "load_table",
    "load_csv",
    "DataFileError",
    "MacroRecords",
    "NaslibZcRecords",
    "Nb101CellRecords",
    "default_data_dir",
    "read_csv_columns",
    "read_nas_bench_macro",
    "read_naslib_zc",
    "read_nb101_cells_json",
    "ZeroCostScores",
    "join_naslib_zc",
]

TABLES: Registry[Table] = Registry("benchmark table")
_M = "pyengine.tables._benchmarks:"
TABLES.register("nb201_cifar10_200ep", _M + "load_nb201_cifar10_200ep", aliases=("nb201",))
TABLES.register("nb201_12ep", _M + "load_nb201_12ep")
TABLES.register("nb201_latency", _M + "load_nb201_latency")
TABLES.register("nb201_learning_curves", _M + "load_nb201_learning_curves")
TABLES.register("nb101_1k", _M + "load_nb101_1k")
TABLES.register("nb101_20k", _M + "load_nb101_20k", aliases=("nb101",))
TABLES.register("naslib_zc_nb101", _M + "load_naslib_zc")
TABLES.register("naslib_zc_nb201", _M + "load_naslib_zc")
TABLES.register("naslib_zc_darts", _M + "load_naslib_zc", aliases=("naslib_zc_nb301",))
TABLES.register("nas_bench_macro", _M + "load_nas_bench_macro", aliases=("macro",))


def load_csv(path: Any, space: Any = None, **kwargs: Any) -> Table:
    """See :func:`pyengine.tables._benchmarks.load_csv`."""
    from ._benchmarks import load_csv as _load_csv

    return _load_csv(path, space, **kwargs)


def load_table(name_or_path: str | os.PathLike[str], *, path: Any = None, space: Any = None) -> Table:
    """A registered table by name (optionally from the user's ``path`` of the same format), or a
    CSV file by path (``space`` read from its architectures unless given)."""
    if isinstance(name_or_path, str) and name_or_path in TABLES:
        key = TABLES.canonical_name(name_or_path)
        loader = TABLES.get(key)
        if key.startswith("naslib_zc_"):
            return loader(path, space=key.removeprefix("naslib_zc_"))
        return loader(path)
    if isinstance(name_or_path, str) and not os.path.exists(name_or_path) and "." not in os.path.basename(name_or_path):
        TABLES.canonical_name(name_or_path)  # raises ValueError listing the registered names
    return load_csv(name_or_path, space)
