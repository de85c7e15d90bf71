"""Validation of the proxies against NASLib's recorded scores (NAS-Bench-Suite-Zero): the
``pyengine proxies evaluate`` table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..metrics import kendall_tau, spearman
from ._scorer import PROXIES, ProxyScorer

__all__ = ["evaluate_proxies", "RECORDED_NAMES"]

# our name -> NASLib's key in the zero-cost JSON files
RECORDED_NAMES = {"jacob_cov": "jacov"}


def _rankable(a: np.ndarray) -> np.ndarray:
    """-inf (documented degenerate scores) as the lowest finite value, so rank statistics keep
    them last (NASLib stores -1e8 for the same networks)."""
    return np.where(np.isneginf(a), -np.finfo(np.float64).max, a)


def _corr(fn: Callable[[Any, Any], float], a: np.ndarray, b: np.ndarray) -> tuple[float | None, int]:
    ok = ~np.isnan(a) & ~np.isnan(b)
    if ok.sum() < 3:
        return None, int(ok.sum())
    return float(fn(_rankable(a[ok]), _rankable(b[ok]))), int(ok.sum())


def evaluate_proxies(
    table: Any,
    proxies: Sequence[str],
    *,
    dataset: str = "cifar10",
    scorer_kwargs: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Score the table's architectures and compare with its recorded scores and accuracy.

    table : a ``naslib_zc`` table (column ``val_accuracy`` and one column per recorded proxy)
    Returns one record per proxy: ``proxy``, ``n``, ``spearman_vs_recorded``,
    ``spearman_vs_accuracy``, ``recorded_spearman_vs_accuracy``, ``kendalltau_vs_accuracy``,
    ``recorded_kendalltau_vs_accuracy``, ``max_abs_diff_vs_recorded`` (closed forms),
    ``seconds_per_arch_all`` and ``compile_seconds_all`` (of the whole run: the proxies share
    their programs). A proxy NASLib did not record has nulls in the ``recorded`` fields.
    """
    acc = table.column("val_accuracy")
    names = [PROXIES.canonical_name(n) for n in proxies]
    scorer = ProxyScorer(table.space.name, names, dataset=dataset, **(scorer_kwargs or {}))
    cb = None if progress is None else (lambda done, total: progress("scored", done, total))
    start = time.perf_counter()
    all_scores = scorer.score(table.archs, progress=cb)
    wall = time.perf_counter() - start
    compile_s = sum(scorer.compile_seconds.values())
    records = []
    for name in names:
        scores = all_scores[name]
        rec_col = RECORDED_NAMES.get(name, name)
        recorded = table.columns.get(rec_col)
        rho_acc, n = _corr(spearman, scores, acc)
        row: dict[str, Any] = {
            "proxy": name,
            "n": n,
            "spearman_vs_recorded": None,
            "spearman_vs_accuracy": rho_acc,
            "recorded_spearman_vs_accuracy": None,
            "kendalltau_vs_accuracy": _corr(kendall_tau, scores, acc)[0],
            "recorded_kendalltau_vs_accuracy": None,
            "max_abs_diff_vs_recorded": None,
            # the proxies share one program per kind (float32 network / float64 synflow / closed
            # form): the time is the whole run's, per architecture
            "seconds_per_arch_all": (wall - compile_s) / len(scores),
            "compile_seconds_all": compile_s,
        }
        if recorded is not None:
            row["spearman_vs_recorded"] = _corr(spearman, scores, recorded)[0]
            row["recorded_spearman_vs_accuracy"] = _corr(spearman, recorded, acc)[0]
            row["recorded_kendalltau_vs_accuracy"] = _corr(kendall_tau, recorded, acc)[0]
            if PROXIES.get(name).program == "closed_form":
                ok = ~np.isnan(recorded)
                row["max_abs_diff_vs_recorded"] = float(np.max(np.abs(scores[ok] - recorded[ok])))
        records.append(row)
    return records
