"""Train architectures for real: many at once in one compiled program, on scikit-learn's digits
(no download) or a user's own images.

``Trainer(...).train(batch, dataset)`` returns a :class:`TrainResult` with per-epoch learning
curves, final validation and test accuracy and training seconds per architecture.
"""

from __future__ import annotations

from ._data import DatasetError, ImageDataset, from_arrays, load_dataset, load_digits
from ._trainer import Trainer, TrainMemoryError, TrainResult, available_memory

__all__ = [
    "Trainer",
    "TrainResult",
    "TrainMemoryError",
    "ImageDataset",
    "DatasetError",
    "load_digits",
    "load_dataset",
    "from_arrays",
    "available_memory",
]
