"""Loaders of the benchmark files (``../shared/data`` formats, or a user's own files of the same
format) into :class:`Table` objects, and the generic CSV loader."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidValueError
from ..spaces import SearchSpace, get_space
from ._files import (
    DataFileError,
    NaslibZcRecords,
    _load_json,
    _resolve,
    read_csv_columns,
    read_nas_bench_macro,
    read_naslib_zc,
    read_nb101_cells_json,
)
from ._table import Table

__all__ = [
    "load_csv",
    "load_nb201_cifar10_200ep",
    "load_nb201_12ep",
    "load_nb201_latency",
    "load_nb201_learning_curves",
    "load_nb101_1k",
    "load_nb101_20k",
    "load_naslib_zc",
    "load_nas_bench_macro",
]

PathLike = str | os.PathLike[str] | None
ARCH_COLUMNS = ("arch_str", "arch", "hash", "genotype")


def _detect_space(values: np.ndarray, column: str) -> str:
    first = str(values[0]).strip()
    if column == "hash":
        return "nb101"
    if first.startswith("|"):
        return "nb201"
    if first.startswith("Genotype("):
        return "darts"
    if first.isdigit():
        return "macro"
    raise DataFileError(f"cannot tell the search space of architecture column {column!r} from {first[:60]!r}")


def load_csv(
    path: PathLike,
    space: str | SearchSpace | None = None,
    *,
    arch_column: str | None = None,
    name: str | None = None,
    default_metric: str | None = None,
    test_metric: str | None = None,
) -> Table:
    """A table from any CSV with an architecture column (``arch_str``/``arch`` for NB201 strings or
    DARTS genotypes, ``hash`` for NB101 hashes, or ``arch_column``) and numeric metric columns of
    any name. The space is read from the architectures unless given. An ``index`` column (a
    benchmark's own numbering) is not a metric and is left out; joins go by architecture."""
    if path is None:
        raise InvalidValueError("load_csv needs the path of a CSV file.")
    p = _resolve(path, "")
    cols = read_csv_columns(p)
    column = arch_column or next((c for c in ARCH_COLUMNS if c in cols), None)
    if column is None or column not in cols:
        raise DataFileError(f"{p}: no architecture column (looked for {arch_column or ', '.join(ARCH_COLUMNS)})")
    archs = cols[column]
    if archs.dtype.kind != "U":  # an all-numeric column: macro digit strings lose leading zeros
        raise DataFileError(f"{p}: architecture column {column!r} must hold strings")
    sp = get_space(space) if space is not None else get_space(_detect_space(archs, column))
    try:
        batch = sp.from_strings([str(a) for a in archs])
    except ValueError as err:
        raise DataFileError(f"{p}: {err}") from None
    metrics = {k: v for k, v in cols.items() if k not in (column, "index") and v.dtype.kind == "f"}
    if not metrics:
        raise DataFileError(f"{p}: no numeric metric columns")
    return Table(sp, batch, metrics, name=name or Path(p).stem, default_metric=default_metric, test_metric=test_metric)


def load_nb201_cifar10_200ep(path: PathLike = None) -> Table:
    """NB201 200-epoch CIFAR-10 results (default metric ``cifar10_valid_valacc``; test metric
    ``cifar10_testacc``, the accuracy NASLib reports for NB201 CIFAR-10)."""
    p = _resolve(path, "nb201/nb201_cifar10_200ep.csv")
    return load_csv(
        p, "nb201", name="nb201_cifar10_200ep", default_metric="cifar10_valid_valacc", test_metric="cifar10_testacc"
    )


def load_nb201_12ep(path: PathLike = None) -> Table:
    """NB201 12-epoch results on CIFAR-10, CIFAR-100 and ImageNet16-120 (default metric
    ``cifar10_valid_valacc``); each dataset keeps its own columns."""
    p = _resolve(path, "nb201/nb201_all_12epoch.csv")
    return load_csv(p, "nb201", name="nb201_12ep", default_metric="cifar10_valid_valacc", test_metric="cifar10_testacc")


def load_nb201_latency(path: PathLike = None) -> Table:
    """NB201 latency per device in ms (no default metric: pick a device column)."""
    p = _resolve(path, "nb201/nb201_latency_ms.csv")
    return load_csv(p, "nb201", name="nb201_latency")


def load_nb201_learning_curves(path: PathLike = None) -> Table:
    """NB201 per-epoch train / validation accuracy on cifar10-valid: curves ``train_acc`` and
    ``val_acc`` of shape (n, epochs), columns ``cifar10_valid_valacc`` (the last epoch) and the
    proxy scores the file carries."""
    p = _resolve(path, "nb201/nb201_cifar10_learning_curves_200archs.json")
    doc = _load_json(p)
    if not isinstance(doc, dict) or not isinstance(doc.get("archs"), list) or not doc["archs"]:
        raise DataFileError(f"{p}: expected an object with a non-empty 'archs' list")
    strings, train, val, proxies = [], [], [], []
    for i, rec in enumerate(doc["archs"]):
        try:
            strings.append(str(rec["arch_str"]))
            train.append(json.loads(rec["train_acc"]) if isinstance(rec["train_acc"], str) else rec["train_acc"])
            val.append(json.loads(rec["val_acc"]) if isinstance(rec["val_acc"], str) else rec["val_acc"])
            px = rec.get("proxies", {})
            proxies.append(ast.literal_eval(px) if isinstance(px, str) else dict(px))
        except (KeyError, TypeError, ValueError, SyntaxError) as err:
            raise DataFileError(f"{p}: record {i} is malformed ({err!r})") from None
    if len({len(v) for v in val} | {len(t) for t in train}) != 1:
        raise DataFileError(f"{p}: curves of different lengths")
    val_a = np.asarray(val, dtype=np.float64)
    columns: dict[str, Any] = {"cifar10_valid_valacc": val_a[:, -1]}
    for key in sorted({k for px in proxies for k in px}):
        columns[key] = [float(px.get(key, np.nan)) for px in proxies]
    sp = get_space("nb201")
    try:
        batch = sp.from_strings(strings)
    except ValueError as err:
        raise DataFileError(f"{p}: {err}") from None
    return Table(
        sp,
        batch,
        columns,
        name="nb201_learning_curves",
        default_metric="cifar10_valid_valacc",
        curves={"train_acc": np.asarray(train, dtype=np.float64), "val_acc": val_a},
    )


def _nb101_columns(valacc: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"valacc_{ep}": v for ep, v in sorted(valacc.items())}


def load_nb101_1k(path: PathLike = None) -> Table:
    """NB101 cells with matrices (validation accuracy as fractions after 4/12/36/108 epochs;
    default metric ``valacc_108``); curves ``valacc`` over those epochs."""
    from ..graph import nb101

    rec = read_nb101_cells_json(path)
    cells = nb101.cell_batch(rec.matrices, rec.labels)
    cols = _nb101_columns(rec.valacc)
    cols["params"] = rec.params
    curves = {"valacc": np.stack([rec.valacc[e] for e in sorted(rec.valacc)], axis=1)} if rec.valacc else {}
    return Table(get_space("nb101"), cells, cols, name="nb101_1k", default_metric="valacc_108", curves=curves)


def load_nb101_20k(path: PathLike = None) -> Table:
    """NB101 results keyed by module hash only, joined to cells through the enumerated space."""
    p = _resolve(path, "nb101/nb101_20k_by_hash.csv")
    return load_csv(p, "nb101", arch_column="hash", name="nb101_20k", default_metric="valacc_108")


def load_naslib_zc(path: PathLike = None, *, space: str | None = None, dataset: str | None = None) -> Table:
    """NAS-Bench-Suite-Zero records (the extracts here or NASLib's original layout): column
    ``val_accuracy`` (default metric) and one column per zero-cost proxy score; ``dataset``
    picks the file's top-level key (default: the first)."""
    return naslib_zc_table(read_naslib_zc(path, space=space, dataset=dataset))


def naslib_zc_table(rec: NaslibZcRecords) -> Table:
    """The :class:`Table` of records already read by :func:`read_naslib_zc` (see :func:`load_naslib_zc`)."""
    sp = get_space(rec.space)
    try:
        batch = sp.from_naslib(rec.archs)
    except ValueError as err:
        raise DataFileError(f"NAS-Bench-Suite-Zero file: {err}") from None
    cols = {"val_accuracy": rec.val_accuracy, **rec.scores}
    return Table(sp, batch, cols, name=f"naslib_zc_{rec.space}_{rec.dataset}", default_metric="val_accuracy")


def load_nas_bench_macro(path: PathLike = None) -> Table:
    """NAS-Bench-Macro: test accuracy per seed (``test_acc_0`` ..), ``mean_acc`` (the mean test
    accuracy; the benchmark publishes no validation split), ``std``, ``params``, ``flops``."""
    rec = read_nas_bench_macro(path)
    sp = get_space("macro")
    cols: dict[str, Any] = {f"test_acc_{i}": rec.test_acc[:, i] for i in range(rec.test_acc.shape[1])}
    cols.update(mean_acc=rec.mean_acc, std=rec.std, params=rec.params, flops=rec.flops)
    return Table(sp, sp.from_strings(rec.archs), cols, name="nas_bench_macro", default_metric="mean_acc")
