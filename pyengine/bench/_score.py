"""Scoring-job benchmark (``pyengine bench score``): DARTS-space architectures scored by a saved
GCN through ``score_job``, embedded (one process) against Ray with 1 and 2 workers on this
machine, all in the same run; plus the driver's own costs per chunk (reading the input, writing
the output and the checkpoint), which bound a cluster's throughput from above."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np

from .. import _options
from ._common import machine_info, median_time, write_result
from ._suite import BenchSuite

__all__ = ["SUITE", "run_score_bench"]


def _prepare(tmp: str, n_archs: int) -> tuple[str, str]:
    """A GCN fitted on 100 NAS-Bench-301 records (saved), and n_archs DARTS cells drawn from the
    space as JSON lines."""
    from .._batch import take
    from ..predictors import get_predictor
    from ..spaces import get_space
    from ..tables._benchmarks import load_naslib_zc

    table = load_naslib_zc(space="darts")
    rows = np.arange(min(100, len(table)))
    model = os.path.join(tmp, "gcn.model")
    get_predictor("gcn", space="darts", epochs=30, random_state=0).fit(
        take(table.archs, rows), table.column()[rows]
    ).save(model)
    space = get_space("darts")
    batch = space.sample(n_archs, np.random.default_rng(0))
    path = os.path.join(tmp, "archs.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        for s in space.to_strings(batch):
            fh.write(json.dumps({"arch": s}) + "\n")
    return model, path


def _timed(fn: Any, repeats: int) -> float:
    return median_time(fn, repeats, warm_up=False)


def run_score_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    n_archs: int = 20_000,
    chunk_size: int = 2048,
    workers: tuple[int, ...] = (1, 2),
    out: Any = None,
) -> dict:
    """Time scoring jobs of DARTS cells by a saved GCN, embedded against Ray workers; print a table.

    Parameters
    ----------
    json_out : str, optional
        Write the result there as JSON.
    repeats : int, default 3
        Timed repeats per mode (the median is reported).
    n_archs : int, default 20000
        Architectures per job.
    chunk_size : int, default 2048
        Architectures per chunk and checkpoint.
    workers : tuple of int, default (1, 2)
        Ray worker counts timed (skipped when Ray is not installed).
    out : text stream, optional
        Where the table goes (default: stdout).

    Returns
    -------
    dict
        ``{'machine': ..., 'records': [...]}``; each record holds ``mode``, ``workers``,
        ``n_archs``, ``chunk_size``, ``seconds``, ``archs_per_second``, ``ratio_vs_embedded``,
        ``seconds_per_chunk`` (Ray with 1 worker: also its fixed and per-chunk overhead).
    """
    from ..scoring import ModelScorer, ScoreSource, score_job
    from ..scoring._job import _write_checkpoint, score_chunk

    out = out or sys.stdout
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        model, inp = _prepare(tmp, n_archs)
        src = ScoreSource("darts", inp)
        n_chunks = -(-n_archs // chunk_size)
        k = [0]

        one = os.path.join(tmp, "one_chunk.jsonl")
        with open(inp, encoding="utf-8") as fh, open(one, "w", encoding="utf-8") as fo:
            fo.writelines(line for _, line in zip(range(chunk_size), fh, strict=False))
        small = ScoreSource("darts", one)

        def job(executor: Any = None, source: Any = src) -> None:
            k[0] += 1
            target = os.path.join(tmp, f"out{k[0]}.jsonl")
            score_job(source, ModelScorer(model, "darts"), target, chunk_size=chunk_size, executor=executor)

        # the driver's share: read the input's chunks, write lines and a checkpoint per chunk
        text = score_chunk(ModelScorer(model, "darts"), next(src.chunks(chunk_size))[1])

        def driver() -> None:
            ck = os.path.join(tmp, "driver.ckpt")
            with open(os.path.join(tmp, "driver.jsonl"), "wb") as fh:
                for _ in src.chunks(chunk_size):
                    fh.write(text.encode())
                    fh.flush()
                    os.fsync(fh.fileno())
                    _write_checkpoint(ck, {"bytes": fh.tell()})

        job()  # warm: compile the GCN program, load the model
        print(
            f"DARTS cells scored by a saved GCN, {n_archs} architectures in chunks of {chunk_size}, "
            f"median of {repeats} runs",
            file=out,
        )
        print(f"{'mode':<22}{'seconds':>9}{'archs/s':>10}{'ratio':>7}{'s/chunk':>9}", file=out)
        t_driver = _timed(driver, repeats)
        t_local = _timed(job, repeats)

        def row(mode: str, w: int | None, secs: float, extra: dict[str, Any]) -> None:
            rec = {
                "mode": mode,
                "workers": w,
                "n_archs": n_archs,
                "chunk_size": chunk_size,
                "n_chunks": n_chunks,
                "seconds": secs,
                "archs_per_second": n_archs / secs,
                "ratio_vs_embedded": t_local / secs,
                "seconds_per_chunk": secs / n_chunks,
                **extra,
            }
            records.append(rec)
            print(
                f"{mode:<22}{secs:>9.2f}{n_archs / secs:>10.0f}{t_local / secs:>7.2f}{secs / n_chunks:>9.4f}",
                file=out,
                flush=True,
            )

        row("driver only (io)", None, t_driver, {})
        row("embedded", 1, t_local, {})
        try:
            from .._ray import init_ray
            from ..scoring._ray import ray_executor
        except ImportError:  # pragma: no cover - the ray extra is absent
            print("ray is not installed: pip install .[ray]", file=out)
        else:
            t0 = time.perf_counter()
            ray = init_ray("local", max(workers))
            t_init = time.perf_counter() - t0
            try:
                t_small = _timed(lambda: job(None, small), repeats)
                for w in workers:
                    run = ray_executor("local", workers=w)
                    secs = _timed(lambda run=run: job(run), repeats)  # noqa: B023
                    extra: dict[str, Any] = {"ray_init_seconds": t_init}
                    if w == 1:  # one worker does the embedded work plus Ray's: fixed and per-chunk parts
                        fixed = _timed(lambda run=run: job(run, small), repeats) - t_small  # noqa: B023
                        extra["fixed_overhead_seconds"] = fixed
                        extra["overhead_per_chunk_seconds"] = (secs - t_local - fixed) / max(n_chunks - 1, 1)
                    row(f"ray, {w} worker{'s' if w > 1 else ''}", w, secs, extra)
            finally:
                ray.shutdown()
            print(f"ray start (local, {max(workers)} CPUs): {t_init:.1f} s, not counted above", file=out)
            for r in records:
                if "fixed_overhead_seconds" in r:
                    print(
                        f"Ray, 1 worker: {r['fixed_overhead_seconds']:.2f} s per job (actors start, load the model "
                        f"and compile), {r['overhead_per_chunk_seconds'] * 1e3:.1f} ms per chunk",
                        file=out,
                    )
    return write_result({"machine": machine_info(), "records": records}, json_out, out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N", help="architectures scored per job (default 20000)")
    p.add_argument("--chunk-size", type=_options.positive, default=2048, help="architectures per chunk")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    sizes = _options.int_list(args.sizes, "--sizes") if args.sizes else [20_000]
    return {"n_archs": sizes[0], "chunk_size": args.chunk_size}


SUITE = BenchSuite(
    run=run_score_bench,
    summary="scoring jobs: embedded against Ray workers",
    description=(
        "DARTS cells scored by a saved GCN through score_job, embedded (one process) against Ray with 1 and 2 "
        "workers, all in the same run; plus the driver's own input/output cost per chunk and Ray's per-job "
        "and per-chunk overhead."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
