"""File readers: typed errors that name the file and the problem, numpy arrays out."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DataFileError, InvalidValueError


def default_data_dir() -> Path | None:
    """``$PYENGINE_DATA``, else the first ``shared/data`` folder found from the working directory
    upwards (``./shared/data``, ``../shared/data``, ...); None if there is none."""
    env = os.environ.get("PYENGINE_DATA")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for base in (here, *here.parents):
        cand = base / "shared" / "data"
        if cand.is_dir():
            return cand
    return None


def _resolve(path: str | os.PathLike[str] | None, default_rel: str) -> Path:
    if path is None:
        root = default_data_dir()
        if root is None:
            raise DataFileError(f"no data folder found for {default_rel}: set PYENGINE_DATA or pass the file's path")
        path = root / default_rel
    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"data file not found: {p}")
    return p


def read_csv_columns(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Columns of a CSV file with a header row: numeric columns as float64 arrays, others as str
    arrays. Raises DataFileError for a missing file, an empty file or ragged rows."""
    p = _resolve(path, "")
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataFileError(f"{p}: empty file (no header row)") from None
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DataFileError(f"{p}, line {lineno}: {len(row)} fields, header has {len(header)}")
            rows.append(row)
    if not rows:
        raise DataFileError(f"{p}: no data rows")
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        values = [r[j] for r in rows]
        try:
            cols[name] = np.array([float(v) for v in values], dtype=np.float64)
        except ValueError:
            cols[name] = np.array(values, dtype=str)
    return cols


class Nb101CellRecords(NamedTuple):
    """Records of an NB101 cells JSON file (format of ``nb101/nb101_1k_cells.json``).

    Attributes
    ----------
    hashes : array of shape (n,), str
    matrices : array of shape (n, 7, 7), uint8
    labels : array of shape (n, 7), int8 (-3 pads cells of fewer than 7 vertices)
    valacc : dict epoch -> array of shape (n,), float64 (fractions 0-1)
    params : array of shape (n,), float64
    """

    hashes: np.ndarray
    matrices: np.ndarray
    labels: np.ndarray
    valacc: dict[int, np.ndarray]
    params: np.ndarray


def read_nb101_cells_json(path: str | os.PathLike[str] | None = None) -> Nb101CellRecords:
    """Read an NB101 cells JSON file (default: ``nb101/nb101_1k_cells.json`` of the data folder)."""
    p = _resolve(path, "nb101/nb101_1k_cells.json")
    try:
        with open(p, encoding="utf-8") as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as err:
        raise DataFileError(f"{p}: not valid JSON ({err.msg} at line {err.lineno})") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list) or not cells:
        raise DataFileError(f"{p}: expected an object with a non-empty 'cells' list")
    n = len(cells)
    hashes = np.empty(n, dtype="U32")
    matrices = np.zeros((n, 7, 7), dtype=np.uint8)
    labels = np.full((n, 7), -3, dtype=np.int8)
    params = np.empty(n, dtype=np.float64)
    epochs: dict[int, np.ndarray] = {}
    for i, c in enumerate(cells):
        try:
            hashes[i] = c["hash"]
            m = np.asarray(c["matrix"])
            lab = np.asarray(c["labels"])
            if m.shape != (7, 7) or lab.shape != (7,):
                raise DataFileError(f"{p}: cell {i} must have a 7x7 matrix and 7 labels")
            matrices[i] = m
            labels[i] = lab
            params[i] = float(c.get("params", math.nan))
            for ep, acc in c.get("valacc", {}).items():
                arr = epochs.setdefault(int(ep), np.full(n, np.nan))
                arr[i] = float(acc)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, DataFileError):
                raise
            raise DataFileError(f"{p}: cell {i} is malformed ({err!r})") from None
    return Nb101CellRecords(hashes, matrices, labels, epochs, params)


def _load_json(p: Path) -> object:
    try:
        with open(p, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as err:
        raise DataFileError(f"{p}: not valid JSON ({err.msg} at line {err.lineno})") from None
    except UnicodeDecodeError:
        raise DataFileError(f"{p}: not a UTF-8 text file") from None


class NaslibZcRecords(NamedTuple):
    """Records of a NAS-Bench-Suite-Zero JSON file (NASLib's zero-cost data).

    Attributes
    ----------
    space : str; "nb101", "nb201" or "darts", from the file's layout and tuple length
    dataset : str; the dataset key (e.g. "cifar10")
    archs : list of str; NASLib architecture tuples as written in the file
    val_accuracy : array of shape (n,), float64 (percent)
    scores : dict proxy name -> array of shape (n,), float64 (NaN where a record lacks it)
    times : dict proxy name -> array of shape (n,), float64; the seconds each score took, where
        the record gives one (``{"score": s, "time": t}``), NaN elsewhere
    """

    space: str
    dataset: str
    archs: list[str]
    val_accuracy: np.ndarray
    scores: dict[str, np.ndarray]
    times: dict[str, np.ndarray] | None = None


_ZC_DEFAULTS = {
    "nb101": "naslib_zc/zc_nasbench101.json",
    "nb201": "naslib_zc/zc_nasbench201_cifar10.json",
    "darts": "naslib_zc/zc_nasbench301.json",
}
_ZC_META = {"val_accuracy", "idx", "arch", "id"}


def read_naslib_zc(
    path: str | os.PathLike[str] | None = None, *, space: str | None = None, dataset: str | None = None
) -> NaslibZcRecords:
    """Read NAS-Bench-Suite-Zero records: ``{dataset: {ARCH: {...}}}`` (the CIFAR-10 extracts) or
    NASLib's original ``{"nasbench101": {dataset: {...}}}`` layout. A proxy is either
    ``{"score": s, "time": t}`` or a bare number. With no path, ``space`` picks the default file;
    ``dataset`` picks the top-level key (default: the first)."""
    if path is None:
        if space not in _ZC_DEFAULTS:
            raise InvalidValueError(f"read_naslib_zc needs a path or a space in {sorted(_ZC_DEFAULTS)}. Got {space!r}.")
        p = _resolve(None, _ZC_DEFAULTS[space])
    else:
        p = _resolve(path, "")
    doc = _load_json(p)
    if not isinstance(doc, dict) or not doc:
        raise DataFileError(f"{p}: expected a JSON object keyed by dataset")
    if len(doc) == 1 and next(iter(doc)).startswith("nasbench"):
        doc = next(iter(doc.values()))
        if not isinstance(doc, dict) or not doc:
            raise DataFileError(f"{p}: expected {{benchmark: {{dataset: records}}}}")
    if dataset is None:
        dataset, records = next(iter(doc.items()))
    elif dataset in doc:
        records = doc[dataset]
    else:
        raise DataFileError(f"{p}: no dataset {dataset!r} (it holds {sorted(doc)})")
    if not isinstance(records, dict) or not records:
        raise DataFileError(f"{p}: dataset {dataset!r} holds no records")
    archs = list(records)
    n = len(archs)
    acc = np.full(n, np.nan)
    scores: dict[str, np.ndarray] = {}
    times: dict[str, np.ndarray] = {}
    for i, (arch, rec) in enumerate(records.items()):
        if not isinstance(rec, dict):
            raise DataFileError(f"{p}: record {i} ({arch[:40]!r}) is not an object")
        for key, value in rec.items():
            if key == "val_accuracy":
                acc[i] = _as_float(value, p, i, key)
            elif key not in _ZC_META:
                v = value.get("score") if isinstance(value, dict) else value
                scores.setdefault(key, np.full(n, np.nan))[i] = _as_float(v, p, i, key)
                t = value.get("time") if isinstance(value, dict) else None
                times.setdefault(key, np.full(n, np.nan))[i] = np.nan if t is None else _as_float(t, p, i, key)
    first = archs[0]
    if first.lstrip().startswith("[["):
        detected = "darts"
    else:
        count = first.count(",") + 1
        detected = {56: "nb101", 6: "nb201"}.get(count, "")
    if not detected:
        raise DataFileError(f"{p}: cannot tell the space of architecture {first[:60]!r}")
    if space is not None and space != detected:
        raise DataFileError(f"{p}: holds {detected} architectures, not {space}")
    return NaslibZcRecords(detected, str(dataset), archs, acc, scores, times)


def _as_float(value: object, p: Path, i: int, key: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataFileError(f"{p}: record {i} field {key!r} is not a number ({value!r})") from None


class MacroRecords(NamedTuple):
    """Records of a NAS-Bench-Macro JSON file.

    Attributes
    ----------
    archs : list of str; choice strings such as "02012100"
    test_acc : array of shape (n, seeds), float64 (percent)
    mean_acc, std, params, flops : arrays of shape (n,), float64
    """

    archs: list[str]
    test_acc: np.ndarray
    mean_acc: np.ndarray
    std: np.ndarray
    params: np.ndarray
    flops: np.ndarray


def read_nas_bench_macro(path: str | os.PathLike[str] | None = None) -> MacroRecords:
    """Read NAS-Bench-Macro results (default: ``macro/nas_bench_macro_cifar10.json``)."""
    p = _resolve(path, "macro/nas_bench_macro_cifar10.json")
    doc = _load_json(p)
    if not isinstance(doc, dict) or not doc:
        raise DataFileError(f"{p}: expected a JSON object keyed by choice string")
    archs = list(doc)
    cols: dict[str, list[float]] = {k: [] for k in ("mean_acc", "std", "params", "flops")}
    test: list[list[float]] = []
    for i, (arch, rec) in enumerate(doc.items()):
        if not isinstance(rec, dict) or "test_acc" not in rec:
            raise DataFileError(f"{p}: record {i} ({arch!r}) lacks 'test_acc'")
        t = rec["test_acc"]
        if not isinstance(t, list) or not t:
            raise DataFileError(f"{p}: record {i} ({arch!r}): 'test_acc' must be a non-empty list")
        test.append([_as_float(x, p, i, "test_acc") for x in t])
        for k in cols:
            cols[k].append(_as_float(rec.get(k, math.nan), p, i, k))
    if len({len(t) for t in test}) != 1:
        raise DataFileError(f"{p}: records have different numbers of seeds")
    return MacroRecords(archs, np.array(test), *(np.array(cols[k]) for k in ("mean_acc", "std", "params", "flops")))
