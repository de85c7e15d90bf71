"""Image datasets for the trainer: scikit-learn's digits (no download) or a user's own arrays."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DatasetError, InvalidTypeError

__all__ = ["ImageDataset", "load_digits", "load_dataset", "from_arrays", "DatasetError"]


@dataclass(frozen=True)
class ImageDataset:
    """Images and labels split into train / validation / test, standardised with the training
    split's per-channel mean and standard deviation.

    x_train, x_val, x_test : arrays of shape (n_split, height, width, channels), float32
    y_train, y_val, y_test : arrays of shape (n_split,), int32 in 0..n_classes-1
    classes : array of shape (n_classes,), the original label of each class index
    name : where the data came from
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    name: str

    @property
    def n_classes(self) -> int:
        return int(len(self.classes))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])  # type: ignore[return-value]

    def __repr__(self) -> str:
        return (
            f"ImageDataset({self.name!r}, image_shape={self.image_shape}, n_classes={self.n_classes}, "
            f"train={len(self.y_train)}, val={len(self.y_val)}, test={len(self.y_test)})"
        )


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
        raise DatasetError(f"The {what!r} parameter must be a float in (0, 1). Got {value!r} instead.")
    return float(value)


def from_arrays(
    images: Any,
    labels: Any,
    *,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
    name: str = "arrays",
) -> ImageDataset:
    """Split a user's images and labels into train / validation / test.

    Parameters
    ----------
    images : array of shape (n, height, width) or (n, height, width, channels)
    labels : array of shape (n,), integer class labels (any integers; at least two classes)
    val_fraction, test_fraction : float
        Shares of the data held out for validation and test (each split keeps at least one image).
    seed : int
        Seed of the split's permutation (independent of any training seed).
    """
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.dtype.kind not in "iuf":
        raise DatasetError(f"Images must be numeric. Got dtype {x.dtype} instead.")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DatasetError(
            f"Images must have shape (n, height, width) or (n, height, width, channels). Got shape {x.shape} instead."
        )
    if y.ndim != 1:
        raise DatasetError(f"Labels must have shape (n,). Got shape {y.shape} instead.")
    if len(x) != len(y):
        raise DatasetError(f"There are {len(x)} images but {len(y)} labels.")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise DatasetError(f"Labels must be integers. Got dtype {y.dtype} instead.")
    x = x.astype(np.float32)
    bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if bad.any():
        raise DatasetError(
            f"{int(bad.sum())} images have NaN or infinite pixels (first at index {int(np.argmax(bad))})."
        )
    if min(x.shape[1], x.shape[2]) < 4:
        raise DatasetError(f"Images must be at least 4x4 (the network halves them twice). Got {x.shape[1:3]} instead.")
    val_fraction = _fraction(val_fraction, "val_fraction")
    test_fraction = _fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1.0:
        raise DatasetError(f"val_fraction + test_fraction must be below 1. Got {val_fraction + test_fraction} instead.")
    classes, y = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(f"Labels hold one class only ({classes.tolist()}); classification needs at least two.")
    n = len(y)
    n_val, n_test = int(round(n * val_fraction)), int(round(n * test_fraction))
    n_train = n - n_val - n_test
    if min(n_val, n_test) < 1 or n_train < 2:
        raise DatasetError(f"{n} images are too few to split into train / validation / test.")
    order = np.random.default_rng(seed).permutation(n)
    tr, va, te = order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
    mean = x[tr].mean(axis=(0, 1, 2))
    std = x[tr].std(axis=(0, 1, 2))
    std = np.where(std > 0, std, 1.0).astype(np.float32)

    def norm(i: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((x[i] - mean) / std, dtype=np.float32)

    yi = y.astype(np.int32)
    return ImageDataset(norm(tr), yi[tr], norm(va), yi[va], norm(te), yi[te], classes, name)


def load_digits(*, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> ImageDataset:
    """scikit-learn's digits (1,797 8x8 grayscale images of 10 digits, shipped with the package):
    1,079 / 359 / 359 train / validation / test with the default fractions."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return from_arrays(
        d.images, d.target, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed, name="digits"
    )


def load_dataset(source: Any = "digits", **split: Any) -> ImageDataset:
    """``"digits"``, an :class:`ImageDataset` (returned as is), or the path of a ``.npz`` file with
    arrays ``images`` and ``labels`` (``x`` and ``y`` are accepted too)."""
    if isinstance(source, ImageDataset):
        return source
    if isinstance(source, str) and source == "digits":
        return load_digits(**split)
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidTypeError(
            f"A dataset is 'digits', an ImageDataset or a .npz path. Got {type(source).__name__} instead."
        )
    path = os.fspath(source)
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            xk = "images" if "images" in keys else "x"
            yk = "labels" if "labels" in keys else "y"
            if xk not in keys or yk not in keys:
                raise DatasetError(
                    f"{path}: expected arrays 'images' and 'labels' (or 'x' and 'y'); found {sorted(keys)}."
                )
            images, labels = f[xk], f[yk]
    except DatasetError:
        raise
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - corrupt or foreign file
        raise DatasetError(f"{path}: not a readable .npz file ({type(e).__name__}: {e}).") from None
    return from_arrays(images, labels, name=os.path.basename(path), **split)
