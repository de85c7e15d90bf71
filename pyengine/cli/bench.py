"""``pyengine bench SUITE``: microbenchmarks beside the official algorithms."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import CliError
from ._args import int_list, positive, proxy_names, threads
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine bench``."""
    p = add_command_parser(subparsers, "bench")
    p.add_argument("suite", choices=["graph", "encode", "predict", "train", "proxies", "score", "curves"])
    p.add_argument("--json", metavar="OUT", help="write {'machine': ..., 'records': [...]} to OUT")
    p.add_argument("--repeats", type=positive, default=5, help="timed repeats per workload (median reported)")
    p.add_argument("--sample", type=positive, default=200_000, help="cells per hashing workload")
    p.add_argument("--oracles", metavar="DIR", help="folder of the official-algorithm ports (default: tests/oracles)")
    p.add_argument("--threads", type=threads, default=0, help="worker threads (0 = all cores)")
    p.add_argument(
        "--sizes",
        metavar="N,N",
        help="batch sizes (encode: 10000,1000000; predict: 1,1000,10000,100000; train: group sizes 1,8,32)",
    )
    p.add_argument(
        "--archs", type=positive, default=32, help="train: architectures per group size; proxies: architectures timed"
    )
    p.add_argument(
        "--no-cache", action="store_true", help="train, proxies: no persistent compilation cache (cold compiles)"
    )
    p.add_argument("--proxies", help="proxies: comma-separated names (default: all)")
    p.add_argument(
        "--space", default="nb201", choices=["nb201", "nb101", "darts"], help="proxies: search space (default nb201)"
    )
    p.add_argument("--chunk-size", type=positive, default=2048, help="score: architectures per chunk")
    p.add_argument(
        "--archs-per-call",
        metavar="N,N",
        help="proxies: architectures per compiled call, each timed (default: 1 on CPU, 256 on GPUs)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine bench SUITE``; the exit status."""
    if args.suite == "proxies":
        from .._bench_proxies import run_proxies_bench
        from .._compile_cache import enable_compilation_cache

        if not args.no_cache:
            enable_compilation_cache()
        names = proxy_names(args.proxies) if args.proxies else None
        steps = int_list(args.archs_per_call, "--archs-per-call") if args.archs_per_call else None
        if steps is not None and min(steps) < 1:
            raise CliError(f"--archs-per-call must be positive integers. Got {args.archs_per_call!r}.")
        try:
            run_proxies_bench(
                json_out=args.json,
                repeats=args.repeats,
                n_archs=args.archs,
                proxies=names,
                archs_per_call=steps,
                space=args.space,
            )
        except ValueError as err:
            raise CliError(str(err)) from None
        return 0
    if args.suite == "curves":
        from .._bench_curves import run_curves_bench

        sizes = int_list(args.sizes, "--sizes") if args.sizes else [2000]
        run_curves_bench(json_out=args.json, repeats=args.repeats, n_curves=sizes[0])
        return 0
    if args.suite == "score":
        from .._bench_score import run_score_bench

        sizes = int_list(args.sizes, "--sizes") if args.sizes else [20_000]
        run_score_bench(json_out=args.json, repeats=args.repeats, n_archs=sizes[0], chunk_size=args.chunk_size)
        return 0
    if args.suite == "train":
        from .._bench_train import run_train_bench
        from .._compile_cache import enable_compilation_cache

        if not args.no_cache:
            enable_compilation_cache()
        sizes = int_list(args.sizes, "--sizes") if args.sizes else [1, 8, 32]
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_train_bench(json_out=args.json, repeats=args.repeats, group_sizes=tuple(sizes), n_archs=args.archs)
        return 0
    if args.suite == "predict":
        from .._bench_predict import run_predict_bench

        sizes = int_list(args.sizes, "--sizes") if args.sizes else [1, 1_000, 10_000, 100_000]
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_predict_bench(json_out=args.json, repeats=args.repeats, sizes=tuple(sizes))
        return 0
    if args.suite == "encode":
        from .._bench_encode import run_encode_bench

        sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else (10_000, 1_000_000)
        if any(n < 1 for n in sizes):
            raise CliError(f"--sizes must be positive integers. Got {args.sizes!r}.")
        run_encode_bench(json_out=args.json, repeats=args.repeats, sizes=sizes)
        return 0
    from .._bench import run_graph_bench

    run_graph_bench(
        json_out=args.json,
        repeats=args.repeats,
        oracle_dir=args.oracles,
        threads=args.threads,
        sample=args.sample,
    )
    return 0
