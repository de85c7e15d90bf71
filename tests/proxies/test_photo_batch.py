"""The natural-image minibatch of benchmarks/photo_batch.py (crops of scikit-learn's photographs)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "photo_batch.py"
_spec = importlib.util.spec_from_file_location("photo_batch", _PATH)
photo_batch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(photo_batch)


def test_batch_is_seeded_normalised_natural_images(tmp_path):
    images, labels = photo_batch.photo_batch(batch=32, size=32, seed=0)
    again, _ = photo_batch.photo_batch(batch=32, size=32, seed=0)
    other, _ = photo_batch.photo_batch(batch=32, size=32, seed=1)
    assert images.shape == (32, 32, 32, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)
    assert np.bincount(labels).tolist() == [16, 16]
    # CIFAR-10 normalisation: channel means near 0, spreads near 1 (not the raw [0, 1] pixels)
    assert np.all(np.abs(images.mean(axis=(0, 1, 2))) < 0.5)
    assert np.all((images.std(axis=(0, 1, 2)) > 0.5) & (images.std(axis=(0, 1, 2)) < 2.5))
    # natural images are smooth: neighbouring pixels correlate, unlike the Gaussian-noise default
    r = np.corrcoef(images[:, :, :-1].ravel(), images[:, :, 1:].ravel())[0, 1]
    assert r > 0.5
    # the command line writes what the scorer's --images reads
    out = tmp_path / "photos.npz"
    assert photo_batch.main(["--out", str(out), "--batch", "8", "--size", "16"]) == 0
    data = np.load(out)
    assert data["images"].shape == (8, 16, 16, 3) and data["labels"].shape == (8,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"batch": 1}, "'batch' parameter must be at least 2"), ({"size": 32, "scale": 20}, "does not fit")],
)
def test_bad_settings_name_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        photo_batch.photo_batch(**kwargs)
