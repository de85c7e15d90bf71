"""``pyengine evaluate``: predictors on a benchmark table, over training sizes and seeds."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import CliError
from ._args import int_at_least, int_list, load_table, positive, predictor_params, record_sink
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine evaluate``."""
    p = add_command_parser(subparsers, "evaluate")
    p.add_argument("--space", help="search space of the table (checked; needed for a CSV of another space's strings)")
    p.add_argument(
        "--table", help="a registered table name (e.g. nb201_cifar10_200ep) or a CSV path (default: --protocol's)"
    )
    p.add_argument(
        "--protocol",
        metavar="NAME",
        help="a named protocol on --space: 'published' trains on the papers' N and tests on every other cell",
    )
    p.add_argument("--metric", help="the column to predict (default: the table's validation accuracy)")
    p.add_argument(
        "--predictors",
        help="comma-separated predictor names (default rf,xgb,lgb,ngb; xgb, lgb and ngb need the boosting extra; "
        "with --protocol: rf,gcn)",
    )
    p.add_argument("--train-sizes", help="comma-separated training sizes (default 5,8,14,24,42,71,121,205,500)")
    p.add_argument("--seeds", type=positive, help="N runs with seeds 0..N-1 (default 10; --protocol's: 5)")
    p.add_argument("--test-size", type=int_at_least(2, "--test-size"), help="test architectures (default 1000)")
    p.add_argument("--sampling", choices=["uniform", "mutation"], help="how test sets are drawn (default uniform)")
    p.add_argument(
        "--encoding",
        help="encoding of the vector-input predictors (default: each one's own, graf with --protocol; gcn always "
        "reads graphs)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME.PARAM=VALUE",
        help="a predictor parameter, VALUE as JSON (e.g. gcn_two_stage.threshold=0.91); repeatable",
    )
    p.add_argument("--defaults", choices=["tuned", "library"], default="tuned", help="starting hyperparameters")
    p.add_argument("--tune", action="store_true", help="cross-validated search on each training set")
    p.add_argument("--json", metavar="OUT", help="write the records (a JSON list) to OUT, updated after each fit")
    p.add_argument("--plot", metavar="PNG", help="Kendall tau plot (default: OUT with .png)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ray", metavar="local|ADDRESS", help="run the fits as Ray tasks (pip install .[ray])")
    p.add_argument("--workers", type=positive, help="Ray: CPUs of a local runtime (default: all)")
    p.add_argument("--fidelity", type=positive, help="epochs seen at query time (learning-curve predictors, OMNI)")
    p.add_argument("--fidelity-table", metavar="NAME_OR_CSV", help="a table of the same architectures at the fidelity")
    p.add_argument("--fidelity-metric", metavar="COLUMN", help="its column (default: its validation metric)")
    p.add_argument("--omni-features", metavar="LIST", help="OMNI's features, e.g. onehot,fidelity,jacob_cov")
    p.add_argument("--zc-json", metavar="FILE", help="zero-cost scores (NAS-Bench-Suite-Zero JSON) for OMNI")
    p.add_argument(
        "--zc-features",
        metavar="LIST",
        help="zero-cost scores appended to every predictor's inputs, e.g. synflow,params,flops (from --zc-json, "
        "else computed and cached)",
    )
    p.add_argument(
        "--time-column",
        metavar="COLUMN",
        help="the table's training-time column for init/query seconds (default: its train_seconds_E column)",
    )
    p.add_argument(
        "--plot-grid",
        metavar="PNG",
        help="White et al.'s grid: best predictor per init/query budget, as PNG and the same name with .json",
    )
    p.add_argument("--grid-bins", type=positive, default=8, help="budgets per axis of --plot-grid (default 8)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine evaluate``; the exit status."""
    from ..evaluation import DEFAULT_TRAIN_SIZES, PredictorEvaluator, plot_grid, plot_kendall, summarize, training_time

    if args.protocol:
        return _run_protocol(args)
    if not args.table:
        raise CliError("--table is required (or --protocol with --space)")
    args.predictors = args.predictors or "rf,xgb,lgb,ngb"
    args.seeds = args.seeds or 10
    args.test_size = args.test_size or 1000
    args.sampling = args.sampling or "uniform"
    table = load_table(args.table, args.space)
    if args.plot_grid and training_time(table, args.time_column) is None:
        raise CliError(
            f"--plot-grid needs a training-time column (train_seconds_E or train_seconds_per_epoch); table "
            f"{table.name} has none (columns: {', '.join(table.metric_names)})"
        )
    sizes = int_list(args.train_sizes, "--train-sizes") if args.train_sizes else list(DEFAULT_TRAIN_SIZES)
    predictors = [p.strip() for p in args.predictors.split(",") if p.strip()]
    fidelity_table = load_table(args.fidelity_table, table.space.name) if args.fidelity_table else None
    if (args.fidelity_metric is not None) and fidelity_table is None:
        raise CliError("--fidelity-metric needs --fidelity-table")
    zc = zc_seconds = None
    if args.zc_json:
        from ..tables import join_naslib_zc

        try:
            joined = join_naslib_zc(table, args.zc_json)
        except (OSError, ValueError) as err:
            raise CliError(str(err)) from None
        n = len(joined.table)
        if n < len(table):
            print(f"{n} of the {len(table)} architectures of {table.name} have zero-cost scores: those count")
        table, zc, zc_seconds = joined.table, joined.scores, joined.seconds
    evaluator = PredictorEvaluator(
        table,
        predictors,
        metric=args.metric,
        train_sizes=sizes,
        seeds=args.seeds,
        test_size=args.test_size,
        sampling=args.sampling,
        encoding=args.encoding,
        tune=args.tune,
        defaults=args.defaults,
        predictor_params=predictor_params(args.set),
        fidelity=args.fidelity,
        fidelity_table=fidelity_table,
        fidelity_metric=args.fidelity_metric,
        zc=zc,
        zc_seconds=zc_seconds,
        omni_features=args.omni_features,
        zc_features=args.zc_features,
        time_column=args.time_column,
    )
    records, keep = record_sink(args.json)

    try:
        evaluator.run(
            progress=not args.no_progress and sys.stderr.isatty(), on_record=keep, ray=args.ray, workers=args.workers
        )
    finally:
        if records:
            _print_summary(summarize(records), table.name, args.metric or table.default_metric)
    if args.json:
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot:
        plot_kendall(records, plot, title=f"{table.name}: {args.metric or table.default_metric}")
        print(f"wrote {plot}")
    if args.plot_grid:
        cells = plot_grid(
            records, args.plot_grid, bins=args.grid_bins, title=f"{table.name}: best predictor by Kendall tau"
        )
        init_b = sorted({c["init_budget"] for c in cells})
        print("best predictor (mean Kendall tau) per budget: init seconds across, query seconds per arch down")
        print("query \\ init".rjust(12) + "".join(f"{b:>14.3g}" for b in init_b))
        for q in sorted({c["query_budget"] for c in cells}):
            row = [c for c in cells if c["query_budget"] == q]
            row.sort(key=lambda c: c["init_budget"])
            text = ["-" if c["predictor"] is None else f"{c['predictor']} {c['kendalltau']:.2f}" for c in row]
            print(f"{q:>12.3g}" + "".join(f"{t:>14}" for t in text))
        print(f"wrote {args.plot_grid} and {os.path.splitext(args.plot_grid)[0]}.json")
    return 0


def _print_summary(rows: list[dict[str, Any]], table: str, metric: str | None) -> None:
    print(f"table {table}, metric {metric}: mean over seeds (std)")
    head = f"{'predictor':<10}{'train':>7}{'runs':>6}{'kendalltau':>18}{'spearman':>10}{'sparse_kt':>11}{'fit s':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        kt = f"{r['mean']:.3f} ({r['std']:.3f})"
        print(
            f"{r['predictor']:<10}{r['train_size']:>7}{r['runs']:>6}{kt:>18}{r['spearman']:>10.3f}"
            f"{r['sparse_kendalltau']:>11.3f}{r['fit_seconds']:>8.2f}"
        )


_NOT_WITH_PROTOCOL = (
    "test_size",
    "sampling",
    "fidelity",
    "fidelity_table",
    "fidelity_metric",
    "omni_features",
    "zc_json",
    "time_column",
    "plot_grid",
)


def _run_protocol(args: argparse.Namespace) -> int:
    """``pyengine evaluate --protocol NAME --space SPACE``: the protocol's sizes, seeds and test sets,
    the summary beside the published figures; records carry the protocol's name and space."""
    from ..evaluation import get_protocol, metric_dataset, plot_kendall, protocol_evaluator, protocol_summary

    given = [f"--{k.replace('_', '-')}" for k in _NOT_WITH_PROTOCOL if getattr(args, k, None) is not None]
    if given:
        raise CliError(f"--protocol sets the test set (every other cell); {', '.join(given)} do not apply")
    if not args.space:
        raise CliError("--protocol needs --space (the protocol's settings are per space)")
    protocol = get_protocol(args.protocol, args.space)
    table = load_table(args.table or protocol.table, args.space)
    predictors = [p.strip() for p in (args.predictors or "rf,gcn").split(",") if p.strip()]
    metric = args.metric or table.default_metric
    evaluator = protocol_evaluator(
        protocol,
        table,
        predictors,
        train_sizes=int_list(args.train_sizes, "--train-sizes") if args.train_sizes else None,
        seeds=args.seeds,
        metric=metric,
        encoding=args.encoding or "graf",
        tune=args.tune,
        defaults=args.defaults,
        predictor_params=predictor_params(args.set),
    )
    records, keep = record_sink(args.json)
    extra = {"protocol": protocol.name, "space": protocol.space, "test_pool": "rest"}
    try:
        evaluator.run(
            progress=not args.no_progress and sys.stderr.isatty(),
            on_record=lambda rec: keep({**rec, **extra}),
            ray=args.ray,
            workers=args.workers,
        )
    finally:
        if records:
            _print_protocol(protocol_summary(records, protocol.space, metric_dataset(metric)), protocol, table, metric)
    if args.json:
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot:
        plot_kendall(records, plot, title=f"{protocol.name} protocol, {table.name}: {metric}")
        print(f"wrote {plot}")
    return 0


def _print_protocol(rows: list[dict[str, Any]], protocol: Any, table: Any, metric: str) -> None:
    print(
        f"protocol {protocol.name} on {protocol.space}: table {table.name}, metric {metric}; train on N, test on "
        "every other row; Kendall tau, mean over seeds (std)"
    )
    head = f"{'N':>6}  {'predictor':<44}{'runs':>5}{'test':>8}{'kendalltau':>16}  source"
    print(head)
    print("-" * (len(head) + 30))
    for r in rows:
        if r["kind"] == "measured":
            kt = f"{r['mean']:.3f} ({r['std']:.3f})"
            print(f"{r['train_size']:>6}  {r['predictor']:<44}{r['runs']:>5}{r['test_size']:>8.0f}{kt:>16}  measured")
        else:
            src = f"published ({r['venue']} {r['year']})"
            print(f"{r['train_size']:>6}  {r['predictor']:<44}{'':>5}{'':>8}{r['mean']:>16.3f}  {src}")
    papers = {r["paper"]: r for r in rows if r["kind"] == "published"}
    for paper, r in papers.items():
        print(f"published: {paper}, {r['venue']} {r['year']} ({r['source']}; {r['note']})")
    print(f"note: {protocol.note}")
