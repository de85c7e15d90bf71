"""The stages of the streaming pipeline as one backend object over arrays.

A backend holds the space and the fitted predictor and offers one method per stage; the driver
(:mod:`pyengine.pipeline._stream`) calls them chunk by chunk and owns the running state (the sorted
array of canonical keys seen, the running top-k). Every stage returns host numpy arrays of the
shapes documented below, so a backend for another device (CuPy + JAX on a GPU) slots in by
deriving from :class:`Backend` and registering itself in ``BACKENDS`` under ``"gpu"``; the
driver and its outputs stay the same.

Randomness is a pure function of the seed and the candidate's index. Raw NB101 specs come from
the counter-based stream of :func:`pyengine.graph.nb101.random_specs` (candidate ``i`` depends on
``(seed, i)`` alone, on the host and on the GPU alike). NB201 cells and mutations of parents come
from blocks: candidate ``i`` is row ``i % BLOCK`` of block ``i // BLOCK``, drawn by
``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=(block,))))``. Either way the stream is
the same whatever the chunk size and the device.
"""

from __future__ import annotations

import abc
import logging
import time
from typing import Any

import numpy as np

from .._batch import batch_len, take
from .._registry import Registry
from ..errors import InvalidTypeError, InvalidValueError

__all__ = ["BACKENDS", "BLOCK", "Backend", "CpuBackend", "GpuBackend", "SPACES", "block_rng"]

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

    #: candidates per chunk when the caller does not choose
    default_chunk: int = 4096

    def candidates(self, start: int, stop: int, seconds: dict[str, float]) -> tuple[np.ndarray, Any]:
        """Candidates ``start .. stop - 1`` drawn, validated and canonicalized.

        Returns (tally, keys): tally (1 + len(reasons),) int64, the count of each status; keys,
        the canonical keys of the valid candidates in stream order (an array of the backend's
        array module). Adds the seconds spent to ``seconds["sample"]`` and ``seconds["process"]``.
        """
        t = time.perf_counter()
        raw = self.sample(start, stop)
        now = time.perf_counter()
        seconds["sample"] += now - t
        status, keys = self.process(raw)
        seconds["process"] += time.perf_counter() - now
        tally = np.bincount(status, minlength=1 + len(self.reasons))[: 1 + len(self.reasons)].astype(np.int64)
        return tally, keys[status == 0]

    def empty_keys(self) -> Any:
        """The set of keys seen before the first chunk, in the form :meth:`dedupe` takes."""
        return np.empty(0, dtype=np.int64)

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
        keys : array of shape (n,), int64; canonical keys of a chunk's valid candidates, in stream
            order (as :meth:`candidates` returns them)
        seen : array of shape (s,), int64, strictly increasing; every key met before this chunk
            (as the previous call returned it)

        Returns
        -------
        new : host array of shape (m,), int64; the keys of ``keys`` not in ``seen``, each once, in
            the order of their first occurrence
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
    inference for scores. Raw NB101 specs are drawn, validated and canonicalized in one native
    pass (:func:`pyengine.graph.nb101.stream_keys`), its time counted under ``process``."""

    name = "cpu"

    def __init__(self, space: Any, predictor: Any, *, seed: int, parents: Any = None, edge_prob: float = 0.5) -> None:
        super().__init__(space, predictor, seed=seed, parents=parents, edge_prob=edge_prob)
        self._block: tuple[int, Any] | None = None  # the last block drawn (chunks may share one)
        self._encoding = _encoding_of(predictor)
        if self._raw_nb101:
            self.default_chunk = 1 << 16

    @property
    def _raw_nb101(self) -> bool:
        """Whether the stream is raw NB101 specs (the counter-based stream, no parents)."""
        return self.space.name == "nb101" and self.parents is None

    def candidates(self, start: int, stop: int, seconds: dict[str, float]) -> tuple[np.ndarray, Any]:
        if not self._raw_nb101:
            return super().candidates(start, stop, seconds)
        from ..graph import nb101

        t = time.perf_counter()
        status, keys = nb101.stream_keys(self.seed, start, stop - start, edge_prob=self.edge_prob)
        tally = np.bincount(status, minlength=1 + len(self.reasons))[: 1 + len(self.reasons)].astype(np.int64)
        seconds["process"] += time.perf_counter() - t
        return tally, keys[status == 0]

    # -- sample ---------------------------------------------------------------------------------
    def _draw_block(self, b: int) -> Any:
        if self._block is not None and self._block[0] == b:
            return self._block[1]
        rng = block_rng(self.seed, b)
        if self.parents is not None:
            pick = rng.integers(0, batch_len(self.parents), size=BLOCK)
            raw = self.space.mutate(take(self.parents, pick), rng)
        else:
            raw = self.space.sample(BLOCK, rng)
        self._block = (b, raw)
        return raw

    def sample(self, start: int, stop: int) -> Any:
        if self._raw_nb101:
            from ..graph import nb101

            return nb101.random_specs(self.seed, start, stop - start, edge_prob=self.edge_prob)
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


class GpuBackend(CpuBackend):
    """Raw NB101 streams on a CUDA device: each chunk is drawn, validated and canonicalized by one
    kernel (:func:`pyengine.graph.device.nb101_stream_keys`), tallied and de-duplicated against the
    sorted keys seen so far on the device; only the keys met for the first time (at most the
    space's 423,624 over a whole stream) come to the host, where they are encoded and scored by
    the predictor's own program (on the GPU when JAX runs there) and merged into the top-k.
    Streams of NB201 cells or of parents' mutations run the CPU backend's stages.

    A chunk the device has no memory for is halved (and the halves halved) until it fits; the
    smaller size is kept for the chunks after it, so the stream goes on with the same output.
    """

    name = "gpu"

    def __init__(self, space: Any, predictor: Any, *, seed: int, parents: Any = None, edge_prob: float = 0.5) -> None:
        super().__init__(space, predictor, seed=seed, parents=parents, edge_prob=edge_prob)
        self._limit: int | None = None  # the largest chunk the device took, after an out-of-memory
        if self._raw_nb101:
            self.default_chunk = 1 << 22

    # what the device is; a test stands numpy and the host functions in for them
    def _xp(self) -> Any:
        from ..graph import device

        return device._cupy()

    def _device_keys(self, start: int, count: int) -> tuple[Any, Any]:
        from ..graph import device

        return device.nb101_stream_keys(self.seed, start, count, edge_prob=self.edge_prob)

    def _out_of_memory(self) -> tuple[type[BaseException], ...]:
        return (self._xp().cuda.memory.OutOfMemoryError,)

    def _to_host(self, a: Any) -> np.ndarray:
        return np.asarray(self._xp().asnumpy(a))

    def empty_keys(self) -> Any:
        if not self._raw_nb101:
            return super().empty_keys()
        return self._xp().empty(0, dtype=np.int64)

    def _pieces(self, start: int, stop: int) -> list[tuple[Any, Any]]:
        out = []
        lo = start
        while lo < stop:
            step = stop - lo if self._limit is None else min(self._limit, stop - lo)
            try:
                out.append(self._device_keys(lo, step))
            except self._out_of_memory() as err:
                if step <= 1:
                    from ..errors import DeviceUnavailableError

                    raise DeviceUnavailableError(f"the GPU has no memory left even for one candidate ({err})") from None
                self._limit = step // 2
                log.warning("GPU out of memory for %d candidates; going on in chunks of %d", step, self._limit)
                continue
            lo += step
        return out

    def candidates(self, start: int, stop: int, seconds: dict[str, float]) -> tuple[np.ndarray, Any]:
        if not self._raw_nb101:
            return super().candidates(start, stop, seconds)
        xp = self._xp()
        t = time.perf_counter()
        pieces = self._pieces(start, stop)
        width = 1 + len(self.reasons)
        tally = np.zeros(width, dtype=np.int64)
        valid = []
        for status, keys in pieces:
            tally += self._to_host(xp.bincount(status, minlength=width)[:width]).astype(np.int64)
            valid.append(keys[status == 0])
        seconds["process"] += time.perf_counter() - t
        return tally, (valid[0] if len(valid) == 1 else xp.concatenate(valid))

    def dedupe(self, keys: Any, seen: Any) -> tuple[np.ndarray, Any]:
        if not self._raw_nb101:
            return super().dedupe(keys, seen)
        xp = self._xp()
        uniq, first = xp.unique(keys, return_index=True)
        fresh = xp.ones(uniq.shape[0], dtype=bool)
        if seen.shape[0]:
            pos = xp.minimum(xp.searchsorted(seen, uniq), seen.shape[0] - 1)
            fresh = seen[pos] != uniq
        new = keys[xp.sort(first[fresh])]
        merged = xp.sort(xp.concatenate([seen, uniq[fresh]]))
        return self._to_host(new).astype(np.int64), merged


BACKENDS: Registry[Backend] = Registry("pipeline backend")
BACKENDS.register("cpu", "pyengine.pipeline._backend:CpuBackend")
BACKENDS.register("gpu", "pyengine.pipeline._backend:GpuBackend")


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
    """Raise unless CuPy is installed and sees a CUDA device (pyengine.graph.device says which is
    missing), and a GPU backend is registered."""
    from ..errors import DeviceUnavailableError
    from ..graph import device

    device._cupy(needed_by="device='gpu'")
    if "gpu" not in BACKENDS.names():
        raise DeviceUnavailableError(
            "device='gpu': this installation has no GPU backend of the streaming pipeline registered "
            "(pyengine.pipeline.BACKENDS holds only 'cpu')."
        )
