"""``pyengine oneshot evaluate``: one-shot (weight-sharing) estimators against stand-alone training."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import int_list, positive, proxy_names, record_sink
from ._commands import add_command_parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine oneshot``."""
    p = add_command_parser(subparsers, "oneshot")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("evaluate", help="Ning et al.'s study: supernet ranking vs epochs, biases, zero-cost")
    q.add_argument("--space", default="nb201", help="search space (nb201)")
    q.add_argument("--dataset", default="digits", help="digits or FILE.npz (images, labels)")
    q.add_argument("--strategies", default="uniform,deiso,fair", help="path sampling: uniform, deiso, fair")
    q.add_argument("--seeds", default="0", help="supernet seeds, comma-separated")
    q.add_argument("--epochs", type=positive, default=50, help="supernet training epochs")
    q.add_argument("--checkpoint-every", type=positive, default=5, help="score every this many epochs")
    q.add_argument("--paths-per-step", type=positive, default=1, help="paths averaged per step (5 + fair: FairNAS)")
    q.add_argument("--learning-rate", type=float, default=0.05, help="supernet SGD learning rate")
    q.add_argument("--temporal", type=positive, default=3, help="checkpoints in the temporal ensemble (1: off)")
    q.add_argument("--recalibrate", type=int, default=4, help="batch-norm recalibration batches (0: off)")
    q.add_argument("--os-score", choices=("accuracy", "loss"), default="accuracy", help="one-shot score")
    q.add_argument("--truth-archs", type=positive, default=100, help="architectures of the ground truth")
    q.add_argument("--truth-seeds", default="0,1", help="stand-alone training seeds, comma-separated")
    q.add_argument(
        "--truth-epochs",
        type=positive,
        default=4,
        help="stand-alone training epochs (digits saturates by 12: seeds then disagree on the ranking)",
    )
    q.add_argument(
        "--truth-metric",
        default="val_accuracy",
        choices=("val_accuracy", "test_accuracy", "val_loss", "test_loss"),
        help="ground-truth field (mean over seeds; losses are negated)",
    )
    q.add_argument(
        "--proxies",
        default=",".join(("synflow", "jacob_cov", "nwot", "snip", "params")),
        help="zero-cost proxies on the same ground truth ('none': skip)",
    )
    q.add_argument("--cache", metavar="DIR", help="cache folder (default: $PYENGINE_CACHE_DIR or ~/.cache/pyengine)")
    q.add_argument("--json", metavar="OUT", help="write the records as JSON (rewritten after each)")
    q.add_argument("--plot", metavar="PNG", help="the curves (default: OUT with .png)")
    q.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine oneshot``; the exit status."""
    from .._compile_cache import enable_compilation_cache
    from ..oneshot import STRATEGIES, evaluate_oneshot, plot_oneshot

    enable_compilation_cache()
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        if s not in STRATEGIES:
            raise CliError(f"unknown strategy {s!r}; known: {', '.join(STRATEGIES)}")
    proxies = [] if args.proxies in ("", "none") else proxy_names(args.proxies)
    records, keep = record_sink(args.json)
    progress = not args.no_progress and sys.stderr.isatty()

    def show(rec: dict[str, Any]) -> None:
        keep(rec)
        if not args.no_progress:
            who = (
                f"proxy {rec['proxy']}"
                if "proxy" in rec
                else f"{rec['strategy']} seed {rec['seed']} epoch {rec['epoch']}"
            )
            trick = f" {rec['trick']}" if rec.get("trick", "none") != "none" else ""
            print(
                f"  {who}{trick}: kendalltau {rec['kendalltau']:.3f}  p_at_top5 {rec['p_at_top5']:.2f}  "
                f"br_at_5 {rec['br_at_5']:.3f}",
                file=sys.stderr,
                flush=True,
            )

    t0 = time.perf_counter()
    evaluate_oneshot(
        space=args.space,
        dataset=args.dataset,
        strategies=strategies,
        seeds=int_list(args.seeds, "--seeds"),
        epochs=args.epochs,
        checkpoint_every=args.checkpoint_every,
        paths_per_step=args.paths_per_step,
        learning_rate=args.learning_rate,
        temporal=args.temporal,
        recalibrate=args.recalibrate,
        os_score=args.os_score,
        truth_archs=args.truth_archs,
        truth_seeds=int_list(args.truth_seeds, "--truth-seeds"),
        truth_epochs=args.truth_epochs,
        truth_metric=args.truth_metric,
        proxies=proxies,
        cache_dir=args.cache,
        on_record=show,
        progress=progress,
    )
    _print_oneshot_summary(records)
    if records and "truth_seed_kendalltau" in records[0]:
        print(f"ground truth: Kendall tau between stand-alone seeds {records[0]['truth_seed_kendalltau']:.3f}")
    print(f"{len(records)} records in {time.perf_counter() - t0:.0f} s")
    if args.json:
        print(f"wrote {len(records)} records to {args.json}")
    plot = args.plot or (str(args.json).rsplit(".", 1)[0] + ".png" if args.json else None)
    if plot and records:
        plot_oneshot(records, plot, title=f"{args.space} on {args.dataset}: one-shot vs stand-alone")
        print(f"wrote {plot}")
    return 0


def _print_oneshot_summary(records: list[dict[str, Any]]) -> None:
    """The last epoch of each (strategy, trick), mean over seeds, and every proxy."""
    last: dict[tuple[str, str], int] = {}
    for r in records:
        if "strategy" in r:
            key = (r["strategy"], r["trick"])
            last[key] = max(last.get(key, 0), r["epoch"])
    rows = []
    for (strategy, trick), epoch in last.items():
        rs = [r for r in records if r.get("strategy") == strategy and r["trick"] == trick and r["epoch"] == epoch]
        rows.append((f"{strategy} {trick}", epoch, rs))
    rows += [(f"zc {r['proxy']}", None, [r]) for r in records if "proxy" in r]
    head = f"{'estimator':<28}{'epoch':>6}{'kendalltau':>11}{'spearman':>9}{'p@top5':>8}{'br@1':>7}{'br@5':>7}"
    head += "  bias Q1..Q5"
    print(head)
    print("-" * len(head))
    for name, epoch, rs in rows:
        m = {
            k: float(np.mean([r[k] for r in rs])) for k in ("kendalltau", "spearman", "p_at_top5", "br_at_1", "br_at_5")
        }
        bias = " ".join(f"{v:+.2f}" for v in np.mean([r["bias_by_quintile"] for r in rs], axis=0))
        print(
            f"{name:<28}{'' if epoch is None else epoch:>6}{m['kendalltau']:>11.3f}{m['spearman']:>9.3f}"
            f"{m['p_at_top5']:>8.2f}{m['br_at_1']:>7.3f}{m['br_at_5']:>7.3f}  {bias}"
        )
