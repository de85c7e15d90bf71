"""Zero-cost scores cached on disk per architecture, so a study computes each score once per
machine: one JSON-lines file per (space, proxy, dataset, batch size, seed) under the cache folder's
``zc`` subfolder, one line ``{"key", "score", "seconds"}`` per architecture labelling (the key
hashes the architecture's arrays, so isomorphic labellings stay apart, as their scores do)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .._batch import batch_len, take
from .._jsonl_cache import append_records, default_cache_dir, read_records
from ..errors import InvalidValueError
from ..spaces import get_space

__all__ = ["CachedScores", "cached_scores", "arch_keys"]

_FORMAT = 1  # bump when a proxy's definition changes: old files are then left alone


class CachedScores(NamedTuple):
    """``scores``: proxy -> array (n_archs,), float64 (-inf where the proxy documents it);
    ``seconds``: proxy -> array (n_archs,), seconds spent on each architecture when it was
    computed (compilation excluded); ``computed``: architectures computed by this call per proxy."""

    scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]
    computed: dict[str, int]


def arch_keys(space: Any, batch: Any) -> list[str]:
    """A key per architecture labelling: a hash of its rows of the batch's arrays."""
    arrays = [np.ascontiguousarray(np.asarray(f)) for f in batch]
    n = batch_len(batch)
    out = []
    for i in range(n):
        h = hashlib.sha1(space.name.encode())
        for a in arrays:
            h.update(a[i].tobytes())
        out.append(h.hexdigest()[:20])
    return out


def cached_scores(
    space: str,
    archs: Any,
    proxies: Sequence[str],
    *,
    dataset: str = "cifar10",
    batch_size: int = 32,
    seed: int = 0,
    chunk: int = 256,
    cache_dir: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> CachedScores:
    """Scores of ``proxies`` on ``archs`` (a batch of ``space`` or its strings) with
    :class:`ProxyScorer` settings ``dataset``, ``batch_size`` (Gaussian-noise input) and ``seed``;
    what the cache lacks is computed ``chunk`` architectures at a time and appended after each
    chunk. ``progress(proxy, done, total)`` is called after each chunk."""
    from ._scorer import PROXIES, ProxyScorer

    sp = get_space(space)
    batch = sp.as_batch(archs)
    n = batch_len(batch)
    if n == 0:
        raise InvalidValueError("cached_scores() got no architectures.")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InvalidValueError(f"The 'chunk' parameter of cached_scores must be an int >= 1. Got {chunk!r}.")
    keys = arch_keys(sp, batch)
    folder = os.path.join(cache_dir or default_cache_dir(), "zc")
    os.makedirs(folder, exist_ok=True)
    scores: dict[str, np.ndarray] = {}
    seconds: dict[str, np.ndarray] = {}
    computed: dict[str, int] = {}
    for proxy in dict.fromkeys(PROXIES.canonical_name(p) for p in proxies):
        path = os.path.join(folder, f"{sp.name}_{proxy}_{dataset}_b{int(batch_size)}_s{int(seed)}_v{_FORMAT}.jsonl")
        have: dict[str, tuple[float, float]] = {}
        for line, rec in enumerate(read_records(path, "zero-cost"), 1):
            try:
                have[str(rec["key"])] = (float(rec["score"]), float(rec["seconds"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidValueError(
                    f"The zero-cost cache {path} is corrupt at line {line}; delete it to compute it again."
                ) from None
        first = {k: i for i, k in reversed(list(enumerate(keys)))}  # each labelling computed once
        todo = sorted(i for k, i in first.items() if k not in have)
        if todo:
            scorer = ProxyScorer(sp.name, [proxy], dataset=dataset, batch_size=batch_size, seed=seed)
            for start in range(0, len(todo), chunk):
                part = np.asarray(todo[start : start + chunk])
                t0 = time.perf_counter()
                got = scorer.score(take(batch, part))[proxy]
                per = (time.perf_counter() - t0 - sum(scorer.compile_seconds.values())) / len(part)
                recs = [
                    {"key": keys[i], "score": float(v), "seconds": max(per, 0.0)}
                    for i, v in zip(part, got, strict=True)
                ]
                append_records(path, recs)
                have.update({r["key"]: (r["score"], r["seconds"]) for r in recs})
                if progress is not None:
                    progress(proxy, start + len(part), len(todo))
        scores[proxy] = np.array([have[k][0] for k in keys])
        seconds[proxy] = np.array([have[k][1] for k in keys])
        computed[proxy] = len(todo)
    return CachedScores(scores, seconds, computed)
