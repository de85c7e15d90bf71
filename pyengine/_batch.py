"""Batches of architectures: NamedTuples of arrays with a leading batch axis (one per space:
``NB101Batch``, ``NB201Batch``, ``DartsBatch``, ...). The row operations every layer above uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["batch_len", "take", "concat", "first_unique"]


def batch_len(batch: tuple) -> int:
    """The number of rows of a batch."""
    return int(np.asarray(batch[0]).shape[0])


def take(batch: Any, index: Any) -> Any:
    """Rows ``index`` of a batch (an int array, a boolean mask or a slice), as a batch of its type."""
    return type(batch)(*(np.asarray(f)[index] for f in batch))


def concat(batches: Sequence[Any]) -> Any:
    """Rows of several batches of one type, in order."""
    first = batches[0]
    return type(first)(*(np.concatenate([b[i] for b in batches]) for i in range(len(first._fields))))


def first_unique(keys: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct key, in input order."""
    _, idx = np.unique(keys, return_index=True)
    return np.sort(idx)
