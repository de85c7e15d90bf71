"""NAS-Bench-201 cells on the native core.

A cell is 6 edges with one op each. Edges follow the official arch string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3. Ops are indices into
``OPS`` (the official op list). Batches are int8 arrays of shape (n_cells, 6). A cell's index
(0..15624) reads its ops as a base-5 number, first edge most significant; it is this engine's
order, not the official benchmark index (tables carry that).

Isomorphism follows the official ``Structure.to_unique_str(consider_zero=True)``: cells whose
output expressions are equal compute the same function; the 15,625 cells form 6,466 classes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._native import core as _core
from .._native import resolve_threads
from ..errors import InvalidTypeError, InvalidValueError

__all__ = [
    "OPS",
    "EDGES",
    "NUM_CELLS",
    "NUM_CLASSES",
    "parse_arch_str",
    "parse_arch_strs",
    "format_arch_str",
    "format_arch_strs",
    "as_ops",
    "cell_index",
    "cells_from_index",
    "all_cells",
    "unique_str",
    "canonicalize",
    "space_classes",
]

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_CELLS = int(_core.NB201_NUM_CELLS)
NUM_CLASSES = int(_core.NB201_NUM_CLASSES)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_POW5 = 5 ** np.arange(5, -1, -1, dtype=np.int64)


def _parse_slow(s: str) -> list[int]:
    """Strict parser that names the offending token."""
    nodes = s.split("+")
    if len(nodes) != 3:
        raise InvalidValueError(f"NB201 arch string must have 3 '+'-separated nodes. Got {len(nodes)} in {s!r}.")
    ops: list[int] = []
    for node, part in enumerate(nodes, start=1):
        if not (part.startswith("|") and part.endswith("|")) or len(part) < 2:
            raise InvalidValueError(
                f"NB201 arch string node {node} must look like '|op~0|...|'. Got {part!r} in {s!r}."
            )
        tokens = part[1:-1].split("|")
        if len(tokens) != node:
            raise InvalidValueError(
                f"NB201 arch string node {node} must have {node} inputs. Got {len(tokens)}: {part!r}."
            )
        for src, tok in enumerate(tokens):
            op, sep, idx = tok.partition("~")
            if not sep or idx != str(src):
                raise InvalidValueError(f"NB201 arch string token {tok!r} must be 'op~{src}' (node {node}) in {s!r}.")
            if op not in _OP_INDEX:
                raise InvalidValueError(f"NB201 arch string token {tok!r} has unknown op {op!r}; ops are {list(OPS)}.")
            ops.append(_OP_INDEX[op])
    return ops


@functools.lru_cache(maxsize=1)
def _string_table() -> dict[str, int]:
    return {s: i for i, s in enumerate(format_arch_strs(all_cells()))}


def parse_arch_str(s: str) -> np.ndarray:
    """Ops of one official arch string: array of shape (6,), int8."""
    return parse_arch_strs([s])[0]


def parse_arch_strs(strs: Sequence[str]) -> np.ndarray:
    """Ops of many arch strings: array of shape (n_cells, 6), int8. Raises ValueError naming the
    offending token of the first malformed string."""
    if isinstance(strs, str):
        raise InvalidTypeError("parse_arch_strs takes a sequence of strings; use parse_arch_str for one.")
    table = _string_table()
    idx = np.empty(len(strs), dtype=np.int64)
    for i, s in enumerate(strs):
        if not isinstance(s, str):
            raise InvalidTypeError(f"arch string {i} must be a str. Got {type(s).__name__} instead.")
        j = table.get(s)
        if j is None:
            try:
                _parse_slow(s)
            except ValueError as err:
                raise InvalidValueError(f"arch string {i}: {err}") from None
            raise InvalidValueError(f"arch string {i}: {s!r} is not an NB201 arch string")  # pragma: no cover
        idx[i] = j
    return cells_from_index(idx)


def as_ops(ops: Any) -> np.ndarray:
    """Check and convert op indices: array-like of shape (n_cells, 6) (or (6,)) -> int8 (n_cells, 6)."""
    a = np.asarray(ops)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != 6:
        raise InvalidValueError(f"NB201 ops must have shape (n_cells, 6). Got shape {a.shape} instead.")
    if a.dtype.kind not in "iu":
        raise InvalidTypeError(f"NB201 ops must be integer op indices. Got dtype {a.dtype} instead.")
    bad = (a < 0) | (a >= len(OPS))
    if bad.any():
        r, c = (int(x) for x in np.argwhere(bad)[0])
        raise InvalidValueError(f"NB201 op index {int(a[r, c])} of cell {r}, edge {c} is outside 0..4.")
    return np.ascontiguousarray(a, dtype=np.int8)


def format_arch_str(ops: Any) -> str:
    """Official arch string of one cell."""
    return format_arch_strs(as_ops(ops))[0]


def format_arch_strs(ops: Any) -> list[str]:
    """Official arch strings of a batch of shape (n_cells, 6)."""
    a = as_ops(ops)
    names = np.array(OPS, dtype=object)[a]
    return [f"|{r[0]}~0|+|{r[1]}~0|{r[2]}~1|+|{r[3]}~0|{r[4]}~1|{r[5]}~2|" for r in names.tolist()]


def cell_index(ops: Any) -> np.ndarray:
    """Cell indices (0..15624) of a batch: array of shape (n_cells,), int64."""
    return as_ops(ops).astype(np.int64) @ _POW5


def cells_from_index(index: Any) -> np.ndarray:
    """Ops of cell indices: array of shape (n_cells, 6), int8."""
    idx = np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise InvalidTypeError(f"NB201 cell indices must be integers. Got dtype {idx.dtype} instead.")
    idx = idx.astype(np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= NUM_CELLS)
    if bad.any():
        raise InvalidValueError(f"NB201 cell index {int(idx[np.argmax(bad)])} is outside 0..{NUM_CELLS - 1}.")
    return ((idx[:, None] // _POW5[None, :]) % 5).astype(np.int8)


def all_cells() -> np.ndarray:
    """Every NB201 cell in index order: array of shape (15625, 6), int8."""
    return cells_from_index(np.arange(NUM_CELLS))


def unique_str(ops: Any) -> list[str]:
    """Official ``to_unique_str(consider_zero=True)`` of each cell of a batch."""
    return list(_core.nb201_unique_str(as_ops(ops)))


def canonicalize(ops: Any) -> tuple[np.ndarray, np.ndarray]:
    """Representative cell index (smallest index of the class) and class number (0..6465, numbered
    by representative) of each cell: two arrays of shape (n_cells,), int32."""
    rep, cls = _core.nb201_canonicalize(as_ops(ops))
    return rep, cls


def space_classes(*, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Representative and class of all 15,625 cells in index order, computed afresh from the
    official unique strings (what :func:`canonicalize` looks up)."""
    return _core.nb201_space_classes(resolve_threads(threads))
