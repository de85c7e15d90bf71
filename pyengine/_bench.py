"""Graph-core microbenchmarks (``pyengine bench graph``), each beside a pure-Python port of the
official algorithm timed in the same run. The ports live outside the package, in
``tests/oracles`` of the source tree (also the test oracles)."""

from __future__ import annotations

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

from .errors import InvalidValueError

__all__ = ["machine_info", "run_graph_bench"]


def machine_info() -> dict[str, Any]:
    """CPU model, cores and software versions of this machine."""
    from . import __version__
    from .graph import md5_backend

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


def _find_oracles(oracle_dir: str | None) -> Path | None:
    if oracle_dir is not None:
        p = Path(oracle_dir)
        if not (p / "nb101_official.py").is_file():
            raise InvalidValueError(f"--oracles {oracle_dir}: no nb101_official.py there")
        return p
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        p = base / "tests" / "oracles"
        if (p / "nb101_official.py").is_file() and (p / "nb201_official.py").is_file():
            return p
    return None


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pyengine_bench_oracle_{name}", path / f"{name}.py")
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ImportError(f"cannot load {path / name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _median_time(fn: Callable[[], Any], repeats: int, *, warm_up: bool = True) -> float:
    if warm_up:
        fn()  # first-touch allocations, lazily built tables, compilation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def draw_batch(space: Any, n: int, rng: np.random.Generator) -> Any:
    """n architectures of a space for a benchmark; NB101 draws from the listed space (cheap at any
    size, every cell valid)."""
    if space.name == "nb101":
        from .spaces._base import take

        everything = space.all()
        return take(everything, rng.integers(0, len(everything.num_vertices), size=n))
    return space.sample(n, rng)


def write_result(result: dict[str, Any], json_out: str | None, out: Any) -> dict[str, Any]:
    """Write a bench result ``{'machine': ..., 'records': [...]}`` to ``json_out`` when given."""
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {json_out}", file=out)
    return result


def _baseline_rate(fn: Callable[[int], int], budget_s: float, repeats: int) -> float:
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
    """Run the graph workloads; print a table and return (and optionally write) the records."""
    from .graph import nb101, nb201

    out = stream if stream is not None else sys.stdout
    machine = machine_info()
    oracles = _find_oracles(oracle_dir)
    o101 = o201 = None
    if oracles is not None:
        o101 = _load(oracles, "nb101_official")
        o201 = _load(oracles, "nb201_official")
    else:
        print(
            "note: tests/oracles not found (run from the source tree or pass --oracles DIR); baselines are skipped",
            file=out,
        )
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
    from ._native import core

    wall = _median_time(lambda: core.nb101_hash_compact(n8, bits, lab, threads), repeats)
    base = None
    if o101 is not None:

        def hash_some(start: int) -> int:
            k = 50
            for j in range(start, start + k):
                j %= sample
                n = int(cells.num_vertices[j])
                o101.hash_module(cells.matrices[j, :n, :n], cells.labels[j, :n].tolist())
            return k

        base = _baseline_rate(hash_some, baseline_budget_s, 3)
    record("nb101_hash", "cells/s", sample, wall, base)

    # --- nb101_validate_prune_hash: random 7x7 specs as NAS loops draw them (NASLib random_spec)
    mats = np.triu(rng.integers(0, 2, size=(sample, 7, 7)), k=1).astype(np.uint8)
    labels = rng.integers(0, 3, size=(sample, 7)).astype(np.int8)
    labels[:, 0], labels[:, -1] = -1, -2
    batch = nb101.cell_batch(mats, labels)
    wall = _median_time(lambda: nb101.validate(batch, threads=threads), repeats)
    valid_frac = float(nb101.validate(batch, hashes=False, threads=threads).valid.mean())
    base = None
    if o101 is not None:
        names = [None, "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
        ops_rows = [["input"] + [names[1 + int(x)] for x in row[1:-1]] + ["output"] for row in labels[:2000]]

        def vph_some(start: int) -> int:
            k = 50
            for j in range(start, start + k):
                j %= 2000
                o101.prune_and_hash(mats[j], ops_rows[j])
            return k

        base = _baseline_rate(vph_some, baseline_budget_s, 3)
    record("nb101_validate_prune_hash", "cells/s", sample, wall, base, valid_fraction=valid_frac)

    # --- nb101_enumerate: the whole space with hashes
    reps = max(1, min(repeats, 3))
    wall = _median_time(lambda: nb101.enumerate_space(threads=threads), reps)
    base = None
    extra: dict[str, Any] = {}
    if o101 is not None:
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

        scan_rate = _baseline_rate(scan_some, baseline_budget_s / 2, 3)
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

        label_rate = _baseline_rate(label_some, baseline_budget_s, 3)
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
    wall = _median_time(lambda: nb201.space_classes(threads=threads), repeats)
    base = None
    if o201 is not None:
        arch = nb201.format_arch_strs(nb201.all_cells())

        def canon_all() -> None:
            first: dict[str, int] = {}
            for i, s in enumerate(arch):
                first.setdefault(o201.unique_str(s), i)

        t = _median_time(canon_all, 3)
        base = len(arch) / t
    record("nb201_canonicalize", "cells/s", nb201.NUM_CELLS, wall, base)

    _print_table(records, machine, threads, out)
    return write_result({"machine": {**machine, "threads": threads}, "records": records}, json_out, out)


def _print_table(records: list[dict[str, Any]], machine: dict[str, Any], threads: int, out: Any) -> None:
    print(
        f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, threads={threads or 'all'}, "
        f"md5={machine['md5_backend']}, python {machine['python']}",
        file=out,
    )
    head = f"{'workload':<28}{'pyengine/s':>14}{'official/s':>14}{'ratio':>10}{'wall s':>10}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in records:
        base = f"{r['baseline_per_second']:,.0f}" if r["baseline_per_second"] else "n/a"
        ratio = f"{r['ratio']:,.0f}x" if r["ratio"] else "n/a"
        print(f"{r['name']:<28}{r['per_second']:>14,.0f}{base:>14}{ratio:>10}{r['wall_seconds']:>10.3f}", file=out)
    print("medians of repeated runs; official = pure-Python port of the official algorithm, same run", file=out)
