"""A minibatch of natural-image crops for the data-dependent zero-cost proxies.

The NAS-Bench-Suite-Zero records were scored on real CIFAR-10 minibatches. Where no CIFAR-10 is
at hand, this writes a batch cut from the two photographs that scikit-learn ships
(``sklearn.datasets.load_sample_images``: a temple in China and a flower), so that the proxies
can be compared on natural-image statistics against Gaussian noise:

    python benchmarks/photo_batch.py --out photos.npz [--size 32] [--batch 32] [--seed 0]
    pyengine proxies evaluate --space nb201 --proxies jacob_cov,nwot --images photos.npz --json out.json

Each image is a random square crop of side ``scale * size`` pixels, averaged down by ``scale``
in each direction (so a 32x32 image covers a 128x128 patch of the photograph, a scene rather
than a texture), flipped left-right with probability 1/2, and normalised with CIFAR-10's
per-channel mean and standard deviation, as NASLib's loaders do. Labels are the photograph each
crop comes from (0 or 1), so the label carries real information about the input.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

CIFAR10_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CIFAR10_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


def photo_batch(batch: int = 32, size: int = 32, scale: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: ``images`` of shape ``(batch, size, size, 3)`` float32, normalised."""
    from sklearn.datasets import load_sample_images

    if batch < 2:
        raise ValueError(f"The 'batch' parameter must be at least 2. Got {batch}.")
    if size < 1 or scale < 1:
        raise ValueError(f"The 'size' and 'scale' parameters must be positive. Got {size} and {scale}.")
    photos = [np.asarray(p, dtype=np.float32) / 255.0 for p in load_sample_images().images]
    side = size * scale
    for p in photos:
        if min(p.shape[:2]) < side:
            raise ValueError(f"A crop of {side} pixels does not fit a photograph of shape {p.shape[:2]}.")
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) % len(photos)
    images = np.empty((batch, size, size, 3), dtype=np.float32)
    for i, label in enumerate(labels):
        p = photos[label]
        top = int(rng.integers(0, p.shape[0] - side + 1))
        left = int(rng.integers(0, p.shape[1] - side + 1))
        crop = p[top : top + side, left : left + side]
        small = crop.reshape(size, scale, size, scale, 3).mean(axis=(1, 3))
        if rng.random() < 0.5:
            small = small[:, ::-1]
        images[i] = (small - CIFAR10_MEAN) / CIFAR10_STD
    return images, labels.astype(np.int64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the .npz to write (arrays 'images' and 'labels')")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=32, help="32 for CIFAR shapes, 16 for ImageNet16")
    parser.add_argument("--scale", type=int, default=4, help="pixels of the photograph per image pixel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        images, labels = photo_batch(args.batch, args.size, args.scale, args.seed)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    np.savez(args.out, images=images, labels=labels)
    print(f"wrote {args.out}: images {images.shape}, labels {np.bincount(labels).tolist()} per photograph")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
