"""``pyengine score``: score a whole space or a JSONL with a saved model or a proxy, resumable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import CliError
from ._args import int_at_least, positive
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine score``."""
    p = add_command_parser(subparsers, "score")
    p.add_argument("input", nargs="?", metavar="IN.jsonl", help="architectures to score (or --all)")
    p.add_argument("--space", required=True, help="search space")
    p.add_argument("--all", action="store_true", help="every architecture of the space, in its listing order")
    p.add_argument("--model", metavar="MODEL", help="a file written by predictor.save / pyengine fit --save")
    p.add_argument("--proxy", metavar="NAME", help="a zero-cost proxy (pyengine.proxies)")
    p.add_argument("--out", required=True, metavar="OUT.jsonl", help="output; OUT.jsonl.ckpt holds the checkpoint")
    p.add_argument("--resume", action="store_true", help="continue the job of OUT's checkpoint")
    p.add_argument("--chunk-size", type=positive, default=4096, help="architectures per chunk and checkpoint")
    p.add_argument("--seed", type=int, default=0, help="proxy: weights, noise batch, labels")
    p.add_argument("--batch-size", type=int_at_least(2, "--batch-size"), default=32, help="proxy: minibatch")
    p.add_argument("--dataset", default="cifar10", help="proxy: cifar10 | cifar100 | ImageNet16-120")
    p.add_argument("--ray", metavar="local|ADDRESS", help="deal chunks to Ray workers (pip install .[ray])")
    p.add_argument("--workers", type=positive, help="Ray: worker processes (default: the cluster's CPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine score``; the exit status."""
    from ..scoring import ModelScorer, ProxyScoreFn, ScoreSource, score_job

    if (args.input is None) == (not args.all):
        raise CliError("score needs exactly one of --all or IN.jsonl")
    if (args.model is None) == (args.proxy is None):
        raise CliError("score needs exactly one of --model MODEL or --proxy NAME")
    from ..spaces import get_space

    space = get_space(args.space).name
    if args.model is not None:
        try:
            scorer: Any = ModelScorer(args.model, space)
        except OSError as err:
            raise CliError(f"cannot read {args.model}: {err}") from None
    else:
        scorer = ProxyScoreFn(args.proxy, space, seed=args.seed, batch_size=args.batch_size, dataset=args.dataset)
    source = ScoreSource(space, args.input)
    executor = None
    if args.ray is not None:
        from ..scoring._ray import ray_executor

        executor = ray_executor(args.ray, workers=args.workers)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=source.total(), unit="arch", file=sys.stderr, dynamic_ncols=True, disable=None)

    def progress(lines: int, total: int | None) -> None:
        if bar is not None:
            bar.n = lines
            bar.refresh()

    try:
        r = score_job(
            source, scorer, args.out, chunk_size=args.chunk_size, resume=args.resume, executor=executor,
            progress=progress,
        )  # fmt: skip
    except FileExistsError as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"cannot write {args.out}: {err.strerror or err}") from None
    finally:
        if bar is not None:
            bar.close()
    if r["lines"] == 0 and r["resumed_from"] == 0 and r["total_lines"]:
        print(f"{args.out} is already complete ({r['total_lines']} architectures)")
        return 0
    resumed = f", resumed after {r['resumed_from']}" if r["resumed_from"] else ""
    print(
        f"scored {r['lines']} architectures in {r['seconds']:.2f} s ({r['archs_per_second']:,.0f} archs/s{resumed}); "
        f"{r['total_lines']} lines in {args.out}"
    )
    return 0
