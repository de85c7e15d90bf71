"""Brute-force encoders, one architecture at a time, written from the definitions (BANANAS path
indexing, NASLib layouts) without sharing code with the kernels."""

from __future__ import annotations

import numpy as np

NB101_CONV3, NB101_CONV1, NB101_MAXPOOL = 0, 1, 2


def nb101_paths(matrix: np.ndarray, labels: list[int]) -> list[list[int]]:
    """Every input->output path of a cell (vertex 0 input, last vertex output) as its interior ops."""
    n = len(labels)
    out: list[list[int]] = []

    def walk(v: int, ops: list[int]) -> None:
        if v == n - 1:
            out.append(ops)
            return
        for w in range(v + 1, n):
            if matrix[v][w]:
                walk(w, ops if w == n - 1 else ops + [labels[w]])

    walk(0, [])
    return out


def nb101_path_encoding(matrix: np.ndarray, labels: list[int], dims: int = 364) -> np.ndarray:
    enc = np.zeros(364)
    for ops in nb101_paths(matrix, labels):
        enc[sum(3**i * (o + 1) for i, o in enumerate(ops))] = 1.0
    return enc[:dims]


def nb101_adjacency_one_hot(matrix: np.ndarray, labels: list[int]) -> np.ndarray:
    """NASLib's layout on the cell padded to 7 vertices with the output last."""
    n = len(labels)
    full = np.zeros((7, 7))
    full[: n - 1, : n - 1] = matrix[: n - 1, : n - 1]
    full[: n - 1, 6] = matrix[: n - 1, n - 1]
    bits = [full[i, j] for i in range(7) for j in range(i + 1, 7)]
    hot = {NB101_MAXPOOL: [1, 0, 0], NB101_CONV3: [0, 1, 0], NB101_CONV1: [0, 0, 1]}
    interior = list(labels[1 : n - 1]) + [None] * (7 - n)
    ops = [hot[o] if o is not None else [0, 0, 0] for o in interior]
    return np.array(bits + [x for h in ops for x in h], dtype=float)


# NB201: nodes 0..3, ops per edge (i, j) keyed in arch-string order
NB201_EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
BANANAS_NB201_OPS = ["avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "none", "skip_connect"]


def nb201_path_encoding(ops: list[int]) -> np.ndarray:
    """Walk every node path 0 -> ... -> 3 of the NB201 DAG; a path's ops are its edges' ops."""
    op_of = {e: ops[k] for k, e in enumerate(NB201_EDGES)}
    paths: list[list[int]] = []

    def walk(v: int, seq: list[int]) -> None:
        if v == 3:
            paths.append(seq)
            return
        for (a, b), op in op_of.items():
            if a == v:
                walk(b, seq + [BANANAS_NB201_OPS.index(NB201_OPS[op])])

    walk(0, [])
    enc = np.zeros(155)
    offsets = {1: 0, 2: 5, 3: 30}
    for seq in paths:
        enc[offsets[len(seq)] + sum(o * 5**j for j, o in enumerate(seq))] = 1.0
    return enc


def darts_path_encoding(cells: np.ndarray) -> np.ndarray:
    """cells (2, 8, 2): walk from each input through intermediate nodes; every intermediate node
    feeds the output, so each walk prefix is a path."""
    enc = np.zeros(11200)
    offsets = {1: 0, 2: 7, 3: 56, 4: 399}
    for c in range(2):
        edges = [(int(cells[c, e, 0]), 2 + e // 2, int(cells[c, e, 1])) for e in range(8)]

        def walk(v: int, seq: list[int], start: int, c: int = c, edges: list = edges) -> None:
            for src, dst, op in edges:
                if src == v:
                    path = seq + [op]
                    enc[c * 5600 + start * 2800 + offsets[len(path)] + sum(o * 7**j for j, o in enumerate(path))] = 1.0
                    walk(dst, path, start)

        for start in (0, 1):
            walk(start, [], start)
    return enc
