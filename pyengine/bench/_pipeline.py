"""Streaming-pipeline benchmark (``pyengine bench pipeline``): random NB101 candidates streamed
through sample -> validate/prune -> canonicalize/de-duplicate -> encode -> predict -> top-k
(:func:`pyengine.pipeline.stream_top_k`) with a GCN fitted on NB101 table cells; end-to-end
candidates per second and each stage's share of the time, on the CPU backend and, in the same run,
on the GPU backend where one is available. Beside them, the baseline timed in the same run: the
same candidates without the pipeline, i.e. the space's own sampler (redraws until valid, canonical
cells) followed by ``predict`` of every sampled cell, duplicates included."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import numpy as np

from .. import _options
from ._common import machine_info, print_machine, write_result
from ._suite import BenchSuite

__all__ = ["SUITE", "run_pipeline_bench"]


def _model(space: str, n_train: int) -> Any:
    """A GCN fitted (30 epochs) on ``n_train`` cells of the space's benchmark table, as
    ``pyengine bench score`` fits its model; a random target when the table is absent."""
    from .._batch import take
    from ..predictors import get_predictor
    from ..spaces import get_space

    sp = get_space(space)
    try:
        from ..tables import load_table

        table = load_table({"nb101": "nb101_20k", "nb201": "nb201_cifar10_200ep"}[space])
        rows = np.random.default_rng(0).choice(len(table), size=min(n_train, len(table)), replace=False)
        archs, y = take(table.archs, rows), table.column()[rows]
        source = f"{len(rows)} {table.name} cells"
    except (OSError, ValueError, KeyError):  # no benchmark data here: a random target times the same
        archs = sp.sample(n_train, np.random.default_rng(0))
        y = np.random.default_rng(1).random(n_train)
        source = f"{n_train} sampled cells, random targets (no benchmark table found)"
    return get_predictor("gcn", space=sp, epochs=30, random_state=0).fit(archs, y), source


def run_pipeline_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    n_archs: int = 200_000,
    chunk_size: int | None = None,
    k: int = 100,
    n_train: int = 300,
    space: str = "nb101",
    devices: tuple[str, ...] = ("cpu", "gpu"),
    out: Any = None,
) -> dict[str, Any]:
    """Time the streaming top-k end to end on each available device; print a table.

    Parameters
    ----------
    json_out : str, optional
        Write the result there as JSON.
    repeats : int, default 3
        Timed streams per device (seeds 1, 2, ...; the median is reported), after one warm-up
        stream that compiles the predictor's programs.
    n_archs : int, default 200000
        Candidates per stream.
    chunk_size : int, optional
        Candidates per chunk; by default each backend's (``stream_top_k``'s default); the
        baseline draws chunks of 4,096.
    k : int, default 100
    n_train : int, default 300
        Table cells the GCN is fitted on.
    space : "nb101" or "nb201", default "nb101"
    devices : tuple of str, default ("cpu", "gpu")
        Backends timed; "gpu" is skipped (and said so) where it cannot run.
    out : text stream, optional

    Returns
    -------
    dict
        ``{'machine': ..., 'records': [...]}``; each record holds ``device``, ``space``,
        ``n_archs``, ``chunk_size``, ``k``, ``archs_per_second`` (median), ``seconds`` (median),
        ``stage_seconds`` and ``stage_shares`` (medians per stage), ``valid``, ``unique``, the
        baseline's ``baseline_archs_per_second``, and for a device after the CPU
        ``top_k_identical_to_cpu`` (same keys and order of the first timed stream's top-k).
    """
    import jax

    from ..errors import DeviceUnavailableError, MissingDependencyError
    from ..pipeline import STAGES, resolve_device, stream_top_k
    from ..spaces import get_space

    out = out or sys.stdout
    machine = machine_info(jax=True)
    print_machine(machine, out)
    model, source = _model(space, n_train)
    print(
        f"{space}: {n_archs:,} random candidates per stream, chunks of {chunk_size or 'the backend default'}, top {k}; "
        f"GCN fitted on {source}; "
        f"median of {repeats} streams after a warm-up",
        file=out,
    )
    sp = get_space(space)

    base_chunk = chunk_size or 4096

    def baseline() -> float:  # the space's sampler and predict on every sampled cell
        t0 = time.perf_counter()
        for start in range(0, n_archs, base_chunk):
            batch = sp.sample(min(base_chunk, n_archs - start), np.random.default_rng(start))
            np.asarray(model.predict(batch))
        return time.perf_counter() - t0

    baseline()  # compiles the buckets the baseline uses
    base_s = statistics.median(baseline() for _ in range(repeats))
    head = f"{'device':<8}{'archs/s':>11}{'seconds':>9}{'valid':>12}{'unique':>9}" + "".join(f"{s:>9}" for s in STAGES)
    print(head, file=out)
    print("-" * len(head), file=out)
    records: list[dict[str, Any]] = []
    first_top: dict[str, Any] = {}
    for device in devices:
        try:
            if resolve_device(device) != device:  # pragma: no cover - only "auto" resolves elsewhere
                continue
        except (DeviceUnavailableError, MissingDependencyError) as err:
            print(f"{device:<8}skipped: {err}", file=out)
            continue
        stream_top_k(space, model, n_archs, k=k, seed=0, chunk_size=chunk_size, device=device)  # warm-up
        results = [
            stream_top_k(space, model, n_archs, k=k, seed=s, chunk_size=chunk_size, device=device)
            for s in range(1, repeats + 1)
        ]
        runs = [r.stats for r in results]
        first_top[device] = results[0].keys
        secs = statistics.median(r.total_seconds for r in runs)
        stage = {s: statistics.median(r.seconds[s] for r in runs) for s in STAGES}
        share = {s: statistics.median(r.shares()[s] for r in runs) for s in STAGES}
        rec = {
            "device": device,
            "space": space,
            "n_archs": n_archs,
            "chunk_size": runs[0].chunk_size,
            "k": k,
            "repeats": repeats,
            "seconds": secs,
            "archs_per_second": n_archs / secs,
            "stage_seconds": stage,
            "stage_shares": share,
            "valid": statistics.median(r.valid for r in runs),
            "unique": statistics.median(r.unique for r in runs),
            "baseline_seconds": base_s,
            "baseline_archs_per_second": n_archs / base_s,
            "model": source,
            "jax_backend": jax.default_backend(),
        }
        if device != "cpu" and "cpu" in first_top:
            rec["top_k_identical_to_cpu"] = bool(np.array_equal(first_top["cpu"], first_top[device]))
        records.append(rec)
        print(
            f"{device:<8}{rec['archs_per_second']:>11,.0f}{secs:>9.2f}{rec['valid']:>12,.0f}{rec['unique']:>9,.0f}"
            + "".join(f"{share[s]:>9.1%}" for s in STAGES),
            file=out,
            flush=True,
        )
    print(
        f"baseline (same run): {sp.name} space.sample + predict of every sampled cell, duplicates included: "
        f"{n_archs / base_s:,.0f} archs/s ({base_s:.2f} s); stage columns: share of the stream's stage time",
        file=out,
    )
    return write_result({"machine": machine, "records": records}, json_out, out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N", help="candidates per stream (default 200000)")
    p.add_argument("--chunk-size", type=_options.positive, help="candidates per chunk (default: the backend's)")
    p.add_argument("--top-k", type=_options.positive, default=100, help="architectures kept (default 100)")
    p.add_argument("--train-size", type=_options.positive, default=300, help="table cells the GCN is fitted on")
    p.add_argument("--space", choices=("nb101", "nb201"), default="nb101", help="space streamed (default nb101)")
    p.add_argument("--devices", default="cpu,gpu", metavar="cpu,gpu", help="backends timed (default cpu,gpu)")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    from ..errors import CliError

    sizes = _options.int_list(args.sizes, "--sizes", positive=True) if args.sizes else [200_000]
    devices = tuple(d.strip() for d in args.devices.split(",") if d.strip())
    if not devices or any(d not in ("cpu", "gpu") for d in devices):
        raise CliError(f"--devices must name some of cpu, gpu. Got {args.devices!r}.")
    return {
        "n_archs": sizes[0],
        "chunk_size": args.chunk_size,
        "k": args.top_k,
        "n_train": args.train_size,
        "space": args.space,
        "devices": devices,
    }


SUITE = BenchSuite(
    run=run_pipeline_bench,
    summary="streaming top-k: archs/s end to end and each stage's share",
    description=(
        "Random NB101 (or NB201) candidates streamed through sample, validate/prune, de-duplicate, encode, predict "
        "(a GCN fitted on table cells) and a running top-k: end-to-end candidates per second and each stage's "
        "share, on the CPU backend and on the GPU backend where one runs, medians of repeated streams; beside "
        "the space's own sampler plus predict of every sampled cell, timed in the same run."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
