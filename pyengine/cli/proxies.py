"""``pyengine proxies evaluate|score``: zero-cost proxies against NASLib's records, or scores of
given architectures."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from ..errors import CliError
from ._args import int_at_least, open_in, open_out, positive, proxy_names, read_records
from ._commands import add_command_parser

# the options of `proxies evaluate` only
_EVALUATE_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--zc-json", {"metavar": "FILE", "help": "a NAS-Bench-Suite-Zero JSON (default: the space's extract)"}),
    ("--limit", {"type": positive, "help": "only the first N architectures of the file"}),
    ("--json", {"metavar": "OUT", "help": "write the table as JSON"}),
    (
        "--checkpoint",
        {
            "metavar": "FILE",
            "help": "scores appended here every 8 architectures; a rerun with the same file resumes "
            "(default: OUT.ckpt with --json, none without)",
        },
    ),
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The parser of ``pyengine proxies``."""
    p = add_command_parser(subparsers, "proxies")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action in ("evaluate", "score"):
        q = actions.add_parser(
            action,
            help="validate against a NAS-Bench-Suite-Zero file" if action == "evaluate" else "score architectures",
        )
        if action == "score":
            q.add_argument("input", metavar="IN.jsonl", help="lines {'arch': ...} ('-' for stdin)")
            q.add_argument("--out", metavar="OUT.jsonl", help="output file (default: stdout)")
        else:
            for flag, kw in _EVALUATE_OPTIONS:
                q.add_argument(flag, **kw)
        q.add_argument("--space", default="nb201", help="search space (nb201 | nb101 | darts)")
        q.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
        q.add_argument(
            "--proxies", default=None, help="comma-separated names or 'all' (evaluate: all; score: required)"
        )
        q.add_argument("--batch-size", type=int_at_least(2, "--batch-size"), default=32, help="minibatch (NASLib: 32)")
        q.add_argument("--images", metavar="FILE", help=".npz with 'images' (N,H,W,3) and optional 'labels', or .npy")
        q.add_argument("--seed", type=int, default=0, help="weights, noise batch, labels")
        q.add_argument(
            "--archs-per-call",
            type=positive,
            help="architectures per compiled call (default: 1 on CPU; vmapped chunks on GPUs)",
        )
        q.add_argument(
            "--workers",
            type=positive,
            help="compiled calls in flight at once (default: 2 on CPU with 2+ cores, 1 on GPUs)",
        )
        q.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pyengine proxies``; the exit status."""
    from .._compile_cache import enable_compilation_cache
    from ..proxies import ProxyScorer

    enable_compilation_cache()
    kw = _proxy_inputs(args)

    shown: dict[str, Any] = {"done": 0, "first": None}

    def progress(name: str, done: int, total: int) -> None:
        # a line whenever another 25 are done (the scorer reports in steps of a few), and at the end,
        # with the rate and the time left measured from the first report of this run
        now = time.perf_counter()
        if shown["first"] is None or done < shown["done"]:
            shown["first"] = (now, done)
        if not args.no_progress and (done == total or done // 25 > shown["done"] // 25 or done < shown["done"]):
            t0, d0 = shown["first"]
            rate = ""
            if done > d0:
                per = (now - t0) / (done - d0)
                rate = f", {per:.2f} s/arch, ETA {_clock((total - done) * per)}"
            print(f"  {name}: {done}/{total}{rate}", file=sys.stderr, flush=True)
        shown["done"] = done

    if args.action == "evaluate":
        from ..proxies._evaluate import evaluate_proxies
        from ..tables._benchmarks import load_naslib_zc

        try:
            table = load_naslib_zc(args.zc_json, space=args.space, dataset=args.dataset)
        except (OSError, ValueError) as err:
            raise CliError(str(err)) from None
        if args.limit:
            table = table.subset(np.arange(min(args.limit, len(table))))
        names = proxy_names(args.proxies or "all")
        checkpoint = args.checkpoint or (f"{args.json}.ckpt" if args.json else None)
        rows = evaluate_proxies(
            table, names, dataset=args.dataset, scorer_kwargs=kw, progress=progress, checkpoint=checkpoint
        )
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                head = {"space": args.space, "dataset": args.dataset, "n_archs": len(table), **_scorer_settings(kw)}
                json.dump({**head, "records": rows}, fh, indent=1)
        print(f"{'proxy':<10}{'n':>5}{'rho vs recorded':>17}{'rho vs acc':>12}{'recorded rho vs acc':>21}")
        for r in rows:
            f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(
                f"{r['proxy']:<10}{r['n']:>5}{f(r['spearman_vs_recorded']):>17}{f(r['spearman_vs_accuracy']):>12}"
                f"{f(r['recorded_spearman_vs_accuracy']):>21}"
            )
        if rows:
            print(f"{len(table)} architectures, {rows[0]['seconds_per_arch_all']:.3f} s each for all these proxies")
        return 0
    # score
    from ..spaces import get_space

    if not args.proxies:
        raise CliError("proxies score needs --proxies (for example --proxies synflow,jacob_cov)")

    space = get_space(args.space)
    records: list[dict[str, Any]] = []
    with open_in(args.input) as stream:
        for chunk in read_records(stream, args.input):
            records.extend(rec for _, rec in chunk)
    try:
        batch = space.as_batch(records)
    except (TypeError, ValueError) as err:
        raise CliError(f"{args.input}: {err}") from None
    names = proxy_names(args.proxies)
    scorer = ProxyScorer(args.space, names, dataset=args.dataset, **kw)
    scores = scorer.score(batch, progress=lambda d, t: progress("scored", d, t))
    strings = space.to_strings(batch)
    out = open_out(args.out)
    try:
        for i, arch in enumerate(strings):
            out.write(json.dumps({"arch": arch, **{n: float(scores[n][i]) for n in names}}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _clock(seconds: float) -> str:
    """A duration as 1h02m, 3m05s or 42s."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _proxy_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """ProxyScorer keywords from --batch-size / --seed / --images (an .npz with ``images`` and
    optional ``labels``, or a .npy of images)."""
    kw: dict[str, Any] = {"batch_size": args.batch_size, "seed": args.seed}
    for name in ("archs_per_call", "workers"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    if args.images:
        kw.update(_read_image_batch(args.images))
    return kw


def _read_image_batch(path: str) -> dict[str, np.ndarray]:
    """``images`` (and ``labels`` when present) of an .npz, or the images of a .npy; every
    array is read here so that a truncated or foreign file fails as a CliError."""
    import zipfile

    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return {"images": data}
        with data:
            if "images" not in data.files:
                raise CliError(f"--images {path}: an .npz needs an 'images' array (it holds {data.files})")
            return {k: data[k] for k in ("images", "labels") if k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        text = str(err)
        if "pickled" in text:  # np.load's guess for a file of neither format
            text = "not a NumPy .npy or .npz file"
        elif "Object arrays" in text:
            text = "holds an object array, not numbers"
        raise CliError(f"--images {path}: cannot read ({text})") from None


def _scorer_settings(kw: dict[str, Any]) -> dict[str, Any]:
    """The scorer settings a result file records (not the image array itself)."""
    return {
        "batch_size": len(kw["images"]) if "images" in kw else kw["batch_size"],
        "seed": kw["seed"],
        "inputs": "user images" if "images" in kw else "gaussian noise",
    }
