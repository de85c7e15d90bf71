"""Input checks every predictor shares: which inputs are architectures and which are features,
``random_state`` and ``n_jobs``, and the thread counts of the tree and boosting libraries. The
base class itself (tags, ``score``, ``save``) is :mod:`._base`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidTypeError, InvalidValueError

__all__ = [
    "is_architectures",
    "usable_cores",
    "check_random_state",
    "check_n_jobs",
    "fit_threads",
    "blas_threads",
]

# Below this many training rows the tree and boosting libraries fit on one thread when n_jobs is
# None: a tree over a few thousand rows takes microseconds, so every thread barrier costs more
# than it saves, and on a loaded machine OpenMP threads waiting for a busy core slow a fit of 100
# rows from a fraction of a second to tens of seconds.
SMALL_FIT_ROWS = 10_000
# Below this many rows dense linear algebra (Cholesky factors of GP kernels, small products) runs
# on one BLAS thread.
SMALL_BLAS_ROWS = 1_000


def is_architectures(x: Any) -> bool:
    """Whether ``x`` holds architectures of a search space (a space's batch, a string, a record
    dict, or a sequence of strings or record dicts) rather than features (a 2-D array-like: an
    array, a DataFrame, a list of lists of numbers, a sparse matrix) or an encoded ``GraphBatch``."""
    from ..encodings import GraphBatch

    if isinstance(x, np.ndarray):
        return x.ndim == 1 and x.dtype.kind in "US"
    if hasattr(x, "__array__") or hasattr(x, "shape"):  # DataFrames, sparse matrices (a dok_matrix is a dict)
        return False
    if isinstance(x, (str, dict)):
        return True
    if isinstance(x, GraphBatch):
        return False
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a space's batch: a NamedTuple of arrays
        return True
    if isinstance(x, Sequence) and len(x) > 0:
        return all(isinstance(a, (str, dict)) for a in x)
    return False


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_random_state(est: Any) -> None:
    """Validate ``est.random_state``: an int or None."""
    rs = est.random_state
    if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, np.integer))):
        raise InvalidTypeError(
            f"The 'random_state' parameter of {type(est).__name__} must be an int or None. Got {rs!r} instead."
        )


def check_n_jobs(est: Any) -> None:
    """Validate ``est.n_jobs``: None, -1 or a positive int."""
    v = est.n_jobs
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise InvalidTypeError(
            f"The 'n_jobs' parameter of {type(est).__name__} must be a positive int, -1 or None. Got {v!r} instead."
        )
    if v == 0 or v < -1:
        raise InvalidValueError(
            f"The 'n_jobs' parameter of {type(est).__name__} must be a positive int, -1 or None. Got {v!r} instead."
        )


def fit_threads(n_jobs: int | None, n_rows: int) -> int:
    """Threads for a tree or boosting fit on ``n_rows`` rows: ``n_jobs`` when given (-1: every
    usable core); for None, every usable core, or one below ``SMALL_FIT_ROWS`` rows."""
    if n_jobs is None:
        return 1 if n_rows < SMALL_FIT_ROWS else usable_cores()
    if n_jobs == -1:
        return usable_cores()
    return int(n_jobs)


@contextlib.contextmanager
def blas_threads(n_rows: int) -> Iterator[None]:
    """A context in which BLAS runs on one thread when ``n_rows`` is below ``SMALL_BLAS_ROWS``."""
    if n_rows >= SMALL_BLAS_ROWS:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield
