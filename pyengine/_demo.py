"""``pyengine demo``: Wen et al.'s Neural Predictor workflow end to end on real training, with no
downloads. N NB201 cells are trained on scikit-learn's digits, the GCN is fitted on their
validation accuracy, every cell of the space is scored, and the predicted top K are trained beside
K random cells as a control."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _plotting
from .errors import InvalidValueError

__all__ = ["run_demo"]

log = logging.getLogger(__name__)


# Digits saturate near 99% when networks see 60% of the images; with 20% for training and 40% each
# for validation and test, NB201 cells differ more than their seed-to-seed noise (Kendall tau
# between two training seeds about 0.4 on 24 cells, against about 0 with the 60/20/20 split).
DEMO_TRAINER = {"channels": 4, "epochs": 10, "batch_size": 32}


def _fresh_classes(space: Any, batch: Any, seen: set, limit: int) -> np.ndarray:
    """The first ``limit`` rows of ``batch`` whose isomorphism class is not in ``seen`` (one row
    per class); their classes are added to ``seen``."""
    keys = space.canonical_keys(batch).tolist()
    rows: list[int] = []
    for i, k in enumerate(keys):
        if len(rows) == limit:
            break
        if k not in seen:
            seen.add(k)
            rows.append(i)
    return np.asarray(rows, dtype=np.int64)


def _best_by_val(val: np.ndarray, test: np.ndarray) -> tuple[int, float]:
    i = int(np.argmax(val))
    return i, float(test[i])


def run_demo(
    *,
    n_train: int = 48,
    top_k: int = 16,
    seed: int = 0,
    out: str = os.path.join("results", "demo"),
    dataset: Any = "digits",
    split: tuple[float, float] = (0.4, 0.4),
    trainer_params: dict[str, Any] | None = None,
    predictor: str = "gcn",
    predictor_params: dict[str, Any] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Run the workflow and write ``summary.json``, ``archs.json`` and ``demo.png`` to ``out``.

    ``split`` is the (validation, test) share of the dataset; the rest trains.

    Returns the summary (also written): ``kendalltau`` (predicted vs measured validation accuracy
    of the 2K cells chosen after the fit, none of which the predictor saw), ``spearman``,
    ``best_found_test`` (test accuracy of the cell with the best validation accuracy among the N
    initial and the K predicted), ``best_random_test`` (the same among the N initial and the K
    random), the means of the K predicted and K random cells, ``beats_random``, ``verdict`` and
    ``wall_seconds`` per stage and in total. ``KeyboardInterrupt`` propagates after the
    architectures already trained are written to ``archs.json``.
    """
    from ._batch import concat, take
    from .metrics import kendall_tau, spearman
    from .predictors import PREDICTORS
    from .spaces import get_space
    from .train import Trainer, load_dataset

    for name, value in (("n_train", n_train), ("top_k", top_k)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise InvalidValueError(
                f"The {name!r} parameter of the demo must be an int of at least 2. Got {value!r} instead."
            )
    space = get_space("nb201")
    if n_train + 2 * top_k > space.n_classes:
        raise InvalidValueError(f"n_train + 2 * top_k exceeds the {space.n_classes} isomorphism classes of NB201.")
    os.makedirs(out, exist_ok=True)
    data = load_dataset(dataset, val_fraction=split[0], test_fraction=split[1])
    params = {**DEMO_TRAINER, **(trainer_params or {})}
    trainer = Trainer(space="nb201", seed=seed, progress=progress, **params)
    trainer._validate()
    rng = np.random.default_rng(seed)
    wall: dict[str, float] = {}
    records: list[dict[str, Any]] = []
    t_start = time.perf_counter()

    def write_archs() -> None:
        with open(os.path.join(out, "archs.json"), "w") as f:
            json.dump(records, f, indent=1)

    def keep(result: Any, role: str, predicted: np.ndarray | None) -> None:
        for i, rec in enumerate(result.records(space)):
            rec["role"] = role
            rec["predicted"] = None if predicted is None else float(predicted[i])
            records.append(rec)
        write_archs()

    # 1. N random cells, one per isomorphism class, trained for real
    echo(f"[1/4] training {n_train} random NB201 cells on {data!r}")
    initial = space.sample(n_train, rng, unique=True)
    t = time.perf_counter()
    r0 = trainer.train(initial, data)
    keep(r0, "initial", None)
    wall["train_initial"] = time.perf_counter() - t
    if r0.interrupted:
        raise KeyboardInterrupt
    ok = ~r0.diverged
    if ok.sum() < 2:
        raise RuntimeError("Fewer than 2 of the initial architectures trained without diverging; nothing to fit.")

    # 2. fit the predictor on validation accuracy
    echo(f"[2/4] fitting the {predictor} predictor on {int(ok.sum())} measured cells")
    t = time.perf_counter()
    model = PREDICTORS.create(predictor, space=space, random_state=seed, **(predictor_params or {}))
    model.fit(take(r0.batch, np.flatnonzero(ok)), r0.final_val_accuracy[ok])
    wall["fit"] = time.perf_counter() - t

    # 3. score the whole space, keep the best cell of each class not trained yet
    echo(f"[3/4] scoring all {space.size:,} NB201 cells")
    t = time.perf_counter()
    every = space.all()
    scores = np.asarray(model.predict(every), dtype=np.float64)
    wall["score"] = time.perf_counter() - t
    seen = set(space.canonical_keys(r0.batch).tolist())
    order = np.argsort(-scores, kind="stable")
    ranked = take(every, order)
    fresh = _fresh_classes(space, ranked, seen, top_k)
    top = take(ranked, fresh)
    top_pred = scores[order[fresh]]
    pool = space.sample(min(space.n_classes - len(seen), 4 * top_k), rng, unique=True)
    rows = _fresh_classes(space, pool, seen, top_k)
    control = take(pool, rows)
    control_pred = np.asarray(model.predict(control), dtype=np.float64)

    # 4. train the predicted top K and K random cells
    echo(f"[4/4] training the predicted top {top_k} and {top_k} random cells")
    t = time.perf_counter()
    r1 = trainer.train(concat([top, control]), data)
    wall["train_selected"] = time.perf_counter() - t
    n1 = len(r1)
    pred1 = np.concatenate([top_pred, control_pred])[:n1]
    roles = np.array(["predicted_top"] * top_k + ["random"] * top_k)[:n1]
    for role in ("predicted_top", "random"):
        sel = np.flatnonzero(roles == role)
        if len(sel):
            keep(r1.subset(sel), role, pred1[sel])
    if r1.interrupted:
        raise KeyboardInterrupt
    wall["total"] = time.perf_counter() - t_start

    val1, test1 = r1.final_val_accuracy, r1.test_accuracy
    is_top = roles == "predicted_top"
    tau = kendall_tau(pred1, val1)
    rho = spearman(pred1, val1)
    found = np.concatenate([r0.final_val_accuracy, val1[is_top]]), np.concatenate([r0.test_accuracy, test1[is_top]])
    rand = np.concatenate([r0.final_val_accuracy, val1[~is_top]]), np.concatenate([r0.test_accuracy, test1[~is_top]])
    i_found, best_found = _best_by_val(*found)
    i_rand, best_random = _best_by_val(*rand)
    mean_top, mean_random = float(test1[is_top].mean()), float(test1[~is_top].mean())
    beats = best_found > best_random and mean_top > mean_random
    if beats:
        verdict = (
            f"The predictor beat random: best found {best_found:.2f}% vs {best_random:.2f}% test accuracy, "
            f"mean of its top {top_k} {mean_top:.2f}% vs {mean_random:.2f}%."
        )
    else:
        verdict = (
            f"The predictor did NOT beat random on this dataset: best found {best_found:.2f}% vs {best_random:.2f}% "
            f"test accuracy, mean of its top {top_k} {mean_top:.2f}% vs {mean_random:.2f}% for {top_k} random cells."
        )
    summary = {
        "kendalltau": tau,
        "spearman": rho,
        "best_found_test": best_found,
        "best_random_test": best_random,
        "best_found_arch": _arch_of(space, r0, r1, is_top, i_found),
        "best_random_arch": _arch_of(space, r0, r1, ~is_top, i_rand),
        "mean_top_k_test": mean_top,
        "mean_random_k_test": mean_random,
        "mean_initial_test": float(r0.test_accuracy.mean()),
        "beats_random": bool(beats),
        "verdict": verdict,
        "n_train": n_train,
        "top_k": top_k,
        "seed": seed,
        "predictor": predictor,
        "dataset": repr(data),
        "trainer": r0.config,
        "compile_seconds": r0.compile_seconds,
        "train_seconds_per_arch": float(np.concatenate([r0.train_seconds, r1.train_seconds]).mean()),
        "wall_seconds": wall,
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    _plot(os.path.join(out, "demo.png"), r0, r1, is_top, pred1, summary)
    return summary


def _arch_of(space: Any, r0: Any, r1: Any, chosen: np.ndarray, i: int) -> str:
    """The arch string of row ``i`` of (initial rows, then r1's ``chosen`` rows)."""
    from ._batch import take

    n0 = len(r0)
    if i < n0:
        return space.to_strings(take(r0.batch, np.array([i])))[0]
    return space.to_strings(take(r1.batch, np.flatnonzero(chosen)[[i - n0]]))[0]


def _plot(path: str, r0: Any, r1: Any, is_top: np.ndarray, pred1: np.ndarray, s: dict[str, Any]) -> None:
    fig, ax = _plotting.subplots(1, 3, figsize=(15, 4.5))
    groups = [
        ("initial N", r0.test_accuracy, "0.6"),
        ("predicted top K", r1.test_accuracy[is_top], "tab:blue"),
        ("random K", r1.test_accuracy[~is_top], "tab:orange"),
    ]
    jitter = np.random.default_rng(0)
    for x, (_label, values, color) in enumerate(groups):
        ax[0].scatter(x + jitter.uniform(-0.15, 0.15, len(values)), values, s=14, color=color, alpha=0.8)
    ax[0].axhline(s["best_found_test"], color="tab:blue", ls="--", lw=1, label=f"best found {s['best_found_test']:.2f}")
    ax[0].axhline(
        s["best_random_test"], color="tab:orange", ls=":", lw=1, label=f"best random {s['best_random_test']:.2f}"
    )
    ax[0].set_xticks(range(3), [g[0] for g in groups])
    ax[0].set_ylabel("test accuracy (%)")
    ax[0].set_title("best found vs random control")
    ax[0].legend(loc="lower right", fontsize=8)
    val1 = r1.final_val_accuracy
    ax[1].scatter(pred1[is_top], val1[is_top], s=14, color="tab:blue", label="predicted top K")
    ax[1].scatter(pred1[~is_top], val1[~is_top], s=14, color="tab:orange", label="random K")
    ax[1].set_xlabel("predicted validation accuracy (%)")
    ax[1].set_ylabel("measured validation accuracy (%)")
    ax[1].set_title(f"held-out cells: Kendall tau {s['kendalltau']:.3f}")
    ax[1].legend(fontsize=8)
    stages = [k for k in s["wall_seconds"] if k != "total"]
    ax[2].barh(stages, [s["wall_seconds"][k] for k in stages], color="0.5")
    ax[2].set_xlabel("wall seconds")
    ax[2].set_title(f"total {s['wall_seconds']['total']:.0f} s")
    _plotting.save(fig, path, dpi=110)
