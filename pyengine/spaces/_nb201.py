"""NAS-Bench-201 as a search space over batches of op indices."""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_rng
from ..errors import InvalidTypeError, InvalidValueError
from ..graph import nb201 as g
from ._base import SearchSpace, check_count, invalid_rows

__all__ = ["NB201Space", "NB201Batch", "NASLIB_OPS", "NASLIB_EDGE_ORDER"]

# NASLib: op indices 0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3, and
# tuple positions 0->1, 0->2, 0->3, 1->2, 1->3, 2->3 (string positions 0, 1, 3, 2, 4, 5).
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGE_ORDER = np.array([0, 1, 3, 2, 4, 5])  # string position of each NASLib tuple position
_NASLIB_TO_OP = np.array([g.OPS.index(o) for o in NASLIB_OPS], dtype=np.int8)
_OP_TO_NASLIB = np.argsort(_NASLIB_TO_OP).astype(np.int8)


class NB201Batch(NamedTuple):
    """A batch of NAS-Bench-201 cells.

    ops : array of shape (n_archs, 6), int8; op index (``pyengine.graph.nb201.OPS``: 0 none,
        1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3) of the edges 0->1, 0->2,
        1->2, 0->3, 1->3, 2->3 (arch-string order)
    """

    ops: np.ndarray


@functools.lru_cache(maxsize=1)
def _class_table() -> tuple[np.ndarray, np.ndarray]:
    rep, cls = g.canonicalize(g.all_cells())
    return rep, np.unique(rep)


class NB201Space(SearchSpace):
    """NAS-Bench-201: 4 nodes, 6 edges, 5 ops; 15,625 cells in 6,466 isomorphism classes (the
    official ``to_unique_str(consider_zero=True)``). Strings are official arch strings."""

    name = "nb201"
    Batch = NB201Batch

    @property
    def size(self) -> int:
        return g.NUM_CELLS

    @property
    def n_classes(self) -> int:
        return g.NUM_CLASSES

    def check(self, batch: Any) -> NB201Batch:
        if not isinstance(batch, NB201Batch):
            raise InvalidTypeError(f"NB201 batches are NB201Batch. Got {type(batch).__name__} instead.")
        a = np.asarray(batch.ops)
        if a.ndim != 2 or a.shape[1] != 6:
            raise InvalidValueError(f"NB201 ops must have shape (n_archs, 6). Got shape {a.shape} instead.")
        if a.shape[0] == 0:
            raise InvalidValueError("Empty nb201 batch.")
        if a.dtype.kind not in "iu":
            raise InvalidTypeError(f"NB201 ops must be integer op indices. Got dtype {a.dtype} instead.")
        bad = ((a < 0) | (a >= len(g.OPS))).any(axis=1)
        if bad.any():
            raise invalid_rows(
                self.name,
                [
                    (int(r), f"op index {int(a[r][(a[r] < 0) | (a[r] >= 5)][0])} outside 0..4")
                    for r in np.flatnonzero(bad)
                ],
            )
        return NB201Batch(np.ascontiguousarray(a, dtype=np.int8))

    def canonical_keys(self, batch: Any) -> np.ndarray:
        """Class representative (smallest cell index of the class) of each cell, int32."""
        rep, _ = g.canonicalize(batch.ops)
        return rep

    def _draw(self, n: int, rng: np.random.Generator) -> NB201Batch:
        return NB201Batch(rng.integers(0, len(g.OPS), size=(n, 6), dtype=np.int8))

    def _draw_classes(self, n: int, rng: np.random.Generator) -> NB201Batch:
        reps = _class_table()[1]
        return NB201Batch(g.cells_from_index(reps[rng.integers(0, len(reps), size=n)]))

    def sample(self, n: int, rng: Any, *, unique: bool = False) -> NB201Batch:
        if unique:  # exact: a draw without replacement from the 6,466 representatives
            n = check_count(n, "NB201Space.sample")
            rng = check_rng(rng, "NB201Space.sample")
            reps = _class_table()[1]
            if n > len(reps):
                raise InvalidValueError(f"Cannot draw {n} distinct classes from nb201: it has {len(reps)}.")
            return NB201Batch(g.cells_from_index(reps[rng.choice(len(reps), size=n, replace=False)]))
        return super().sample(n, rng)

    def _edits(self, batch: NB201Batch) -> tuple[NB201Batch, np.ndarray]:
        b = len(batch.ops)
        cand = np.repeat(batch.ops[:, None, :], 24, axis=1)  # edge e, k-th other op: slot 4e + k
        e = np.arange(24) // 4
        k = np.arange(24) % 4
        cand[:, np.arange(24), e] = ((batch.ops[:, e].astype(np.int64) + 1 + k) % 5).astype(np.int8)
        return NB201Batch(cand.reshape(-1, 6)), np.repeat(np.arange(b), 24)

    def all(self) -> NB201Batch:
        """All 15,625 cells in cell-index order."""
        return NB201Batch(g.all_cells())

    def from_strings(self, strings: Sequence[str]) -> NB201Batch:
        return NB201Batch(g.parse_arch_strs(list(strings)))

    def to_strings(self, batch: Any) -> list[str]:
        return g.format_arch_strs(self.check(batch).ops)

    def from_naslib(self, archs: Sequence[Any]) -> NB201Batch:
        """Batch from NASLib 6-tuples (or their string forms, e.g. ``"(0, 2, 3, 2, 3, 1)"``)."""
        rows = []
        for i, arch in enumerate(archs):
            try:
                value = ast.literal_eval(arch) if isinstance(arch, str) else arch
                a = np.asarray(value)
            except (ValueError, SyntaxError):
                raise InvalidValueError(
                    f"NASLib NB201 architecture {i} is not a tuple literal: {str(arch)[:60]!r}."
                ) from None
            if a.shape != (6,) or a.dtype.kind not in "iu":
                raise InvalidValueError(f"NASLib NB201 architecture {i} must be 6 integers. Got {value!r}.")
            if ((a < 0) | (a > 4)).any():
                raise InvalidValueError(f"NASLib NB201 architecture {i}: op indices must lie in 0..4. Got {value!r}.")
            rows.append(a)
        if not rows:
            raise InvalidValueError("Empty list of NASLib NB201 architectures.")
        t = np.stack(rows).astype(np.int64)
        ops = np.empty_like(t)
        ops[:, NASLIB_EDGE_ORDER] = _NASLIB_TO_OP[t]
        return NB201Batch(ops.astype(np.int8))

    def to_naslib(self, batch: Any) -> list[tuple[int, ...]]:
        ops = self.check(batch).ops
        t = _OP_TO_NASLIB[ops[:, NASLIB_EDGE_ORDER]]
        return [tuple(int(x) for x in row) for row in t]

    def _from_record(self, record: dict) -> NB201Batch | None:
        if "ops" in record:  # ranges are checked batch-wide by check(), which lists every bad row
            a = np.asarray(record["ops"])
            if a.shape != (6,) or a.dtype.kind not in "iu":
                raise InvalidValueError(f"'ops' must be 6 integer op indices. Got {record['ops']!r}.")
            return NB201Batch(a[None].astype(np.int64))
        return None
