"""Encoding microbenchmarks (``pyengine bench encode``): archs/s per space and encoding for
batches of 10k and 1M, beside a per-architecture Python encoder timed in the same run (the
brute-force encoders of ``pyengine.bench._baselines.encodings``, also the test oracles) and
NASLib's figures for this machine."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from .. import _options
from ._common import (
    add_baseline_options,
    baseline_options,
    draw_batch,
    load_baselines,
    machine_info,
    print_machine,
    write_result,
)
from ._suite import BenchSuite

__all__ = ["NASLIB_REFERENCE", "SUITE", "run_encode_bench"]

# NASLib's own encoders, archs/s, as measured on this benchmark machine (the project's issue
# tracker); printed as a reference column, not measured by this run.
NASLIB_REFERENCE = {
    ("nb201", "path"): 178_000,
    ("nb201", "gcn"): 60_000,
    ("nb101", "path"): 63_000,
    ("nb101", "gcn"): 73_000,
}

WORKLOADS = [
    ("nb101", "path"),
    ("nb101", "path_trunc"),
    ("nb101", "adjacency_one_hot"),
    ("nb101", "gcn"),
    ("nb201", "path"),
    ("nb201", "adjacency_one_hot"),
    ("nb201", "gcn"),
    ("darts", "path"),
    ("darts", "adjacency_one_hot"),
    ("darts", "gcn"),
    ("macro", "adjacency_one_hot"),
]
STREAM_BYTES = 2 << 30  # outputs larger than this are produced in chunks and dropped
STREAM_CHUNK = 8_192


def _baseline(oracle: Any, space: Any, enc: str, batch: Any, budget_s: float) -> float | None:
    from .._batch import batch_len

    if enc == "path" and space.name == "nb101":

        def one(i: int) -> Any:
            n = int(batch.num_vertices[i])
            return oracle.nb101_path_encoding(batch.matrices[i, :n, :n], batch.labels[i, :n].tolist())
    elif enc == "adjacency_one_hot" and space.name == "nb101":

        def one(i: int) -> Any:
            n = int(batch.num_vertices[i])
            return oracle.nb101_adjacency_one_hot(batch.matrices[i, :n, :n], batch.labels[i, :n].tolist())
    elif enc == "path" and space.name == "nb201":

        def one(i: int) -> Any:
            return oracle.nb201_path_encoding(batch.ops[i].tolist())
    elif enc == "path" and space.name == "darts":

        def one(i: int) -> Any:
            return oracle.darts_path_encoding(batch.cells[i])
    else:
        return None
    total = batch_len(batch)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget_s:
        one(done % total)
        done += 1
    return done / (time.perf_counter() - t0)


def run_encode_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    sizes: tuple[int, ...] = (10_000, 1_000_000),
    oracle_dir: str | os.PathLike[str] | None = None,
    baseline_budget_s: float = 1.0,
    out: Any = None,
) -> dict[str, Any]:
    """Time every encoding workload beside the per-architecture Python encoders; print a table.

    Parameters
    ----------
    json_out : str, optional
        Write the result there as JSON.
    repeats : int, default 3
        Timed repeats per workload and size (the median is reported).
    sizes : tuple of int, default (10000, 1000000)
        Batch sizes; outputs over 2 GiB are produced in chunks and dropped.
    oracle_dir : str or path-like, optional
        A folder holding ``encodings.py`` to time instead of the package's encoders.
    baseline_budget_s : float, default 1.0
        Seconds each Python encoder runs.
    out : text stream, optional
        Where the table goes (default: stdout).

    Returns
    -------
    dict
        ``{'machine': ..., 'records': [...]}``; each record holds ``space``, ``encoding``, ``n``,
        ``dims``, ``per_second``, ``baseline_per_second`` (None where no Python encoder exists),
        ``ratio``, ``naslib_reference_per_second``, ``first_call_seconds``, ``wall_seconds``.
    """

    from .._batch import batch_len, take
    from ..encodings import ENCODINGS
    from ..spaces import get_space

    out = out or sys.stdout
    machine = machine_info(jax=True)
    (oracle,) = load_baselines(oracle_dir, ("encodings",))
    records: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)
    for space_name, enc in WORKLOADS:
        space = get_space(space_name)
        fn = ENCODINGS.get(enc)
        big = draw_batch(space, max(sizes), rng)
        t0 = time.perf_counter()
        first = fn(space, take(big, np.arange(min(sizes))))  # compiles the buckets this size uses
        compile_s = time.perf_counter() - t0
        dims = int(np.prod(first[0].shape[1:] if isinstance(first, tuple) else first.shape[1:]))
        base = _baseline(oracle, space, enc, big, baseline_budget_s)
        for n in sizes:
            batch = take(big, np.arange(n))
            streamed = n * dims * 4 > STREAM_BYTES

            def work(batch: Any = batch, streamed: bool = streamed, fn: Any = fn, space: Any = space) -> None:
                if not streamed:
                    fn(space, batch)
                    return
                for s in range(0, batch_len(batch), STREAM_CHUNK):
                    fn(space, take(batch, np.arange(s, min(batch_len(batch), s + STREAM_CHUNK))))

            work()  # warm-up: every bucket this size uses is compiled
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                work()
                times.append(time.perf_counter() - t)
            wall = statistics.median(times)
            rate = n / wall
            records.append(
                {
                    "name": "encode",
                    "space": space_name,
                    "encoding": enc,
                    "n": n,
                    "dims": dims,
                    "per_second": rate,
                    "wall_seconds": wall,
                    "first_call_seconds": compile_s,
                    "baseline_per_second": base,
                    "ratio": rate / base if base else None,
                    "naslib_reference_per_second": NASLIB_REFERENCE.get((space_name, enc)),
                    "streamed": streamed,
                    "repeats": repeats,
                    "unit": "archs/s",
                }
            )
            _print_row(records[-1], out, header=len(records) == 1, machine=machine)
    print(
        "medians of repeated runs after warm-up; python = per-architecture brute-force encoder, same run; "
        "naslib = NASLib's encoders as reported for this machine (not measured here); "
        "* = output produced in 8,192-row chunks and dropped",
        file=out,
    )
    return write_result({"machine": machine, "records": records}, json_out, out)


def _print_row(r: dict[str, Any], out: Any, *, header: bool, machine: dict[str, Any]) -> None:
    if header:
        print_machine(machine, out)
        head = (
            f"{'space':<7}{'encoding':<19}{'n':>10}{'archs/s':>14}{'python/s':>11}{'ratio':>9}"
            f"{'naslib/s':>10}{'1st call s':>11}"
        )
        print(head, file=out)
        print("-" * len(head), file=out)
    base = f"{r['baseline_per_second']:,.0f}" if r["baseline_per_second"] else "n/a"
    ratio = f"{r['ratio']:,.0f}x" if r["ratio"] else "n/a"
    ref = f"{r['naslib_reference_per_second']:,}" if r["naslib_reference_per_second"] else "n/a"
    star = "*" if r["streamed"] else ""
    print(
        f"{r['space']:<7}{r['encoding']:<19}{r['n']:>10,}{r['per_second']:>13,.0f}{star:1}{base:>11}{ratio:>9}{ref:>10}"
        f"{r['first_call_seconds']:>11.2f}",
        file=out,
        flush=True,
    )


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N,N", help="batch sizes (default 10000,1000000)")
    add_baseline_options(p, "an encodings.py", "each Python encoder runs")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    sizes = _options.int_list(args.sizes, "--sizes", positive=True) if args.sizes else [10_000, 1_000_000]
    return {"sizes": tuple(sizes), **baseline_options(args)}


SUITE = BenchSuite(
    run=run_encode_bench,
    summary="encodings: archs/s per space and encoding",
    description=(
        "Architectures encoded per second for each space and encoding (path, path_trunc, adjacency_one_hot, "
        "gcn on nb101, nb201, darts, macro), first call (compilation) apart, beside a per-architecture "
        "Python encoder timed in the same run and NASLib's figures for this machine."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
