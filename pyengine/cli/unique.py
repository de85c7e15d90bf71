"""``pyengine unique nb201``: the isomorphism classes of a space."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._args import open_out
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine unique``."""
    p = add_command_parser(subparsers, "unique")
    p.add_argument("space", choices=["nb201"])
    p.add_argument("--out", metavar="FILE.jsonl", help="write the class of every cell as JSON lines")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine unique``; the exit status."""
    from ..graph import nb201

    cells = nb201.all_cells()
    rep, cls = nb201.canonicalize(cells)
    n_classes = int(cls.max()) + 1
    print(f"nb201: {n_classes} classes over {len(cells)} cells")
    if args.out:
        strs = nb201.format_arch_strs(cells)
        uniq = nb201.unique_str(cells)
        out = open_out(args.out)
        try:
            for i in range(len(cells)):
                rec = {
                    "index": i,
                    "arch": strs[i],
                    "class": int(cls[i]),
                    "representative": int(rep[i]),
                    "representative_arch": strs[int(rep[i])],
                    "unique_str": uniq[i],
                }
                out.write(json.dumps(rec) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
    return 0
