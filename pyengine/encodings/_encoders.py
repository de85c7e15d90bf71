"""The registered encodings: each maps (space, batch) to arrays through one kernel per space.

Batches are cut into chunks padded to a few fixed sizes (``BUCKETS``), so a kernel compiles at
most once per bucket and repeated calls never recompile.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from ..errors import InvalidTypeError, InvalidValueError
from ..spaces import DartsSpace, MacroSpace, NB101Space, NB201Space, SearchSpace
from . import _kernels as K

__all__ = [
    "GraphBatch",
    "BUCKETS",
    "kernel",
    "adjacency_one_hot",
    "categorical",
    "gcn",
    "graf",
    "op_counts",
    "path",
    "path_trunc",
]

BUCKETS = (128, 1024, 8192)


class GraphBatch(NamedTuple):
    """GCN inputs of a batch.

    adjacency : array of shape (n_archs, n_nodes, n_nodes), float32; entry [i, j] = edge i -> j
    features : array of shape (n_archs, n_nodes, n_features), float32; one-hot node types
    mask : array of shape (n_archs, n_nodes), bool; real nodes (padding False)
    """

    adjacency: np.ndarray
    features: np.ndarray
    mask: np.ndarray


def _pad_rows(a: np.ndarray, size: int) -> np.ndarray:
    if len(a) == size:
        return a
    fill = np.repeat(a[:1], size - len(a), axis=0)  # copies of a real row keep kernels on valid input
    return np.concatenate([a, fill])


CHUNK_BYTES = 16 << 20  # output bytes per kernel call: larger outputs cost page faults on every call


def plan_chunks(n: int, top: int = BUCKETS[-1], buckets: tuple[int, ...] = BUCKETS) -> list[tuple[int, int, int]]:
    """(start, stop, padded size) pieces covering n rows: whole ``top`` chunks, then the remainder
    split greedily over the smaller buckets, the last piece padded to the smallest bucket that
    holds it. Padding stays below the smallest bucket above the last piece."""
    sizes = [b for b in buckets if b <= top] or [buckets[0]]
    pieces = []
    start = 0
    while n - start >= sizes[-1]:
        pieces.append((start, start + sizes[-1], sizes[-1]))
        start += sizes[-1]
    for size in reversed(sizes[1:-1]):
        while n - start >= size:
            pieces.append((start, start + size, size))
            start += size
    if start < n:
        pieces.append((start, n, next(b for b in sizes if b >= n - start)))
    return pieces


@functools.lru_cache(maxsize=256)
def _row_bytes(kernel: Callable[..., Any], shapes: tuple, static: tuple) -> int:
    """Output bytes of one row of a kernel (from its abstract evaluation, no compilation)."""
    args = [jax.ShapeDtypeStruct((1, *shape), dtype) for shape, dtype in shapes]
    out = jax.eval_shape(functools.partial(kernel, **dict(static)), *args)
    leaves = jax.tree_util.tree_leaves(out)
    return int(sum(np.prod(x.shape) * np.dtype(x.dtype).itemsize for x in leaves))


def run_chunked(kernel: Callable[..., Any], arrays: tuple[np.ndarray, ...], **static: Any) -> tuple[np.ndarray, ...]:
    """Apply a kernel to a batch in bucket-padded chunks; returns numpy outputs of length n.

    Chunks hold at most ``CHUNK_BYTES`` of output. The next chunk is dispatched before the
    previous one is copied out, so copying overlaps computing.
    """
    n = len(arrays[0])
    shapes = tuple((a.shape[1:], np.dtype(a.dtype)) for a in arrays)
    row_bytes = _row_bytes(kernel, shapes, tuple(sorted(static.items())))
    top = max([b for b in BUCKETS if b * row_bytes <= CHUNK_BYTES] or [BUCKETS[0]])
    outputs: list[np.ndarray] | None = None
    pending: tuple[int, int, tuple[Any, ...]] | None = None

    def drain(item: tuple[int, int, tuple[Any, ...]]) -> None:
        nonlocal outputs
        start, stop, parts = item
        if outputs is None:
            outputs = [np.empty((n, *p.shape[1:]), dtype=p.dtype) for p in parts]
        for out, p in zip(outputs, parts, strict=True):
            out[start:stop] = np.asarray(p)[: stop - start]

    for start, stop, size in plan_chunks(n, top):
        res = kernel(*(_pad_rows(a[start:stop], size) for a in arrays), **static)
        current = (start, stop, res if isinstance(res, tuple) else (res,))
        if pending is not None:
            drain(pending)
        pending = current
    if pending is not None:
        drain(pending)
    assert outputs is not None
    return tuple(outputs)


def supports(space: SearchSpace, name: str) -> bool:
    """Whether the encoding ``name`` is defined for ``space``."""
    return any(isinstance(space, cls) for cls in _KERNELS.get(name, {}))


def _dispatch(name: str, space: SearchSpace, table: dict[type, Callable[..., Any]]) -> Callable[..., Any]:
    for cls, fn in table.items():
        if isinstance(space, cls):
            return fn
    supported = ", ".join(sorted(c.name for c in table))
    raise InvalidValueError(
        f"The {name!r} encoding is not defined for the {space.name} space. It supports: {supported}."
    )


def _arrays(space: SearchSpace, batch: Any) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(f) for f in batch)


_PATH_KERNELS: dict[type, tuple[Callable[..., Any], int]] = {
    NB101Space: (K.nb101_path, K.NB101_PATH_DIMS),
    NB201Space: (K.nb201_path, K.NB201_PATH_DIMS),
    DartsSpace: (K.darts_path, K.DARTS_PATH_DIMS),
}

_KERNELS: dict[str, dict[type, Callable[..., Any]]] = {
    "adjacency_one_hot": {
        NB101Space: K.nb101_adjacency_one_hot,
        NB201Space: K.nb201_adjacency_one_hot,
        DartsSpace: K.darts_adjacency_one_hot,
        MacroSpace: K.macro_adjacency_one_hot,
    },
    "categorical": {
        NB101Space: K.nb101_categorical,
        NB201Space: K.nb201_categorical,
        DartsSpace: K.darts_categorical,
        MacroSpace: K.macro_categorical,
    },
    "gcn": {NB101Space: K.nb101_gcn, NB201Space: K.nb201_gcn, DartsSpace: K.darts_gcn, MacroSpace: K.macro_gcn},
    "graf": {NB101Space: K.nb101_graf, NB201Space: K.nb201_graf, DartsSpace: K.darts_graf},
    "op_counts": {
        NB101Space: K.nb101_op_counts,
        NB201Space: K.nb201_op_counts,
        DartsSpace: K.darts_op_counts,
        MacroSpace: K.macro_op_counts,
    },
    "path": {k: v[0] for k, v in _PATH_KERNELS.items()},
    "path_trunc": {k: v[0] for k, v in _PATH_KERNELS.items()},
}
_CHAIN_STATIC = ("adjacency_one_hot", "gcn", "op_counts")  # chain kernels that need the number of choices


def _kernel_and_static(space: SearchSpace, name: str, params: dict[str, Any]) -> tuple[Callable[..., Any], dict]:
    fn = _dispatch(name, space, _KERNELS[name])
    static: dict[str, Any] = {}
    if isinstance(space, MacroSpace) and name in _CHAIN_STATIC:
        static["n_choices"] = len(space.choices)
    if name == "path_trunc":
        full = next(v[1] for c, v in _PATH_KERNELS.items() if isinstance(space, c))
        k = params.get("k", 40)
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= full:
            raise InvalidValueError(
                f"The 'k' parameter of path_trunc must be an int in 1..{full} for {space.name}. Got {k!r} instead."
            )
        static["dims"] = int(k)
    elif params:
        raise InvalidTypeError(f"The {name!r} encoding takes no parameters. Got {sorted(params)}.")
    return fn, static


def kernel(space: SearchSpace, name: str, **params: Any) -> Callable[..., Any]:
    """The jit-compiled kernel behind encoding ``name`` for ``space``.

    It maps the arrays of a batch (any length, no chunking) to device arrays: one array, or the
    (adjacency, features, mask) triple for ``gcn``. Models that consume encodings on device (the
    neural predictors) call it to skip the copy to host.
    """
    fn, static = _kernel_and_static(space, name, params)
    return functools.partial(fn, **static) if static else fn


def _encode(name: str, space: SearchSpace, batch: Any, **params: Any) -> tuple[np.ndarray, ...]:
    fn, static = _kernel_and_static(space, name, params)
    return run_chunked(fn, _arrays(space, batch), **static)


def adjacency_one_hot(space: SearchSpace, batch: Any) -> np.ndarray:
    """Adjacency one-hot, float32 (n_archs, d): NB101 36 and NB201 30 (NASLib's layouts), DARTS
    196, chains n_layers * n_choices."""
    return _encode("adjacency_one_hot", space, batch)[0]


def categorical(space: SearchSpace, batch: Any) -> np.ndarray:
    """Integer-valued features, float32 (n_archs, d): NB101 26 (edge bits, interior ops), NB201 6,
    DARTS 32, chains n_layers."""
    return _encode("categorical", space, batch)[0]


def gcn(space: SearchSpace, batch: Any) -> GraphBatch:
    """GCN inputs (:class:`GraphBatch`): NB101 7 nodes x 5 features, NB201 8 x 7 (edges as nodes),
    DARTS 30 x 12, chains (n_layers + 2) x (n_choices + 2)."""
    return GraphBatch(*_encode("gcn", space, batch))


def graf(space: SearchSpace, batch: Any) -> np.ndarray:
    """Neural graph features (GRAF, Kadlecova et al., ICML 2024), float32 (n_archs, d): NB101 45,
    NB201 95, DARTS 1,538.

    Each row holds the op counts, then for every non-empty subset of the space's op types six
    features of the cell restricted to the edges (or, in NB101, vertices) whose op is in the
    subset: the shortest and the longest input->output path length in edges, the output's
    in-degree, the input's out-degree, the mean in-degree over vertices with in-degree > 0 and
    the mean out-degree over vertices with out-degree > 0.

    - NB101: ops on vertices (conv3x3, conv1x1, maxpool); 3 counts + 7 subsets x 6. The input and
      output vertices belong to every restricted cell.
    - NB201: ops on edges; 5 counts (``none`` included, in ``pyengine.graph.nb201.OPS`` order) +
      15 subsets of the 4 other ops x 6. A ``none`` edge is no edge.
    - DARTS: per cell (normal, then reduction) 7 counts + 127 subsets of the 7 ops x 6. Paths start
      at either input and end at the output (the concatenation), which takes an op-free edge from
      each intermediate node that keeps an incoming edge; that edge counts in a path's length and
      in the degrees. Parallel edges (both edges of a node from one input) count twice.

    Subset p holds the op types t (in the count order, ``none`` skipped) with bit t of p + 1 set.
    Where a subset leaves no input->output path, both path lengths are 0 (real paths have at least
    one edge, so a tree splits "no path" off at any threshold below 1); a cell without edges has
    every degree 0.
    """
    return _encode("graf", space, batch)[0]


def op_counts(space: SearchSpace, batch: Any) -> np.ndarray:
    """How many times each op occurs, float32 (n_archs, d): NB101 4 (conv3x3, conv1x1, maxpool,
    then the number of edges), NB201 5, DARTS 14 (normal, then reduction cell), chains n_choices.
    Cheap features that carry most of what a regressor learns from the one-hot at small N."""
    return _encode("op_counts", space, batch)[0]


def path(space: SearchSpace, batch: Any) -> np.ndarray:
    """Full path encoding, float32 (n_archs, d): NB101 364 (BANANAS), NB201 155, DARTS 11,200."""
    return _encode("path", space, batch)[0]


def path_trunc(space: SearchSpace, batch: Any, k: int = 40) -> np.ndarray:
    """The first ``k`` entries of the path encoding (default 40: NB101 paths of length <= 3)."""
    return _encode("path_trunc", space, batch, k=k)[0]
