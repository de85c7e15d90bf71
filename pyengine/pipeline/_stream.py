"""The streaming pipeline's driver: chunks of candidates through sample -> validate/prune ->
canonicalize and de-duplicate -> encode -> predict -> running top-k, on a backend of
:mod:`pyengine.pipeline._backend`."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_int, message
from ..errors import InvalidTypeError, InvalidValueError
from ._backend import BACKENDS, SPACES, resolve_device

__all__ = ["STAGES", "StreamResult", "StreamStats", "stream_top_k"]

log = logging.getLogger(__name__)

STAGES = ("sample", "process", "dedupe", "encode", "predict", "topk")
_OWNER = "stream_top_k"


@dataclasses.dataclass(frozen=True)
class StreamStats:
    """What a stream did.

    Attributes
    ----------
    space, device : str; the space and the backend that ran ("cpu" or "gpu")
    generated : int; candidates drawn (``n``)
    valid : int; candidates the space's validation accepted
    invalid : dict of str -> int; rejected candidates per reason (NB101: ``nb101.REASONS``)
    unique : int; valid candidates whose canonical key had not been met before in the stream
    duplicates : int; valid candidates dropped as isomorphs of an earlier one (valid - unique)
    scored : int; candidates the predictor scored (equals unique)
    chunks : int; chunks processed
    chunk_size : int; candidates per chunk
    seconds : dict of str -> float; seconds spent in each stage of ``STAGES`` (raw NB101 specs are
        drawn and validated in one pass, counted under ``process``)
    total_seconds : float; wall time of the stream
    """

    space: str
    device: str
    generated: int
    valid: int
    invalid: dict[str, int]
    unique: int
    duplicates: int
    scored: int
    chunks: int
    chunk_size: int
    seconds: dict[str, float]
    total_seconds: float

    @property
    def archs_per_second(self) -> float:
        """Candidates generated per second, end to end."""
        return self.generated / self.total_seconds if self.total_seconds > 0 else 0.0

    def shares(self) -> dict[str, float]:
        """Each stage's share of the time spent in stages (sums to 1 when any time was spent)."""
        total = sum(self.seconds.values())
        return {s: (t / total if total > 0 else 0.0) for s, t in self.seconds.items()}

    def as_dict(self) -> dict[str, Any]:
        """The statistics as a JSON-ready dict, with ``archs_per_second`` and ``shares``."""
        return {**dataclasses.asdict(self), "archs_per_second": self.archs_per_second, "shares": self.shares()}


class StreamResult(NamedTuple):
    """The running top-k at the end of a stream, best first.

    Attributes
    ----------
    keys : array of shape (k',), int64; canonical keys (k' = min(k, stats.unique))
    scores : array of shape (k',), float64; predicted scores, descending (ties by key ascending)
    archs : list of k' str; the space's string form of each (NB101: official module hash, NB201:
        arch string), as ``pyengine score`` writes it
    stats : StreamStats
    """

    keys: np.ndarray
    scores: np.ndarray
    archs: list[str]
    stats: StreamStats

    def records(self) -> list[dict[str, Any]]:
        """One dict per architecture, best first: ``{"rank", "arch", "score", "key"}``."""
        return [
            {"rank": i + 1, "arch": a, "score": float(s), "key": int(key)}
            for i, (a, s, key) in enumerate(zip(self.archs, self.scores, self.keys, strict=True))
        ]


def _predictor(predictor: Any, space: Any) -> Any:
    """A fitted predictor for ``space``: the object itself, or the model file loaded."""
    if isinstance(predictor, (str, os.PathLike)):
        from ..scoring import ModelScorer

        return ModelScorer(os.fspath(predictor), space.name).estimator()
    if not callable(getattr(predictor, "predict", None)):
        raise InvalidTypeError(
            message("predictor", _OWNER, "a fitted predictor (with predict) or a model file path", type(predictor))
        )
    fitted = getattr(predictor, "__sklearn_is_fitted__", None)
    if callable(fitted) and not fitted():
        raise InvalidValueError(
            f"The 'predictor' parameter of {_OWNER} must be fitted: this {type(predictor).__name__} is not fitted "
            "yet; call fit(X, y) first."
        )
    from ..predictors import get_tags

    if get_tags(predictor).needs_curves:
        raise InvalidValueError(
            f"The 'predictor' parameter of {_OWNER} must score architectures alone; {type(predictor).__name__} "
            "needs learning curves."
        )
    fitted_on = getattr(predictor, "space_name_", None)
    declared = getattr(predictor, "space", None)
    if fitted_on is None and declared is not None:
        from ..spaces import get_space

        fitted_on = get_space(declared).name
    if fitted_on is not None and fitted_on != space.name:
        raise InvalidValueError(
            f"The 'predictor' parameter of {_OWNER} was fitted on {fitted_on} architectures; the stream draws "
            f"{space.name}."
        )
    return predictor


def stream_top_k(
    space: Any,
    predictor: Any,
    n: int,
    *,
    k: int,
    seed: int,
    chunk_size: int | None = None,
    device: str = "auto",
    parents: Any = None,
    edge_prob: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StreamResult:
    """Stream ``n`` random candidates of a space through a fitted predictor and keep the ``k`` best.

    Each chunk of ``chunk_size`` candidates is drawn (or mutated from ``parents``), validated and
    pruned, canonicalized; candidates whose canonical key was met before in the stream are
    dropped; the rest are encoded, scored, and merged into the running top-k. The result depends
    only on the arguments, not on ``chunk_size``: the candidates are a pure function of ``seed``
    (blocks of ``pyengine.pipeline.BLOCK``), ties are broken by canonical key, and each cell is
    scored once (for a predictor whose score of a cell does not depend on the rest of its batch,
    as the GCN's bucketed inference does not).

    Parameters
    ----------
    space : str or SearchSpace; "nb101" or "nb201"
    predictor : fitted predictor, or a model file path (``predictor.save`` / ``pyengine fit --save``)
        Anything with ``predict(X) -> array of shape (n,)`` fitted on this space.
    n : int >= 0; candidates drawn
    k : int >= 1; architectures kept
    seed : int >= 0; the stream's seed
    chunk_size : int >= 1, optional; candidates per chunk (memory and speed, not results); by
        default the backend's: 65,536 for raw NB101 specs on the CPU, 4,194,304 on the GPU, 4,096
        otherwise
    device : "auto", "cpu" or "gpu", default "auto"
        "gpu" raises :class:`~pyengine.errors.DeviceUnavailableError` (or
        :class:`~pyengine.errors.MissingDependencyError` without CuPy) where it cannot run; "auto"
        falls back to the CPU.
    parents : architectures of the space, optional
        Mutate instead of sampling: each candidate is one random edit (``SearchSpace.mutate``) of a
        parent drawn uniformly from these (any form ``SearchSpace.as_batch`` reads).
    edge_prob : float in [0, 1], optional
        NB101 sampling: probability of each upper-triangular edge (default 0.5, the official
        ``random_spec``, with interior ops uniform over the three).
    progress : callable (done, n) -> None, optional; called after each chunk

    Returns
    -------
    StreamResult
        ``keys`` (k',), ``scores`` (k',), ``archs`` and ``stats``.
    """
    from ..spaces import get_space

    sp = get_space(space)
    if sp.name not in SPACES:
        raise InvalidValueError(message("space", _OWNER, f"one of {', '.join(SPACES)}", sp.name))
    n = check_int(n, "n", _OWNER, minimum=0)
    k = check_int(k, "k", _OWNER)
    seed = check_int(seed, "seed", _OWNER, minimum=0)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", _OWNER)
    backend_name = resolve_device(device)
    if edge_prob is not None:
        ok = isinstance(edge_prob, (int, float, np.integer, np.floating)) and not isinstance(edge_prob, bool)
        if not ok or not 0.0 <= float(edge_prob) <= 1.0:
            raise InvalidValueError(message("edge_prob", _OWNER, "a float in [0, 1]", edge_prob))
        if sp.name != "nb101" or parents is not None:
            raise InvalidValueError(
                f"The 'edge_prob' parameter of {_OWNER} applies to sampling NB101 specs only, not to "
                f"{'mutating parents' if parents is not None else sp.name}."
            )
    if parents is not None:
        parents = sp.as_batch(parents)
    est = _predictor(predictor, sp)
    be = BACKENDS.get(backend_name)(
        sp, est, seed=seed, parents=parents, edge_prob=0.5 if edge_prob is None else float(edge_prob)
    )
    if chunk_size is None:
        chunk_size = be.default_chunk
    reasons = tuple(be.reasons)
    seconds = dict.fromkeys(STAGES, 0.0)
    tally = np.zeros(1 + len(reasons), dtype=np.int64)
    seen = be.empty_keys()
    best_keys, best_scores = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    chunks = 0
    t_start = time.perf_counter()
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        counts, valid_keys = be.candidates(start, stop, seconds)
        tally += counts
        t = time.perf_counter()
        new, seen = be.dedupe(valid_keys, seen)
        t, seconds["dedupe"] = _lap(t, seconds["dedupe"])
        if len(new):
            inputs = be.encode(new)
            t, seconds["encode"] = _lap(t, seconds["encode"])
            scores = be.predict(inputs)
            t, seconds["predict"] = _lap(t, seconds["predict"])
            _check_scores(scores, new, be)
            best_keys, best_scores = be.topk(new, scores, best_keys, best_scores, k)
            t, seconds["topk"] = _lap(t, seconds["topk"])
        chunks += 1
        if progress is not None:
            progress(stop, n)
    archs = be.archs(best_keys)
    total = time.perf_counter() - t_start
    valid = int(tally[0])
    unique = int(seen.shape[0])
    stats = StreamStats(
        space=sp.name,
        device=backend_name,
        generated=n,
        valid=valid,
        invalid={r: int(c) for r, c in zip(reasons, tally[1:], strict=True)},
        unique=unique,
        duplicates=valid - unique,
        scored=unique,
        chunks=chunks,
        chunk_size=chunk_size,
        seconds=seconds,
        total_seconds=total,
    )
    log.info("streamed %d %s candidates: %d valid, %d unique, %.2f s", n, sp.name, valid, unique, total)
    return StreamResult(best_keys, best_scores, archs, stats)


def _lap(t: float, acc: float) -> tuple[float, float]:
    now = time.perf_counter()
    return now, acc + (now - t)


def _check_scores(scores: np.ndarray, keys: np.ndarray, be: Any) -> None:
    if scores.shape != keys.shape:
        raise InvalidValueError(
            f"The predictor returned {scores.shape[0] if scores.ndim else 'a scalar'} scores for {len(keys)} "
            "architectures; it must return one per architecture."
        )
    bad = ~np.isfinite(scores)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        arch = be.archs(keys[first : first + 1])[0]
        raise InvalidValueError(
            f"The predictor returned {int(bad.sum())} non-finite score(s) (the first, {scores[first]!r}, for {arch}); "
            "a top-k over NaN is meaningless, so the stream stops."
        )
