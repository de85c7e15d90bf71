"""``pyengine demo``: the Neural Predictor workflow on real training (digits; no downloads)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._args import int_at_least, positive
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine demo``."""
    p = add_command_parser(subparsers, "demo")
    p.add_argument("--n-train", type=int_at_least(2, "--n-train"), default=48, help="cells trained first (N)")
    p.add_argument("--top-k", type=int_at_least(2, "--top-k"), default=16, help="predicted cells trained (K)")
    p.add_argument("--seed", type=int_at_least(0, "--seed"), default=0, help="sampling, weights and fits")
    p.add_argument("--epochs", type=positive, help="training epochs per cell (default 10)")
    p.add_argument("--channels", type=positive, help="channels of the first stage (default 4)")
    p.add_argument("--group-size", type=positive, help="cells trained at once (default: 1 on CPU, 32 on GPU)")
    p.add_argument("--dataset", default="digits", help="'digits' or a .npz with arrays images and labels")
    p.add_argument("--out", default=os.path.join("results", "demo"), help="results folder (default results/demo)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine demo``; the exit status."""
    from .._compile_cache import enable_compilation_cache
    from .._demo import run_demo

    enable_compilation_cache()
    trainer = {k: getattr(args, k) for k in ("epochs", "channels", "group_size") if getattr(args, k) is not None}

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        s = run_demo(
            n_train=args.n_train,
            top_k=args.top_k,
            seed=args.seed,
            out=args.out,
            dataset=args.dataset,
            trainer_params=trainer,
            progress=not args.no_progress,
            echo=echo,
        )
    except KeyboardInterrupt:
        print(f"pyengine: interrupted; the architectures trained so far are in {args.out}/archs.json", file=sys.stderr)
        return 130
    w = s["wall_seconds"]
    print(f"Neural Predictor demo on {s['dataset']}")
    print(f"  N={s['n_train']} trained, GCN fitted, 15,625 NB201 cells scored, top K={s['top_k']} + K random trained")
    print(f"  {'':32}{'test acc (%)':>14}")
    print(f"  {'best found (N + predicted top K)':32}{s['best_found_test']:>14.2f}  {s['best_found_arch']}")
    print(f"  {'best random (N + K random)':32}{s['best_random_test']:>14.2f}  {s['best_random_arch']}")
    print(f"  {'mean of predicted top K':32}{s['mean_top_k_test']:>14.2f}")
    print(f"  {'mean of K random':32}{s['mean_random_k_test']:>14.2f}")
    print(f"  Kendall tau, predicted vs measured validation accuracy on the 2K held-out cells: {s['kendalltau']:.3f}")
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in w.items() if k != "total")
    print(f"  wall time {w['total']:.0f} s ({stages}; compile {s['compile_seconds']:.0f} s)")
    print(f"  {s['verdict']}")
    print(f"  results: {args.out}/summary.json, {args.out}/archs.json, {args.out}/demo.png")
    return 0
