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
    p.add_argument(
        "--chunk-size",
        type=positive,
        help="architectures per chunk and checkpoint (default 4096; with --sample, the backend's)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="proxy: weights, noise batch, labels; --sample: the stream's seed"
    )
    p.add_argument("--batch-size", type=int_at_least(2, "--batch-size"), default=32, help="proxy: minibatch")
    p.add_argument("--dataset", default="cifar10", help="proxy: cifar10 | cifar100 | ImageNet16-120")
    p.add_argument("--ray", metavar="local|ADDRESS", help="deal chunks to Ray workers (pip install .[ray])")
    p.add_argument("--workers", type=positive, help="Ray: worker processes (default: the cluster's CPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group(
        "streaming top-k (--sample N)",
        "draw N candidates (nb101, nb201) or mutate --parents, drop invalid ones and isomorphs, score the rest with "
        "--model and write the K best to OUT.jsonl (best first) and a summary to OUT.jsonl.summary.json",
    )
    g.add_argument("--sample", type=int_at_least(0, "--sample"), metavar="N", help="candidates to stream")
    g.add_argument("--top-k", type=positive, metavar="K", help="architectures kept (default 100)")
    g.add_argument("--device", choices=("auto", "cpu", "gpu"), help="where the stages run (default auto)")
    g.add_argument("--parents", metavar="PARENTS.jsonl", help="mutate these architectures instead of sampling")
    g.add_argument("--edge-prob", type=float, metavar="P", help="nb101 sampling: edge probability (default 0.5)")
    return p


_STREAM_ONLY = ("top_k", "device", "parents", "edge_prob")
_NOT_STREAM = {"input": "IN.jsonl", "all": "--all", "proxy": "--proxy", "resume": "--resume", "ray": "--ray"}


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine score``; the exit status."""
    from ..scoring import DEFAULT_CHUNK, ModelScorer, ProxyScoreFn, ScoreSource, score_job

    if args.sample is not None:
        return _run_stream(args)
    for name in _STREAM_ONLY:
        if getattr(args, name) is not None:
            raise CliError(f"--{name.replace('_', '-')} goes with --sample N (streaming top-k)")
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
            source, scorer, args.out, chunk_size=args.chunk_size or DEFAULT_CHUNK, resume=args.resume,
            executor=executor, progress=progress,
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


def _run_stream(args: argparse.Namespace) -> int:
    """``pyengine score --sample N``: the streaming top-k (``pyengine.pipeline.stream_top_k``)."""
    import json
    import os

    from .._io import atomic_write
    from ..pipeline import stream_top_k

    for name, flag in _NOT_STREAM.items():
        if getattr(args, name):
            raise CliError(f"--sample streams candidates; it does not take {flag}")
    if args.model is None:
        raise CliError("--sample needs --model MODEL (a fitted predictor)")
    summary_path = args.out + ".summary.json"
    for path in (args.out, summary_path):
        if os.path.exists(path):
            raise CliError(f"{path} exists; remove it or choose another --out")
    top_k = 100 if args.top_k is None else args.top_k
    parents = None
    if args.parents is not None:
        from ._args import open_in, read_records

        with open_in(args.parents) as fh:
            parents = [rec for chunk in read_records(fh, args.parents) for _, rec in chunk]
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=args.sample, unit="arch", file=sys.stderr, dynamic_ncols=True, disable=None)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.n = done
            bar.refresh()

    try:
        res = stream_top_k(
            args.space, args.model, args.sample, k=top_k, seed=args.seed, chunk_size=args.chunk_size,
            device=args.device or "auto", parents=parents, edge_prob=args.edge_prob, progress=progress,
        )  # fmt: skip
    except OSError as err:
        raise CliError(f"cannot read {args.model}: {err.strerror or err}") from None
    finally:
        if bar is not None:
            bar.close()
    st = res.stats
    summary = {
        "space": st.space,
        "model": os.path.abspath(args.model),
        "seed": args.seed,
        "top_k": top_k,
        "mode": "mutate" if parents is not None else "sample",
        "parents": None if parents is None else os.path.abspath(args.parents),
        "edge_prob": args.edge_prob,
        **st.as_dict(),
    }
    try:
        with atomic_write(args.out) as fh:
            for rec in res.records():
                fh.write(json.dumps(rec) + "\n")
        with atomic_write(summary_path) as fh:
            json.dump(summary, fh, indent=1)
    except OSError as err:
        raise CliError(f"cannot write {args.out}: {err.strerror or err}") from None
    bad = ", ".join(f"{r} {c}" for r, c in st.invalid.items() if c)
    print(
        f"streamed {st.generated} {st.space} candidates in {st.total_seconds:.2f} s ({st.archs_per_second:,.0f} "
        f"archs/s on {st.device}): {st.valid} valid{f' (rejected: {bad})' if bad else ''}, {st.unique} unique and "
        f"scored; top {len(res.keys)} in {args.out}, summary in {summary_path}"
    )
    return 0
