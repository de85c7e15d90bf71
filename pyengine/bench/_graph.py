"""Graph-core microbenchmarks (``pyengine bench graph``), each beside a pure-Python port of the
official algorithm timed in the same run. The ports ship with the package
(``pyengine.bench._baselines``, also the test oracles of ``tests/``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from .. import _options
from ._common import (
    add_baseline_options,
    baseline_options,
    baseline_rate,
    load_baselines,
    machine_info,
    median_time,
    print_machine,
    write_result,
)
from ._suite import BenchSuite

__all__ = ["SUITE", "run_graph_bench"]


def _count_full_dags() -> dict[int, int]:
    """Number of bit patterns per vertex count that the official generator keeps (full DAGs of at
    most 9 edges), computed with numpy."""
    counts = {}
    for v in range(2, 8):
        e = v * (v - 1) // 2
        bits = np.arange(2**e, dtype=np.uint32)
        xs, ys = np.triu_indices(v, k=1)
        # order edges by official bit number y*(y-1)/2 + x
        order = np.argsort(ys * (ys - 1) // 2 + xs)
        xs, ys = xs[order], ys[order]
        edge = ((bits[:, None] >> np.arange(e, dtype=np.uint32)[None, :]) & 1).astype(bool)
        ok = edge.sum(axis=1) <= 9
        for u in range(v):
            if u < v - 1:
                ok &= edge[:, xs == u].any(axis=1)
            if u > 0:
                ok &= edge[:, ys == u].any(axis=1)
        counts[v] = int(ok.sum())
    return counts


def run_graph_bench(
    *,
    json_out: str | None = None,
    repeats: int = 5,
    oracle_dir: str | None = None,
    threads: int = 0,
    sample: int = 200_000,
    baseline_budget_s: float = 1.0,
    stream: Any = None,
) -> dict[str, Any]:
    """Time the graph workloads beside the official algorithms; print a table.

    Workloads: ``nb101_hash`` (official hashes of valid cells), ``nb101_validate_prune_hash``
    (random 7x7 specs as NAS loops draw them), ``nb101_enumerate`` (the whole space; the official
    generator's time extrapolated from timed samples of its loops) and ``nb201_canonicalize``
    (classes of all 15,625 cells).

    Parameters
    ----------
    json_out : str, optional
        Write the result there as JSON.
    repeats : int, default 5
        Timed repeats per workload (the median is reported).
    oracle_dir : str or path-like, optional
        A folder holding ``nb101_official.py`` and ``nb201_official.py`` to time instead of the
        package's ports.
    threads : int, default 0
        Worker threads of the native core (0: all cores).
    sample : int, default 200000
        Cells per hashing workload.
    baseline_budget_s : float, default 1.0
        Seconds each timed repeat of a baseline runs.
    stream : text stream, optional
        Where the table goes (default: stdout).

    Returns
    -------
    dict
        ``{'machine': ..., 'records': [...]}``; each record holds ``name``, ``unit``,
        ``per_second``, ``baseline_per_second``, ``ratio``, ``wall_seconds``, ``n``, ``repeats``.
    """
    from ..graph import nb101, nb201

    out = stream if stream is not None else sys.stdout
    machine = machine_info()
    o101, o201 = load_baselines(oracle_dir, ("nb101_official", "nb201_official"))
    rng = np.random.default_rng(0)
    records: list[dict[str, Any]] = []

    def record(name: str, unit: str, n: int, wall: float, base_rate: float | None, **extra: Any) -> None:
        rate = n / wall
        records.append(
            {
                "name": name,
                "unit": unit,
                "per_second": rate,
                "baseline_per_second": base_rate,
                "ratio": (rate / base_rate) if base_rate else None,
                "wall_seconds": wall,
                "n": n,
                "repeats": repeats,
                **extra,
            }
        )

    # --- nb101_hash: official hash of valid cells drawn uniformly from the enumerated space
    space = nb101.enumerate_space(hashes=False, threads=threads)
    idx = rng.integers(0, len(space.cells), size=sample)
    cells = nb101.CellBatch(space.cells.matrices[idx], space.cells.labels[idx], space.cells.num_vertices[idx])
    n8, bits, lab = nb101.compact(cells)
    from .._native import core

    wall = median_time(lambda: core.nb101_hash_compact(n8, bits, lab, threads), repeats)

    def hash_some(start: int) -> int:
        k = 50
        for j in range(start, start + k):
            j %= sample
            n = int(cells.num_vertices[j])
            o101.hash_module(cells.matrices[j, :n, :n], cells.labels[j, :n].tolist())
        return k

    base = baseline_rate(hash_some, baseline_budget_s, 3)
    record("nb101_hash", "cells/s", sample, wall, base)

    # --- nb101_validate_prune_hash: random 7x7 specs as NAS loops draw them (NASLib random_spec)
    mats = np.triu(rng.integers(0, 2, size=(sample, 7, 7)), k=1).astype(np.uint8)
    labels = rng.integers(0, 3, size=(sample, 7)).astype(np.int8)
    labels[:, 0], labels[:, -1] = -1, -2
    batch = nb101.cell_batch(mats, labels)
    wall = median_time(lambda: nb101.validate(batch, threads=threads), repeats)
    valid_frac = float(nb101.validate(batch, hashes=False, threads=threads).valid.mean())
    names = [None, "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
    ops_rows = [["input"] + [names[1 + int(x)] for x in row[1:-1]] + ["output"] for row in labels[:2000]]

    def vph_some(start: int) -> int:
        k = 50
        for j in range(start, start + k):
            j %= 2000
            o101.prune_and_hash(mats[j], ops_rows[j])
        return k

    base = baseline_rate(vph_some, baseline_budget_s, 3)
    record("nb101_validate_prune_hash", "cells/s", sample, wall, base, valid_fraction=valid_frac)

    # --- nb101_enumerate: the whole space with hashes
    reps = max(1, min(repeats, 3))
    wall = median_time(lambda: nb101.enumerate_space(threads=threads), reps)
    # The official generator takes minutes; its wall time is extrapolated from timed samples of
    # its two loops: the scan over bit patterns and the hash of every labelled full DAG.
    full = _count_full_dags()
    patterns = sum(2 ** (v * (v - 1) // 2) for v in range(2, 8))
    labelled = sum(c * 3 ** (v - 2) for v, c in full.items())
    pats = rng.integers(0, 2**21, size=4000)

    def scan_some(start: int) -> int:
        k = 200
        for j in range(start, start + k):
            b = int(pats[j % len(pats)])
            m = o101.edge_matrix(b, 7)
            if o101.is_full_dag(m):
                np.sum(m)
        return k

    scan_rate = baseline_rate(scan_some, baseline_budget_s / 2, 3)
    seven = space.cells.num_vertices == 7
    bases = np.unique(space.cells.matrices[seven], axis=0)[:64]

    def label_some(start: int) -> int:
        k = 81
        m = bases[(start // k) % len(bases)].astype(np.int8)
        buckets: dict[str, Any] = {}
        for code in range(start % 243, start % 243 + k):
            lab = [-1] + [(code // 3**p) % 3 for p in range(4, -1, -1)] + [-2]
            fp = o101.hash_module(m, lab)
            if fp not in buckets:
                buckets[fp] = (m.tolist(), lab)
        return k

    label_rate = baseline_rate(label_some, baseline_budget_s, 3)
    est = patterns / scan_rate + labelled / label_rate
    base = len(space.cells) / est
    extra = {
        "baseline_method": "extrapolated from timed samples of the official generate_graphs loops",
        "baseline_estimated_wall_seconds": est,
        "labelled_graphs": labelled,
        "bit_patterns": patterns,
    }
    records_n = len(space.cells)
    record("nb101_enumerate", "cells/s", records_n, wall, base, **extra)
    records[-1]["repeats"] = reps

    # --- nb201_canonicalize: official unique strings and classes of all 15,625 cells
    wall = median_time(lambda: nb201.space_classes(threads=threads), repeats)
    arch = nb201.format_arch_strs(nb201.all_cells())

    def canon_all() -> None:
        first: dict[str, int] = {}
        for i, s in enumerate(arch):
            first.setdefault(o201.unique_str(s), i)

    t = median_time(canon_all, 3)
    base = len(arch) / t
    record("nb201_canonicalize", "cells/s", nb201.NUM_CELLS, wall, base)

    _print_table(records, machine, threads, out)
    return write_result({"machine": {**machine, "threads": threads}, "records": records}, json_out, out)


def _print_table(records: list[dict[str, Any]], machine: dict[str, Any], threads: int, out: Any) -> None:
    print_machine(machine, out, f"threads={threads or 'all'}, md5={machine['md5_backend']}")
    head = f"{'workload':<28}{'pyengine/s':>14}{'official/s':>14}{'ratio':>10}{'wall s':>10}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in records:
        base = f"{r['baseline_per_second']:,.0f}" if r["baseline_per_second"] else "n/a"
        ratio = f"{r['ratio']:,.0f}x" if r["ratio"] else "n/a"
        print(f"{r['name']:<28}{r['per_second']:>14,.0f}{base:>14}{ratio:>10}{r['wall_seconds']:>10.3f}", file=out)
    print("medians of repeated runs; official = pure-Python port of the official algorithm, same run", file=out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sample", type=_options.positive, default=200_000, help="cells per hashing workload")
    p.add_argument("--threads", type=_options.threads, default=0, help="worker threads (0 = all cores)")
    add_baseline_options(p, "nb101_official.py and nb201_official.py", "each timed repeat of a baseline runs")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"sample": args.sample, "threads": args.threads, **baseline_options(args)}


SUITE = BenchSuite(
    run=run_graph_bench,
    summary="graph core: NB101 hashing, validation and enumeration, NB201 classes",
    description=(
        "Cells per second of the native graph core (NB101 official hashes, validate + prune + hash of "
        "random specs, enumeration of the whole space; NB201 isomorphism classes), beside the pure-Python "
        "ports of the official NAS-Bench-101/201 code timed in the same run. Records: nb101_hash, "
        "nb101_validate_prune_hash, nb101_enumerate, nb201_canonicalize."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
