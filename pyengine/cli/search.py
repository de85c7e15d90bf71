"""``pyengine search``: simulated NAS, searchers over many seeds on a benchmark table."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import int_list, load_table, positive, predictor_params, record_sink
from ._commands import add_command_parser

_DEFAULT_TABLES = {"nb201": "nb201_cifar10_200ep", "nb101": "nb101_20k"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine search``."""
    p = add_command_parser(subparsers, "search")
    p.add_argument("--space", help="search space (default: the table's); nb201 and nb101 pick a default table")
    p.add_argument("--table", help="registered table name or CSV path (default nb201_cifar10_200ep / nb101_20k)")
    p.add_argument("--metric", help="the column searched (default: the table's validation accuracy)")
    p.add_argument("--test-metric", help="the column reported, never searched (default: the table's; 'none')")
    p.add_argument("--searchers", default="rs,re,ls,bananas,np", help="comma-separated searcher names")
    p.add_argument("--budget", type=positive, default=300, help="queries per run (default 300)")
    p.add_argument("--seeds", type=positive, default=10, help="N runs per searcher with seeds 0..N-1 (default 10)")
    p.add_argument("--jobs", type=positive, default=1, help="worker processes over (searcher, seed) (default 1)")
    p.add_argument("--ray", metavar="local|ADDRESS", help="(searcher, seed) runs as Ray tasks (--jobs: local CPUs)")
    p.add_argument("--pool", choices=["table", "space"], default="table", help="search the table's rows or the space")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME.PARAM=VALUE",
        help="a searcher parameter, VALUE as JSON (e.g. np.n_train=172, re.population_size=50); repeatable",
    )
    p.add_argument("--cost-table", help="table of a cost such as latency (e.g. nb201_latency)")
    p.add_argument("--cost-metric", help="the cost column (e.g. pixel3)")
    p.add_argument("--max-cost", type=float, help="hard bound on the cost for every searcher")
    p.add_argument("--pareto-j", type=positive, help="np: soft-Pareto selection over the cost with this J (paper: 6)")
    p.add_argument("--tolerance", type=float, help="distance to the oracle counted as reached (default 0.1 points)")
    p.add_argument("--checkpoints", help="query counts reported (default 50,100,150,300)")
    p.add_argument("--json", metavar="OUT", help="write one record per (searcher, seed), a JSON list, as runs finish")
    p.add_argument("--plot", metavar="PNG", help="trajectory plot (default: OUT with .png)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine search``; the exit status."""
    from .._io import write_records
    from ..search import SEARCHERS, TableColumn, default_tolerance, oracle, plot_trajectories, simulate, summarize
    from ..spaces import SPACES

    name = args.table or (_DEFAULT_TABLES.get(SPACES.canonical_name(args.space)) if args.space else None)
    if name is None:
        raise CliError(f"--table is needed for the {args.space or 'given'} space")
    table = load_table(name, args.space)
    test_metric = "default" if args.test_metric is None else (None if args.test_metric == "none" else args.test_metric)
    names = [s.strip() for s in args.searchers.split(",") if s.strip()]
    params = predictor_params(args.set)
    cost = None
    if args.cost_table:
        cost_table = load_table(args.cost_table, table.space)
        if not args.cost_metric:
            cols = ", ".join(cost_table.metric_names)
            raise CliError(f"--cost-metric is needed; columns of {cost_table.name}: {cols}")
        cost = TableColumn(cost_table, args.cost_metric)
    elif args.max_cost is not None or args.pareto_j is not None:
        raise CliError("--max-cost and --pareto-j need --cost-table and --cost-metric")
    for n in names:
        key = SEARCHERS.canonical_name(n)
        if args.max_cost is not None:
            params.setdefault(n, {})["max_cost"] = args.max_cost
        if args.pareto_j is not None and key == "np":
            params.setdefault(n, {})["pareto_j"] = args.pareto_j
    mask = None
    if cost is not None and args.max_cost is not None:  # the oracle within the bound
        with np.errstate(invalid="ignore"):
            mask = cost(table.archs) <= args.max_cost
    best = oracle(table, args.metric, test_metric, mask=mask)
    if mask is not None:
        best["note"] = f" (best of the {int(mask.sum())} cells within --max-cost {args.max_cost:g})"
    tol = args.tolerance if args.tolerance is not None else default_tolerance(table, best["metric"])
    checkpoints = int_list(args.checkpoints, "--checkpoints") if args.checkpoints else [50, 100, 150, 300]
    records, keep = record_sink(args.json)

    try:
        records = simulate(
            table,
            names,
            args.budget,
            args.seeds,
            metric=args.metric,
            test_metric=test_metric,
            pool=args.pool,
            searcher_params=params,
            cost=cost,
            jobs=args.jobs,
            progress=not args.no_progress and sys.stderr.isatty(),
            on_record=keep,
            ray=args.ray,
        )
    finally:
        if records:
            cps = [c for c in checkpoints if c <= args.budget]
            rows = summarize(records, best["valid"], tolerance=tol, checkpoints=cps)
            _print_search_summary(rows, table.name, best, tol)
    if args.json:
        write_records(records, args.json)
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot:
        plot_trajectories(records, plot, oracle_info=best, title=f"{table.name}: {best['metric']}")
        print(f"wrote {plot}")
    return 0


def _cell(point: dict[str, Any] | None, field: str) -> str:
    if not point or f"{field}_mean" not in point:
        return ""
    return f"{point[field + '_mean']:.4g} ({point[field + '_se']:.2g})"


def _print_search_summary(rows: list[dict[str, Any]], table: str, best: dict[str, Any], tol: float) -> None:
    test = f", its {best['test_metric']} {best['test']:.4g}" if best["test"] is not None else ""
    print(f"table {table}: oracle {best['metric']} {best['valid']:.4g}{test}{best.get('note', '')}")
    print(f"best found: mean over seeds (standard error); queries to come within {tol:g} of the oracle")
    cps = sorted({c for r in rows for c in r["checkpoints"]})
    head = f"{'searcher':<9}{'runs':>5}{'to oracle mean/med':>20}{'reached':>9}" + "".join(
        f"{'valid@' + str(c):>17}" for c in cps
    )
    has_test = any("test_mean" in p for r in rows for p in r["checkpoints"].values())
    if has_test:
        head += "".join(f"{'test@' + str(c):>17}" for c in cps)
    print(head)
    print("-" * len(head))
    for r in rows:
        q = (
            "-"
            if r["queries_to_oracle_mean"] is None
            else f"{r['queries_to_oracle_mean']:.1f}/{r['queries_to_oracle_median']:.0f}"
        )
        line = f"{r['searcher']:<9}{r['runs']:>5}{q:>20}{str(r['reached']) + '/' + str(r['runs']):>9}"
        for c in cps:
            p = r["checkpoints"].get(c)
            line += f"{_cell(p, 'valid'):>17}"
        if has_test:
            for c in cps:
                p = r["checkpoints"].get(c)
                line += f"{_cell(p, 'test'):>17}"
        print(line)
        if r["n_failed"]:
            print(f"  {r['n_failed']} failed queries across the runs of {r['searcher']}")
