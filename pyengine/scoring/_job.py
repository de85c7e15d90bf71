"""Whole-space scoring jobs: architectures in chunks, results streamed to a JSON-lines file in input
order, a checkpoint after every chunk, and resumption of a killed run.

Output: one line ``{"arch": STRING, "score": FLOAT, "std": FLOAT | null}`` per architecture, in the
order of the input (or of the space's listing for ``--all``). ``std`` is a number only where the
model has an uncertainty (``has_uncertainty``: e.g. an ensemble of 2+ members, a Gaussian
process); null for a proxy or a model without one, such as a neural predictor with n_ensemble=1.

Checkpoint: ``OUT.ckpt`` beside the output, JSON::

    {"format": "pyengine-score-checkpoint", "version": 1, "job": {...}, "chunk_size": 4096,
     "chunks_done": 12, "lines": 49152, "bytes": 5242880, "complete": false}

``job`` identifies the work (space, input, model file digest or proxy settings); the checkpoint
is replaced atomically after each chunk's lines are flushed and synced, so a killed run leaves at
most one partial chunk past ``bytes``, which a resumed run cuts off before going on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .._io import atomic_write, json_record
from ..errors import CheckpointError, InvalidValueError
from ..predictors._base import get_tags

__all__ = [
    "CheckpointError",
    "ScoreSource",
    "ModelScorer",
    "ProxyScoreFn",
    "score_job",
    "checkpoint_path",
    "DEFAULT_CHUNK",
]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "pyengine-score-checkpoint"
CHECKPOINT_VERSION = 1
DEFAULT_CHUNK = 4096


def checkpoint_path(out: str | os.PathLike) -> str:
    return os.fspath(out) + ".ckpt"


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- what is scored -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreSource:
    """The architectures of a job: the whole space (``path=None``) or a JSON-lines file of
    records (``{"arch": ...}`` or any record the space reads), chunked in order."""

    space: str
    path: str | None = None

    def describe(self) -> dict[str, Any]:
        if self.path is None:
            return {"space": self.space, "input": "all"}
        p = os.path.abspath(self.path)
        return {"space": self.space, "input": p, "input_bytes": os.path.getsize(p)}

    def total(self) -> int | None:
        """Number of architectures when known without reading the input."""
        if self.path is None:
            from ..spaces import get_space

            return int(get_space(self.space).size)
        return None

    def chunks(self, chunk_size: int, skip: int = 0) -> Iterator[tuple[int, Any]]:
        """(chunk index, records or batch) from chunk ``skip`` on. The space is listed, or the
        input opened, at the call, so a source that cannot be read fails before any output."""
        from .._batch import batch_len, take
        from ..spaces import get_space

        space = get_space(self.space)
        if self.path is None:
            everything = space.all()  # spaces too large to list raise here
            n = batch_len(everything)

            def listed() -> Iterator[tuple[int, Any]]:
                for k, start in enumerate(range(0, n, chunk_size)):
                    if k >= skip:
                        yield k, take(everything, np.arange(start, min(n, start + chunk_size)))

            return listed()
        try:
            fh = open(self.path, encoding="utf-8")
        except OSError as err:
            raise InvalidValueError(f"Cannot read {self.path}: {err.strerror}.") from None
        return _jsonl_chunks(fh, self.path, chunk_size, skip)


@dataclass(frozen=True)
class _Lines:
    """A chunk of a JSON-lines input, unparsed (workers parse it): its lines and where they start."""

    path: str
    first_line: int
    lines: tuple[str, ...]

    def records(self) -> list[dict]:
        out = []
        for i, line in enumerate(self.lines):
            out.append(json_record(line, f"{self.path}, line {self.first_line + i}"))
        return out


def _jsonl_chunks(fh: IO[str], path: str, chunk_size: int, skip: int) -> Iterator[tuple[int, _Lines]]:
    with fh:
        lines: list[str] = []
        first = 1
        k = seen = 0
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if not lines:
                first = lineno
            seen += 1
            lines.append(line)
            if len(lines) == chunk_size:
                if k >= skip:  # chunks already done are only counted
                    yield k, _Lines(path, first, tuple(lines))
                lines, k = [], k + 1
        if lines:
            yield k, _Lines(path, first, tuple(lines))
        if seen == 0:
            raise InvalidValueError(f"{path} holds no architectures (empty input).")


def _batch(space: Any, archs: Any) -> Any:
    """A batch of ``space`` from a chunk: a batch, or unparsed JSON lines."""
    return space.as_batch(archs.records() if isinstance(archs, _Lines) else archs)


# -- scorers: picklable callables chunk -> (strings, scores, stds) --------------------------------
class ModelScorer:
    """Scores of a saved predictor (``predictor.save``), loaded once per process."""

    def __init__(self, path: str, space: str) -> None:
        from ..predictors import read_header

        self.path = os.path.abspath(path)
        head = read_header(self.path)
        if head.get("space") is None:
            raise InvalidValueError(
                f"The model {path} was fitted on encoded features, not on architectures of a space; "
                "fit it on architectures (pyengine fit) to score a space."
            )
        from ..spaces import get_space

        want = get_space(space).name
        if head["space"] != want:
            raise InvalidValueError(f"The model {path} was fitted on {head['space']} architectures, not {want}.")
        from ..predictors._persist import header_space

        own = header_space(head)
        if not isinstance(own, str) and own != get_space(want):
            raise InvalidValueError(
                f"The model {path} was fitted on a space of its own ({own!r}), not the registered {want!r}; "
                "score it from Python: pyengine.load(path).predict(archs)."
            )
        self.space = want
        self.header = {k: head.get(k) for k in ("predictor", "space", "encoding", "pyengine_version")}
        self.sha256 = _digest(self.path)
        self._est: Any = None

    def describe(self) -> dict[str, Any]:
        return {"model_sha256": self.sha256, **self.header}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_est": None}  # workers load the file themselves

    def estimator(self) -> Any:
        """The fitted predictor of the file, loaded on first use (the file must not have changed
        since this scorer read its header)."""
        if self._est is None:
            from ..predictors._persist import load_predictor

            if _digest(self.path) != self.sha256:
                raise InvalidValueError(f"The model file {self.path} changed during the job.")
            self._est = load_predictor(self.path)
        return self._est

    def __call__(self, archs: Any) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        from ..spaces import get_space

        self.estimator()
        space = get_space(self.space)
        batch = _batch(space, archs)
        if get_tags(self._est).has_std:
            mean, std = self._est.predict(batch, return_std=True)
        else:
            mean, std = self._est.predict(batch), None
        return space.to_strings(batch), np.asarray(mean, np.float64), std


class ProxyScoreFn:
    """Scores of one zero-cost proxy (``pyengine.proxies``); no std."""

    def __init__(self, proxy: str, space: str, **scorer_kwargs: Any) -> None:
        from ..proxies import PROXIES
        from ..spaces import get_space

        self.proxy = PROXIES.canonical_name(proxy)
        self.space = get_space(space).name
        self.kwargs = scorer_kwargs
        self._scorer: Any = None
        bad = [k for k in scorer_kwargs if k in ("images", "labels")]
        if bad:
            raise InvalidValueError("Whole-space proxy jobs take noise inputs only (seed, batch_size, dataset).")

    def describe(self) -> dict[str, Any]:
        return {"proxy": self.proxy, **{k: v for k, v in sorted(self.kwargs.items())}}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scorer": None}

    def __call__(self, archs: Any) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        from ..proxies import ProxyScorer
        from ..spaces import get_space

        if self._scorer is None:
            self._scorer = ProxyScorer(self.space, [self.proxy], **self.kwargs)
        space = get_space(self.space)
        batch = _batch(space, archs)
        return space.to_strings(batch), self._scorer.score(batch)[self.proxy], None


def _lines(result: tuple[list[str], np.ndarray, np.ndarray | None]) -> str:
    strings, mean, std = result
    if len(mean) != len(strings) or not np.all(np.isfinite(mean) | np.isinf(mean)):
        raise InvalidValueError("The scorer returned NaN scores.")
    out = []
    for i, s in enumerate(strings):
        sd = None if std is None else float(std[i])
        out.append(json.dumps({"arch": s, "score": float(mean[i]), "std": sd}) + "\n")
    return "".join(out)


def score_chunk(scorer: Callable[[Any], Any], archs: Any) -> str:
    """The output lines of one chunk (what a worker computes)."""
    return _lines(scorer(archs))


# -- the job --------------------------------------------------------------------------------------
def _read_checkpoint(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            ck = json.load(fh)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(
            f"The checkpoint {path} cannot be read ({err}); remove it and the output to restart."
        ) from None
    need = {"format", "version", "job", "chunk_size", "chunks_done", "lines", "bytes", "complete"}
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT or not need <= set(ck):
        raise CheckpointError(f"{path} is not a pyengine scoring checkpoint (fields missing).")
    if ck["version"] != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ck['version']}; this pyengine reads version 1.")
    ints = ("chunk_size", "chunks_done", "lines", "bytes")
    if not all(isinstance(ck[k], int) and ck[k] >= 0 for k in ints) or ck["chunk_size"] < 1:
        raise CheckpointError(f"{path} holds invalid counts.")
    return ck


def _write_checkpoint(path: str, ck: dict[str, Any]) -> None:
    with atomic_write(path, fsync=True) as fh:
        json.dump(ck, fh, indent=1)


Executor = Callable[[Callable[[Any], Any], Iterable[tuple[int, Any]]], Iterator[tuple[int, str]]]


def local_executor(scorer: Callable[[Any], Any], chunks: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, str]]:
    """Chunks scored one after another in this process."""
    for k, archs in chunks:
        yield k, score_chunk(scorer, archs)


def score_job(
    source: ScoreSource,
    scorer: Any,
    out: str,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    resume: bool = False,
    executor: Executor | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Score every architecture of ``source`` into ``out`` (JSON lines, input order).

    An existing ``out`` is refused unless ``resume``; with ``resume`` the checkpoint must belong to
    the same job (space, input, model digest or proxy settings, chunk size). Returns
    ``{"lines", "seconds", "archs_per_second", "resumed_from"}`` (the counts of this run).
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidValueError(f"The 'chunk_size' parameter must be a positive int. Got {chunk_size!r} instead.")
    ckpt = checkpoint_path(out)
    job = {**source.describe(), **scorer.describe()}
    exists, has_ckpt = os.path.exists(out), os.path.exists(ckpt)
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "job": job,
        "chunk_size": chunk_size,
        "chunks_done": 0,
        "lines": 0,
        "bytes": 0,
        "complete": False,
    }
    if not resume and (exists or has_ckpt):
        what = out if exists else ckpt
        raise FileExistsError(f"{what} exists; pass --resume to continue that job, or remove it to start again.")
    if resume and has_ckpt:
        ck = _read_checkpoint(ckpt)
        if ck["job"] != json.loads(json.dumps(job)) or ck["chunk_size"] != chunk_size:
            diff = sorted(k for k in set(job) | set(ck["job"]) if job.get(k) != ck["job"].get(k))
            if ck["chunk_size"] != chunk_size:
                diff.append("chunk_size")
            raise CheckpointError(f"The checkpoint {ckpt} belongs to another job (differs in {', '.join(diff)}).")
        size = os.path.getsize(out) if exists else -1
        if size < ck["bytes"]:
            raise CheckpointError(
                f"{out} is shorter ({max(size, 0)} bytes) than its checkpoint records ({ck['bytes']}): the output "
                "was changed or removed; remove both to start again."
            )
        state = ck
    elif resume and exists:
        raise CheckpointError(f"{out} exists but has no checkpoint {ckpt}: nothing says which lines are complete.")
    if state["complete"]:
        log.info("%s is already complete (%d lines)", out, state["lines"])
        return {"lines": 0, "total_lines": state["lines"], "seconds": 0.0, "archs_per_second": 0.0, "resumed_from": 0}
    resumed_from = state["lines"]
    chunks = source.chunks(chunk_size, skip=state["chunks_done"])  # an unreadable source fails here
    total = source.total()
    mode = "r+" if os.path.exists(out) else "w"
    t0 = time.perf_counter()
    done = 0
    fh: IO[bytes]
    with open(out, mode + "b") as fh:
        fh.seek(state["bytes"])
        fh.truncate()  # a partial chunk after the last checkpoint goes
        _write_checkpoint(ckpt, state)
        run = executor or local_executor
        expect = state["chunks_done"]
        for k, text in run(scorer, chunks):
            if k != expect:
                raise RuntimeError(f"Chunk {k} arrived where chunk {expect} was due.")
            fh.write(text.encode())
            fh.flush()
            os.fsync(fh.fileno())
            n = text.count("\n")
            state["chunks_done"] += 1
            state["lines"] += n
            state["bytes"] = fh.tell()
            _write_checkpoint(ckpt, state)
            expect += 1
            done += n
            if progress is not None:
                progress(state["lines"], total)
    state["complete"] = True
    _write_checkpoint(ckpt, state)
    seconds = time.perf_counter() - t0
    return {
        "lines": done,
        "total_lines": state["lines"],
        "seconds": seconds,
        "archs_per_second": done / seconds if seconds > 0 else 0.0,
        "resumed_from": resumed_from,
    }
