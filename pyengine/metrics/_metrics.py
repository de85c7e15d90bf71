"""Ranking and regression metrics for predictors: numpy in, float (or small arrays) out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from ..errors import InvalidTypeError, InvalidValueError


def _pair(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim != 1 or p.ndim != 1:
        raise InvalidValueError(f"{name} takes 1-D arrays. Got shapes {t.shape} and {p.shape} instead.")
    if t.shape != p.shape:
        raise InvalidValueError(f"{name} needs arrays of equal length. Got {len(t)} and {len(p)} instead.")
    if len(t) < 2:
        raise InvalidValueError(f"{name} needs at least 2 values. Got {len(t)} instead.")
    for label, a in (("y_true", t), ("y_pred", p)):
        if not np.isfinite(a).all():
            i = int(np.flatnonzero(~np.isfinite(a))[0])
            raise InvalidValueError(f"{name}: {label} holds a non-finite value ({a[i]}) at position {i}.")
    return t, p


def _correlation(fn: Callable[..., Any], name: str, y_true: Any, y_pred: Any) -> float:
    t, p = _pair(y_true, y_pred, name)
    if np.ptp(t) == 0 or np.ptp(p) == 0:
        return 0.0  # a constant ranking carries no order information
    return float(fn(t, p)[0])


def kendall_tau(y_true: Any, y_pred: Any) -> float:
    """Kendall tau-b (ties in either array accounted for; scipy's ``kendalltau``). 0.0 when either
    array is constant. Non-finite input raises ValueError."""
    return _correlation(stats.kendalltau, "kendall_tau", y_true, y_pred)


def spearman(y_true: Any, y_pred: Any) -> float:
    """Spearman rank correlation (average ranks for ties). 0.0 when either array is constant."""
    return _correlation(stats.spearmanr, "spearman", y_true, y_pred)


def pearson(y_true: Any, y_pred: Any) -> float:
    """Pearson correlation. 0.0 when either array is constant."""
    return _correlation(stats.pearsonr, "pearson", y_true, y_pred)


def sparse_kendall_tau(y_true: Any, y_pred: Any, *, decimals: int = 1) -> float:
    """Kendall tau-b with the predictions rounded to ``decimals`` decimals (White et al.: 0.1
    accuracy points for accuracies in percent), so near-ties stop counting as orderings."""
    t, p = _pair(y_true, y_pred, "sparse_kendall_tau")
    return kendall_tau(t, np.round(p, decimals))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(t - p)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    t, p = _pair(y_true, y_pred, "rmse")
    return float(np.sqrt(np.mean((t - p) ** 2)))


def _count(k: Any, n: int, name: str) -> int:
    """K as a count (int >= 1) or a fraction of n (float in (0, 1])."""
    if isinstance(k, (bool, np.bool_)):
        raise InvalidTypeError(f"The 'k' parameter of {name} must be an int or a float. Got a bool instead.")
    if isinstance(k, (int, np.integer)):
        if not 1 <= k <= n:
            raise InvalidValueError(f"The 'k' parameter of {name} must lie in 1..{n}. Got {k} instead.")
        return int(k)
    if isinstance(k, (float, np.floating)) and 0 < k <= 1:
        return max(1, int(np.floor(k * n)))
    raise InvalidValueError(
        f"The 'k' parameter of {name} must be an int count or a fraction in (0, 1]. Got {k!r} instead."
    )


def _order(a: np.ndarray) -> np.ndarray:
    """Indices from best (largest) to worst; ties broken by position (stable)."""
    return np.argsort(-a, kind="stable")


def precision_at_k(y_true: Any, y_pred: Any, k: Any = 10) -> float:
    """|predicted top-k  and  true top-k| / k, with k a count or a fraction of the set."""
    t, p = _pair(y_true, y_pred, "precision_at_k")
    kk = _count(k, len(t), "precision_at_k")
    return len(np.intersect1d(_order(t)[:kk], _order(p)[:kk])) / kk


def p_at_top_k(y_true: Any, y_pred: Any, k: Any = 0.05) -> float:
    """P@topK of Ning et al.: the share of the predicted top K that is in the true top K (K a
    fraction of the set by default, 5%)."""
    return precision_at_k(y_true, y_pred, k)


def p_at_bottom_k(y_true: Any, y_pred: Any, k: Any = 0.05) -> float:
    """P@bottomK of Ning et al.: the same for the worst K."""
    t, p = _pair(y_true, y_pred, "p_at_bottom_k")
    return precision_at_k(-t, -p, k)


def _normalized_true_rank(t: np.ndarray) -> np.ndarray:
    """Rank of each architecture by true value: 0 for the best, 1 for the worst (ties averaged)."""
    r = stats.rankdata(-t, method="average") - 1.0
    return r / (len(t) - 1)


def best_ranking_at_k(y_true: Any, y_pred: Any, k: Any = 0.05) -> float:
    """BR@K of Ning et al.: the best normalized true rank (0 best .. 1 worst) among the top K by
    prediction. Lower is better."""
    t, p = _pair(y_true, y_pred, "best_ranking_at_k")
    kk = _count(k, len(t), "best_ranking_at_k")
    return float(_normalized_true_rank(t)[_order(p)[:kk]].min())


def worst_ranking_at_k(y_true: Any, y_pred: Any, k: Any = 0.05) -> float:
    """WR@K of Ning et al.: the worst normalized true rank among the top K by prediction."""
    t, p = _pair(y_true, y_pred, "worst_ranking_at_k")
    kk = _count(k, len(t), "worst_ranking_at_k")
    return float(_normalized_true_rank(t)[_order(p)[:kk]].max())


def complexity_bias(y_true: Any, y_pred: Any, complexity: Any, *, groups: int = 5) -> np.ndarray:
    """Complexity-level bias (Ning et al.): split the architectures into ``groups`` quantiles of
    ``complexity`` (e.g. parameter count) and return, per group from smallest to largest, the mean
    of (normalized predicted rank - normalized true rank); ranks run 0 (best) .. 1 (worst), so a
    negative value means the predictor favours that group. Array of shape (groups,)."""
    t, p = _pair(y_true, y_pred, "complexity_bias")
    c = np.asarray(complexity, dtype=np.float64)
    if c.shape != t.shape or not np.isfinite(c).all():
        raise InvalidValueError("complexity_bias: 'complexity' must be finite and as long as y_true.")
    if not isinstance(groups, int) or not 1 <= groups <= len(t):
        raise InvalidValueError(
            f"The 'groups' parameter of complexity_bias must be an int in 1..{len(t)}. Got {groups!r}."
        )
    diff = _normalized_true_rank(p) - _normalized_true_rank(t)
    order = np.argsort(c, kind="stable")
    return np.array([diff[part].mean() for part in np.array_split(order, groups)])


def op_level_bias(
    true_parent: Any, true_child: Any, pred_parent: Any, pred_child: Any, groups: Any
) -> dict[Any, float]:
    """Op-level bias over one-edit mutation pairs: per group (e.g. the op an edit introduces), the
    mean of (predicted change - true change), both changes in units of their own standard
    deviation over all pairs. Positive: the predictor rewards that edit more than the benchmark."""
    tp, tc = _pair(true_parent, true_child, "op_level_bias")
    pp, pc = _pair(pred_parent, pred_child, "op_level_bias")
    g = np.asarray(groups)
    if g.shape != tp.shape or pp.shape != tp.shape:
        raise InvalidValueError("op_level_bias: all arrays must have one entry per mutation pair.")
    dt, dp = tc - tp, pc - pp
    st, sp = dt.std(), dp.std()
    zt = dt / st if st > 0 else np.zeros_like(dt)
    zp = dp / sp if sp > 0 else np.zeros_like(dp)
    return {key.item() if hasattr(key, "item") else key: float((zp - zt)[g == key].mean()) for key in np.unique(g)}


def ranking_variance(scores: Any) -> float:
    """Variance of a ranking across seeds: scores (n_seeds, n_archs); the mean over architectures
    of the variance across seeds of each one's normalized rank (0 best .. 1 worst)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2 or s.shape[1] < 2:
        raise InvalidValueError(f"ranking_variance takes scores of shape (n_seeds >= 2, n_archs >= 2). Got {s.shape}.")
    if not np.isfinite(s).all():
        raise InvalidValueError("ranking_variance: scores hold a non-finite value.")
    ranks = np.stack([_normalized_true_rank(row) for row in s])
    return float(ranks.var(axis=0).mean())


def all_metrics(y_true: Any, y_pred: Any, *, k: float = 0.05) -> dict[str, float]:
    """Every pairwise metric of one prediction: the record fields of the evaluator."""
    t, p = _pair(y_true, y_pred, "all_metrics")
    return {
        "kendalltau": kendall_tau(t, p),
        "spearman": spearman(t, p),
        "pearson": pearson(t, p),
        "sparse_kendalltau": sparse_kendall_tau(t, p),
        "mae": mae(t, p),
        "rmse": rmse(t, p),
        "precision_at_10": precision_at_k(t, p, min(10, len(t))),
        "p_at_top_k": p_at_top_k(t, p, k),
        "p_at_bottom_k": p_at_bottom_k(t, p, k),
        "br_at_k": best_ranking_at_k(t, p, k),
        "wr_at_k": worst_ranking_at_k(t, p, k),
    }
