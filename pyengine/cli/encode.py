"""``pyengine encode SPACE ENCODING IN.jsonl``: one ``{"encoding": [...]}`` line per architecture."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import open_in, open_out, positive, read_records
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine encode``."""
    p = add_command_parser(subparsers, "encode")
    p.add_argument("space", help="search space name (nb101, nb201, darts, macro, proxyless)")
    p.add_argument(
        "encoding",
        help="encoding name (adjacency_one_hot/onehot, categorical, gcn, graf, op_counts, path, path_trunc)",
    )
    p.add_argument(
        "input",
        metavar="IN.jsonl",
        help="lines such as {'arch': '|nor_conv_3x3~0|+...'}, {'matrix': ..., 'ops': ...}, "
        "{'naslib': ...} ('-' = stdin)",
    )
    p.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
    p.add_argument("--k", type=positive, default=None, help="path_trunc: number of leading paths kept (default 40)")
    return p


def _json_value(a: np.ndarray) -> Any:
    if a.dtype == bool:
        return a.astype(int).tolist()
    if np.all(a == np.round(a)):
        return a.astype(np.int64).tolist()
    return a.tolist()


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine encode``; the exit status."""
    from ..encodings import ENCODINGS, GraphBatch
    from ..spaces import InvalidArchitectureError, get_space

    space = get_space(args.space)
    fn = ENCODINGS.get(args.encoding)
    params = {}
    if args.k is not None:
        if ENCODINGS.canonical_name(args.encoding) != "path_trunc":
            raise CliError("--k applies to the path_trunc encoding only")
        params["k"] = args.k
    source = "stdin" if args.input == "-" else args.input
    stream = open_in(args.input)
    out = open_out(args.out)
    try:
        for chunk in read_records(stream, source):
            lines = [n for n, _ in chunk]
            try:
                batch = space.as_batch([r for _, r in chunk])
            except InvalidArchitectureError as err:
                bad = ", ".join(str(lines[r]) for r in err.rows[:20])
                raise CliError(f"{source}: invalid architectures on line(s) {bad}: {err}") from None
            except (ValueError, TypeError) as err:
                for n, rec in chunk:  # name the first line that fails on its own
                    try:
                        space.as_batch([rec])
                    except (ValueError, TypeError) as one:
                        raise CliError(f"{source}, line {n}: {str(one).removeprefix('Record 0: ')}") from None
                raise CliError(f"{source}: {err}") from None
            enc = fn(space, batch, **params)
            if isinstance(enc, GraphBatch):
                rows = zip(*(_json_value(x) for x in enc), strict=True)
                out.writelines(json.dumps({"encoding": list(r)}) + "\n" for r in rows)
            else:
                out.writelines(json.dumps({"encoding": r}) + "\n" for r in _json_value(enc))
    finally:
        if stream is not sys.stdin:
            stream.close()
        if out is not sys.stdout:
            out.close()
    return 0
