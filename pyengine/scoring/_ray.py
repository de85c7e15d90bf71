"""Scale-out of scoring jobs on Ray (``pip install .[ray]``): chunks dealt to actors that each load
the model or compile the proxy program once and keep it; results come back in input order.

A worker process that dies has its actor restarted by Ray and its chunk retried
(``max_restarts`` / ``max_task_retries``); the driver writes only complete chunks in order, so a
killed driver restarted with ``--resume`` finishes the job (see ``_job``).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._ray import RayUnavailableError, check_address, init_ray
from ..errors import InvalidValueError
from ._job import score_chunk

__all__ = ["ray_executor", "RayUnavailableError", "check_address"]


class _Worker:
    """One process's scorer, kept across chunks (a loaded model, a compiled proxy program)."""

    def __init__(self, scorer: Callable[[Any], Any]) -> None:
        self.scorer = scorer

    def pid(self) -> int:
        return os.getpid()

    def score(self, k: int, archs: Any) -> tuple[int, str]:
        return k, score_chunk(self.scorer, archs)


def ray_executor(
    address: str = "local", *, workers: int | None = None, in_flight: int = 2
) -> Callable[[Callable[[Any], Any], Iterable[tuple[int, Any]]], Iterator[tuple[int, str]]]:
    """An executor for :func:`~pyengine.scoring.score_job` that runs chunks on Ray actors.

    address : "local" starts a Ray runtime on this machine; "HOST:PORT" joins a running cluster
    (checked to answer within seconds first).
    workers : actors (default: the cluster's CPUs)
    in_flight : chunks queued per actor
    """
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InvalidValueError(f"The 'workers' parameter must be a positive int. Got {workers!r} instead.")
    ray = init_ray(address, workers)

    def run(scorer: Callable[[Any], Any], chunks: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, str]]:
        n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor_cls = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)(_Worker)
        actors = [actor_cls.remote(scorer) for _ in range(n)]  # small: inlined, so restarts can rebuild
        run.actors = actors  # type: ignore[attr-defined]
        pending: dict[Any, int] = {}
        ready: dict[int, str] = {}
        order: collections.deque[int] = collections.deque()  # chunks submitted, in input order
        it = iter(chunks)
        exhausted = False
        turn = 0
        try:
            while True:
                while not exhausted and len(pending) < n * in_flight:
                    try:
                        k, archs = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[actors[turn % n].score.remote(k, archs)] = k
                    order.append(k)
                    turn += 1
                if not pending:
                    break
                done, _ = ray.wait(list(pending), num_returns=1)
                for d in done:
                    pending.pop(d)
                    k, text = ray.get(d)
                    ready[k] = text
                while order and order[0] in ready:
                    k = order.popleft()
                    yield k, ready.pop(k)
        finally:
            for a in actors:
                ray.kill(a)

    return run
