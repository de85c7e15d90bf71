"""Brute-force encoders, one architecture at a time, test oracles of the encoding kernels.

The path and one-hot encoders live in the package as the baseline of ``pyengine bench encode``
(``pyengine.bench._baselines.encodings``); this module re-exports them, so there is one copy.
The GRAF oracles below exist only here: they build each restricted cell as an explicit edge list
and enumerate every input->output path by depth-first search.
"""

from __future__ import annotations

import numpy as np

from pyengine.bench._baselines.encodings import *  # noqa: F403

# edges of an NB201 cell in arch-string order, and the DARTS output node
_NB201_EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
_DARTS_OUT = 6


def _subsets(types: list[int]) -> list[set[int]]:
    """Every non-empty subset of ``types``; subset p holds types[t] where bit t of p + 1 is set."""
    return [{t for i, t in enumerate(types) if (p >> i) & 1} for p in range(1, 2 ** len(types))]


def _all_paths(edges: list[tuple[int, int]], start: int, end: int) -> list[list[int]]:
    """Every path start -> end of a DAG given as an edge list (parallel edges give repeated paths)."""
    out: dict[int, list[int]] = {}
    for u, v in edges:
        out.setdefault(u, []).append(v)
    paths = []

    def walk(path: list[int]) -> None:
        if path[-1] == end:
            paths.append(list(path))
            return
        for v in out.get(path[-1], []):
            walk([*path, v])

    walk([start])
    return paths


def graf_features(edges: list[tuple[int, int]], sources: list[int], sink: int) -> list[float]:
    """GRAF's six features of one restricted graph: shortest and longest source -> sink path
    length in edges (0 when there is none), the sink's in-degree, the sources' out-degree, the mean
    in-degree over nodes with in-degree > 0, the mean out-degree over nodes with out-degree > 0."""
    lengths = [len(p) - 1 for s in sources for p in _all_paths(edges, s, sink)]
    indeg: dict[int, int] = {}
    outdeg: dict[int, int] = {}
    for u, v in edges:
        outdeg[u] = outdeg.get(u, 0) + 1
        indeg[v] = indeg.get(v, 0) + 1
    n_edges = np.float32(len(edges))
    mean_in = n_edges / np.float32(len(indeg)) if indeg else 0.0
    mean_out = n_edges / np.float32(len(outdeg)) if outdeg else 0.0
    return [
        min(lengths) if lengths else 0,
        max(lengths) if lengths else 0,
        indeg.get(sink, 0),
        sum(outdeg.get(s, 0) for s in sources),
        mean_in,
        mean_out,
    ]


def nb101_graf(matrix: np.ndarray, labels: list[int]) -> np.ndarray:
    """GRAF of a pruned NB101 cell (vertex 0 input, last vertex output, labels 0 conv3x3,
    1 conv1x1, 2 maxpool): 3 op counts, then 6 features for each of the 7 op subsets."""
    n = len(labels)
    row = [float(sum(1 for lab in labels if lab == t)) for t in range(3)]
    for subset in _subsets([0, 1, 2]):
        kept = {v for v in range(n) if v in (0, n - 1) or labels[v] in subset}
        edges = [(u, v) for u in kept for v in kept if matrix[u][v]]
        row += graf_features(edges, [0], n - 1)
    return np.array(row, np.float32)


def nb201_graf(ops: list[int]) -> np.ndarray:
    """GRAF of an NB201 cell (op indices in arch-string order, 0 = none): 5 op counts, then 6
    features for each of the 15 subsets of ops 1..4."""
    row = [float(ops.count(t)) for t in range(5)]
    for subset in _subsets([1, 2, 3, 4]):
        edges = [e for e, op in zip(_NB201_EDGES, ops, strict=True) if op in subset]
        row += graf_features(edges, [0], 3)
    return np.array(row, np.float32)


def darts_graf(cells: np.ndarray) -> np.ndarray:
    """GRAF of a DARTS genotype (cells (2, 8, 2): [cell, edge, (input, op)]): per cell 7 op counts
    and 6 features for each of the 127 op subsets; the output (node 6) takes an edge from every
    intermediate node that keeps an incoming edge, and paths start at either input."""
    row: list[float] = []
    for cell in cells:
        ops = [int(op) for _, op in cell]
        row += [float(ops.count(t)) for t in range(7)]
        for subset in _subsets(list(range(7))):
            edges = [(int(i), 2 + e // 2) for e, (i, op) in enumerate(cell) if op in subset]
            fed = sorted({v for _, v in edges})
            edges += [(v, _DARTS_OUT) for v in fed]
            row += graf_features(edges, [0, 1], _DARTS_OUT)
    return np.array(row, np.float32)
