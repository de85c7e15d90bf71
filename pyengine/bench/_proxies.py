"""Zero-cost proxy benchmark (``pyengine bench proxies``): seconds per architecture per proxy on
CIFAR shapes (compile time apart), beside NASLib's per-architecture times, for NB201 (default),
NB101 or NB301 (``darts``).

No PyTorch is installed here, so the baseline is NASLib's own figures: the mean seconds per
architecture NASLib records for the NAS-Bench-Suite-Zero architectures (hardware unknown; for NB101
and NB301 the means of the files' own ``time`` fields) and, for NB201, NASLib run on a 2-core CPU
like this one (synflow 0.507 s, jacob_cov with batch 64 0.987 s per architecture).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import numpy as np

from .. import _options
from ..errors import CliError, InvalidValueError
from ._common import machine_info, write_result
from ._suite import BenchSuite

__all__ = ["SUITE", "run_proxies_bench"]

# NASLib's recorded mean seconds per architecture, NB201 CIFAR-10 (batch 32)
NASLIB_RECORDED = {
    "flops": 0.37,
    "params": 0.37,
    "l2_norm": 0.16,
    "synflow": 0.48,
    "nwot": 0.57,
    "jacob_cov": 0.66,
    "snip": 0.66,
    "grad_norm": 0.66,
    "plain": 0.66,
    "epe_nas": 0.66,
    "fisher": 0.69,
    "grasp": 1.37,
}
# NASLib on a 2-core CPU (synflow; jacob_cov at batch 64)
NASLIB_2CORE = {"synflow": 0.507, "jacob_cov": 0.987}


BENCH_SPACES = ("nb201", "nb101", "darts")


def _bench_batch(n_archs: int, space: str = "nb201") -> Any:
    """The first n_archs architectures of the space's NAS-Bench-Suite-Zero file; for NB201 beyond
    its 725, the whole space in order (15,625 cells), repeated if more are asked for (NB101's
    file holds 500 and NB301's 725: more is an error)."""
    from .._batch import batch_len, take
    from ..spaces import get_space
    from ..tables._benchmarks import load_naslib_zc

    table = load_naslib_zc(space=space)
    if n_archs <= len(table):
        return take(table.archs, np.arange(n_archs))
    if space != "nb201":
        raise InvalidValueError(
            f"The {space} NAS-Bench-Suite-Zero file holds {len(table)} architectures; {n_archs} were asked for."
        )
    everything = get_space("nb201").all()
    return take(everything, np.arange(n_archs) % batch_len(everything))


def _recorded_means(space: str) -> dict[str, float]:
    """NASLib's mean recorded seconds per architecture per proxy (our names) for ``space``."""
    if space == "nb201":
        return dict(NASLIB_RECORDED)
    from ..proxies import PROXIES
    from ..tables._files import read_naslib_zc

    rec = read_naslib_zc(space=space)
    out = {}
    for key, t in (rec.times or {}).items():
        if key in PROXIES and np.isfinite(t).any():
            out[PROXIES.canonical_name(key)] = float(np.nanmean(t))
    return out


def run_proxies_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    n_archs: int = 32,
    proxies: list[str] | None = None,
    archs_per_call: list[int] | None = None,
    space: str = "nb201",
    compilation_cache: bool = False,
    workers: int | None = None,
    out: Any = None,
) -> dict:
    """Seconds per architecture of each proxy (and each ``archs_per_call`` when given; default:
    the scorer's own, 1 on CPU and 256 on GPUs), compile time apart, on architectures of
    ``space`` ("nb201", "nb101" or "darts"). With ``compilation_cache``, the persistent
    compilation cache (``$PYENGINE_CACHE_DIR/xla``) is enabled first. ``workers``: the scorer's
    calls in flight at once (default: its own, 2 on CPU)."""
    import jax

    from .._batch import batch_len, take
    from ..proxies import PROXIES, ProxyScorer

    if compilation_cache:
        from .._compile_cache import enable_compilation_cache

        enable_compilation_cache()
    if space not in BENCH_SPACES:
        raise InvalidValueError(f"The 'space' parameter must be one of {list(BENCH_SPACES)}. Got {space!r} instead.")
    out = out or sys.stdout
    batch = _bench_batch(n_archs, space)
    n = batch_len(batch)
    recorded = _recorded_means(space)
    two_core = NASLIB_2CORE if space == "nb201" else {}
    names = [PROXIES.canonical_name(p) for p in proxies] if proxies else PROXIES.names()
    steps: list[int | None] = list(archs_per_call) if archs_per_call else [None]
    workloads = [(name, 64 if name == "jacob_cov" else 32, step) for name in names for step in steps]
    records = []
    device = jax.devices()[0].device_kind
    print(
        f"{space} CIFAR-10 shapes, {n} architectures ({'NAS-Bench-Suite-Zero file' if n <= 725 else 'whole space'}), "
        f"median of {repeats} runs, JAX {jax.default_backend()} ({device})",
        file=out,
    )
    print(
        f"{'proxy':<10}{'batch':>6}{'per call':>9}{'compile s':>10}{'ms/arch':>9}{'archs/s':>9}{'NASLib rec. s':>14}"
        f"{'x':>7}{'NASLib 2-core s':>16}{'x':>7}",
        file=out,
    )
    for name, bs, step in workloads:
        scorer = ProxyScorer(space, [name], batch_size=bs, archs_per_call=step, workers=workers)
        m = n
        sub = batch
        t0 = time.perf_counter()
        scorer.score(take(batch, np.arange(1)))
        compile_s = sum(scorer.compile_seconds.values()) if scorer.compile_seconds else 0.0
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            scorer.score(sub)
            compiled = sum(scorer.compile_seconds.values())  # programs of groups the first cell lacks
            compile_s += compiled
            times.append((time.perf_counter() - t - compiled) / m)
        per = statistics.median(times)
        rec = recorded.get(name)
        two = two_core.get(name)
        row = {
            "space": space,
            "proxy": name,
            "batch_size": bs,
            "archs_per_call": scorer.archs_per_call,
            "workers": scorer.workers,
            "n_archs": m,
            "compile_seconds": compile_s,
            "first_call_seconds": first,
            "seconds_per_arch": per,
            "archs_per_second": 1.0 / per,
            "naslib_recorded_seconds_per_arch": rec,
            "speedup_vs_naslib_recorded": None if rec is None else rec / per,
            "naslib_2core_seconds_per_arch": two,
            "speedup_vs_naslib_2core": None if two is None else two / per,
        }
        records.append(row)
        f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
        print(
            f"{name:<10}{bs:>6}{scorer.archs_per_call:>9}{compile_s:>10.1f}{per * 1e3:>9.2f}{1.0 / per:>9.0f}"
            f"{f(rec):>14}{f(row['speedup_vs_naslib_recorded'], 1):>7}"
            f"{f(two, 3):>16}{f(row['speedup_vs_naslib_2core'], 1):>7}",
            file=out,
            flush=True,
        )
    return write_result({"machine": machine_info(), "records": records}, json_out, out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--space", default="nb201", choices=list(BENCH_SPACES), help="search space (default nb201)")
    p.add_argument("--proxies", help="comma-separated names (default: all)")
    p.add_argument(
        "--archs",
        type=_options.positive,
        default=32,
        help="architectures timed (NB201 beyond the file's 725: the whole space in order)",
    )
    p.add_argument(
        "--archs-per-call",
        metavar="N,N",
        help="architectures per compiled call, each timed (default: 1 on CPU, 256 on GPUs)",
    )
    p.add_argument("--workers", type=_options.positive, help="compiled calls in flight at once (default 2 on CPU)")
    p.add_argument("--no-cache", action="store_true", help="no persistent compilation cache (cold compiles)")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    names = None
    if args.proxies:
        names = [p.strip() for p in args.proxies.split(",") if p.strip()]
        if not names:
            raise CliError("--proxies names no proxy")
        if names == ["all"]:
            names = None
    steps = None
    if args.archs_per_call:
        steps = _options.int_list(args.archs_per_call, "--archs-per-call", positive=True)
    return {
        "n_archs": args.archs,
        "proxies": names,
        "archs_per_call": steps,
        "space": args.space,
        "compilation_cache": not args.no_cache,
        "workers": args.workers,
    }


SUITE = BenchSuite(
    run=run_proxies_bench,
    summary="zero-cost proxies: seconds per architecture per proxy",
    description=(
        "Milliseconds per architecture and architectures per second of each zero-cost proxy (and each "
        "--archs-per-call) on the space's NAS-Bench-Suite-Zero architectures at CIFAR shapes, compile "
        "apart, beside NASLib's recorded times (NB201: reference means and 2-core times; NB301: the file's "
        "own mean times; NB101's file records none)."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
