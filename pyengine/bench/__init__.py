"""Benchmark suites (``pyengine bench SUITE``): pyengine's throughput on a workload beside a
baseline timed in the same run, printed as a table and written as ``{'machine': ..., 'records': [...]}``.

``BENCHES`` is the one list of the suites; each entry is a :class:`BenchSuite`, the suite's runner
together with its command line, from which the CLI builds ``pyengine bench SUITE``. The
baselines of ``graph`` and ``encode`` are pure-Python ports of the official NAS-Bench code and
brute-force encoders that ship with the package (``pyengine.bench._baselines``).
"""

from __future__ import annotations

from .._registry import Registry
from ._common import machine_info, write_result
from ._suite import BenchSuite

__all__ = ["BENCHES", "BenchSuite", "machine_info", "write_result"]

BENCHES: Registry[dict] = Registry("bench suite")
BENCHES.register("graph", "pyengine.bench._graph:SUITE")
BENCHES.register("encode", "pyengine.bench._encode:SUITE")
BENCHES.register("predict", "pyengine.bench._predict:SUITE")
BENCHES.register("train", "pyengine.bench._train:SUITE")
BENCHES.register("proxies", "pyengine.bench._proxies:SUITE")
BENCHES.register("score", "pyengine.bench._score:SUITE")
BENCHES.register("curves", "pyengine.bench._curves:SUITE")
BENCHES.register("pipeline", "pyengine.bench._pipeline:SUITE")
