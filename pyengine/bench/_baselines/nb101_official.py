"""Pure-Python port of the official NAS-Bench-101 code (google-research/nasbench).

Ports ``nasbench/lib/model_spec.py`` (``ModelSpec`` and its pruning), ``nasbench/api.py``
(``_check_spec``), ``nasbench/lib/graph_util.py`` (``hash_module``, ``is_full_dag``,
``gen_is_edge_fn``) and ``nasbench/scripts/generate_graphs.py`` (the enumeration loop), kept as
close to the original as possible. It is the test oracle of the native core and the baseline of
``pyengine bench graph``; it is deliberately not optimised.
"""

from __future__ import annotations

import copy
import hashlib
import itertools

import numpy as np

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
AVAILABLE_OPS = [CONV3X3, CONV1X1, MAXPOOL3X3]
MODULE_VERTICES = 7
MAX_EDGES = 9


class OutOfDomainError(Exception):
    """The official API's error for a spec outside the space."""


def is_upper_triangular(matrix):
    for src in range(np.shape(matrix)[0]):
        for dst in range(0, src + 1):
            if matrix[src, dst] != 0:
                return False
    return True


def hash_module(matrix, labeling):
    vertices = np.shape(matrix)[0]
    in_edges = np.sum(matrix, axis=0).tolist()
    out_edges = np.sum(matrix, axis=1).tolist()
    assert len(in_edges) == len(out_edges) == len(labeling)
    hashes = list(zip(out_edges, in_edges, labeling))
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in hashes]
    for _ in range(vertices):
        new_hashes = []
        for v in range(vertices):
            in_neighbors = [hashes[w] for w in range(vertices) if matrix[w, v]]
            out_neighbors = [hashes[w] for w in range(vertices) if matrix[v, w]]
            new_hashes.append(
                hashlib.md5(
                    ("".join(sorted(in_neighbors)) + "|" + "".join(sorted(out_neighbors)) + "|" + hashes[v]).encode(
                        "utf-8"
                    )
                ).hexdigest()
            )
        hashes = new_hashes
    fingerprint = hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()
    return fingerprint


class ModelSpec:
    """Official ModelSpec: validates shape, prunes extraneous vertices, hashes."""

    def __init__(self, matrix, ops):
        if not isinstance(matrix, np.ndarray):
            matrix = np.array(matrix)
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("matrix must be square")
        if shape[0] != len(ops):
            raise ValueError("length of ops must match matrix dimensions")
        if not is_upper_triangular(matrix):
            raise ValueError("matrix must be upper triangular")
        self.original_matrix = copy.deepcopy(matrix)
        self.original_ops = copy.deepcopy(ops)
        self.matrix = copy.deepcopy(matrix)
        self.ops = copy.deepcopy(ops)
        self.valid_spec = True
        self._prune()

    def _prune(self):
        num_vertices = np.shape(self.original_matrix)[0]
        visited_from_input = set([0])
        frontier = [0]
        while frontier:
            top = frontier.pop()
            for v in range(top + 1, num_vertices):
                if self.original_matrix[top, v] and v not in visited_from_input:
                    visited_from_input.add(v)
                    frontier.append(v)
        visited_from_output = set([num_vertices - 1])
        frontier = [num_vertices - 1]
        while frontier:
            top = frontier.pop()
            for v in range(0, top):
                if self.original_matrix[v, top] and v not in visited_from_output:
                    visited_from_output.add(v)
                    frontier.append(v)
        extraneous = set(range(num_vertices)).difference(visited_from_input.intersection(visited_from_output))
        if len(extraneous) > num_vertices - 2:
            self.matrix = None
            self.ops = None
            self.valid_spec = False
            return
        self.matrix = np.delete(self.matrix, list(extraneous), axis=0)
        self.matrix = np.delete(self.matrix, list(extraneous), axis=1)
        for index in sorted(extraneous, reverse=True):
            del self.ops[index]

    def hash_spec(self, canonical_ops):
        labeling = [-1] + [canonical_ops.index(op) for op in self.ops[1:-1]] + [-2]
        return hash_module(self.matrix, labeling)


def check_spec(model_spec):
    """Official NASBench._check_spec."""
    if not model_spec.valid_spec:
        raise OutOfDomainError("invalid spec, provided graph is disconnected.")
    num_vertices = len(model_spec.ops)
    num_edges = np.sum(model_spec.matrix)
    if num_vertices > MODULE_VERTICES:
        raise OutOfDomainError("too many vertices, got %d (max vertices = %d)" % (num_vertices, MODULE_VERTICES))
    if num_edges > MAX_EDGES:
        raise OutOfDomainError("too many edges, got %d (max edges = %d)" % (num_edges, MAX_EDGES))
    if model_spec.ops[0] != "input":
        raise OutOfDomainError("first operation should be 'input'")
    if model_spec.ops[-1] != "output":
        raise OutOfDomainError("last operation should be 'output'")
    for op in model_spec.ops[1:-1]:
        if op not in AVAILABLE_OPS:
            raise OutOfDomainError("unsupported op %s (available ops = %s)" % (op, AVAILABLE_OPS))


def reason_of(matrix, ops):
    """The reason string pyengine reports, derived from which official check rejects the cell."""
    try:
        spec = ModelSpec(np.array(matrix), list(ops))
    except ValueError as err:
        if "upper triangular" in str(err):
            return "not_upper_triangular", None
        raise
    try:
        check_spec(spec)
    except OutOfDomainError as err:
        msg = str(err)
        for key, reason in (
            ("disconnected", "disconnected"),
            ("too many vertices", "too_many_vertices"),
            ("too many edges", "too_many_edges"),
            ("first operation", "bad_first_op"),
            ("last operation", "bad_last_op"),
            ("unsupported op", "bad_ops"),
        ):
            if key in msg:
                return reason, spec
        raise
    return None, spec


def prune_and_hash(matrix, ops):
    """Official validity and hash: (reason or None, hash or None, pruned matrix, pruned ops)."""
    reason, spec = reason_of(matrix, ops)
    if reason is not None:
        if spec is None or spec.matrix is None:
            return reason, None, None, None
        return reason, None, spec.matrix.tolist(), list(spec.ops)
    return None, spec.hash_spec(AVAILABLE_OPS), spec.matrix.tolist(), list(spec.ops)


def gen_is_edge_fn(bits):
    def is_edge(x, y):
        return (x < y) * (bits >> (y * (y - 1) // 2 + x)) % 2 == 1

    return is_edge


def edge_matrix(bits, vertices):
    """The generator's ``np.fromfunction(gen_is_edge_fn(bits), ..., dtype=np.int8)``; evaluated in
    int64 first because NumPy 2 no longer upcasts a large Python int against an int8 array."""
    return np.fromfunction(gen_is_edge_fn(bits), (vertices, vertices), dtype=np.int64).astype(np.int8)


def is_full_dag(matrix):
    shape = np.shape(matrix)
    rows = matrix[: shape[0] - 1, :] == 0
    rows = np.all(rows, axis=1)
    rows_bad = np.any(rows)
    cols = matrix[:, 1:] == 0
    cols = np.all(cols, axis=0)
    cols_bad = np.any(cols)
    return (not rows_bad) and (not cols_bad)


def enumerate_graphs(max_vertices=MODULE_VERTICES, max_edges=MAX_EDGES, num_ops=3, vertices_range=None):
    """Official generate_graphs.py loop: {fingerprint: (matrix, labeling)} in insertion order."""
    buckets = {}
    total_graphs = 0
    rng = vertices_range if vertices_range is not None else range(2, max_vertices + 1)
    for vertices in rng:
        for bits in range(2 ** (vertices * (vertices - 1) // 2)):
            matrix = edge_matrix(bits, vertices)
            if not is_full_dag(matrix) or np.sum(matrix) > max_edges:
                continue
            for labeling in itertools.product(*[range(num_ops) for _ in range(vertices - 2)]):
                total_graphs += 1
                labeling = [-1] + list(labeling) + [-2]
                fingerprint = hash_module(matrix, labeling)
                if fingerprint not in buckets:
                    buckets[fingerprint] = (matrix.tolist(), labeling)
    return buckets, total_graphs
