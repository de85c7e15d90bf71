"""The stages of the streaming pipeline as one backend object over arrays.

A backend holds the space and the fitted predictor and offers one method per stage; the driver
(:mod:`pyengine.pipeline._stream`) calls them chunk by chunk and owns the running state (the sorted
array of canonical keys seen, the running top-k). Every stage returns host numpy arrays of the
shapes documented below, so a backend for another device (CuPy + JAX on a GPU) slots in by
deriving from :class:`Backend` and registering itself in ``BACKENDS`` under ``"gpu"``; the
driver and its outputs stay the same.

Randomness is a pure function of ``(seed, block)``: candidate ``i`` of a stream is row
``i % BLOCK`` of block ``i // BLOCK``, drawn by ``numpy.random.Generator(PCG64(SeedSequence(seed,
spawn_key=(block,))))``. The stream is therefore the same whatever the chunk size, and a device
backend reproduces it by drawing the same blocks (or by drawing them on the host).
"""

from __future__ import annotations

import abc
import logging
from typing import Any

import numpy as np

from .._batch import batch_len, take
from .._registry import Registry
from ..errors import InvalidTypeError, InvalidValueError

__all__ = ["BACKENDS", "BLOCK", "Backend", "CpuBackend", "SPACES", "block_rng"]

log = logging.getLogger(__name__)

BLOCK = 1024  # candidates per block of randomness
SPACES = ("nb101", "nb201")  # spaces the pipeline streams


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` of the stream of ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


class Backend(abc.ABC):
    """One method per stage of the pipeline, over arrays of one chunk.

    Parameters
    ----------
    space : SearchSpace
        ``nb101`` or ``nb201``.
    predictor : fitted predictor
        Anything with ``predict(X) -> array of shape (n,)``; checked by the driver.
    seed : int
        The stream's seed (see the module docstring).
    parents : batch of the space, optional
        Mutate these instead of sampling: each candidate is one random edit of a parent drawn
        uniformly (``SearchSpace.mutate``).
    edge_prob : float
        NB101: probability of each of the 21 upper-triangular edges of a raw spec.
    """

    name: str = "backend"

    def __init__(self, space: Any, predictor: Any, *, seed: int, parents: Any = None, edge_prob: float = 0.5) -> None:
        self.space = space
        self.predictor = predictor
        self.seed = seed
        self.parents = parents
        self.edge_prob = edge_prob

    @property
    @abc.abstractmethod
    def reasons(self) -> tuple[str, ...]:
        """Names of the validation statuses 1, 2, ... that :meth:`process` returns."""

    @abc.abstractmethod
    def sample(self, start: int, stop: int) -> Any:
        """Raw candidates ``start .. stop - 1`` of the stream (a batch of the space, some invalid)."""

    @abc.abstractmethod
    def process(self, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        """Validate, prune and canonicalize raw candidates.

        Returns
        -------
        status : array of shape (n,), uint8; 0 valid, else 1 + index into ``reasons``
        keys : array of shape (n,), int64; canonical key of each valid candidate, -1 otherwise
        """

    @abc.abstractmethod
    def dedupe(self, keys: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keys met for the first time in the stream.

        Parameters
        ----------
        keys : array of shape (n,), int64; canonical keys of a chunk's valid candidates, in stream order
        seen : array of shape (s,), int64, strictly increasing; every key met before this chunk

        Returns
        -------
        new : array of shape (m,), int64; the keys of ``keys`` not in ``seen``, each once, in the
            order of their first occurrence
        seen : array of shape (s + m,), int64, strictly increasing
        """

    @abc.abstractmethod
    def encode(self, keys: np.ndarray) -> Any:
        """The predictor's input for the canonical cells of ``keys`` (m,)."""

    @abc.abstractmethod
    def predict(self, inputs: Any) -> np.ndarray:
        """Scores of encoded inputs: array of shape (m,), float64."""

    @abc.abstractmethod
    def topk(
        self, keys: np.ndarray, scores: np.ndarray, best_keys: np.ndarray, best_scores: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best of the running top-k and a chunk's scored keys, by score descending, ties
        by canonical key ascending: (keys (k',), scores (k',)) with k' = min(k, total)."""

    @abc.abstractmethod
    def archs(self, keys: np.ndarray) -> list[str]:
        """The space's string form (as ``pyengine score`` writes it) of the canonical cells of keys."""


class CpuBackend(Backend):
    """The stages on the host: the native core for validation and canonical keys (multi-threaded,
    GIL released), numpy for sampling, de-duplication and top-k, the predictor's own batched
    inference for scores."""

    name = "cpu"

    def __init__(self, space: Any, predictor: Any, *, seed: int, parents: Any = None, edge_prob: float = 0.5) -> None:
        super().__init__(space, predictor, seed=seed, parents=parents, edge_prob=edge_prob)
        self._block: tuple[int, Any] | None = None  # the last block drawn (chunks may share one)
        self._encoding = _encoding_of(predictor)

    # -- sample ---------------------------------------------------------------------------------
    def _draw_block(self, b: int) -> Any:
        if self._block is not None and self._block[0] == b:
            return self._block[1]
        rng = block_rng(self.seed, b)
        if self.parents is not None:
            pick = rng.integers(0, batch_len(self.parents), size=BLOCK)
            raw = self.space.mutate(take(self.parents, pick), rng)
        elif self.space.name == "nb101":
            from ..spaces._nb101 import random_specs

            raw = random_specs(BLOCK, rng, self.edge_prob)
        else:
            raw = self.space.sample(BLOCK, rng)
        self._block = (b, raw)
        return raw

    def sample(self, start: int, stop: int) -> Any:
        from .._batch import concat

        parts = []
        for b in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            lo, hi = max(start, b * BLOCK) - b * BLOCK, min(stop, (b + 1) * BLOCK) - b * BLOCK
            parts.append(take(self._draw_block(b), np.arange(lo, hi)))
        return parts[0] if len(parts) == 1 else concat(parts)

    # -- process --------------------------------------------------------------------------------
    @property
    def reasons(self) -> tuple[str, ...]:
        if self.space.name == "nb101":
            from ..graph import nb101

            return nb101.REASONS
        return ()

    def process(self, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        if self.space.name == "nb101":
            from ..graph import nb101

            res = nb101.validate(raw, hashes=False)
            return res.status.astype(np.uint8), res.canonical_keys.astype(np.int64)
        keys = np.asarray(self.space.canonical_keys(raw), dtype=np.int64)  # every nb201 cell is valid
        return np.zeros(len(keys), dtype=np.uint8), keys

    # -- dedupe ---------------------------------------------------------------------------------
    def dedupe(self, keys: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        uniq, first = np.unique(keys, return_index=True)
        pos = np.searchsorted(seen, uniq)
        fresh = np.ones(len(uniq), dtype=bool)
        if len(seen):
            fresh = seen[np.minimum(pos, len(seen) - 1)] != uniq
        merged = np.insert(seen, pos[fresh], uniq[fresh])
        return keys[np.sort(first[fresh])], merged

    # -- encode and predict ---------------------------------------------------------------------
    def cells(self, keys: np.ndarray) -> Any:
        """The canonical cells of keys, as a batch of the space."""
        if self.space.name == "nb101":
            from ..graph import nb101

            return nb101.cells_from_keys(keys)
        from ..graph import nb201
        from ..spaces import NB201Batch

        return NB201Batch(nb201.cells_from_index(keys))

    def encode(self, keys: np.ndarray) -> Any:
        batch = self.cells(keys)
        if self._encoding is None:
            return batch  # the predictor encodes architectures itself
        from ..encodings import ENCODINGS

        name, params = self._encoding
        return ENCODINGS.get(name)(self.space, batch, **params)

    def predict(self, inputs: Any) -> np.ndarray:
        return np.asarray(self.predictor.predict(inputs), dtype=np.float64).reshape(-1)

    # -- top-k ----------------------------------------------------------------------------------
    def topk(
        self, keys: np.ndarray, scores: np.ndarray, best_keys: np.ndarray, best_scores: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        all_keys = np.concatenate([best_keys, keys])
        all_scores = np.concatenate([best_scores, scores])
        if len(all_keys) > k:  # cheap cut first: everything strictly below the k-th score goes
            kth = np.partition(all_scores, len(all_scores) - k)[len(all_scores) - k]
            keep = all_scores >= kth
            all_keys, all_scores = all_keys[keep], all_scores[keep]
        order = np.lexsort((all_keys, -all_scores))[:k]
        return all_keys[order], all_scores[order]

    def archs(self, keys: np.ndarray) -> list[str]:
        if len(keys) == 0:
            return []
        return self.space.to_strings(self.cells(keys))


def _encoding_of(predictor: Any) -> tuple[str, dict[str, Any]] | None:
    """(encoding name, parameters) the predictor reads, where it declares one and needs nothing
    but the encoding (no zero-cost scores); None: it gets architectures and encodes them itself."""
    from ..predictors import get_tags

    if get_tags(predictor).arch_input:  # one-shot: scores sub-networks of the architectures themselves
        return None
    zc = getattr(predictor, "zc_names", None)
    if callable(zc) and zc():
        return None
    own = getattr(predictor, "_encoding", None)
    if callable(own):
        params = getattr(predictor, "_encoding_params", None)
        return str(own()), dict(params() if callable(params) else {})
    name = getattr(predictor, "encoding", None)
    if isinstance(name, str):
        return name, {}
    return None


BACKENDS: Registry[Backend] = Registry("pipeline backend")
BACKENDS.register("cpu", "pyengine.pipeline._backend:CpuBackend")


def resolve_device(device: Any) -> str:
    """The backend name for ``device``: "cpu" for "cpu"; "gpu" for "gpu" when CuPy sees a CUDA
    device and a GPU backend is registered (else :class:`DeviceUnavailableError` naming what is
    missing); for "auto", "gpu" where that holds and "cpu" otherwise (logged)."""
    from ..errors import DeviceUnavailableError, MissingDependencyError

    if not isinstance(device, str):
        raise InvalidTypeError(f"The 'device' parameter of stream_top_k must be a str. Got {device!r} instead.")
    if device not in ("auto", "cpu", "gpu"):
        raise InvalidValueError(
            f"The 'device' parameter of stream_top_k must be 'auto', 'cpu' or 'gpu'. Got {device!r} instead."
        )
    if device == "cpu":
        return "cpu"
    try:
        _check_gpu()
    except (DeviceUnavailableError, MissingDependencyError) as err:
        if device == "gpu":
            raise
        log.info("streaming pipeline on the CPU: %s", err)
        return "cpu"
    return "gpu"


def _check_gpu() -> None:
    """Raise unless CuPy is installed, sees a CUDA device, and a GPU backend is registered."""
    import importlib

    from ..errors import DeviceUnavailableError, MissingDependencyError

    try:
        cupy = importlib.import_module("cupy")
    except ImportError as err:
        raise MissingDependencyError(
            "device='gpu' needs CuPy, which is not installed; install the CuPy wheel of your CUDA version "
            "(for example: pip install cupy-cuda12x)."
        ) from err
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as err:  # CUDA driver missing or broken: CuPy raises its own runtime errors
        raise DeviceUnavailableError(f"device='gpu' needs a CUDA device; CuPy cannot reach one ({err}).") from None
    if count < 1:
        raise DeviceUnavailableError("device='gpu' needs a CUDA device; CuPy sees none.")
    if "gpu" not in BACKENDS.names():
        raise DeviceUnavailableError(
            "device='gpu': this installation has no GPU backend of the streaming pipeline registered "
            "(pyengine.pipeline.BACKENDS holds only 'cpu')."
        )
