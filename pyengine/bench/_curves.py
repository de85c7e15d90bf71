"""Learning-curve benchmark (``pyengine bench curves``): LCE curves fitted per second, every
family of every curve in one batched jit program, beside the usual way timed in the same run:
``scipy.optimize.curve_fit`` per curve and family (Domhan et al.'s code fits each curve on its
own)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

from .. import _options
from ._common import machine_info, write_result
from ._suite import BenchSuite

__all__ = ["SUITE", "run_curves_bench"]


def _scipy_families() -> dict[str, tuple[Any, list[float]]]:
    """The same families in plain numpy, with starting points, for curve_fit (curves in [0, 1])."""
    return {
        "pow3": (lambda x, c, a, al: c - a * x ** (-al), [0.8, 0.5, 0.5]),
        "log_power": (lambda x, a, b, c: a / (1.0 + (x / np.exp(b)) ** (-c)), [0.8, 0.0, 1.0]),
        "vapor_pressure": (lambda x, a, b, c: np.exp(a + b / x + c * np.log(x)), [-0.2, -0.1, 0.0]),
        "janoschek": (lambda x, a, b, k, d: a - (a - b) * np.exp(-k * x**d), [0.8, 0.3, 0.1, 1.0]),
        "mmf": (lambda x, a, b, k, d: a - (a - b) / (1.0 + (k * x) ** d), [0.8, 0.3, 0.1, 1.0]),
        "weibull": (lambda x, a, b, k, d: a - (a - b) * np.exp(-((k * x) ** d)), [0.8, 0.3, 0.1, 1.0]),
        "ilog2": (lambda x, c, a: c - a / np.log(x + 1.0), [0.9, 0.3]),
    }


def _scipy_fit(curves: np.ndarray, fidelity: int) -> None:
    from scipy.optimize import curve_fit

    x = np.arange(1, fidelity + 1, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in curves[:, :fidelity] / 100.0:
            for f, p0 in _scipy_families().values():
                try:
                    curve_fit(f, x, y, p0=p0, maxfev=2000)
                except (RuntimeError, ValueError):
                    pass  # a family that does not converge drops out, as in the reference code


def run_curves_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    n_curves: int = 2000,
    fidelities: tuple[int, ...] = (12, 50),
    baseline_curves: int = 20,
    out: Any = None,
) -> dict:
    """Time LCE on NB201 validation curves beside scipy's ``curve_fit``; print a table.

    Parameters
    ----------
    json_out : str, optional
        Write the result there as JSON.
    repeats : int, default 3
        Timed repeats per fidelity (the median is reported).
    n_curves : int, default 2000
        Curves fitted in one batched call (the 200 real curves, tiled).
    fidelities : tuple of int, default (12, 50)
        Epochs of each curve that the fits see.
    baseline_curves : int, default 20
        Curves fitted by ``curve_fit`` per repeat (per curve and family).
    out : text stream, optional
        Where the table goes (default: stdout).

    Returns
    -------
    dict
        ``{'machine': ..., 'records': [...]}``; each record holds ``fidelity``, ``n_curves``,
        ``curves_per_second``, ``first_call_seconds``, ``scipy_curves_per_second``, ``speedup``.
    """
    from ..predictors._curves import LCEPredictor, partial_curves
    from ..tables import load_table

    out = out or sys.stdout
    table = load_table("nb201_learning_curves")
    full = table.curves["val_acc"]
    curves = full[np.arange(n_curves) % len(full)]
    records = []
    print(
        f"LCE on NB201 validation curves ({len(full)} real curves tiled to {n_curves}), 7 families, "
        f"median of {repeats} runs",
        file=out,
    )
    print(f"{'fidelity':>9}{'batched curves/s':>18}{'first call s':>14}{'scipy curves/s':>16}{'ratio':>8}", file=out)
    for fid in fidelities:
        c = partial_curves({"val_acc": curves}, fid)
        est = LCEPredictor().fit(c, np.zeros(n_curves))
        t0 = time.perf_counter()
        est.predict(c)
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            est.predict(c)
            times.append(time.perf_counter() - t0)
        rate = n_curves / statistics.median(times)
        base = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _scipy_fit(curves[:baseline_curves], fid)
            base.append(time.perf_counter() - t0)
        base_rate = baseline_curves / statistics.median(base)
        rec = {
            "name": "lce",
            "fidelity": fid,
            "n_curves": n_curves,
            "curves_per_second": rate,
            "first_call_seconds": first,
            "scipy_curves_per_second": base_rate,
            "scipy_curves_timed": baseline_curves,
            "speedup": rate / base_rate,
        }
        records.append(rec)
        print(f"{fid:>9}{rate:>18,.0f}{first:>14.2f}{base_rate:>16,.1f}{rate / base_rate:>7.0f}x", file=out, flush=True)
    return write_result({"machine": machine_info(), "records": records}, json_out, out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N", help="curves fitted (default 2000: the 200 real curves tiled)")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    sizes = _options.int_list(args.sizes, "--sizes") if args.sizes else [2000]
    return {"n_curves": sizes[0]}


SUITE = BenchSuite(
    run=run_curves_bench,
    summary="learning curves: LCE curves fitted per second",
    description=(
        "LCE learning-curve extrapolation on NB201 validation curves: curves fitted per second, every family "
        "of every curve in one batched program, first call apart, beside scipy's curve_fit per curve and "
        "family timed in the same run."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
