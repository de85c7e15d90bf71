"""The graph core on a CUDA device: NB101 validation, pruning, canonical keys and official hashes,
NB201 and DARTS canonical forms, one GPU thread per cell.

The kernels (``csrc/cuda/canon.cu``) call the same per-cell functions as the C++ core
(``core/include/pyengine/hd/``), so their results are the CPU core's bit for bit. They ship as
source and are compiled at run time by NVRTC through CuPy (``pip install 'pyengine-nas[cuda]'``):
an install without a GPU needs no CUDA toolkit and is unchanged. Inputs may be NumPy or CuPy
arrays; outputs are CuPy arrays on the current device.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from .._native import core as _core
from ..errors import DeviceUnavailableError, InvalidValueError, require

__all__ = [
    "NVRTC_OPTIONS",
    "MAX_PADDED_VERTICES",
    "available",
    "kernel_source",
    "compile_options",
    "nb101_process",
    "nb101_random_specs",
    "nb101_stream_keys",
    "nb201_canonicalize",
    "darts_canonicalize",
]

#: Options NVRTC compiles the kernels with (plus ``-I`` the headers' folder).
NVRTC_OPTIONS = ("-std=c++17",)
#: Largest padded vertex count of an NB101 batch the kernel takes (its per-thread scratch).
MAX_PADDED_VERTICES = 32
_BLOCK = 256
_MAX_GRID = 1 << 16


def kernel_source() -> tuple[Path, Path]:
    """The kernel file and the folder its headers are included from: the installed copies
    (``pyengine/cuda``), else those of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "cuda"
    if (installed / "canon.cu").is_file():
        return installed / "canon.cu", installed / "include"
    checkout = package.parent
    if (checkout / "csrc" / "cuda" / "canon.cu").is_file():
        return checkout / "csrc" / "cuda" / "canon.cu", checkout / "core" / "include"
    raise DeviceUnavailableError(
        f"the CUDA kernel sources are missing: neither {installed / 'canon.cu'} nor a source checkout's "
        "csrc/cuda/canon.cu exists (reinstall pyengine-nas)"
    )


def compile_options() -> tuple[str, ...]:
    """NVRTC's options for :func:`kernel_source`'s file."""
    return (*NVRTC_OPTIONS, f"-I{kernel_source()[1]}")


def _cupy(needed_by: str = "the graph core on a GPU") -> Any:
    cupy = require("cupy", extra="cuda", needed_by=needed_by)
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as err:  # CuPy's CUDARuntimeError: no driver, insufficient driver, ...
        raise DeviceUnavailableError(f"CuPy cannot reach a CUDA device: {err}") from None
    if count == 0:
        raise DeviceUnavailableError("no CUDA device is visible (CUDA_VISIBLE_DEVICES?)")
    return cupy


def available() -> bool:
    """Whether the kernels can run here: CuPy installed and a CUDA device visible."""
    try:
        _cupy()
    except (ImportError, DeviceUnavailableError):
        return False
    return True


@functools.cache
def _module(device_id: int) -> Any:
    cupy = _cupy()
    source, _ = kernel_source()
    with cupy.cuda.Device(device_id):
        return cupy.RawModule(code=source.read_text(), options=compile_options(), backend="nvrtc")


def _kernel(name: str) -> Any:
    cupy = _cupy()
    return _module(int(cupy.cuda.Device().id)).get_function(name)


def _launch(name: str, n: int, args: tuple[Any, ...]) -> None:
    if n == 0:
        return
    grid = min((n + _BLOCK - 1) // _BLOCK, _MAX_GRID)
    _kernel(name)((grid,), (_BLOCK,), args)


def _as(cupy: Any, x: Any, dtype: Any, name: str, ndim: int) -> Any:
    try:
        arr = cupy.ascontiguousarray(cupy.asarray(x), dtype=dtype)
    except (TypeError, ValueError) as err:
        raise InvalidValueError(f"'{name}' cannot be read as an array of {np.dtype(dtype).name}: {err}") from None
    if arr.ndim != ndim:
        raise InvalidValueError(f"'{name}' must have {ndim} dimensions, got shape {tuple(arr.shape)}")
    return arr


def nb101_process(matrices: Any, labels: Any, num_vertices: Any, *, hashes: bool = True) -> dict[str, Any]:
    """Validate, prune, canonicalise and hash a padded batch of NB101 cells on the GPU.

    Parameters
    ----------
    matrices : array of shape (batch, n_max, n_max), 0/1 entries (n_max <= 32)
    labels : array of shape (batch, n_max), official integer labels (-1 input, -2 output, 0..2)
    num_vertices : array of shape (batch,), each in 1..n_max
    hashes : bool, default True; compute the official hashes of valid cells

    Returns
    -------
    dict of CuPy arrays: ``status`` (batch,) uint8 as :func:`pyengine.graph.nb101.validate`'s,
    ``canonical_keys`` (batch,) int64 (-1 for invalid cells), and with ``hashes`` ``hashes``
    (batch, 32) uint8 of lower-case hex characters (zeros for invalid cells).

    Raises
    ------
    InvalidValueError
        For wrong shapes, n_max above 32, a vertex count outside 1..n_max or a matrix entry
        other than 0/1, naming the first such cell (the message of the CPU core's).
    """
    cupy = _cupy()
    m = _as(cupy, matrices, np.uint8, "matrices", 3)
    lab = _as(cupy, labels, np.int8, "labels", 2)
    nv = _as(cupy, num_vertices, np.int32, "num_vertices", 1)
    batch, n_max = int(m.shape[0]), int(m.shape[1])
    if m.shape[2] != n_max:
        raise InvalidValueError(f"'matrices' must have shape (batch, n, n), got {tuple(m.shape)}")
    if tuple(lab.shape) != (batch, n_max):
        raise InvalidValueError(f"'labels' must have shape {(batch, n_max)}, got {tuple(lab.shape)}")
    if tuple(nv.shape) != (batch,):
        raise InvalidValueError(f"'num_vertices' must have shape {(batch,)}, got {tuple(nv.shape)}")
    if batch > 0 and n_max == 0:
        raise InvalidValueError("NB101 cells need at least one vertex")
    if n_max > MAX_PADDED_VERTICES:
        raise InvalidValueError(
            f"the GPU kernel takes NB101 batches padded to at most {MAX_PADDED_VERTICES} vertices, got {n_max} "
            "(pyengine.graph.nb101.validate takes any)"
        )
    status = cupy.empty(batch, dtype=np.uint8)
    keys = cupy.empty(batch, dtype=np.int64)
    malformed = cupy.empty(batch, dtype=np.int32)
    hx = cupy.empty((batch, 32), dtype=np.uint8) if hashes else None
    _launch(
        "pyengine_nb101_process",
        batch,
        (m, lab, nv, np.int64(batch), np.int32(n_max), status, keys, hx if hx is not None else 0, malformed),
    )
    bad = cupy.flatnonzero(malformed)
    if int(bad.size):
        i = int(bad[0])
        code = int(malformed[i])
        if code == -1:
            raise InvalidValueError(f"cell {i}: num_vertices is {int(nv[i])}, expected 1..{n_max}")
        r, c = divmod(code - 1, n_max)
        raise InvalidValueError(f"cell {i}: matrix entry [{r}][{c}] is {int(m[i, r, c])}, expected 0 or 1")
    out = {"status": status, "canonical_keys": keys}
    if hx is not None:
        out["hashes"] = hx
    return out


def nb101_random_specs(seed: int, start: int, count: int, *, edge_prob: float = 0.5) -> tuple[Any, Any]:
    """:func:`pyengine.graph.nb101.random_specs` on the GPU: (matrices (count, 7, 7) uint8,
    labels (count, 7) int8), the same candidates as the host draws."""
    from . import nb101 as _nb101

    seed, start, count, p = _nb101._stream_args(seed, start, count, edge_prob)
    cupy = _cupy()
    matrices = cupy.empty((count, 7, 7), dtype=np.uint8)
    labels = cupy.empty((count, 7), dtype=np.int8)
    threshold = np.uint64(_threshold(p))
    _launch(
        "pyengine_nb101_random_specs",
        count,
        (np.uint64(seed), np.uint64(start), np.int64(count), threshold, matrices, labels),
    )
    return matrices, labels


def nb101_stream_keys(seed: int, start: int, count: int, *, edge_prob: float = 0.5) -> tuple[Any, Any]:
    """:func:`pyengine.graph.nb101.stream_keys` on the GPU: (status (count,) uint8,
    canonical_keys (count,) int64), sampled and processed in one kernel."""
    from . import nb101 as _nb101

    seed, start, count, p = _nb101._stream_args(seed, start, count, edge_prob)
    cupy = _cupy()
    status = cupy.empty(count, dtype=np.uint8)
    keys = cupy.empty(count, dtype=np.int64)
    threshold = np.uint64(_threshold(p))
    _launch(
        "pyengine_nb101_stream_keys",
        count,
        (np.uint64(seed), np.uint64(start), np.int64(count), threshold, status, keys),
    )
    return status, keys


def _threshold(p: float) -> int:
    """cell::edge_threshold: edge present where a 32-bit draw is below it."""
    if not p > 0.0:
        return 0
    if p >= 1.0:
        return 1 << 32
    return int(p * 4294967296.0)


@functools.cache
def _nb201_tables_host() -> tuple[np.ndarray, np.ndarray]:
    rep, cls = _core.nb201_space_classes(0)
    return np.ascontiguousarray(rep, dtype=np.int32), np.ascontiguousarray(cls, dtype=np.int32)


def nb201_canonicalize(ops: Any) -> tuple[Any, Any]:
    """Representative cell index and class of each NB201 cell (ops (batch, 6), 0..4) on the GPU,
    as :func:`pyengine.graph.nb201.canonicalize`."""
    cupy = _cupy()
    o = _as(cupy, ops, np.int8, "ops", 2)
    if o.shape[1] != 6:
        raise InvalidValueError(f"'ops' must have shape (batch, 6), got {tuple(o.shape)}")
    batch = int(o.shape[0])
    rep_h, cls_h = _nb201_tables_host()
    rep_t, cls_t = cupy.asarray(rep_h), cupy.asarray(cls_h)
    rep = cupy.empty(batch, dtype=np.int32)
    cls = cupy.empty(batch, dtype=np.int32)
    bad = cupy.empty(batch, dtype=np.int32)
    _launch("pyengine_nb201_canonicalize", batch, (o, np.int64(batch), rep_t, cls_t, rep, cls, bad))
    wrong = cupy.flatnonzero(bad)
    if int(wrong.size):
        i = int(wrong[0])
        e = int(bad[i]) - 1
        raise InvalidValueError(f"NB201 op index {int(o[i, e])} on edge {e} is outside 0..4 (cell {i})")
    return rep, cls


def darts_canonicalize(cells: Any) -> dict[str, Any]:
    """Canonical keys, numbers of distinct forms and canonical cells of DARTS cells (batch, 8, 2)
    on the GPU, as :func:`pyengine.graph.darts.canonicalize`."""
    cupy = _cupy()
    c = _as(cupy, cells, np.int8, "cells", 3)
    if tuple(c.shape[1:]) != (8, 2):
        raise InvalidValueError(f"'cells' must have shape (batch, 8, 2), got {tuple(c.shape)}")
    batch = int(c.shape[0])
    keys = cupy.empty(batch, dtype=np.uint64)
    forms = cupy.empty(batch, dtype=np.int32)
    canonical = cupy.empty((batch, 8, 2), dtype=np.int8)
    problem = cupy.empty(batch, dtype=np.int32)
    _launch("pyengine_darts_canonicalize", batch, (c, np.int64(batch), keys, forms, canonical, problem))
    wrong = cupy.flatnonzero(problem)
    if int(wrong.size):
        i = int(wrong[0])
        kind, where = divmod(int(problem[i]), 16)
        cell = cupy.asnumpy(c[i])
        if kind == 1:
            node = 2 + where // 2
            msg = f"edge {where}: input {cell[where, 0]} of node {node} must lie in 0..{node - 1}"
            raise InvalidValueError(f"DARTS cell {i}, {msg}")
        if kind == 2:
            raise InvalidValueError(f"DARTS cell {i}, edge {where}: op {cell[where, 1]} is outside 0..6")
        raise InvalidValueError(
            f"DARTS cell {i}: both edges of node {2 + where} come from node {cell[2 * where, 0]} "
            "(the two inputs of a node must differ)"
        )
    return {"keys": keys, "forms": forms, "canonical": canonical}
