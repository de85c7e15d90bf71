"""Zero-cost proxy benchmark (``pyengine bench proxies``): seconds per NB201 architecture per
proxy on CIFAR shapes (compile time apart), beside NASLib's per-architecture times.

No PyTorch is installed here, so the baseline is NASLib's own figures: the mean times recorded in
NAS-Bench-Suite-Zero for the same 725 architectures (hardware unknown; shared/docs/reference.md
6.3) and NASLib run on a 2-core CPU like this one (synflow 0.507 s, jacob_cov with batch 64
0.987 s per architecture).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import numpy as np

from ._bench import machine_info, write_result

__all__ = ["run_proxies_bench"]

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


def run_proxies_bench(*, json_out: str | None = None, repeats: int = 3, n_archs: int = 32, out: Any = None) -> dict:
    from .proxies import PROXIES, ProxyScorer
    from .spaces._base import take
    from .tables._benchmarks import load_naslib_zc

    out = out or sys.stdout
    table = load_naslib_zc(space="nb201")
    batch = take(table.archs, np.arange(min(n_archs, len(table))))
    n = len(batch.ops)
    workloads = [(name, 64 if name == "jacob_cov" else 32) for name in PROXIES.names()]
    records = []
    print(
        f"NB201 CIFAR-10 shapes, {n} architectures of the NAS-Bench-Suite-Zero file, median of {repeats} runs", file=out
    )
    print(
        f"{'proxy':<10}{'batch':>6}{'compile s':>10}{'ms/arch':>9}{'NASLib rec. s':>14}{'x':>7}"
        f"{'NASLib 2-core s':>16}{'x':>7}",
        file=out,
    )
    for name, bs in workloads:
        # grasp costs about 30x the others per architecture: time it on a few
        sub = take(batch, np.arange(min(n, 4))) if name == "grasp" else batch
        m = len(sub.ops)
        scorer = ProxyScorer("nb201", [name], batch_size=bs)
        t0 = time.perf_counter()
        scorer.score(take(batch, np.arange(1)))
        compile_s = sum(scorer.compile_seconds.values()) if scorer.compile_seconds else 0.0
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            scorer.score(sub)
            times.append((time.perf_counter() - t - sum(scorer.compile_seconds.values())) / m)
        per = statistics.median(times)
        rec = NASLIB_RECORDED.get(name)
        two = NASLIB_2CORE.get(name)
        row = {
            "proxy": name,
            "batch_size": bs,
            "n_archs": m,
            "compile_seconds": compile_s,
            "first_call_seconds": first,
            "seconds_per_arch": per,
            "naslib_recorded_seconds_per_arch": rec,
            "speedup_vs_naslib_recorded": None if rec is None else rec / per,
            "naslib_2core_seconds_per_arch": two,
            "speedup_vs_naslib_2core": None if two is None else two / per,
        }
        records.append(row)
        f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
        print(
            f"{name:<10}{bs:>6}{compile_s:>10.1f}{per * 1e3:>9.1f}{f(rec):>14}"
            f"{f(row['speedup_vs_naslib_recorded'], 1):>7}"
            f"{f(two, 3):>16}{f(row['speedup_vs_naslib_2core'], 1):>7}",
            file=out,
            flush=True,
        )
    return write_result({"machine": machine_info(), "records": records}, json_out, out)
