"""Predictor microbenchmarks (``pyengine bench predict``): query throughput of the neural
predictors at batches 1, 1k, 10k and 100k, fit seconds at N = 100 (NB201) and 1,000 (NB101), and
scoring the whole of NB101. The baseline, timed in the same run, is the GCN written as the
reference codes write it (one-hot features multiplied, separate forward and backward matmuls per
layer, fc1 then fc2, one compiled call per batch shape); NASLib's figures for this machine are
printed beside it as a reference.

With ``--precision``, the gcn and the transformer are also fitted on ``PRECISION_TRAIN`` cells of
the NB101 table (random targets where the data folder is absent) and score the largest batch of
cells drawn from the enumerated space in each inference precision: archs/s per precision, the
ratio to float32 and the Kendall tau of each precision's predictions against float32's on the
same cells."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _options
from ..errors import CliError
from ._common import draw_batch, machine_info, median_time, print_machine, write_result
from ._suite import BenchSuite

__all__ = ["NASLIB_REFERENCE", "PRECISION_TRAIN", "SUITE", "run_predict_bench"]

# NASLib's GCN as measured on this benchmark machine (the project's issue tracker); printed as a
# reference column, not measured by this run.
NASLIB_REFERENCE = {
    ("gcn", "nb201", "query"): 12_000,
    ("gcn", "nb101", "query"): 17_000,
    ("gcn", "nb201", "fit", 100): 21.6,
    ("gcn", "nb101", "fit", 1000): 259.0,
}

QUERY = [
    ("gcn", "nb101"),
    ("gcn", "nb201"),
    ("transformer", "nb101"),
    ("transformer", "nb201"),
    ("bananas", "nb101"),
    ("bananas", "nb201"),
    ("blend", "nb201"),
]
FIT = [
    ("gcn", "nb201", 100),
    ("gcn", "nb201", 156),
    ("gcn", "nb101", 1000),
    ("transformer", "nb201", 156),
    ("transformer", "nb101", 1000),
    ("bananas", "nb201", 100),
    ("bananas", "nb101", 1000),
    ("blend", "nb201", 156),
]
MODELS = ("gcn", "transformer", "bananas", "blend")
# the query workload fits each model briefly (2 epochs: a neural model's query cost does not depend
# on its training); a blend's tree member keeps its default trees, whose number sets its query cost
_BRIEF = {"blend": {"member_params": [{"epochs": 2}, {}]}}
PRECISION_MODELS = ("gcn", "transformer")  # the models with an inference_precision
PRECISION_TRAIN = 300  # NB101 table cells the precision workload fits on
_SHORT = {"float32": "fp32", "tf32": "tf32", "bfloat16": "bf16"}


def _reference_forward(params: Any, adjacency: Any, features: Any, mask: Any) -> Any:
    """The GCN as the reference codes compute it (one member)."""
    import jax
    import jax.numpy as jnp

    v = adjacency.shape[-1]
    a = adjacency + jnp.eye(v)
    a_hat = a / a.sum(-1, keepdims=True)
    a_t = jnp.swapaxes(a_hat, -1, -2)
    a_t = a_t / a_t.sum(-1, keepdims=True)
    h = features
    layer = 0
    while f"w_forward_{layer}" in params:
        f = jnp.matmul(a_hat, jnp.matmul(h, params[f"w_forward_{layer}"]))
        b = jnp.matmul(a_t, jnp.matmul(h, params[f"w_backward_{layer}"]))
        h = (jax.nn.relu(f) + jax.nn.relu(b)) / 2
        layer += 1
    m = mask.astype(jnp.float32)
    pooled = (h * m[..., None]).sum(1) / m.sum(1, keepdims=True)
    return (pooled @ params["fc1"] @ params["fc2"])[:, 0]


def run_predict_bench(
    *,
    json_out: str | None = None,
    repeats: int = 5,
    sizes: tuple[int, ...] = (1, 1_000, 10_000, 100_000),
    fit_repeats: int = 3,
    models: tuple[str, ...] = MODELS,
    precisions: tuple[str, ...] = (),
    out: Any = None,
) -> dict[str, Any]:
    """Time every workload of ``models`` (default all of ``MODELS``; the whole-NB101 run with
    gcn); print a table; optionally write ``{'machine': ..., 'records': [...]}`` whose records
    hold ``name``, ``space``, ``batch``, ``archs_per_second`` and ``fit_seconds``. With
    ``precisions`` (names of ``inference_precision``), also the "precision" workload of the gcn
    and transformer of ``models``: records with ``precision``, ``archs_per_second`` at
    ``max(sizes)`` NB101 cells, ``kendall_tau_vs_float32`` and ``max_abs_diff_vs_float32``."""
    import jax

    from .._batch import take
    from ..encodings import encode
    from ..predictors import get_predictor
    from ..spaces import get_space

    out = out or sys.stdout
    machine = machine_info(jax=True)
    print_machine(machine, out)
    records: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)

    def emit(rec: dict[str, Any]) -> None:
        records.append(rec)
        rate = f"{rec['archs_per_second']:,.0f}" if rec["archs_per_second"] else "-"
        fit = f"{rec['fit_seconds']:.2f}" if rec["fit_seconds"] is not None else "-"
        base = rec.get("baseline_archs_per_second")
        base_s = f"{base:,.0f}" if base else "-"
        ratio = f"{rec['archs_per_second'] / base:.1f}x" if base else "-"
        ref = rec.get("naslib_reference")
        ref_s = f"{ref:,}" if isinstance(ref, int) else (f"{ref}" if ref else "-")
        work = _SHORT[rec["precision"]] if rec["workload"] == "precision" else rec["workload"]
        tau = rec.get("kendall_tau_vs_float32")
        tau_s = f"  tau {tau:.4f}" if tau is not None else ""
        print(
            f"{rec['name']:<12}{rec['space']:<7}{work:<8}{rec['batch']:>9,}{rate:>13}{base_s:>13}"
            f"{ratio:>8}{fit:>9}{ref_s:>10}{tau_s}",
            file=out,
            flush=True,
        )

    head = (
        f"{'model':<12}{'space':<7}{'work':<8}{'batch/N':>9}{'archs/s':>13}{'plain/s':>13}{'ratio':>8}"
        f"{'fit s':>9}{'naslib':>10}"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    ref_fn = jax.jit(_reference_forward)
    for name, space_name in (q for q in QUERY if q[0] in models):
        space = get_space(space_name)
        big = draw_batch(space, max(sizes), rng)
        y = rng.random(256)
        brief = _BRIEF.get(name, {"epochs": 2})
        model = get_predictor(name, space=space, random_state=0, **brief).fit(take(big, np.arange(256)), y)
        for n in sizes:
            batch = take(big, np.arange(n))
            calls = max(1, min(200, 20_000 // n))

            def query(batch: Any = batch, calls: int = calls, model: Any = model) -> None:
                for _ in range(calls):
                    model.predict(batch)

            wall = median_time(query, repeats) / calls  # the warm-up compiles every bucket used
            rec: dict[str, Any] = {
                "name": name,
                "space": space_name,
                "workload": "query",
                "batch": n,
                "archs_per_second": n / wall,
                "fit_seconds": None,
                "repeats": repeats,
                "calls_per_repeat": calls,
            }
            if name == "gcn":  # the plain formulation: one compiled call on the encoded batch
                params = jax.tree_util.tree_map(lambda a: a[0], model.params_)

                def plain(batch: Any = batch, params: Any = params, calls: int = calls, space: Any = space) -> None:
                    for _ in range(calls):
                        g = encode(space, "gcn", batch)
                        np.asarray(ref_fn(params, *g))

                rec["baseline_archs_per_second"] = n / (median_time(plain, repeats) / calls)
                rec["naslib_reference"] = NASLIB_REFERENCE.get((name, space_name, "query"))
            emit(rec)
    for name, space_name, n in (f for f in FIT if f[0] in models):
        space = get_space(space_name)
        archs = draw_batch(space, n, rng)
        y = rng.random(n)
        cold = time.perf_counter()
        get_predictor(name, space=space, random_state=0).fit(archs, y)
        cold = time.perf_counter() - cold

        def refit(name: str = name, space: Any = space, archs: Any = archs, y: np.ndarray = y) -> None:
            get_predictor(name, space=space, random_state=1).fit(archs, y)

        warm = median_time(refit, fit_repeats, warm_up=False)  # the first fit above compiled
        emit(
            {
                "name": name,
                "space": space_name,
                "workload": "fit",
                "batch": n,
                "archs_per_second": None,
                "fit_seconds": warm,
                "first_fit_seconds": cold,
                "repeats": fit_repeats,
                "naslib_reference": NASLIB_REFERENCE.get((name, space_name, "fit", n)),
            }
        )
    if precisions:
        for rec in _precision_records(
            tuple(m for m in models if m in PRECISION_MODELS), precisions, max(sizes), repeats, rng, out
        ):
            emit(rec)
    if "gcn" not in models:
        return write_result({"machine": machine, "records": records}, json_out, out)
    # the whole of NB101: enumerate, encode and score every cell
    space = get_space("nb101")
    model = get_predictor("gcn", space=space, epochs=2, random_state=0).fit(
        draw_batch(space, 256, rng), rng.random(256)
    )
    t0 = time.perf_counter()
    everything = space.all()
    listed = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = model.predict(everything)
    scored = time.perf_counter() - t0
    emit(
        {
            "name": "gcn",
            "space": "nb101",
            "workload": "all",
            "batch": len(scores),
            "archs_per_second": len(scores) / (listed + scored),
            "fit_seconds": None,
            "list_seconds": listed,
            "score_seconds": scored,
            "end_to_end_seconds": listed + scored,
        }
    )
    print(
        f"medians of repeated runs after warm-up; fit s: warm median (first fit with compilation in the JSON); "
        f"plain = the reference codes' GCN formulation in JAX, same run; naslib = NASLib on this machine as "
        f"reported (not measured here); all: {listed:.2f} s to list NB101 + {scored:.2f} s to score it",
        file=out,
    )
    return write_result({"machine": machine, "records": records}, json_out, out)


def _precision_records(
    models: tuple[str, ...], precisions: tuple[str, ...], n: int, repeats: int, rng: np.random.Generator, out: Any
) -> Iterator[dict[str, Any]]:
    """The "precision" workload: each of ``models`` fitted on ``PRECISION_TRAIN`` NB101 table cells
    scores ``n`` cells drawn from the enumerated space in float32 (the reference) and each of
    ``precisions``; one record per (model, precision) with archs/s (median of ``repeats``, the
    precisions timed in turn within each repeat, after a warm-up that compiles), the float32 rate
    of the same run as the baseline, and the Kendall tau and largest absolute difference of the
    predictions against float32's."""
    import copy

    from ..metrics import kendall_tau
    from ..predictors import get_predictor
    from ..spaces import get_space
    from ..tables import default_data_dir, load_table

    space = get_space("nb101")
    if default_data_dir() is not None:
        table = load_table("nb101_20k")
        rows = rng.choice(len(table), PRECISION_TRAIN, replace=False)
        archs, y, targets = table.subset(rows).archs, table.column()[rows], table.name
    else:
        archs, y, targets = draw_batch(space, PRECISION_TRAIN, rng), rng.random(PRECISION_TRAIN), "random"
        print("precision: no data folder (PYENGINE_DATA); fitted on random targets", file=out)
    cells = draw_batch(space, n, rng)
    order = ("float32", *(p for p in precisions if p != "float32"))
    for name in models:
        t0 = time.perf_counter()
        model = get_predictor(name, space=space, random_state=0).fit(archs, y)
        fit_s = time.perf_counter() - t0
        runs = {p: copy.copy(model).set_params(inference_precision=p) for p in order}  # the same weights
        preds = {p: m.predict(cells) for p, m in runs.items()}  # also the warm-up: every bucket compiled
        times: dict[str, list[float]] = {p: [] for p in order}
        for _ in range(repeats):  # the precisions interleaved: a busy spell of the machine hits each alike
            for p, m in runs.items():
                t0 = time.perf_counter()
                m.predict(cells)
                times[p].append(time.perf_counter() - t0)
        rates = {p: n / statistics.median(t) for p, t in times.items()}
        for p in (p for p in order if p in precisions):
            yield {
                "name": name,
                "space": "nb101",
                "workload": "precision",
                "precision": p,
                "batch": n,
                "archs_per_second": rates[p],
                "fit_seconds": None,
                "baseline_archs_per_second": None if p == "float32" else rates["float32"],
                "kendall_tau_vs_float32": kendall_tau(preds["float32"], preds[p]),
                "max_abs_diff_vs_float32": float(np.abs(preds[p] - preds["float32"]).max()),
                "train_size": PRECISION_TRAIN,
                "targets": targets,
                "train_seconds": fit_s,
                "repeats": repeats,
            }


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N,N", help="query batch sizes (default 1,1000,10000,100000)")
    p.add_argument("--models", metavar="NAME,NAME", help=f"models timed (default {','.join(MODELS)})")
    p.add_argument(
        "--precision",
        metavar="NAME,NAME",
        help="inference precisions of gcn and transformer to time on the largest batch of NB101 cells, "
        "with the Kendall tau against float32 (some of float32,tf32,bfloat16)",
    )


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    sizes = _options.int_list(args.sizes, "--sizes", positive=True) if args.sizes else [1, 1_000, 10_000, 100_000]
    kw: dict[str, Any] = {"sizes": tuple(sizes)}
    if args.models:
        models = tuple(m.strip() for m in args.models.split(",") if m.strip())
        unknown = [m for m in models if m not in MODELS]
        if unknown or not models:
            raise CliError(f"--models must name some of {', '.join(MODELS)}. Got {args.models!r}.")
        kw["models"] = models
    if args.precision:
        from ..predictors._nn import INFERENCE_PRECISIONS  # only here: the CLI starts without JAX

        precisions = tuple(dict.fromkeys(p.strip() for p in args.precision.split(",") if p.strip()))
        unknown = [p for p in precisions if p not in INFERENCE_PRECISIONS]
        if unknown or not precisions:
            raise CliError(f"--precision must name some of {', '.join(INFERENCE_PRECISIONS)}. Got {args.precision!r}.")
        kw["precisions"] = precisions
    return kw


SUITE = BenchSuite(
    run=run_predict_bench,
    summary="neural predictors: query archs/s, fit seconds, all of NB101",
    description=(
        "Query architectures per second of gcn, transformer and bananas on NB101 and NB201 for each batch "
        "size, fit seconds at N = 100 and 156 (NB201) and 1,000 (NB101), and all of NB101 listed and scored end "
        "to end; beside the GCN as the reference codes write it, timed in the same run, and NASLib's figures "
        "for this machine. --precision adds gcn and transformer inference in float32, tf32 or bfloat16 "
        "(archs/s and Kendall tau against float32 on the same cells)."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
