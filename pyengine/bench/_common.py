"""What the bench suites share: the machine a run was measured on, median timings, benchmark
batches and the result file ``{'machine': ..., 'records': [...]}``."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import CliError, InvalidValueError

__all__ = ["baseline_rate", "draw_batch", "load_baselines", "machine_info", "median_time", "write_result"]


def machine_info(jax: bool = False) -> dict[str, Any]:
    """CPU model, cores and software versions of this machine (JAX's too where it is imported,
    or imported here with ``jax=True``).

    Parameters
    ----------
    jax : bool, default False
        Import JAX first, so that its version, backend and device are reported.

    Returns
    -------
    dict
        ``cpu``, ``logical_cores``, ``usable_cores``, ``platform``, ``python``, ``numpy``,
        ``pyengine``, ``md5_backend``, and ``jax``, ``jax_backend``, ``jax_device`` when JAX is
        already imported.
    """
    from .. import __version__
    from ..graph import md5_backend

    if jax:
        import jax as _jax  # noqa: F401  (imported so that _accelerator reports it)

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pyengine": __version__,
        "md5_backend": md5_backend(),
        **_accelerator(),
    }


def print_machine(machine: dict[str, Any], out: Any, details: str | None = None) -> None:
    """The line a bench's table starts with: CPU, usable cores, ``details`` (default: JAX's version
    and backend) and Python."""
    if details is None:
        details = f"jax {machine.get('jax')} ({machine.get('jax_backend')})"
    print(
        f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, {details}, python {machine['python']}",
        file=out,
    )


def _accelerator() -> dict[str, Any]:
    """JAX's backend and device kind, when JAX is already imported (the graph benches never need it)."""
    jax = sys.modules.get("jax")
    if jax is None:
        return {}
    try:
        devices = jax.devices()
        return {"jax": jax.__version__, "jax_backend": jax.default_backend(), "jax_device": devices[0].device_kind}
    except RuntimeError:  # pragma: no cover - a broken plugin: report no device rather than fail the bench
        return {"jax": jax.__version__}


def _load(path: Path, name: str) -> ModuleType:
    """The module ``name`` of the folder ``path`` (a ``--oracles`` override of a baseline)."""
    spec = importlib.util.spec_from_file_location(f"pyengine_bench_oracle_{name}", path / f"{name}.py")
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ImportError(f"cannot load {path / name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_baselines(oracle_dir: str | os.PathLike[str] | None, names: tuple[str, ...]) -> list[ModuleType]:
    """The baseline modules ``names`` of the package (``pyengine.bench._baselines``), or of the
    folder ``oracle_dir`` when given (each ``NAME.py`` must be there)."""
    if oracle_dir is None:
        return [importlib.import_module(f"{__package__}._baselines.{name}") for name in names]
    path = Path(oracle_dir)
    for name in names:
        if not (path / f"{name}.py").is_file():
            raise InvalidValueError(f"--oracles {oracle_dir}: no {name}.py there")
    return [_load(path, name) for name in names]


def median_time(fn: Callable[[], Any], repeats: int, *, warm_up: bool = True) -> float:
    """Median seconds of ``repeats`` calls of ``fn``, after one untimed call unless ``warm_up`` is False."""
    if warm_up:
        fn()  # first-touch allocations, lazily built tables, compilation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def baseline_rate(fn: Callable[[int], int], budget_s: float, repeats: int) -> float:
    """Items/s of a baseline: fn(k) processes k items; the median rate over repeats, each repeat
    running about budget_s seconds."""
    rates = []
    for _ in range(repeats):
        done, t0 = 0, time.perf_counter()
        while True:
            done += fn(done)
            el = time.perf_counter() - t0
            if el >= budget_s:
                break
        rates.append(done / el)
    return statistics.median(rates)


def draw_batch(space: Any, n: int, rng: np.random.Generator) -> Any:
    """n architectures of a space for a benchmark; NB101 draws from the listed space (cheap at any
    size, every cell valid)."""
    if space.name == "nb101":
        from .._batch import take

        everything = space.all()
        return take(everything, rng.integers(0, len(everything.num_vertices), size=n))
    return space.sample(n, rng)


def write_result(result: dict[str, Any], json_out: str | None, out: Any) -> dict[str, Any]:
    """Write a bench result ``{'machine': ..., 'records': [...]}`` to ``json_out`` when given.

    Parameters
    ----------
    result : dict
        The result, JSON-serialisable.
    json_out : str, optional
        The file to write (indented JSON); nothing is written without it.
    out : text stream
        Where the "wrote ..." line goes.

    Returns
    -------
    dict
        ``result`` itself.
    """
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {json_out}", file=out)
    return result


def add_baseline_options(p: Any, ports: str, timed: str) -> None:
    """``--oracles DIR`` (a folder of ``ports`` to time instead of the package's baselines) and
    ``--baseline-seconds S`` (how long ``timed``), for the suites that time a baseline."""
    p.add_argument("--oracles", metavar="DIR", help=f"folder of {ports} to time instead of the package's ports")
    p.add_argument("--baseline-seconds", type=float, default=1.0, metavar="S", help=f"seconds {timed} (default 1)")


def baseline_options(args: Any) -> dict[str, Any]:
    """The runner's ``oracle_dir`` and ``baseline_budget_s`` from :func:`add_baseline_options`'s
    options; CliError for a budget that is not positive."""
    if not args.baseline_seconds > 0:
        raise CliError(f"--baseline-seconds must be positive. Got {args.baseline_seconds}.")
    return {"oracle_dir": args.oracles, "baseline_budget_s": args.baseline_seconds}
