"""``pyengine enumerate nb101 --out FILE.npz``: every unique valid cell of a space."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import threads
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine enumerate``."""
    p = add_command_parser(subparsers, "enumerate")
    p.add_argument("space", choices=["nb101"])
    p.add_argument("--out", required=True, metavar="FILE.npz", help="npz file to write (exactly this path)")
    p.add_argument("--no-hashes", action="store_true", help="skip the official hashes")
    p.add_argument("--threads", type=threads, default=0, help="worker threads (0 = all cores)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine enumerate``; the exit status."""
    from ..graph import nb101

    t0 = time.perf_counter()
    space = nb101.enumerate_space(hashes=not args.no_hashes, threads=args.threads)
    wall = time.perf_counter() - t0
    arrays = {
        "matrices": space.cells.matrices,
        "labels": space.cells.labels,
        "num_vertices": space.cells.num_vertices,
        "canonical_keys": space.canonical_keys,
    }
    if not args.no_hashes:
        arrays["hashes"] = space.hashes.astype("S32")
    try:
        with open(args.out, "wb") as fh:  # a file object: numpy adds no extension
            np.savez(fh, **arrays)
    except OSError as err:
        raise CliError(f"cannot write {args.out}: {err.strerror}") from None
    print(f"nb101: {len(space.cells)} cells enumerated in {wall:.2f} s -> {args.out}")
    return 0
