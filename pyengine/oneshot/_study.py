"""Ning et al.'s evaluation of one-shot estimators: supernets trained with each sampling strategy
scored against stand-alone ground truth after every checkpoint, with and without the temporal
ensemble and batch-norm recalibration, beside zero-cost proxies on the same ground truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _plotting
from .._batch import concat, first_unique, take
from ..errors import InvalidValueError
from ..metrics import (
    best_ranking_at_k,
    complexity_bias,
    kendall_tau,
    op_level_bias,
    p_at_bottom_k,
    p_at_top_k,
    spearman,
)
from ..spaces import get_space
from ..train._data import load_dataset
from ._supernet import SCORES, STRATEGIES, Supernet, SupernetError
from ._truth import GroundTruth, ground_truth

__all__ = ["evaluate_oneshot", "truth_set", "nb201_complexity", "ranking_record", "plot_oneshot"]

log = logging.getLogger(__name__)

DEFAULT_PROXIES = ("synflow", "jacob_cov", "nwot", "snip", "params")


def truth_set(n: int, seed: int = 0, space: str = "nb201") -> tuple[Any, np.ndarray, np.ndarray]:
    """The fixed architectures of the ground truth: ``n // 2`` cells drawn de-isomorphically
    (one per isomorphism class, classes equally likely) and a one-edit mutant of each, minus
    mutants isomorphic to a cell already in the set (so the set has at most ``n`` classes,
    each once). Returns (batch, parent rows, child rows): the mutation pairs give the op-level
    bias."""
    sp = get_space(space)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 4:
        raise InvalidValueError(f"The ground-truth set needs at least 4 architectures. Got {n!r}.")
    rng = np.random.default_rng(seed)
    parents = sp.sample(n // 2, rng, unique=True)
    children = sp.mutate(parents, rng)
    both = concat([parents, children])
    keep = first_unique(sp.canonical_keys(both))
    keep.sort()
    batch = take(both, keep)
    m = n // 2
    kept_children = keep[keep >= m]
    child_rows = np.searchsorted(keep, kept_children)
    parent_rows = kept_children - m
    return batch, parent_rows, child_rows


def nb201_complexity(ops: np.ndarray, channels: int, cells_per_stage: int) -> np.ndarray:
    """Parameters of the cells' convolutions of each architecture in the trainer's network: a
    3x3 convolution holds 9 w^2 and a 1x1 w^2 weights at stage width w (plus 2 w of affine
    batch norm); the rest of the network is the same for every cell."""
    from ..graph import nb201 as g

    ops = np.asarray(ops)
    widths = sum(cells_per_stage * (channels * 2**s) ** 2 for s in range(3))
    bn = sum(cells_per_stage * 2 * channels * 2**s for s in range(3))
    c3 = (ops == g.OPS.index("nor_conv_3x3")).sum(1)
    c1 = (ops == g.OPS.index("nor_conv_1x1")).sum(1)
    return (9 * c3 + c1) * widths + (c3 + c1) * bn


def ranking_record(
    truth: np.ndarray,
    score: np.ndarray,
    complexity: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Ning et al.'s metrics of one estimator: Kendall tau, Spearman, P@top5%, P@bottom5%,
    BR@1%, BR@5% (best normalized true rank among the top K by score; 0 is the best), bias by
    parameter-count quintile (mean normalized rank difference, negative: favoured) and, with
    mutation pairs (parent rows, child rows, op introduced), op-level bias."""
    if not np.isfinite(score).all():
        bad = int((~np.isfinite(score)).sum())
        raise SupernetError(f"{bad} of {len(score)} estimator scores are NaN or infinite.")
    rec = {
        "kendalltau": kendall_tau(truth, score),
        "spearman": spearman(truth, score),
        "p_at_top5": p_at_top_k(truth, score, 0.05),
        "p_at_bottom5": p_at_bottom_k(truth, score, 0.05),
        "br_at_1": best_ranking_at_k(truth, score, 0.01),
        "br_at_5": best_ranking_at_k(truth, score, 0.05),
        "bias_by_quintile": [float(v) for v in complexity_bias(truth, score, complexity, groups=5)],
    }
    if pairs is not None and len(pairs[0]):
        parent, child, op = pairs
        rec["op_bias"] = op_level_bias(truth[parent], truth[child], score[parent], score[child], op)
    return rec


def _proxy_images(dataset: Any, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A training minibatch of ``dataset`` shaped as the proxies' CIFAR-sized network takes it:
    nearest-neighbour upsampled to 32x32 and repeated to 3 channels."""
    data = load_dataset(dataset)
    pick = np.random.default_rng(seed).permutation(len(data.y_train))[:n]
    x = data.x_train[pick]
    h, w, c = x.shape[1:]
    ry, rx = -(-32 // h), -(-32 // w)
    x = np.repeat(np.repeat(x, ry, axis=1), rx, axis=2)[:, :32, :32]
    if c == 1:
        x = np.repeat(x, 3, axis=3)
    elif c != 3:
        x = np.repeat(x.mean(axis=3, keepdims=True), 3, axis=3)
    return x.astype(np.float32), data.y_train[pick] % 10


def evaluate_oneshot(
    *,
    space: str = "nb201",
    dataset: Any = "digits",
    strategies: Sequence[str] = STRATEGIES,
    seeds: Sequence[int] = (0,),
    epochs: int = 50,
    checkpoint_every: int = 5,
    paths_per_step: int = 1,
    learning_rate: float = 0.05,
    temporal: int = 3,
    recalibrate: int = 4,
    os_score: str = "accuracy",
    truth_archs: int = 100,
    truth_seeds: Sequence[int] = (0, 1),
    truth_epochs: int = 4,
    truth_metric: str = "val_accuracy",
    proxies: Sequence[str] = DEFAULT_PROXIES,
    cache_dir: str | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run the study; returns the records (also passed one at a time to ``on_record``).

    Records of supernets: ``strategy``, ``epoch``, ``seed``, ``trick`` ("none", "temporal",
    "bn_recal", "bn_recal+temporal"), ``os_score``, the metrics of :func:`ranking_record`,
    ``n_archs``, ``train_seconds`` (supernet training so far) and ``score_seconds``.
    Zero-cost records carry ``proxy`` instead of ``strategy`` (``epoch`` None, ``seed`` the
    proxy's weight seed). With several ground-truth seeds every record also carries
    ``truth_seed_kendalltau``: the mean Kendall tau between the seeds' stand-alone results, the
    ceiling an estimator of one seed's ranking can expect. Network widths: the trainer's defaults
    (8 channels, 1 cell per stage), shared by the supernet.
    """
    from ..train import Trainer

    sp = get_space(space)
    if sp.name != "nb201":
        raise SupernetError(f"The one-shot study runs on nb201 (the trainer's cell space); got {sp.name!r}.")
    for s in strategies:
        if s not in STRATEGIES:
            raise SupernetError(f"Unknown sampling strategy {s!r}; known: {', '.join(STRATEGIES)}.")
    if not strategies and not proxies:
        raise InvalidValueError("Nothing to evaluate: give at least one strategy or proxy.")
    if os_score not in SCORES:
        raise SupernetError(f"The one-shot score must be one of {SCORES}. Got {os_score!r}.")
    if truth_metric not in ("val_accuracy", "test_accuracy", "val_loss", "test_loss"):
        raise InvalidValueError(f"Unknown ground-truth metric {truth_metric!r}.")
    data = load_dataset(dataset)
    batch, parent, child = truth_set(truth_archs, 0, sp.name)
    changed = (batch.ops[parent] != batch.ops[child]).argmax(1)
    from ..graph import nb201 as g

    introduced = np.array([g.OPS[o] for o in batch.ops[child, changed]])
    pairs = (parent, child, introduced)
    t0 = time.perf_counter()
    gt: GroundTruth = ground_truth(
        batch,
        space=sp.name,
        dataset=data,
        seeds=truth_seeds,
        trainer_params={"epochs": truth_epochs},
        cache_dir=cache_dir,
        progress=progress,
    )
    truth = gt.mean(truth_metric)
    if truth_metric.endswith("loss"):
        truth = -truth
    ok = np.isfinite(truth)
    if ok.sum() < 4:
        raise SupernetError(f"Only {int(ok.sum())} architectures of the ground truth trained without diverging.")
    if not ok.all():
        log.warning("%d ground-truth architectures diverged on every seed; they are left out.", int((~ok).sum()))
    rows = np.flatnonzero(ok)
    remap = -np.ones(len(ok), np.int64)
    remap[rows] = np.arange(len(rows))
    keep_pair = ok[parent] & ok[child]
    pairs = (remap[parent[keep_pair]], remap[child[keep_pair]], introduced[keep_pair])
    batch, truth = take(batch, rows), truth[rows]
    trainer = Trainer(epochs=truth_epochs)
    complexity = nb201_complexity(batch.ops, trainer.channels, trainer.cells_per_stage)
    log.info(
        "Ground truth: %d architectures x %d seeds (%d trained now) in %.1f s.",
        len(rows),
        len(gt.seeds),
        gt.trained,
        time.perf_counter() - t0,
    )
    base = {"n_archs": int(len(rows)), "truth_metric": truth_metric, "truth_seeds": len(gt.seeds)}
    if len(gt.seeds) > 1:  # how well one stand-alone seed ranks another: the noise ceiling of the ground truth
        v = gt.values[truth_metric][rows]
        taus = [kendall_tau(v[:, i], v[:, j]) for i in range(v.shape[1]) for j in range(i + 1, v.shape[1])]
        base["truth_seed_kendalltau"] = float(np.mean(taus))
    records: list[dict[str, Any]] = []

    def emit(rec: dict[str, Any]) -> None:
        records.append(rec)
        if on_record is not None:
            on_record(rec)

    if proxies:
        from ..proxies import PROXIES, ProxyScorer

        images, labels = _proxy_images(data, 64, 0)
        import jax

        # accelerators: chunks of 16 (jacob_cov's per-sample Jacobians of 64 images at 32x32 for
        # hundreds of architectures at once would not fit in memory)
        chunk = None if jax.default_backend() == "cpu" else 16
        scorer = ProxyScorer(
            sp.name,
            list(proxies),
            dataset="cifar10",
            batch_size=64,
            images=images,
            labels=labels,
            seed=0,
            archs_per_call=chunk,
        )
        t = time.perf_counter()
        scores = scorer.score(batch)
        per = (time.perf_counter() - t) / len(rows)
        for name in proxies:
            s = np.asarray(scores[PROXIES.canonical_name(name)], dtype=np.float64)
            s = np.where(np.isfinite(s), s, np.nanmin(np.where(np.isfinite(s), s, np.nan)) - 1.0)
            emit(
                {
                    "proxy": name,
                    "epoch": None,
                    "seed": 0,
                    **ranking_record(truth, s, complexity, pairs),
                    **base,
                    "score_seconds_per_arch": per,
                }
            )

    for strategy in strategies:
        for seed in seeds:
            net = Supernet(
                sp.name,
                strategy=strategy,
                paths_per_step=paths_per_step,
                epochs=epochs,
                learning_rate=learning_rate,
                checkpoint_every=checkpoint_every,
                seed=int(seed),
                progress=progress,
            )
            net.train(data)
            history: dict[str, list[np.ndarray]] = {"none": [], "bn_recal": []}
            for epoch in sorted(net.checkpoints_):
                for trick, recal in (("none", 0), ("bn_recal", recalibrate)):
                    if trick == "bn_recal" and not recal:
                        continue
                    t = time.perf_counter()
                    s = net.score(batch, data, epoch=epoch, recalibrate=recal)
                    score_s = time.perf_counter() - t
                    value = s["accuracy"] if os_score == "accuracy" else -s["loss"]
                    history[trick].append(value)
                    common = {
                        "strategy": strategy,
                        "epoch": int(epoch),
                        "seed": int(seed),
                        "os_score": os_score,
                        "paths_per_step": paths_per_step,
                        **base,
                        "train_seconds": float(net.train_seconds_),
                        "score_seconds": score_s,
                    }
                    emit({**common, "trick": trick, **ranking_record(truth, value, complexity, pairs)})
                    if temporal > 1 and len(history[trick]) >= 2:
                        avg = np.mean(history[trick][-temporal:], axis=0)
                        name = "temporal" if trick == "none" else "bn_recal+temporal"
                        emit(
                            {
                                **common,
                                "trick": name,
                                "temporal": min(temporal, len(history[trick])),
                                **ranking_record(truth, avg, complexity, pairs),
                            }
                        )
    return records


def plot_oneshot(records: list[dict[str, Any]], path: str, title: str = "") -> None:
    """Ranking quality against supernet epochs (Kendall tau and P@top5%, mean over seeds; one
    line per strategy and trick, zero-cost proxies as horizontal lines) and the bias by
    parameter-count quintile at the last epoch, as a PNG."""
    fig, axes = _plotting.subplots(1, 3, figsize=(16, 4.6))
    os_recs = [r for r in records if "strategy" in r]
    zc = [r for r in records if "proxy" in r]
    groups: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = {}
    for r in os_recs:
        groups.setdefault((r["strategy"], r["trick"]), {}).setdefault(r["epoch"], []).append(r)
    colors = {s: f"C{i}" for i, s in enumerate(STRATEGIES)}
    styles = {"none": "-", "temporal": "--", "bn_recal": ":", "bn_recal+temporal": "-."}
    for ax, key, label in ((axes[0], "kendalltau", "Kendall tau"), (axes[1], "p_at_top5", "P@top5%")):
        for (strategy, trick), by_epoch in sorted(groups.items()):
            ep = sorted(by_epoch)
            ax.plot(
                ep,
                [np.mean([r[key] for r in by_epoch[e]]) for e in ep],
                styles.get(trick, "-"),
                color=colors.get(strategy, "k"),
                marker="o",
                ms=3,
                label=f"{strategy} {trick}",
            )
        for i, r in enumerate(zc):
            ax.axhline(r[key], color=f"C{5 + i}", lw=0.8, alpha=0.7, label=f"zc {r['proxy']}")
        ax.set_xlabel("supernet epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, ncol=2)
    ax = axes[2]
    finals = []
    for (strategy, trick), by_epoch in sorted(groups.items()):
        if trick == "none":
            last = max(by_epoch)
            finals.append((f"{strategy}@{last}", np.mean([r["bias_by_quintile"] for r in by_epoch[last]], axis=0)))
    finals += [(f"zc {r['proxy']}", np.asarray(r["bias_by_quintile"])) for r in zc]
    width = 0.8 / max(len(finals), 1)
    for i, (name, bias) in enumerate(finals):
        ax.bar(np.arange(5) + i * width, bias, width, label=name)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(np.arange(5) + 0.4 - width / 2, ["Q1 small", "Q2", "Q3", "Q4", "Q5 large"])
    ax.set_ylabel("mean rank difference (negative: favoured)")
    ax.legend(fontsize=6)
    fig.suptitle(title or "one-shot estimators vs stand-alone training")
    _plotting.save(fig, path, dpi=110)
