"""Bayesian predictors benchmark: fit seconds of ``bohamiann``, ``sparse_gp``, ``bonas`` and
``seminas`` on NB201 cells (architectures encoded by the predictor with its own encoding, as users
fit them; ``seminas`` also draws and encodes its unlabelled architectures inside ``fit``), beside
``dngo`` timed in the same run. The first fit of each model (its compile included) is reported
apart from the median of the repeated fits; every fit is also scored (Kendall tau on held-out
cells).

python benchmarks/bench_bayes.py --repeats 5 --n-train 100 --json results/bench_bayes.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from pyengine.bench import machine_info, write_result

MODELS = ("dngo", "bohamiann", "sparse_gp", "bonas", "seminas")  # the first is the baseline


def run(repeats: int, n_train: int, n_test: int, json_out: str | None, out: Any = sys.stdout) -> dict:
    from pyengine.encodings import encode
    from pyengine.metrics import kendall_tau
    from pyengine.predictors import get_predictor
    from pyengine.tables import load_table

    table = load_table("nb201_cifar10_200ep")
    y = table.column()
    perm = np.random.default_rng(0).permutation(len(table))
    train, test = perm[:n_train], perm[n_train : n_train + n_test]
    archs, held_out = table.subset(train).archs, table.subset(test).archs
    encode(table.space, "adjacency_one_hot", archs)  # JAX start-up and the encoder, outside every timing

    records = []
    print(
        f"NB201 ({len(table)} cells), fit on {n_train}, Kendall tau on {len(test)} held out; "
        f"median of {repeats} fits (seeds 1..{repeats}) after a first fit with seed 0",
        file=out,
    )
    head = f"{'model':<12}{'first fit s':>13}{'fit s':>9}{'vs dngo':>9}{'tau':>7}"
    print(head, file=out)
    print("-" * len(head), file=out)
    base = None
    for name in MODELS:
        t0 = time.perf_counter()
        get_predictor(name, space="nb201", random_state=0).fit(archs, y[train])
        first = time.perf_counter() - t0
        times, taus = [], []
        for seed in range(1, repeats + 1):
            t0 = time.perf_counter()
            est = get_predictor(name, space="nb201", random_state=seed).fit(archs, y[train])
            times.append(time.perf_counter() - t0)
            taus.append(kendall_tau(y[test], est.predict(held_out)))
        fit = statistics.median(times)
        base = fit if base is None else base
        rec = {
            "name": name,
            "n_train": n_train,
            "n_test": len(test),
            "first_fit_seconds": first,
            "fit_seconds": fit,
            "fit_seconds_all": times,
            "ratio_to_dngo": fit / base,
            "kendall_tau": statistics.median(taus),
            "kendall_tau_all": taus,
        }
        records.append(rec)
        print(f"{name:<12}{first:>13.2f}{fit:>9.2f}{fit / base:>8.1f}x{rec['kendall_tau']:>7.3f}", file=out, flush=True)
    print("first fit: compile included; fit s: median of the repeats; tau: median over seeds", file=out)
    machine = {**machine_info(), "load_average": list(os.getloadavg())}
    return write_result({"machine": machine, "records": records}, json_out, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-train", type=int, default=100)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--json", default=None, help="write the records and the machine here")
    args = ap.parse_args(argv)
    run(args.repeats, args.n_train, args.n_test, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
