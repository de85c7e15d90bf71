"""NAS-Bench-101 as a search space over :class:`pyengine.graph.nb101.CellBatch` batches."""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_rng
from ..errors import InvalidTypeError, InvalidValueError
from ..graph import nb101 as g
from ._base import SearchSpace, check_count, invalid_rows

__all__ = ["NB101Space"]

_N = g.MAX_VERTICES
_XS, _YS = np.triu_indices(_N, k=1)  # the 21 upper-triangular slots, row-major
# NASLib op codes: 0 input, 1 output, 2 maxpool3x3, 3 conv1x1, 4 conv3x3
_NASLIB_TO_LABEL = np.array([-1, -2, 2, 1, 0], dtype=np.int8)
_LABEL_TO_NASLIB = {-1: 0, -2: 1, 2: 2, 1: 3, 0: 4}


@functools.lru_cache(maxsize=1)
def _space_keys() -> np.ndarray:
    return g.enumerate_space(hashes=False).canonical_keys


@functools.lru_cache(maxsize=1)
def _hash_index() -> tuple[np.ndarray, np.ndarray]:
    sp = g.enumerate_space(hashes=True)
    order = np.argsort(sp.hashes)
    return sp.hashes[order], sp.canonical_keys[order]


def _pad7(cells: g.CellBatch) -> g.CellBatch:
    n_max = cells.matrices.shape[1]
    if n_max == _N:
        return cells
    if n_max > _N:  # pruned cells have <= 7 vertices; the padded tail is empty
        return g.CellBatch(cells.matrices[:, :_N, :_N], cells.labels[:, :_N], cells.num_vertices)
    b = len(cells.num_vertices)
    m = np.zeros((b, _N, _N), dtype=np.uint8)
    m[:, :n_max, :n_max] = cells.matrices
    lab = np.full((b, _N), g.PADDING, dtype=np.int8)
    lab[:, :n_max] = cells.labels
    return g.CellBatch(m, lab, cells.num_vertices)


def _raw_specs(n: int, rng: np.random.Generator, edge_prob: float = 0.5) -> g.CellBatch:
    """n raw random specs as the official ``random_spec`` draws them, before validation: each of the
    21 upper-triangular slots of a 7x7 matrix is an edge with probability ``edge_prob``, each
    interior vertex takes one of the three ops uniformly, vertex 0 is the input and 6 the output.

    Many are invalid (disconnected, more than 9 edges after pruning); :func:`pyengine.graph.nb101.validate`
    tells which and why. With ``edge_prob`` 0.5 (the official draw) the edges are fair bits. This is
    the space's sampler, driven by the caller's Generator; streams indexed by (seed, i), the same on
    host and GPU, come from :func:`pyengine.graph.nb101.random_specs`.

    Returns
    -------
    CellBatch with matrices (n, 7, 7) uint8, labels (n, 7) int8, num_vertices (n,) all 7
    """
    mats = np.zeros((n, _N, _N), dtype=np.uint8)
    if edge_prob == 0.5:
        mats[:, _XS, _YS] = rng.integers(0, 2, size=(n, len(_XS)), dtype=np.uint8)
    else:
        mats[:, _XS, _YS] = rng.random(size=(n, len(_XS))) < edge_prob
    labels = np.empty((n, _N), dtype=np.int8)
    labels[:, 0], labels[:, -1] = -1, -2
    labels[:, 1:-1] = rng.integers(0, 3, size=(n, _N - 2), dtype=np.int8)
    return g.CellBatch(mats, labels, np.full(n, _N, dtype=np.int32))


class NB101Space(SearchSpace):
    """NAS-Bench-101: cells of up to 7 vertices and 9 edges, interior ops conv3x3 / conv1x1 /
    maxpool3x3; 423,624 unique cells.

    Batches are :class:`pyengine.graph.nb101.CellBatch` (matrices (n, 7, 7) uint8, labels (n, 7)
    int8, num_vertices (n,) int32). ``check`` validates cells exactly as the official API and
    returns them pruned (the official normal form); a cell keeps its vertex order otherwise, so
    (matrix, ops) and NASLib tuples round-trip exactly. Sampling, mutation and neighbours return
    the official representative of each class.

    ``sample(n, rng)`` follows the official ``random_spec`` (random upper-triangular matrix and
    ops, redrawn until valid); ``unique=True`` draws distinct cells uniformly from the 423,624.
    Strings are official module hashes.
    """

    name = "nb101"
    Batch = g.CellBatch

    @property
    def size(self) -> int:
        return g.SPACE_SIZE

    @property
    def n_classes(self) -> int:
        return g.SPACE_SIZE

    def check(self, batch: Any) -> g.CellBatch:
        if not isinstance(batch, g.CellBatch):
            raise InvalidTypeError(f"NB101 batches are CellBatch. Got {type(batch).__name__} instead.")
        if len(batch.num_vertices) == 0:
            raise InvalidValueError("Empty nb101 batch.")
        res = g.validate(batch, hashes=False)
        if not res.valid.all():
            reasons = res.reasons()
            raise invalid_rows(self.name, [(int(r), str(reasons[r])) for r in np.flatnonzero(~res.valid)])
        return _pad7(res.pruned)

    def canonical_keys(self, batch: Any) -> np.ndarray:
        return g.canonical_keys(batch)

    def _draw(self, n: int, rng: np.random.Generator) -> g.CellBatch:
        keys: list[np.ndarray] = []
        have = 0
        while have < n:
            m = max(1024, 4 * (n - have))
            k = g.canonical_keys(_raw_specs(m, rng))
            k = k[k >= 0]
            keys.append(k)
            have += len(k)
        return g.cells_from_keys(np.concatenate(keys)[:n])

    def _draw_classes(self, n: int, rng: np.random.Generator) -> g.CellBatch:
        keys = _space_keys()
        return g.cells_from_keys(keys[rng.integers(0, len(keys), size=n)])

    def sample(self, n: int, rng: Any, *, unique: bool = False) -> g.CellBatch:
        if unique:  # exact: a draw without replacement from the enumerated space
            n = check_count(n, "NB101Space.sample")
            rng = check_rng(rng, "NB101Space.sample")
            if n > self.size:
                raise InvalidValueError(f"Cannot draw {n} distinct classes from nb101: it has {self.size}.")
            keys = _space_keys()
            return g.cells_from_keys(keys[rng.choice(len(keys), size=n, replace=False)])
        return super().sample(n, rng)

    def _edits(self, batch: g.CellBatch) -> tuple[g.CellBatch, np.ndarray]:
        """One edit: flip an edge between real vertices, change an interior op, or (in a cell of
        fewer than 7 vertices) add an interior vertex with one edge in and one edge out (the
        smallest change that adds a vertex). Results are validated, pruned and canonical."""
        b = len(batch.num_vertices)
        nv = batch.num_vertices
        n_edge, n_op = len(_XS), 2 * (_N - 2)
        k = n_edge + n_op
        mats = np.repeat(batch.matrices[:, None], k, axis=1)
        labels = np.repeat(batch.labels[:, None], k, axis=1)
        # edge flips: slot s toggles edge (_XS[s], _YS[s]); valid when both ends are real vertices
        mats[:, np.arange(n_edge), _XS, _YS] ^= 1
        edge_ok = _YS[None, :] < nv[:, None]
        # op changes: vertex v = 1 + s // 2 takes the (s % 2 + 1)-th other op
        v = 1 + np.arange(n_op) // 2
        cur = batch.labels[:, v].astype(np.int64)
        new = (cur + 1 + np.arange(n_op) % 2) % 3
        labels[:, n_edge + np.arange(n_op), v] = new.astype(np.int8)
        op_ok = v[None, :] < (nv[:, None] - 1)
        # vertex additions: new vertex (op o) just before the output, edges u -> new -> w
        add_m, add_l, add_ok = self._additions(batch)
        mats = np.concatenate([mats, add_m], axis=1)
        labels = np.concatenate([labels, add_l], axis=1)
        ok = np.concatenate([edge_ok, op_ok, add_ok], axis=1)
        per = ok.shape[1]
        flat = ok.reshape(-1)
        parent = np.repeat(np.arange(b), per)[flat]
        cand_nv = np.repeat(nv, per).reshape(b, per)
        cand_nv[:, k:] += 1
        cand = g.CellBatch(mats.reshape(-1, _N, _N)[flat], labels.reshape(-1, _N)[flat], cand_nv.reshape(-1)[flat])
        res = g.validate(cand, hashes=False)
        return _pad7(g.cells_from_keys(res.canonical_keys[res.valid])), parent[res.valid]

    @staticmethod
    def _additions(batch: g.CellBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = len(batch.num_vertices)
        nv = batch.num_vertices.astype(np.int64)
        rows = np.arange(b)
        # the cell with a fresh vertex at n - 1 and the output moved to n
        grow = nv < _N
        idx = np.arange(_N)
        old = idx[None, :] < (nv - 1)[:, None]  # vertices kept in place (all but the output)
        base_m = np.where(old[:, :, None] & old[:, None, :], batch.matrices, 0).astype(np.uint8)
        into_out = np.take_along_axis(batch.matrices, np.broadcast_to((nv - 1)[:, None, None], (b, _N, 1)), axis=2)
        g_rows = rows[grow]
        base_m[g_rows, :, nv[grow]] = (into_out[grow, :, 0] * old[grow]).astype(np.uint8)
        base_l = np.where(old, batch.labels, g.PADDING).astype(np.int8)
        base_l[g_rows, nv[grow]] = -2
        slots = [(u, w, o) for u in range(_N - 1) for w in range(u + 1, _N) for o in range(3)]
        m = np.repeat(base_m[:, None], len(slots), axis=1)
        lab = np.repeat(base_l[:, None], len(slots), axis=1)
        ok = np.zeros((b, len(slots)), dtype=bool)
        new_v = np.clip(nv - 1, 0, _N - 1)
        out_v = np.clip(nv, 0, _N - 1)
        for s, (u, w, o) in enumerate(slots):
            valid = grow & (w <= nv - 1)  # u < w are old vertex indices; w == n - 1 is the output
            ok[:, s] = valid
            r = rows[valid]
            if len(r) == 0:
                continue
            target = np.where(w == nv[r] - 1, out_v[r], w)
            m[r, s, u, new_v[r]] = 1
            m[r, s, new_v[r], target] = 1
            lab[r, s, new_v[r]] = o
        return m, lab, ok

    def all(self) -> g.CellBatch:
        """All 423,624 cells (official representatives) in the official generator's order."""
        return g.cells_from_keys(_space_keys())

    def from_strings(self, strings: Sequence[str]) -> g.CellBatch:
        """Cells of official module hashes (representatives)."""
        for i, s in enumerate(strings):
            if not isinstance(s, str) or len(s) != 32:
                raise InvalidValueError(f"{s!r} (position {i}) is not an NB101 module hash (32 hex digits).")
        hashes, keys = _hash_index()
        q = np.asarray(list(strings), dtype="U32")
        pos = np.clip(np.searchsorted(hashes, q), 0, len(hashes) - 1)
        missing = hashes[pos] != q
        if missing.any():
            i = int(np.argmax(missing))
            raise InvalidValueError(f"{strings[i]!r} (position {i}) is not the hash of an NB101 cell.")
        return g.cells_from_keys(keys[pos])

    def to_strings(self, batch: Any) -> list[str]:
        return [str(h) for h in g.hash_cells(self.check(batch))]

    def from_matrix_ops(self, cells: Sequence[tuple[Any, Sequence[Any]]]) -> g.CellBatch:
        """Batch from (matrix, ops) pairs (ops as official names or labels), validated and pruned."""
        for i, item in enumerate(cells):
            ops = item[1] if isinstance(item, (tuple, list)) and len(item) == 2 else None
            for j, op in enumerate(ops if isinstance(ops, (list, tuple)) else []):
                if isinstance(op, str) and op not in g.OP_LABELS:
                    raise InvalidValueError(
                        f"Unknown NB101 op {op!r} (cell {i}, vertex {j}). Valid ops: {', '.join(g.OPS)}."
                    )
        return self.check(g.pack_cells(cells))

    def to_matrix_ops(self, batch: Any) -> list[tuple[list[list[int]], list[str]]]:
        """(matrix, ops) of each cell, ops as official names."""
        b = self.check(batch)
        out = []
        for i in range(len(b.num_vertices)):
            m, ops = b.cell(i)
            out.append((m.astype(int).tolist(), list(ops)))
        return out

    def from_naslib(self, archs: Sequence[Any]) -> g.CellBatch:
        """Batch from NASLib 56-tuples (7x7 matrix row-major, then 7 op codes), pruned."""
        rows = []
        for i, arch in enumerate(archs):
            value = ast.literal_eval(arch) if isinstance(arch, str) else arch
            a = np.asarray(value)
            if a.shape != (_N * _N + _N,) or a.dtype.kind not in "iu":
                raise InvalidValueError(f"NASLib NB101 architecture {i} must be 56 integers. Got shape {a.shape}.")
            if ((a[: _N * _N] != 0) & (a[: _N * _N] != 1)).any():
                raise InvalidValueError(f"NASLib NB101 architecture {i}: matrix entries must be 0 or 1.")
            if ((a[_N * _N :] < 0) | (a[_N * _N :] > 4)).any():
                raise InvalidValueError(f"NASLib NB101 architecture {i}: op codes must lie in 0..4.")
            rows.append(a.astype(np.int64))
        if not rows:
            raise InvalidValueError("Empty list of NASLib NB101 architectures.")
        t = np.stack(rows)
        cells = g.CellBatch(
            t[:, : _N * _N].reshape(-1, _N, _N).astype(np.uint8),
            _NASLIB_TO_LABEL[t[:, _N * _N :]],
            np.full(len(t), _N, dtype=np.int32),
        )
        return self.check(cells)

    def to_naslib(self, batch: Any) -> list[tuple[int, ...]]:
        """NASLib 56-tuples. A cell of fewer than 7 vertices gets isolated conv3x3 vertices before its
        output (pruning removes them again, so the tuple reads back to the same cell)."""
        b = self.check(batch)
        out = []
        for m, lab, n in zip(b.matrices, b.labels, b.num_vertices, strict=True):
            n = int(n)
            full = np.zeros((_N, _N), dtype=int)
            full[: n - 1, : n - 1] = m[: n - 1, : n - 1]
            full[: n - 1, _N - 1] = m[: n - 1, n - 1]
            ops = [_LABEL_TO_NASLIB[int(x)] for x in lab[: n - 1]] + [4] * (_N - n) + [1]
            out.append(tuple(full.reshape(-1).tolist()) + tuple(ops))
        return out

    def _from_record(self, record: dict) -> g.CellBatch | None:
        if "matrix" in record or "ops" in record:
            if "matrix" not in record or "ops" not in record:
                raise InvalidValueError("An NB101 record needs both 'matrix' and 'ops'.")
            return self.from_matrix_ops([(record["matrix"], record["ops"])])
        if "hash" in record:
            return self.from_strings([record["hash"]])
        return None
