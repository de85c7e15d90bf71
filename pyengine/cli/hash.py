"""``pyengine hash nb101 IN.jsonl``: validate, prune and hash NB101 cells, one JSON line each."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from ..errors import CliError
from ._args import open_in, open_out, read_records, threads
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine hash``."""
    p = add_command_parser(subparsers, "hash")
    p.add_argument("space", choices=["nb101"])
    p.add_argument("input", metavar="IN.jsonl", help="lines {'matrix': [[...]], 'ops': [...]} ('-' for stdin)")
    p.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
    p.add_argument("--threads", type=threads, default=0, help="worker threads (0 = all cores)")
    return p


def _read_cells(stream: IO[str], source: str) -> Iterator[list[tuple[int, Any, Any]]]:
    """Yield chunks of (line number, matrix, ops) from a JSONL stream, checking each record."""
    for chunk in read_records(stream, source, what="cells"):
        out = []
        for lineno, rec in chunk:
            for field in ("matrix", "ops"):
                if field not in rec:
                    raise CliError(f"{source}, line {lineno}: missing field '{field}'")
            if not isinstance(rec["ops"], list):
                raise CliError(f"{source}, line {lineno}: field 'ops' must be a list. Got {type(rec['ops']).__name__}.")
            out.append((lineno, rec["matrix"], rec["ops"]))
        yield out


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine hash``; the exit status."""
    from ..graph import nb101

    stream = open_in(args.input)
    out = open_out(args.out)
    count = 0
    try:
        for chunk in _read_cells(stream, args.input):
            names = [f"{args.input}, line {ln}" for ln, _, _ in chunk]
            try:
                batch = nb101.pack_cells([(m, o) for _, m, o in chunk], names=names)
            except (TypeError, ValueError) as err:
                raise CliError(str(err)) from None
            res = nb101.validate(batch, threads=args.threads)
            reasons = res.reasons()
            lines = []
            for k, (_, _, ops) in enumerate(chunk):
                n = int(res.pruned.num_vertices[k])
                if n > 0:
                    pm = res.pruned.matrices[k, :n, :n].tolist()
                    po = [op for op, kept in zip(ops, res.kept[k][: len(ops)], strict=True) if kept]
                else:
                    pm, po = None, None
                rec = {
                    "valid": bool(res.valid[k]),
                    "reason": reasons[k],
                    "hash": str(res.hashes[k]) or None,
                    "pruned_matrix": pm,
                    "pruned_ops": po,
                }
                lines.append(json.dumps(rec))
            out.write("\n".join(lines) + "\n")
            out.flush()
            count += len(chunk)
    finally:
        if stream is not sys.stdin:
            stream.close()
        if out is not sys.stdout:
            out.close()
    print(f"hashed {count} cells", file=sys.stderr)
    return 0
