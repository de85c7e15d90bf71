"""``pyengine bench SUITE``: microbenchmarks beside baselines timed in the same run. The suites and
their options come from the registry ``pyengine.bench.BENCHES``."""

from __future__ import annotations

import argparse
from typing import Any

from ._args import positive
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine bench``: one subcommand per registered suite, with its own options."""
    from ..bench import BENCHES

    p = add_command_parser(
        subparsers,
        "bench",
        description="Each suite times pyengine on its workloads beside a baseline measured in the same run, prints "
        "a table and, with --json, writes {'machine': ..., 'records': [...]}. "
        "'pyengine bench SUITE --help' lists a suite's options.",
    )
    suites = p.add_subparsers(dest="suite", required=True)
    for name in BENCHES.names():
        suite = BENCHES.get(name)
        q = suites.add_parser(name, help=suite.summary, description=suite.description)
        q.add_argument("--json", metavar="OUT", help="write {'machine': ..., 'records': [...]} to OUT")
        q.add_argument(
            "--repeats", type=positive, default=5, help="timed repeats per workload, the median reported (default 5)"
        )
        suite.add_arguments(q)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine bench SUITE``; the exit status."""
    from ..bench import BENCHES

    suite = BENCHES.get(args.suite)
    suite(json_out=args.json, repeats=args.repeats, **suite.from_args(args))
    return 0
