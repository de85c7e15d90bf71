"""The optional Ray backend (``pip install .[ray]``): start or join a cluster, and run independent
units (search runs, evaluator fits, scoring chunks) on it. Everything else in the package runs
embedded, in one process, without Ray."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import RayUnavailableError

__all__ = ["RayUnavailableError", "check_address", "init_ray", "map_unordered"]


def check_address(address: str, timeout: float = 3.0) -> None:
    """Fail within ``timeout`` seconds when nothing listens at a ``HOST:PORT`` Ray address."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise RayUnavailableError(f"The Ray address {address!r} must be 'local' or HOST:PORT.")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except OSError as err:
        raise RayUnavailableError(
            f"The Ray cluster at {address} does not answer ({err.strerror or err}); start it with "
            "`ray start --head` or pass --ray local."
        ) from None


def init_ray(address: str, workers: int | None = None) -> Any:
    """The ``ray`` module, connected: "local" starts a runtime on this machine with ``workers``
    CPUs (default: all); "HOST:PORT" joins a running cluster, checked to answer first."""
    if not isinstance(address, str) or not address:
        raise RayUnavailableError(f"The Ray address must be 'local' or HOST:PORT. Got {address!r}.")
    if address != "local":
        check_address(address)
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "Ray is not installed: pip install 'pyengine-nas[ray]' (or .[ray] from the source)."
        ) from None
    if ray.is_initialized():
        return ray
    common = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    # Ray puts the driver's current directory on its workers' import path. Run from a source
    # checkout of an installed pyengine, that directory's uncompiled pyengine/ would shadow the
    # installed package in the workers: start Ray from the installed package's folder instead.
    here = os.getcwd()
    installed = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shadow = os.path.isdir(os.path.join(here, "pyengine")) and os.path.realpath(here) != os.path.realpath(installed)
    try:
        if shadow:
            os.chdir(installed)
        if address == "local":
            ray.init(num_cpus=workers or os.cpu_count() or 1, **common)
        else:
            ray.init(address=address, **common)
    finally:
        os.chdir(here)
    return ray


def map_unordered(
    address: str, fn: Callable[..., Any], units: Sequence[tuple], *, shared: Any = None, workers: int | None = None
) -> Iterator[tuple[int, Any]]:
    """(index, fn(shared, *unit)) for every unit, in completion order, as Ray tasks (retried when
    their worker dies). ``shared`` goes to the object store once."""
    ray = init_ray(address, workers)
    task = ray.remote(num_cpus=1, max_retries=3)(fn)
    ref = ray.put(shared)
    pending = {task.remote(ref, *u): i for i, u in enumerate(units)}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for d in done:
                yield pending.pop(d), ray.get(d)
    finally:
        for d in pending:
            ray.cancel(d)
