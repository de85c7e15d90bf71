"""``pyengine fit``: fit a predictor on a table sample or a JSONL of architectures and save it."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import int_at_least, load_table, open_in, positive, predictor_params, read_records
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine fit``."""
    p = add_command_parser(subparsers, "fit")
    p.add_argument("--space", required=True, help="search space of the architectures")
    p.add_argument("--table", metavar="NAME_OR_FILE", help="a registered table name or a CSV")
    p.add_argument("--train", metavar="FILE.jsonl", help="lines {'arch': ..., 'value': ...} (field: --metric)")
    p.add_argument("--metric", help="table column (default: the table's), or the JSONL field (default: value)")
    p.add_argument("--predictor", default="gcn", help="a registered predictor name")
    p.add_argument("--train-size", type=positive, default=100, help="rows sampled from --table")
    p.add_argument("--seed", type=int_at_least(0, "--seed"), default=0, help="sample and predictor seed")
    p.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE", help="a predictor parameter")
    p.add_argument("--save", required=True, metavar="MODEL", help="write the fitted predictor to exactly MODEL")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine fit``; the exit status."""
    from ..predictors import PREDICTORS, get_predictor
    from ..spaces import get_space

    space = get_space(args.space)
    name = PREDICTORS.canonical_name(args.predictor)
    if (args.table is None) == (args.train is None):
        raise CliError("fit needs exactly one of --table FILE (sampled with --train-size) or --train FILE.jsonl")
    if args.table is not None:
        table = load_table(args.table, args.space)
        metric = args.metric or table.default_metric
        values = table.column(metric)
        if args.train_size > len(table):
            raise CliError(f"--train-size {args.train_size} exceeds the {len(table)} rows of {table.name}")
        rng = np.random.default_rng(args.seed)
        rows = np.sort(rng.choice(len(table), size=args.train_size, replace=False))
        archs, y = table.subset(rows).archs, values[rows]
        source = f"{args.train_size} of {len(table)} rows of {table.name} ({metric})"
    else:
        field = args.metric or "value"
        recs: list[dict[str, Any]] = []
        with open_in(args.train) as stream:
            for chunk in read_records(stream, args.train):
                for lineno, rec in chunk:
                    if field not in rec:
                        raise CliError(f"{args.train}, line {lineno}: missing field '{field}'")
                    if not isinstance(rec[field], (int, float)) or isinstance(rec[field], bool):
                        raise CliError(f"{args.train}, line {lineno}: field '{field}' must be a number")
                    recs.append(rec)
        try:
            archs = space.as_batch(recs)
        except (TypeError, ValueError) as err:
            raise CliError(f"{args.train}: {err}") from None
        y = np.array([float(r[field]) for r in recs])
        source = f"{len(recs)} architectures of {args.train} ({field})"
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise CliError(f"the training values hold NaN or inf (first at training row {int(bad[0])})")
    params = predictor_params([f"{name}.{kv}" for kv in args.set]).get(name, {})
    est = get_predictor(name, space=space.name, random_state=args.seed, **params)
    t0 = time.perf_counter()
    est.fit(archs, y)
    fit_s = time.perf_counter() - t0
    est.save(args.save)
    print(f"fitted {name} on {source} in {fit_s:.2f} s; wrote {args.save}")
    return 0
