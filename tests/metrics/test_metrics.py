"""Metrics against scipy and against definitions written out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pyengine import metrics as M


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=3, max_size=60), st.integers(0, 2**31 - 1))
def test_correlations_equal_scipy_with_ties(values, seed):
    t = np.array(values, dtype=float)
    p = t + np.random.default_rng(seed).normal(0, 3, len(t)).round()  # ties in both arrays
    if np.ptp(t) == 0 or np.ptp(p) == 0:
        assert M.kendall_tau(t, p) == 0.0
        return
    assert M.kendall_tau(t, p) == pytest.approx(stats.kendalltau(t, p)[0])
    assert M.spearman(t, p) == pytest.approx(stats.spearmanr(t, p)[0])
    assert M.pearson(t, p) == pytest.approx(stats.pearsonr(t, p)[0])


def test_sparse_kendall_rounds_predictions_to_a_tenth():
    t = np.array([90.0, 91.0, 92.0, 93.0])
    p = np.array([90.01, 90.02, 90.03, 90.04])  # perfectly ordered but within 0.1 points
    assert M.kendall_tau(t, p) == pytest.approx(1.0)
    assert M.sparse_kendall_tau(t, p) == 0.0


def test_errors_and_edge_cases():
    with pytest.raises(ValueError, match="non-finite.*position 1"):
        M.kendall_tau([1.0, np.nan, 2.0], [1, 2, 3])
    with pytest.raises(ValueError, match="equal length"):
        M.spearman([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        M.pearson([1], [1])
    assert M.kendall_tau([1, 2, 3], [5, 5, 5]) == 0.0
    with pytest.raises(ValueError, match="'k' parameter"):
        M.precision_at_k([1, 2, 3], [1, 2, 3], 0)


def test_top_k_metrics_by_definition():
    t = np.arange(100, dtype=float)  # architecture i has true value i: 99 is the best
    p = t.copy()
    p[[99, 0]] = p[[0, 99]]  # the predictor swaps the best and the worst
    assert M.p_at_top_k(t, p, 10) == pytest.approx(0.9)
    assert M.p_at_bottom_k(t, p, 10) == pytest.approx(0.9)
    assert M.precision_at_k(t, t, 0.05) == 1.0
    # predicted top 5 are 0 (true worst, rank 1.0) and 98..95 (ranks 1/99 .. 4/99)
    assert M.best_ranking_at_k(t, p, 5) == pytest.approx(1 / 99)
    assert M.worst_ranking_at_k(t, p, 5) == pytest.approx(1.0)
    assert M.mae(t, p) == pytest.approx(2 * 99 / 100)
    assert M.rmse(t, p) == pytest.approx(np.sqrt(2 * 99**2 / 100))


def test_complexity_and_op_bias():
    rng = np.random.default_rng(0)
    params = rng.uniform(0, 1, 500)
    t = rng.normal(size=500)
    biased = t + 3 * params  # rewards large models
    bias = M.complexity_bias(t, biased, params)
    assert bias.shape == (5,)
    assert bias[-1] < 0 < bias[0]  # large models ranked better than they are
    assert np.allclose(M.complexity_bias(t, t, params), 0.0)
    tp, tc = rng.normal(size=200), rng.normal(size=200)
    groups = np.repeat(["conv", "pool"], 100)
    pc = tc + np.where(groups == "conv", 2.0, 0.0)
    ob = M.op_level_bias(tp, tc, tp, pc, groups)
    assert ob["conv"] > 0.5 and abs(ob["pool"]) < 0.2


def test_ranking_variance():
    s = np.tile(np.arange(10.0), (4, 1))
    assert M.ranking_variance(s) == 0.0
    rng = np.random.default_rng(1)
    assert M.ranking_variance(rng.normal(size=(5, 50))) > 0.05
    with pytest.raises(ValueError, match="n_seeds >= 2"):
        M.ranking_variance(s[:1])
