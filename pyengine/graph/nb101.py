"""NAS-Bench-101 cells on the native core.

A cell is a square 0/1 adjacency matrix plus one op per vertex. Batches are padded arrays:

``CellBatch``
    matrices : array of shape (n_cells, n_max, n_max), uint8, entry [i, j] = edge i -> j
    labels : array of shape (n_cells, n_max), int8, official labels (-1 input, 0 conv3x3-bn-relu,
        1 conv1x1-bn-relu, 2 maxpool3x3, -2 output), -3 in padded slots, 127 for an unknown op
    num_vertices : array of shape (n_cells,), int32, real vertices of each cell (1..n_max)

Validity is decided exactly as the official API (``ModelSpec`` then ``_check_spec``): the
matrix must be strictly upper triangular, the cell is pruned (vertices off every input->output
path are dropped), and the pruned cell must have <= 7 vertices, <= 9 edges, ``input`` first,
``output`` last and interior ops from the three. A rejected cell is an answer (``valid`` False
with a reason), not an error; malformed input (wrong shapes, entries other than 0/1) raises.

Canonical keys (int64) identify isomorphism classes of valid cells exactly, without MD5: the key
packs the official generator's representative of the class (vertex count, edge bits and interior
labels), so keys sort in the generator's order and ``cells_from_keys`` recovers that matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._native import core as _core
from .._native import resolve_threads
from ..errors import InvalidTypeError, InvalidValueError

__all__ = [
    "OPS",
    "OP_LABELS",
    "PADDING",
    "UNKNOWN_OP",
    "REASONS",
    "SPACE_SIZE",
    "MAX_VERTICES",
    "MAX_EDGES",
    "CellBatch",
    "Validation",
    "Space",
    "cell_batch",
    "pack_cells",
    "validate",
    "hash_cells",
    "hash_cell",
    "hash_compact",
    "compact",
    "canonical_keys",
    "canonical",
    "is_isomorphic",
    "cells_from_keys",
    "enumerate_space",
    "random_specs",
    "stream_keys",
]

OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")
OP_LABELS = {"input": -1, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2, "output": -2}
LABEL_OPS = {v: k for k, v in OP_LABELS.items()}
PADDING = -3
UNKNOWN_OP = 127
REASONS = tuple(_core.NB101_STATUS_NAMES[1:])
SPACE_SIZE = int(_core.NB101_SPACE_SIZE)
MAX_VERTICES = 7
MAX_EDGES = 9
_OFFICIAL_LABELS = frozenset(OP_LABELS.values())


class CellBatch(NamedTuple):
    """A padded batch of NB101 cells.

    Attributes
    ----------
    matrices : array of shape (n_cells, n_max, n_max), uint8
    labels : array of shape (n_cells, n_max), int8 (PADDING in padded slots)
    num_vertices : array of shape (n_cells,), int32
    """

    matrices: np.ndarray
    labels: np.ndarray
    num_vertices: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.num_vertices.shape[0])

    def cell(self, i: int) -> tuple[np.ndarray, list[str]]:
        """Cell i unpadded: (matrix of shape (n, n), list of n op names)."""
        n = int(self.num_vertices[i])
        ops = [LABEL_OPS.get(int(x), f"<unknown {int(x)}>") for x in self.labels[i, :n]]
        return self.matrices[i, :n, :n].copy(), ops


class Validation(NamedTuple):
    """Result of :func:`validate` for a batch of n_cells cells.

    Attributes
    ----------
    valid : array of shape (n_cells,), bool
    status : array of shape (n_cells,), uint8; 0 valid, else 1 + index into REASONS
    kept : array of shape (n_cells, n_max), bool; vertices kept by pruning (all False when the cell
        was rejected before or during pruning)
    pruned : CellBatch; the pruned cells (num_vertices 0 where pruning produced no cell)
    hashes : array of shape (n_cells,), str; official hash, "" for invalid cells
    canonical_keys : array of shape (n_cells,), int64; -1 for invalid cells
    """

    valid: np.ndarray
    status: np.ndarray
    kept: np.ndarray
    pruned: CellBatch
    hashes: np.ndarray
    canonical_keys: np.ndarray

    def reasons(self) -> list[str | None]:
        """Reason of each cell: None if valid, else a name from REASONS."""
        return [None if s == 0 else REASONS[s - 1] for s in self.status.tolist()]


class Space(NamedTuple):
    """The enumerated NB101 space, ascending by canonical key (the official generator's order).

    Attributes
    ----------
    cells : CellBatch with n_max 7 (423,624 cells)
    canonical_keys : array of shape (423624,), int64, strictly increasing
    hashes : array of shape (423624,), str; official module hashes
    """

    cells: CellBatch
    canonical_keys: np.ndarray
    hashes: np.ndarray

    def index_of(self, keys: Any) -> np.ndarray:
        """Positions of canonical keys in the space, -1 for keys not in it.

        keys : array of shape (n,), int64
        """
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.searchsorted(self.canonical_keys, keys)
        pos = np.minimum(pos, len(self.canonical_keys) - 1)
        found = self.canonical_keys[pos] == keys
        return np.where(found, pos, -1)


def _encode_op(op: Any, where: str) -> int:
    if isinstance(op, str):
        return OP_LABELS.get(op, UNKNOWN_OP)
    if isinstance(op, (bool, np.bool_)):
        raise InvalidTypeError(f"{where} must be an op name or an official integer label. Got a bool instead.")
    if isinstance(op, (int, np.integer)):
        op = int(op)
        if op == PADDING:
            return PADDING
        return op if op in _OFFICIAL_LABELS else UNKNOWN_OP
    raise InvalidTypeError(f"{where} must be an op name or an official integer label. Got {type(op).__name__} instead.")


def _check_matrix_values(m: np.ndarray, name: str = "matrices") -> np.ndarray:
    if m.dtype.kind == "b":
        return m.astype(np.uint8)
    if m.dtype.kind not in "iuf":
        raise InvalidTypeError(f"The '{name}' parameter must hold integers 0/1. Got dtype {m.dtype} instead.")
    bad = (m != 0) & (m != 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidValueError(
            f"The '{name}' parameter must hold only 0 and 1. Got {m[idx].item()!r} at index {list(idx)} instead."
        )
    return m.astype(np.uint8)


def cell_batch(matrices: Any, ops: Any, num_vertices: Any = None) -> CellBatch:
    """Build a :class:`CellBatch` from padded arrays.

    Parameters
    ----------
    matrices : array-like of shape (n_cells, n_max, n_max) of 0/1
    ops : array-like of shape (n_cells, n_max) of integer labels, or nested sequences of op names
        and/or integer labels. Unknown names and labels become UNKNOWN_OP (an answer of
        ``bad_ops`` if the vertex survives pruning).
    num_vertices : array-like of shape (n_cells,), optional
        Real vertices per cell. By default every cell has n_max vertices, less trailing PADDING
        labels (the padding convention of NAS-Bench-101 exports).
    """
    m = np.asarray(matrices)
    if m.ndim != 3 or m.shape[1] != m.shape[2]:
        raise InvalidValueError(
            f"The 'matrices' parameter must have shape (n_cells, n, n). Got shape {m.shape} instead."
        )
    if m.shape[0] == 0:
        raise InvalidValueError("The 'matrices' parameter must hold at least one cell. Got an empty batch instead.")
    if m.shape[1] == 0:
        raise InvalidValueError("NB101 cells need at least one vertex. Got matrices of shape (n_cells, 0, 0) instead.")
    m = _check_matrix_values(m)
    b, n_max = m.shape[0], m.shape[1]
    arr = np.asarray(ops, dtype=object) if not isinstance(ops, np.ndarray) else ops
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iu":
        if arr.shape != (b, n_max):
            raise InvalidValueError(f"The 'ops' parameter must have shape {(b, n_max)}. Got shape {arr.shape} instead.")
        labels = np.where(np.isin(arr, list(_OFFICIAL_LABELS) + [PADDING]), arr, UNKNOWN_OP).astype(np.int8)
    else:
        if len(ops) != b:
            raise InvalidValueError(
                f"The 'ops' parameter must have one row per cell ({b}). Got {len(ops)} rows instead."
            )
        labels = np.full((b, n_max), PADDING, dtype=np.int8)
        for i, row in enumerate(ops):
            if isinstance(row, str) or len(row) != n_max:
                raise InvalidValueError(f"ops of cell {i} must be a sequence of {n_max} ops. Got {row!r} instead.")
            for j, op in enumerate(row):
                labels[i, j] = _encode_op(op, f"op {j} of cell {i}")
    if num_vertices is None:
        pad = labels == PADDING
        # trailing padding only: count padded slots from the end
        trailing = np.cumprod(pad[:, ::-1], axis=1).sum(axis=1)
        nv = (n_max - trailing).astype(np.int32)
    else:
        nv = np.asarray(num_vertices)
        if nv.shape != (b,) or nv.dtype.kind not in "iu":
            raise InvalidValueError(f"The 'num_vertices' parameter must be {b} integers. Got {nv!r} instead.")
        nv = nv.astype(np.int32)
    bad = (nv < 1) | (nv > n_max)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidValueError(f"cell {i} has {int(nv[i])} vertices; every cell needs 1..{n_max} vertices.")
    # a PADDING label inside a cell's real vertices is not an op: treat it as unknown
    inside = np.arange(n_max)[None, :] < nv[:, None]
    labels = np.where(inside & (labels == PADDING), UNKNOWN_OP, labels).astype(np.int8)
    return CellBatch(np.ascontiguousarray(m), np.ascontiguousarray(labels), nv)


def pack_cells(cells: Sequence[tuple[Any, Sequence[Any]]], *, names: Sequence[str] | None = None) -> CellBatch:
    """Pad a list of (matrix, ops) cells of any sizes into one :class:`CellBatch`.

    Each matrix is an n x n nested sequence or array of 0/1 and ops a sequence of n op names or
    integer labels. Errors name the cell (``names[i]`` if given, else "cell i") and the problem.
    """
    if len(cells) == 0:
        raise InvalidValueError("pack_cells needs at least one cell. Got an empty sequence instead.")
    mats = []
    for i, item in enumerate(cells):
        where = names[i] if names is not None else f"cell {i}"
        try:
            matrix, ops = item
        except (TypeError, ValueError):
            raise InvalidTypeError(
                f"{where} must be a (matrix, ops) pair. Got {type(item).__name__} instead."
            ) from None
        m = _as_square(matrix, where)
        if isinstance(ops, str) or not isinstance(ops, (Sequence, np.ndarray)):
            raise InvalidTypeError(
                f"{where}: ops must be a sequence of op names or labels. Got {type(ops).__name__} instead."
            )
        if len(ops) != m.shape[0]:
            raise InvalidValueError(f"{where}: {len(ops)} ops for a {m.shape[0]}x{m.shape[0]} matrix; they must match.")
        for j, op in enumerate(ops):
            _encode_op(op, f"{where}: op {j}")
        mats.append((m, ops))
    n_max = max(m.shape[0] for m, _ in mats)
    b = len(mats)
    matrices = np.zeros((b, n_max, n_max), dtype=np.uint8)
    labels = np.full((b, n_max), PADDING, dtype=np.int8)
    nv = np.empty(b, dtype=np.int32)
    for i, (m, ops) in enumerate(mats):
        n = m.shape[0]
        matrices[i, :n, :n] = m
        nv[i] = n
        for j, op in enumerate(ops):
            code = _encode_op(op, f"op {j} of cell {i}")
            labels[i, j] = UNKNOWN_OP if code == PADDING else code
    return CellBatch(matrices, labels, nv)


def compact(cells: CellBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact form of valid pruned cells (as in the enumerated space) for the hash kernel.

    Returns (num_vertices int8 (n_cells,), bits uint32 (n_cells,), labels int8 (n_cells, 7)), where
    edge x -> y is bit y*(y-1)/2 + x (the official generator's numbering).
    """
    m = np.asarray(cells.matrices)
    n_max = m.shape[1]
    if n_max > MAX_VERTICES:
        m = m[:, :MAX_VERTICES, :MAX_VERTICES]
    xs, ys = np.triu_indices(min(n_max, MAX_VERTICES), k=1)
    shifts = (ys * (ys - 1) // 2 + xs).astype(np.uint32)
    bits = (m[:, xs, ys].astype(np.uint32) << shifts[None, :]).sum(axis=1, dtype=np.uint32)
    labels = np.full((len(m), MAX_VERTICES), PADDING, dtype=np.int8)
    k = min(n_max, MAX_VERTICES)
    labels[:, :k] = cells.labels[:, :k]
    return cells.num_vertices.astype(np.int8), bits, labels


def hash_compact(cells: CellBatch, *, threads: int | None = None) -> np.ndarray:
    """Official hashes of cells already known to be valid and pruned (no validation pass; the
    kernel still rejects a malformed compact cell with ValueError). Array of shape (n_cells,), str."""
    n, bits, labels = compact(cells)
    return _core.nb101_hash_compact(n, bits, labels, resolve_threads(threads)).astype("U32")


def _as_square(matrix: Any, where: str) -> np.ndarray:
    if isinstance(matrix, np.ndarray):
        m = matrix
    else:
        if not isinstance(matrix, Sequence) or isinstance(matrix, str):
            raise InvalidTypeError(f"{where}: matrix must be a list of rows. Got {type(matrix).__name__} instead.")
        n = len(matrix)
        for r, row in enumerate(matrix):
            if not isinstance(row, Sequence) or isinstance(row, str):
                raise InvalidTypeError(f"{where}: matrix row {r} must be a list. Got {type(row).__name__} instead.")
            if len(row) != n:
                raise InvalidValueError(
                    f"{where}: matrix must be square; row {r} has {len(row)} entries, expected {n}."
                )
            for c, x in enumerate(row):
                if isinstance(x, bool) or not isinstance(x, int):
                    raise InvalidTypeError(
                        f"{where}: matrix entry [{r}][{c}] must be the integer 0 or 1. Got {x!r} instead."
                    )
        m = np.array(matrix, dtype=np.int64).reshape(n, n) if n else np.zeros((0, 0), dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InvalidValueError(f"{where}: matrix must be square. Got shape {m.shape} instead.")
    if m.shape[0] == 0:
        raise InvalidValueError(f"{where}: a cell needs at least one vertex. Got an empty matrix instead.")
    bad = (m != 0) & (m != 1)
    if bad.any():
        r, c = (int(x) for x in np.argwhere(bad)[0])
        raise InvalidValueError(f"{where}: matrix entry [{r}][{c}] is {m[r, c].item()!r}; entries must be 0 or 1.")
    return m.astype(np.uint8)


def _as_batch(cells: Any, ops: Any, num_vertices: Any) -> CellBatch:
    if isinstance(cells, CellBatch):
        if ops is not None or num_vertices is not None:
            raise InvalidTypeError("Pass either a CellBatch or (matrices, ops[, num_vertices]), not both.")
        return cells
    if ops is None:
        raise InvalidTypeError("The 'ops' parameter is required when 'matrices' is not a CellBatch.")
    return cell_batch(cells, ops, num_vertices)


def validate(
    matrices: Any, ops: Any = None, num_vertices: Any = None, *, hashes: bool = True, threads: int | None = None
) -> Validation:
    """Validate, prune, hash and canonicalise a batch of cells (multi-threaded, GIL released).

    Parameters
    ----------
    matrices : CellBatch, or array-like of shape (n_cells, n_max, n_max)
    ops : array-like of shape (n_cells, n_max), or nested sequences of op names / labels
    num_vertices : array-like of shape (n_cells,), optional (see :func:`cell_batch`)
    hashes : bool, default True; compute the official hash of valid cells
    threads : int, optional; worker threads (default: all cores)
    """
    batch = _as_batch(matrices, ops, num_vertices)
    out = _core.nb101_process(
        batch.matrices,
        batch.labels,
        batch.num_vertices,
        with_hash=hashes,
        with_canonical=True,
        threads=resolve_threads(threads),
    )
    status = out["status"]
    hx = out["hashes"].astype("U32") if hashes else np.full(status.shape, "", dtype="U32")
    pruned = CellBatch(out["pruned_matrices"], out["pruned_labels"], out["pruned_vertices"])
    return Validation(status == 0, status, out["kept"].astype(bool), pruned, hx, out["canonical_keys"])


def hash_cells(matrices: Any, ops: Any = None, num_vertices: Any = None, *, threads: int | None = None) -> np.ndarray:
    """Official module hashes of a batch: array of shape (n_cells,) of str, "" for invalid cells."""
    return validate(matrices, ops, num_vertices, threads=threads).hashes


def hash_cell(matrix: Any, ops: Sequence[Any]) -> str | None:
    """Official module hash of one cell (None if the official API rejects it)."""
    h = str(validate(pack_cells([(matrix, ops)]), threads=1).hashes[0])
    return h or None


def canonical_keys(
    matrices: Any, ops: Any = None, num_vertices: Any = None, *, threads: int | None = None
) -> np.ndarray:
    """Canonical keys, array of shape (n_cells,) int64 (-1 for invalid cells). Equal keys <=> isomorphic
    pruned cells."""
    return validate(matrices, ops, num_vertices, hashes=False, threads=threads).canonical_keys


def cells_from_keys(keys: Any) -> CellBatch:
    """The canonical cells (official representatives) of canonical keys, padded to 7 vertices."""
    k = np.asarray(keys)
    if k.ndim != 1 or k.dtype.kind not in "iu":
        raise InvalidValueError(f"The 'keys' parameter must be a 1-D integer array. Got {k!r} instead.")
    d = _core.nb101_decode_keys(k.astype(np.int64))
    return CellBatch(d["matrices"], d["labels"], d["num_vertices"])


def canonical(
    matrices: Any, ops: Any = None, num_vertices: Any = None, *, threads: int | None = None
) -> tuple[CellBatch, np.ndarray]:
    """Canonical form of each cell: the official representative of its pruned isomorphism class.

    Returns (cells, valid): cells padded to 7 vertices (num_vertices 0 and empty rows for invalid
    input cells) and the valid mask of shape (n_cells,).
    """
    keys = canonical_keys(matrices, ops, num_vertices, threads=threads)
    valid = keys >= 0
    out = CellBatch(
        np.zeros((len(keys), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8),
        np.full((len(keys), MAX_VERTICES), PADDING, dtype=np.int8),
        np.zeros(len(keys), dtype=np.int32),
    )
    if valid.any():
        dec = cells_from_keys(keys[valid])
        out.matrices[valid], out.labels[valid], out.num_vertices[valid] = dec
    return out, valid


def is_isomorphic(matrix_a: Any, ops_a: Sequence[Any], matrix_b: Any, ops_b: Sequence[Any]) -> bool:
    """Exact isomorphism of two cells after official pruning (no MD5 involved).

    Raises ValueError if either cell is not a valid NB101 cell (the reason is named).
    """
    res = validate(pack_cells([(matrix_a, ops_a), (matrix_b, ops_b)]), hashes=False, threads=1)
    for which, reason in zip("ab", res.reasons(), strict=True):
        if reason is not None:
            raise InvalidValueError(f"cell {which} is not a valid NB101 cell: {reason}")
    return bool(res.canonical_keys[0] == res.canonical_keys[1])


def enumerate_space(*, hashes: bool = True, threads: int | None = None) -> Space:
    """Every unique valid NB101 cell (423,624), in the official generator's order with its
    representatives, plus canonical keys and (optionally) official hashes."""
    d = _core.nb101_enumerate(with_hash=hashes, threads=resolve_threads(threads))
    cells = CellBatch(d["matrices"], d["labels"], d["num_vertices"])
    hx = d["hashes"].astype("U32") if hashes else np.full(len(cells), "", dtype="U32")
    return Space(cells, d["canonical_keys"], hx)


def _stream_args(seed: Any, start: Any, count: Any, edge_prob: Any) -> tuple[int, int, int, float]:
    for name, value in (("seed", seed), ("start", start), ("count", count)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InvalidTypeError(f"The '{name}' parameter must be an int. Got {type(value).__name__} instead.")
        if not 0 <= int(value) < 2**64:
            raise InvalidValueError(f"The '{name}' parameter must lie in 0..2**64-1. Got {value} instead.")
    try:
        p = float(edge_prob)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"The 'edge_prob' parameter must be a float. Got {edge_prob!r} instead.") from None
    if not 0.0 <= p <= 1.0:
        raise InvalidValueError(f"The 'edge_prob' parameter must lie in [0, 1]. Got {edge_prob!r} instead.")
    return int(seed), int(start), int(count), p


def random_specs(seed: int, start: int, count: int, *, edge_prob: float = 0.5, threads: int | None = None) -> CellBatch:
    """Candidates ``start .. start + count - 1`` of the counter-based random stream ``seed``.

    Each candidate is a raw 7-vertex spec, valid or not: each of the 21 upper-triangular edges is
    present with probability ``edge_prob``, the five interior ops are uniform over the three,
    input first and output last. Candidate i depends on (seed, i) alone (SplitMix64 of both,
    ``core/include/pyengine/hd/nb101.hpp``), so any chunking, any number of threads and the GPU
    (:func:`pyengine.graph.device.nb101_random_specs`) draw the same stream.
    """
    seed, start, count, p = _stream_args(seed, start, count, edge_prob)
    out = _core.nb101_random_specs(seed, start, count, p, resolve_threads(threads))
    return CellBatch(out["matrices"], out["labels"], np.full(count, MAX_VERTICES, dtype=np.int32))


def stream_keys(
    seed: int, start: int, count: int, *, edge_prob: float = 0.5, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`random_specs` validated and canonicalised in one pass, nothing else materialised:
    (status (count,) uint8 as :func:`validate`'s, canonical_keys (count,) int64, -1 if invalid)."""
    seed, start, count, p = _stream_args(seed, start, count, edge_prob)
    out = _core.nb101_stream_keys(seed, start, count, p, resolve_threads(threads))
    return out["status"], out["canonical_keys"]
