"""File readers: typed errors that name the file and the problem, numpy arrays out."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np


class DataFileError(ValueError):
    """A data file is missing, truncated or not in the expected format."""


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
