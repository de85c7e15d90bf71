"""The DARTS / NAS-Bench-301 space over batches of (input, op) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidTypeError, InvalidValueError
from ..graph import darts as g
from ._base import SearchSpace, invalid_rows

__all__ = ["DartsSpace", "DartsBatch"]

_NODE = 2 + np.arange(g.NUM_EDGES) // 2  # node fed by each edge
_PARTNER = np.arange(g.NUM_EDGES) ^ 1  # the other edge of the same node
# genotypes of one cell, the two edges of a node taken as unordered: prod over nodes of C(i, 2) * 7^2
_GENOTYPES_PER_CELL = int(np.prod([n * (n - 1) // 2 * 49 for n in range(2, 6)]))


class DartsBatch(NamedTuple):
    """A batch of DARTS architectures.

    cells : array of shape (n_archs, 2, 8, 2), int8; [cell (0 normal, 1 reduce), edge, (input
        node, op index)]. Edges 2k and 2k + 1 feed node 2 + k; ops in NASLib's compact order
        (``pyengine.graph.darts.OPS``).
    """

    cells: np.ndarray


def _edit_templates() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cell, edge, is_input_change, k) for the 120 one-edit moves of an architecture."""
    rows = []
    for c in range(2):
        for e in range(g.NUM_EDGES):
            rows += [(c, e, 0, k) for k in range(len(g.OPS) - 1)]
            rows += [(c, e, 1, k) for k in range(int(_NODE[e]) - 2)]
    t = np.array(rows, dtype=np.int64)
    return t[:, 0], t[:, 1], t[:, 2].astype(bool), t[:, 3]


_CELL_T, _EDGE_T, _INPUT_T, _K_T = _edit_templates()


class DartsSpace(SearchSpace):
    """DARTS / NAS-Bench-301: a normal and a reduction cell, each with 4 intermediate nodes of 2
    distinct inputs, 7 ops. About 1.1e18 architectures (ordered edge pairs of a node counted once).

    Isomorphism: swapping a node's two edges or renumbering intermediate nodes in another
    topological order (see :mod:`pyengine.graph.darts`). ``sample(n, rng)`` draws as NASLib does
    (two distinct inputs per node, ops uniform); ``unique=True`` draws each cell's class uniformly
    by rejection (accepting a draw with probability 1 / its number of distinct renumberings) and
    returns distinct architectures. Strings are genotype strings.
    """

    name = "darts"
    Batch = DartsBatch

    @property
    def size(self) -> int:
        return _GENOTYPES_PER_CELL**2

    def check(self, batch: Any) -> DartsBatch:
        if not isinstance(batch, DartsBatch):
            raise InvalidTypeError(f"DARTS batches are DartsBatch. Got {type(batch).__name__} instead.")
        a = g.as_cells(batch.cells)
        if len(a) == 0:
            raise InvalidValueError("Empty darts batch.")
        bad = g.invalid_cells(a)
        if bad:
            raise invalid_rows(self.name, bad)
        return DartsBatch(a)

    def canonical_keys(self, batch: Any) -> np.ndarray:
        """Canonical keys of (normal, reduce), viewed as one 16-byte value per architecture."""
        k = np.ascontiguousarray(g.canonical_keys(batch.cells))
        return k.view("V16").reshape(-1)

    @staticmethod
    def _draw_cells(m: int, rng: np.random.Generator) -> np.ndarray:
        cells = np.empty((m, g.NUM_EDGES, 2), dtype=np.int8)
        for k in range(4):
            node = 2 + k
            a = rng.integers(0, node, size=m)
            b = rng.integers(0, node - 1, size=m)
            b = b + (b >= a)
            cells[:, 2 * k, 0], cells[:, 2 * k + 1, 0] = a, b
        cells[:, :, 1] = rng.integers(0, len(g.OPS), size=(m, g.NUM_EDGES))
        return cells

    def _draw(self, n: int, rng: np.random.Generator) -> DartsBatch:
        normal = self._draw_cells(n, rng)
        reduce = self._draw_cells(n, rng)
        return DartsBatch(np.stack([normal, reduce], axis=1))

    def _draw_class_cells(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out: list[np.ndarray] = []
        have = 0
        while have < n:
            m = max(1024, 16 * (n - have))
            cells = self._draw_cells(m, rng)
            forms = g.relabel_forms(np.stack([cells, cells], axis=1))[:, 0]
            keep = rng.random(m) * forms < 1.0
            out.append(cells[keep])
            have += int(keep.sum())
        return np.concatenate(out)[:n]

    def _draw_classes(self, n: int, rng: np.random.Generator) -> DartsBatch:
        normal = self._draw_class_cells(n, rng)
        reduce = self._draw_class_cells(n, rng)
        return DartsBatch(np.stack([normal, reduce], axis=1))

    def _edits(self, batch: DartsBatch) -> tuple[DartsBatch, np.ndarray]:
        cells = batch.cells
        b, t = len(cells), len(_CELL_T)
        cand = np.repeat(cells[:, None], t, axis=1)  # (b, t, 2, 8, 2)
        slot = np.arange(t)
        cur_op = cells[:, _CELL_T, _EDGE_T, 1].astype(np.int64)
        new_op = (cur_op + 1 + _K_T) % len(g.OPS)
        cur_in = cells[:, _CELL_T, _EDGE_T, 0].astype(np.int64)
        other_in = cells[:, _CELL_T, _PARTNER[_EDGE_T], 0].astype(np.int64)
        lo, hi = np.minimum(cur_in, other_in), np.maximum(cur_in, other_in)
        new_in = np.broadcast_to(_K_T, (b, t)).copy()
        new_in += new_in >= lo
        new_in += new_in >= hi
        op_rows = ~_INPUT_T
        cand[:, slot[op_rows], _CELL_T[op_rows], _EDGE_T[op_rows], 1] = new_op[:, op_rows].astype(np.int8)
        cand[:, slot[_INPUT_T], _CELL_T[_INPUT_T], _EDGE_T[_INPUT_T], 0] = new_in[:, _INPUT_T].astype(np.int8)
        return DartsBatch(cand.reshape(-1, 2, g.NUM_EDGES, 2)), np.repeat(np.arange(b), t)

    def from_strings(self, strings: Sequence[str]) -> DartsBatch:
        return DartsBatch(g.parse_genotypes(list(strings)))

    def to_strings(self, batch: Any) -> list[str]:
        return g.format_genotypes(self.check(batch).cells)

    def from_naslib(self, archs: Sequence[Any]) -> DartsBatch:
        """Batch from NASLib compact tuples ``[[(input, op) x 8], [(input, op) x 8]]`` or their strings."""
        if len(archs) == 0:
            raise InvalidValueError("Empty list of NASLib DARTS architectures.")
        return DartsBatch(g.from_naslib(archs))

    def to_naslib(self, batch: Any) -> list[tuple]:
        return g.to_naslib(self.check(batch).cells)

    def _from_record(self, record: dict) -> DartsBatch | None:
        if "genotype" in record:
            return self.from_strings([record["genotype"]])
        return None
