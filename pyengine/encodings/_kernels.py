"""Encoding kernels: pure JAX functions over padded batches, jit-compiled once per padded shape.

Inputs are the arrays of a space's batch (see ``pyengine.spaces``); every kernel maps a batch of
B architectures to arrays with leading axis B. Nothing here loops over architectures.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

N101 = 7
PAD101 = -3

# ---------------------------------------------------------------------------------------------
# GRAF (graph features of Kadlecova et al., ICML 2024), shared by the cell spaces

GRAF_FEATURES = 6  # per op subset: shortest, longest, sink in-degree, source out-degree, mean in, mean out


def graf_subsets(n_types: int) -> np.ndarray:
    """(2**n_types - 1, n_types) bool: row p is the subset of op types t with bit t of p + 1 set."""
    masks = np.arange(1, 2**n_types)
    return ((masks[:, None] >> np.arange(n_types)[None, :]) & 1).astype(bool)


def _graf_block(
    w: jax.Array, src: tuple[int, ...], dst: tuple[int, ...], n_nodes: int, sources: tuple[int, ...], sink: int
) -> jax.Array:
    """GRAF's six features of restricted graphs given as edge multiplicities.

    ``w`` (..., E) holds how many parallel edges (src[e], dst[e]) each graph keeps (0: none);
    the E edges are static, numbered so that src < dst (node order is topological). Returns
    (..., 6): the shortest and longest path length (edges) from any of ``sources`` to ``sink``
    (0 where no path exists), the sink's in-degree, the sources' out-degree (summed), the mean
    in-degree over nodes with in-degree > 0 and the mean out-degree over nodes with out-degree > 0
    (0 for a graph without edges). Paths come from one relaxation per node in topological order.
    """
    keep = w > 0
    shape = w.shape[:-1]
    far = float(n_nodes)  # longer than any path: "unreachable" for the shortest-path pass
    longest: list[jax.Array] = []
    shortest: list[jax.Array] = []
    for v in range(n_nodes):
        if v in sources:
            longest.append(jnp.zeros(shape, jnp.float32))
            shortest.append(jnp.zeros(shape, jnp.float32))
            continue
        into = [e for e in range(len(src)) if dst[e] == v]
        if not into:
            longest.append(jnp.full(shape, -1.0, jnp.float32))
            shortest.append(jnp.full(shape, far, jnp.float32))
            continue
        # relax every edge into v: its source's distance + 1 where the edge is kept and the source reached
        up = [jnp.where(keep[..., e] & (longest[src[e]] >= 0), longest[src[e]] + 1, -1.0) for e in into]
        down = [jnp.where(keep[..., e] & (shortest[src[e]] < far), shortest[src[e]] + 1, far) for e in into]
        longest.append(jnp.stack(up).max(0))
        shortest.append(jnp.stack(down).min(0))
    reach = longest[sink] >= 0
    to_node = np.zeros((len(src), n_nodes), np.float32)
    from_node = np.zeros((len(src), n_nodes), np.float32)
    to_node[np.arange(len(src)), list(dst)] = 1.0
    from_node[np.arange(len(src)), list(src)] = 1.0
    indeg = w @ to_node
    outdeg = w @ from_node
    edges = w.sum(-1)
    mean_in = edges / jnp.maximum((indeg > 0).sum(-1), 1).astype(jnp.float32)
    mean_out = edges / jnp.maximum((outdeg > 0).sum(-1), 1).astype(jnp.float32)
    return jnp.stack(
        [
            jnp.where(reach, shortest[sink], 0.0),
            jnp.where(reach, longest[sink], 0.0),
            indeg[..., sink],
            outdeg[..., list(sources)].sum(-1),
            mean_in,
            mean_out,
        ],
        axis=-1,
    )


# ---------------------------------------------------------------------------------------------
# NAS-Bench-101


def nb101_normalize(matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Move each cell's output to vertex 6 (vertices n-1..5 become empty).

    matrices (B, 7, 7), labels (B, 7), num_vertices (B,) -> adjacency (B, 7, 7) float32 with
    the output at 6, labels (B, 7) int32 (-3 on empty vertices, -2 at 6).
    """
    m = matrices.astype(jnp.float32)
    n = num_vertices.astype(jnp.int32)
    idx = jnp.arange(N101)
    keep = idx[None, :] < (n - 1)[:, None]
    into_out = jnp.take_along_axis(m, jnp.broadcast_to((n - 1)[:, None, None], (m.shape[0], N101, 1)), axis=2)[..., 0]
    a = jnp.where(keep[:, :, None] & keep[:, None, :], m, 0.0)
    a = a.at[:, :, N101 - 1].set(jnp.where(keep, into_out, 0.0))
    lab = jnp.where(keep, labels.astype(jnp.int32), PAD101)
    lab = lab.at[:, N101 - 1].set(-2)
    return a, lab


_TRIU = np.triu_indices(N101, k=1)


def _nb101_path_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    subsets = [s for k in range(N101 - 1) for s in itertools.combinations(range(1, N101 - 1), k)]
    edges = np.zeros((N101 * N101, len(subsets)), np.float32)
    lengths = np.zeros(len(subsets), np.float32)
    weights = np.zeros((N101, len(subsets)), np.float32)
    for p, s in enumerate(subsets):
        chain = [0, *s, N101 - 1]
        for a, b in itertools.pairwise(chain):
            edges[a * N101 + b, p] = 1.0
        lengths[p] = len(chain) - 1
        for j, v in enumerate(s):
            weights[v, p] = 3.0**j
    return edges, lengths, weights


_P101_EDGES, _P101_LEN, _P101_W = _nb101_path_tables()
NB101_PATH_DIMS = 364


_P101_LENGTH_OF = np.array([len(s) for k in range(N101 - 1) for s in itertools.combinations(range(1, N101 - 1), k)])


def _one_hot_blocks(index: jax.Array, exists: jax.Array, lengths: np.ndarray, base: int, dims: int) -> jax.Array:
    """Binary rows (B, dims) from candidate paths: index (B, P) relative to its length block,
    exists (B, P), lengths (P,) static. Block L holds base**L entries; blocks are laid out by
    length from 0 (or the smallest length present). Each block compares only its own paths, which
    beats a scatter on CPU."""
    blocks, width = [], 0
    for length in sorted(set(lengths.tolist())):
        if width >= dims:
            break
        cols = np.flatnonzero(lengths == length)
        size = base**length
        hit = (index[:, cols, None] == jnp.arange(size)[None, None, :]) & exists[:, cols, None]
        blocks.append(hit.any(axis=1))
        width += size
    return jnp.concatenate(blocks, axis=1)[:, :dims].astype(jnp.float32)


@functools.partial(jax.jit, static_argnames=("dims",))
def nb101_path(
    matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array, dims: int = NB101_PATH_DIMS
) -> jax.Array:
    """BANANAS path encoding (B, dims): entry sum_i 3^i (o_i + 1) is 1 when an input->output path
    has interior ops (o_0, ..., o_{L-1}) (conv3x3 0, conv1x1 1, maxpool 2); first ``dims`` entries.

    Every input->output path of a 7-vertex DAG visits an increasing subset of the 5 interior
    vertices, so the 32 subsets are checked at once: a path exists when all its edges do.
    """
    a, lab = nb101_normalize(matrices, labels, num_vertices)
    present = a.reshape(-1, N101 * N101) @ _P101_EDGES
    exists = present == _P101_LEN
    ops = jnp.clip(lab, 0, 2).astype(jnp.float32)
    # within a length block, the path's offset is sum_i 3^i o_i
    index = (ops @ _P101_W).astype(jnp.int32)
    return _one_hot_blocks(index, exists, _P101_LENGTH_OF, 3, dims)


# NASLib one-hot of interior ops: maxpool 100, conv3x3 010, conv1x1 001 -> position per label
_NB101_ONEHOT_POS = np.array([1, 2, 0], np.int32)  # label 0 conv3x3, 1 conv1x1, 2 maxpool


@jax.jit
def nb101_adjacency_one_hot(matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array) -> jax.Array:
    """NASLib adjacency one-hot (B, 36): the 21 upper-triangular bits of the 7x7 matrix with the
    output at vertex 6, then a 3-bit one-hot per interior vertex 1..5 (maxpool 100, conv3x3 010,
    conv1x1 001; all zero for an absent vertex)."""
    a, lab = nb101_normalize(matrices, labels, num_vertices)
    bits = a[:, _TRIU[0], _TRIU[1]]
    interior = lab[:, 1 : N101 - 1]
    pos = jnp.asarray(_NB101_ONEHOT_POS)[jnp.clip(interior, 0, 2)]
    onehot = (pos[:, :, None] == jnp.arange(3)[None, None, :]) & (interior >= 0)[:, :, None]
    return jnp.concatenate([bits, onehot.reshape(a.shape[0], -1).astype(jnp.float32)], axis=1)


@jax.jit
def nb101_categorical(matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array) -> jax.Array:
    """(B, 26): the 21 upper-triangular bits (output at vertex 6), then the op of interior vertices
    1..5 (0 conv3x3, 1 conv1x1, 2 maxpool, 3 absent)."""
    a, lab = nb101_normalize(matrices, labels, num_vertices)
    interior = lab[:, 1 : N101 - 1]
    ops = jnp.where(interior >= 0, interior, 3).astype(jnp.float32)
    return jnp.concatenate([a[:, _TRIU[0], _TRIU[1]], ops], axis=1)


@jax.jit
def nb101_op_counts(matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array) -> jax.Array:
    """(B, 4): how many interior vertices are conv3x3, conv1x1 and maxpool, then the number of
    edges, all of the cell as NB101 prunes it."""
    a, lab = nb101_normalize(matrices, labels, num_vertices)
    interior = lab[:, 1 : N101 - 1]
    counts = (interior[:, :, None] == jnp.arange(3)[None, None, :]).sum(axis=1)
    return jnp.concatenate([counts, a.sum(axis=(1, 2))[:, None]], axis=1).astype(jnp.float32)


NB101_GRAF_TYPES = 3  # conv3x3, conv1x1, maxpool (labels 0, 1, 2)
_NB101_GRAF_SUBSETS = graf_subsets(NB101_GRAF_TYPES)
NB101_GRAF_DIMS = NB101_GRAF_TYPES + len(_NB101_GRAF_SUBSETS) * GRAF_FEATURES  # 45


@jax.jit
def nb101_graf(matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array) -> jax.Array:
    """GRAF features (B, 45): the counts of conv3x3, conv1x1 and maxpool, then for each of the 7
    subsets of these ops (``graf_subsets(3)`` order) the six features of ``_graf_block`` over the
    cell restricted to the input, the output and the interior vertices whose op is in the subset."""
    a, lab = nb101_normalize(matrices, labels, num_vertices)
    interior = lab[:, 1 : N101 - 1]
    counts = (interior[:, :, None] == jnp.arange(NB101_GRAF_TYPES)[None, None, :]).sum(axis=1)
    in_subset = jnp.asarray(_NB101_GRAF_SUBSETS)[:, jnp.clip(lab, 0, NB101_GRAF_TYPES - 1)]  # (P, B, 7)
    allowed = jnp.where(lab[None] >= 0, in_subset, (lab[None] == -1) | (lab[None] == -2))
    allowed = jnp.moveaxis(allowed, 0, 1).astype(jnp.float32)  # (B, P, 7)
    src, dst = _TRIU
    w = a[:, None, src, dst] * allowed[:, :, src] * allowed[:, :, dst]  # (B, P, 21)
    feats = _graf_block(w, tuple(src.tolist()), tuple(dst.tolist()), N101, (0,), N101 - 1)
    return jnp.concatenate([counts.astype(jnp.float32), feats.reshape(a.shape[0], -1)], axis=1)


# GCN features [output, input, conv3x3, conv1x1, maxpool]: column per label -2, -1, 0, 1, 2
@jax.jit
def nb101_gcn(
    matrices: jax.Array, labels: jax.Array, num_vertices: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(A (B, 7, 7), X (B, 7, 5), mask (B, 7)) in the cell's own vertex order (padding last)."""
    lab = labels.astype(jnp.int32)
    mask = jnp.arange(N101)[None, :] < num_vertices[:, None]
    col = jnp.where(lab == -2, 0, jnp.where(lab == -1, 1, lab + 2))
    x = (col[:, :, None] == jnp.arange(5)[None, None, :]) & mask[:, :, None]
    return matrices.astype(jnp.float32), x.astype(jnp.float32), mask


# ---------------------------------------------------------------------------------------------
# NAS-Bench-201 (ops in arch-string edge order, NB201 op indices)

_NB201_BANANAS = np.array([3, 4, 1, 2, 0], np.int32)  # op -> index in bananas' sorted op list
_NB201_NASLIB = np.array([1, 0, 3, 2, 4], np.int32)  # op -> NASLib op index
_NB201_NASLIB_POS = np.array([0, 1, 3, 2, 4, 5])  # string position of each NASLib tuple position
NB201_PATH_DIMS = 155


@functools.partial(jax.jit, static_argnames=("dims",))
def nb201_path(ops: jax.Array, dims: int = NB201_PATH_DIMS) -> jax.Array:
    """Path encoding (B, dims) over the four input->output paths 0->3, 0->1->3, 0->2->3, 0->1->2->3
    (string positions [3], [0, 4], [1, 5], [0, 2, 5]); ``none`` counts as an op. Index: 0 / 5 / 30
    for length 1 / 2 / 3, plus sum_j op_j 5^j with ops in bananas' order."""
    b = jnp.asarray(_NB201_BANANAS)[ops.astype(jnp.int32)]
    index = jnp.stack(
        [
            b[:, 3],
            5 + b[:, 0] + 5 * b[:, 4],
            5 + b[:, 1] + 5 * b[:, 5],
            30 + b[:, 0] + 5 * b[:, 2] + 25 * b[:, 5],
        ],
        axis=1,
    )
    return (index[:, :, None] == jnp.arange(dims)[None, None, :]).any(axis=1).astype(jnp.float32)


@jax.jit
def nb201_adjacency_one_hot(ops: jax.Array) -> jax.Array:
    """NASLib one-hot (B, 30): for NASLib's edge order (0->1, 0->2, 0->3, 1->2, 1->3, 2->3) a
    5-bit one-hot of NASLib's op index (skip, none, conv3x3, conv1x1, avgpool)."""
    n = jnp.asarray(_NB201_NASLIB)[ops[:, _NB201_NASLIB_POS].astype(jnp.int32)]
    return (n[:, :, None] == jnp.arange(5)[None, None, :]).reshape(ops.shape[0], 30).astype(jnp.float32)


@jax.jit
def nb201_categorical(ops: jax.Array) -> jax.Array:
    """(B, 6): the op index of each edge in arch-string order."""
    return ops.astype(jnp.float32)


@jax.jit
def nb201_op_counts(ops: jax.Array) -> jax.Array:
    """(B, 5): how many of the 6 edges hold each op, in ``pyengine.graph.nb201.OPS`` order."""
    return (ops.astype(jnp.int32)[:, :, None] == jnp.arange(5)[None, None, :]).sum(axis=1).astype(jnp.float32)


# edges in arch-string order: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3
_NB201_SRC = (0, 0, 1, 0, 1, 2)
_NB201_DST = (1, 2, 2, 3, 3, 3)
_NB201_GRAF_SUBSETS = graf_subsets(4)  # over skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3
NB201_GRAF_DIMS = 5 + len(_NB201_GRAF_SUBSETS) * GRAF_FEATURES  # 95


@jax.jit
def nb201_graf(ops: jax.Array) -> jax.Array:
    """GRAF features (B, 95): the count of each of the 5 ops (``none`` included), then for each of
    the 15 subsets of the 4 other ops (``graf_subsets(4)`` order over op indices 1..4) the six
    features of ``_graf_block`` over the edges whose op is in the subset (a ``none`` edge is no
    edge), paths from node 0 to node 3."""
    o = ops.astype(jnp.int32)
    counts = (o[:, :, None] == jnp.arange(5)[None, None, :]).sum(axis=1).astype(jnp.float32)
    in_subset = jnp.asarray(_NB201_GRAF_SUBSETS)[:, jnp.clip(o - 1, 0, 3)]  # (P, B, 6)
    w = jnp.moveaxis(in_subset & (o[None] > 0), 0, 1).astype(jnp.float32)  # (B, P, 6)
    feats = _graf_block(w, _NB201_SRC, _NB201_DST, 4, (0,), 3)
    return jnp.concatenate([counts, feats.reshape(o.shape[0], -1)], axis=1)


def _nb201_gcn_adjacency() -> np.ndarray:
    # nodes: 0 input, 1..6 the edges in NASLib order, 7 output
    edges = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    a = np.zeros((8, 8), np.float32)
    for k, (i, j) in enumerate(edges):
        if i == 0:
            a[0, 1 + k] = 1.0
        if j == 3:
            a[1 + k, 7] = 1.0
        for k2, (i2, _) in enumerate(edges):
            if i2 == j:
                a[1 + k, 1 + k2] = 1.0
    return a


_NB201_GCN_A = _nb201_gcn_adjacency()


@jax.jit
def nb201_gcn(ops: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(A (B, 8, 8), X (B, 8, 7), mask (B, 8)): the input, the six edges as nodes (NASLib order)
    and the output; features 0 input, NASLib op index + 1, 6 output."""
    b = ops.shape[0]
    n = jnp.asarray(_NB201_NASLIB)[ops[:, _NB201_NASLIB_POS].astype(jnp.int32)] + 1
    cls = jnp.concatenate([jnp.zeros((b, 1), jnp.int32), n, jnp.full((b, 1), 6, jnp.int32)], axis=1)
    x = (cls[:, :, None] == jnp.arange(7)[None, None, :]).astype(jnp.float32)
    a = jnp.broadcast_to(jnp.asarray(_NB201_GCN_A), (b, 8, 8))
    return a, x, jnp.ones((b, 8), bool)


# ---------------------------------------------------------------------------------------------
# DARTS (cells (B, 2, 8, 2): [cell, edge, (input, op)])

DARTS_OPS = 7
DARTS_PATHS_PER_INPUT = sum(DARTS_OPS**k for k in range(1, 5))  # 2800: paths of 1..4 edges
DARTS_PATH_DIMS = 2 * 2 * DARTS_PATHS_PER_INPUT
_DARTS_EDGE_SLOT = [0, 2, 5, 9]  # first (input -> node) slot of nodes 2..5; 14 slots per cell


@functools.partial(jax.jit, static_argnames=("dims",))
def darts_path(cells: jax.Array, dims: int = DARTS_PATH_DIMS) -> jax.Array:
    """Path encoding (B, dims): for each cell and each of its two inputs, every path input -> n_1
    -> ... -> n_k (intermediate nodes, k = 1..4) as the sequence of its edge ops; index cell * 5600
    + input * 2800 + (0, 7, 56, 399)[k - 1] + sum_j op_j 7^j. First ``dims`` entries."""
    c = cells.astype(jnp.int32)
    b = c.shape[0]
    parts, width = [], 0
    for cell in range(2):
        inputs = c[:, cell, :, 0].reshape(b, 4, 2)
        ops = c[:, cell, :, 1].reshape(b, 4, 2)
        for start in range(2):
            index, exists, lengths = [], [], []
            for k in range(1, 5):
                for chain in itertools.combinations(range(4), k):
                    ok = jnp.ones(b, bool)
                    idx = jnp.zeros(b, jnp.int32)
                    prev = start
                    for j, node in enumerate(chain):
                        match = inputs[:, node, :] == prev
                        ok = ok & match.any(axis=1)
                        idx = idx + jnp.sum(jnp.where(match, ops[:, node, :], 0), axis=1) * DARTS_OPS**j
                        prev = node + 2
                    index.append(idx)
                    exists.append(ok)
                    lengths.append(k)
            if width < dims:
                block = _one_hot_blocks(
                    jnp.stack(index, axis=1), jnp.stack(exists, axis=1), np.array(lengths), DARTS_OPS, dims - width
                )
                parts.append(block)
                width += block.shape[1]
    return jnp.concatenate(parts, axis=1)


@jax.jit
def darts_adjacency_one_hot(cells: jax.Array) -> jax.Array:
    """(B, 196): per cell, for each of the 14 possible (input -> intermediate node) edges a 7-bit
    one-hot of its op (all zero when the edge is absent). Edge order within a node is ignored."""
    c = cells.astype(jnp.int32)
    b = c.shape[0]
    node = np.repeat(np.arange(4), 2)
    slot = jnp.asarray(np.array(_DARTS_EDGE_SLOT)[node])[None, None, :] + c[:, :, :, 0]  # (B, 2, 8)
    flat = (jnp.arange(2)[None, :, None] * 14 + slot) * DARTS_OPS + c[:, :, :, 1]
    out = jnp.zeros((b, 2 * 14 * DARTS_OPS), jnp.float32)
    rows = jnp.broadcast_to(jnp.arange(b)[:, None, None], flat.shape)
    return out.at[rows, flat].set(1.0)


@jax.jit
def darts_categorical(cells: jax.Array) -> jax.Array:
    """(B, 32): (input, op) of the 8 edges of the normal then the reduction cell."""
    return cells.reshape(cells.shape[0], -1).astype(jnp.float32)


@jax.jit
def darts_op_counts(cells: jax.Array) -> jax.Array:
    """(B, 14): how many of the 8 edges of the normal, then the reduction cell hold each op."""
    op = cells.astype(jnp.int32)[:, :, :, 1]
    return (op[..., None] == jnp.arange(DARTS_OPS)).sum(axis=2).reshape(cells.shape[0], -1).astype(jnp.float32)


_DARTS_GRAF_SUBSETS = graf_subsets(DARTS_OPS)
DARTS_GRAF_CELL_DIMS = DARTS_OPS + len(_DARTS_GRAF_SUBSETS) * GRAF_FEATURES  # 769
DARTS_GRAF_DIMS = 2 * DARTS_GRAF_CELL_DIMS  # 1538
# the 14 possible (source -> intermediate node) pairs in slot order, then node -> output (node 6)
_DARTS_PAIRS = [(i, j) for j in range(2, 6) for i in range(j)]
_DARTS_GRAF_SRC = tuple(i for i, _ in _DARTS_PAIRS) + (2, 3, 4, 5)
_DARTS_GRAF_DST = tuple(j for _, j in _DARTS_PAIRS) + (6, 6, 6, 6)


@jax.jit
def darts_graf(cells: jax.Array) -> jax.Array:
    """GRAF features (B, 1538): per cell (normal, then reduction) the count of each of the 7 ops,
    then for each of the 127 subsets of ops (``graf_subsets(7)`` order) the six features of
    ``_graf_block``. The restricted cell keeps the edges whose op is in the subset (parallel edges
    from one node count twice) and an op-free edge node -> output (node 6, the concatenation) for
    each intermediate node that keeps an incoming edge; paths start at either input (0 or 1) and
    their length counts that last edge."""
    c = cells.astype(jnp.int32)
    b = c.shape[0]
    node = np.repeat(np.arange(4), 2)
    slot = jnp.asarray(np.array(_DARTS_EDGE_SLOT)[node])[None, None, :] + c[:, :, :, 0]  # (B, 2, 8)
    op = c[:, :, :, 1]
    counts = (op[..., None] == jnp.arange(DARTS_OPS)).sum(axis=2).astype(jnp.float32)  # (B, 2, 7)
    in_subset = jnp.moveaxis(jnp.asarray(_DARTS_GRAF_SUBSETS)[:, op], 0, 2).astype(jnp.float32)  # (B, 2, P, 8)
    slot_hot = (slot[..., None] == jnp.arange(14)).astype(jnp.float32)  # (B, 2, 8, 14)
    pairs = jnp.einsum("bcpe,bces->bcps", in_subset, slot_hot)  # (B, 2, P, 14)
    fed = jnp.stack([pairs[..., s : s + j + 2].sum(-1) for j, s in enumerate(_DARTS_EDGE_SLOT)], axis=-1) > 0
    w = jnp.concatenate([pairs, fed.astype(jnp.float32)], axis=-1)  # (B, 2, P, 18)
    feats = _graf_block(w, _DARTS_GRAF_SRC, _DARTS_GRAF_DST, 7, (0, 1), 6)  # (B, 2, P, 6)
    per_cell = jnp.concatenate([counts, feats.reshape(b, 2, -1)], axis=-1)
    return per_cell.reshape(b, DARTS_GRAF_DIMS)


DARTS_GCN_NODES = 30  # per cell: 2 inputs, 8 edge-op nodes, 4 intermediate nodes, 1 output
DARTS_GCN_FEATURES = DARTS_OPS + 5  # op one-hot, input0, input1, intermediate, output, reduce cell


def _darts_gcn_static() -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros((DARTS_GCN_NODES, DARTS_GCN_NODES), np.float32)
    x = np.zeros((DARTS_GCN_NODES, DARTS_GCN_FEATURES), np.float32)
    for cell in range(2):
        base = 15 * cell
        x[base + 0, DARTS_OPS + 0] = 1.0
        x[base + 1, DARTS_OPS + 1] = 1.0
        for e in range(8):
            a[base + 2 + e, base + 10 + e // 2] = 1.0  # edge-op node -> the node it feeds
        for k in range(4):
            x[base + 10 + k, DARTS_OPS + 2] = 1.0
            a[base + 10 + k, base + 14] = 1.0  # intermediate -> output (concatenation)
        x[base + 14, DARTS_OPS + 3] = 1.0
        x[base : base + 15, DARTS_OPS + 4] = float(cell)
    return a, x


_DARTS_GCN_A, _DARTS_GCN_X = _darts_gcn_static()


@jax.jit
def darts_gcn(cells: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(A (B, 30, 30), X (B, 30, 12), mask (B, 30)): each cell as a graph of its two inputs, its 8
    edges as op nodes, its 4 intermediate nodes and its output; the two cells side by side."""
    c = cells.astype(jnp.int32)
    b = c.shape[0]
    base = (15 * jnp.arange(2))[None, :, None]
    src_in = c[:, :, :, 0]
    src = base + jnp.where(src_in < 2, src_in, 10 + src_in - 2)  # (B, 2, 8)
    dst = base + 2 + jnp.arange(8)[None, None, :]
    rows = jnp.broadcast_to(jnp.arange(b)[:, None, None], src.shape)
    a = jnp.broadcast_to(jnp.asarray(_DARTS_GCN_A), (b, DARTS_GCN_NODES, DARTS_GCN_NODES))
    a = a.at[rows, src, dst].set(1.0)
    op_hot = (c[:, :, :, 1][..., None] == jnp.arange(DARTS_OPS)).astype(jnp.float32)  # (B, 2, 8, 7)
    x = jnp.broadcast_to(jnp.asarray(_DARTS_GCN_X), (b, DARTS_GCN_NODES, DARTS_GCN_FEATURES))
    x = x.at[:, 2:10, :DARTS_OPS].set(op_hot[:, 0]).at[:, 17:25, :DARTS_OPS].set(op_hot[:, 1])
    return a, x, jnp.ones((b, DARTS_GCN_NODES), bool)


# ---------------------------------------------------------------------------------------------
# chains (layers (B, L))


@functools.partial(jax.jit, static_argnames=("n_choices",))
def macro_adjacency_one_hot(layers: jax.Array, n_choices: int) -> jax.Array:
    """(B, L * k): a one-hot of each layer's choice."""
    hot = layers.astype(jnp.int32)[:, :, None] == jnp.arange(n_choices)[None, None, :]
    return hot.reshape(layers.shape[0], -1).astype(jnp.float32)


@jax.jit
def macro_categorical(layers: jax.Array) -> jax.Array:
    """(B, L): each layer's choice index."""
    return layers.astype(jnp.float32)


@functools.partial(jax.jit, static_argnames=("n_choices",))
def macro_op_counts(layers: jax.Array, n_choices: int) -> jax.Array:
    """(B, k): how many layers take each choice."""
    hot = layers.astype(jnp.int32)[:, :, None] == jnp.arange(n_choices)[None, None, :]
    return hot.sum(axis=1).astype(jnp.float32)


@functools.partial(jax.jit, static_argnames=("n_choices",))
def macro_gcn(layers: jax.Array, n_choices: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(A (B, L + 2, L + 2), X (B, L + 2, k + 2), mask): the chain input -> layers -> output;
    features input, output, then a one-hot of the layer's choice."""
    b, n_layers = layers.shape
    n = n_layers + 2
    a = jnp.broadcast_to(jnp.eye(n, k=1, dtype=jnp.float32), (b, n, n))
    kind = jnp.concatenate(
        [jnp.zeros((b, 1), jnp.int32), layers.astype(jnp.int32) + 2, jnp.ones((b, 1), jnp.int32)], axis=1
    )
    x = (kind[:, :, None] == jnp.arange(n_choices + 2)[None, None, :]).astype(jnp.float32)
    return a, x, jnp.ones((b, n), bool)
