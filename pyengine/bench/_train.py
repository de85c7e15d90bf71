"""Trainer benchmark (``pyengine bench train``): NB201 architectures trained per minute on
digits for several group sizes, compile time apart, beside the reference codes' way of training
the same architectures one at a time (a network built and compiled for each architecture)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import numpy as np

from .. import _options
from ._common import machine_info, print_machine, write_result
from ._suite import BenchSuite

__all__ = ["SUITE", "run_train_bench"]


def _one_at_a_time(trainer_params: dict[str, Any], batch: Any, data: Any) -> tuple[float, float]:
    """Seconds to train ``batch`` with a network built for each architecture (compile included),
    and the median compile share per architecture."""
    import flax.linen as nn

    from .._batch import take
    from ..nets import NB201Net
    from ..train import Trainer

    class _Fixed(nn.Module):
        net: Any

        def __call__(self, x: Any, onehot: Any = None, train: bool = True) -> Any:
            return self.net(x, train=train)

    class _FixedTrainer(Trainer):
        ops: tuple[int, ...] = ()

        def _network(self, n_classes: int, group: int) -> Any:
            net = NB201Net(
                channels=self.channels,
                cells_per_stage=self.cells_per_stage,
                n_classes=n_classes,
                weight_init=self.weight_init,
                native_conv=True,
                ops=self.ops,
            )
            return _Fixed(net)

    total, compiles = 0.0, []
    for i in range(len(batch.ops)):
        t = _FixedTrainer(**{**trainer_params, "group_size": 1})
        t.ops = tuple(int(o) for o in batch.ops[i])
        start = time.perf_counter()
        r = t.train(take(batch, np.array([i])), data)
        total += time.perf_counter() - start
        compiles.append(r.compile_seconds)
    return total, statistics.median(compiles)


def run_train_bench(
    *,
    json_out: str | None = None,
    repeats: int = 3,
    group_sizes: tuple[int, ...] = (1, 8, 32),
    n_archs: int = 32,
    epochs: int = 2,
    baseline_archs: int = 4,
    compilation_cache: bool = False,
    out: Any = sys.stdout,
) -> dict[str, Any]:
    """Architectures per minute (training only, median of ``repeats``) and compile seconds for
    each group size, and the one-network-per-architecture baseline timed in the same run. With
    ``compilation_cache``, the persistent compilation cache (``$PYENGINE_CACHE_DIR/xla``) is
    enabled first, so programs compiled by earlier runs are reused."""

    from ..spaces import get_space
    from ..train import Trainer, load_digits

    if compilation_cache:
        from .._compile_cache import enable_compilation_cache

        enable_compilation_cache()
    machine = machine_info(jax=True)
    print_machine(machine, out)
    data = load_digits()
    space = get_space("nb201")
    batch = space.sample(n_archs, np.random.default_rng(0), unique=True)
    params = {"epochs": epochs, "channels": 8, "cells_per_stage": 1, "seed": 0}
    print(
        f"NB201 (channels 8, 1 cell per stage) on digits ({len(data.y_train)} training images, batch 64), "
        f"{epochs} epochs per architecture, {n_archs} architectures",
        file=out,
    )
    records = []
    print(f"{'group size':>10} {'archs/min':>10} {'compile s':>10} {'vs one-at-a-time':>17}", file=out)
    base_batch = space.sample(baseline_archs, np.random.default_rng(1), unique=True)
    base_seconds, base_compile = _one_at_a_time(params, base_batch, data)
    base_rate = 60.0 * baseline_archs / base_seconds
    for g in group_sizes:
        trainer = Trainer(**params, group_size=g)
        t = time.perf_counter()
        first = trainer.train(batch, data)
        first_wall = time.perf_counter() - t
        walls = []
        for _ in range(repeats):
            t = time.perf_counter()
            trainer.train(batch, data)
            walls.append(time.perf_counter() - t)
        wall = statistics.median(walls)
        rate = 60.0 * n_archs / wall
        rec = {
            "group_size": g,
            "archs_per_minute": rate,
            "compile_seconds": first.compile_seconds,
            "first_call_seconds": first_wall,
            "median_seconds": wall,
            "n_archs": n_archs,
            "epochs": epochs,
            "speedup_vs_one_at_a_time": rate / base_rate,
        }
        records.append(rec)
        print(f"{g:>10} {rate:>10.1f} {first.compile_seconds:>10.1f} {rate / base_rate:>16.2f}x", file=out)
    records.append(
        {
            "group_size": None,
            "baseline": "one network built and compiled per architecture",
            "archs_per_minute": base_rate,
            "compile_seconds": base_compile,
            "n_archs": baseline_archs,
            "epochs": epochs,
        }
    )
    print(
        f"{'baseline':>10} {base_rate:>10.1f} {base_compile:>10.1f}  one network built and compiled per architecture "
        f"({baseline_archs} architectures)",
        file=out,
    )
    return write_result({"machine": machine, "records": records}, json_out, out)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", metavar="N,N", help="group sizes: architectures trained at once (default 1,8,32)")
    p.add_argument("--archs", type=_options.positive, default=32, help="architectures trained per group size")
    p.add_argument("--no-cache", action="store_true", help="no persistent compilation cache (cold compiles)")


def _from_args(args: argparse.Namespace) -> dict[str, Any]:
    sizes = _options.int_list(args.sizes, "--sizes", positive=True) if args.sizes else [1, 8, 32]
    return {"group_sizes": tuple(sizes), "n_archs": args.archs, "compilation_cache": not args.no_cache}


SUITE = BenchSuite(
    run=run_train_bench,
    summary="trainer: NB201 cells trained per minute per group size",
    description=(
        "NB201 cells (8 channels, 1 cell per stage) trained per minute on digits for each group size, "
        "compile seconds apart, beside one network built and compiled per cell as the reference codes do, "
        "timed in the same run."
    ),
    add_arguments=_add_arguments,
    from_args=_from_args,
)
