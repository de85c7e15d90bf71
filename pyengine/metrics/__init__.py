"""Metrics of White et al. and Ning et al. for predictors (pure functions, numpy in, float out).

Behaviour at the edges: non-finite input raises ``ValueError`` naming the position; a constant
array gives correlations of 0.0 (no ordering information) rather than NaN; ties are handled by
tau-b / average ranks; top-K sets break ties by position.
"""

from ._metrics import (
    all_metrics,
    best_ranking_at_k,
    complexity_bias,
    kendall_tau,
    mae,
    op_level_bias,
    p_at_bottom_k,
    p_at_top_k,
    pearson,
    precision_at_k,
    ranking_variance,
    rmse,
    sparse_kendall_tau,
    spearman,
    worst_ranking_at_k,
)

__all__ = [
    "kendall_tau",
    "spearman",
    "pearson",
    "sparse_kendall_tau",
    "mae",
    "rmse",
    "precision_at_k",
    "p_at_top_k",
    "p_at_bottom_k",
    "best_ranking_at_k",
    "worst_ranking_at_k",
    "complexity_bias",
    "op_level_bias",
    "ranking_variance",
    "all_metrics",
]
