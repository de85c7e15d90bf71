"""The graph transformer predictor: its reachability masks against a brute-force closure, its
pairwise ranking loss against a direct sum, the graph feed-forward's neighbour means against
loops and its reading of edges reachability does not show, invariance to relabelling a cell's nodes, typed
errors for bad parameters (the estimator contract, save/load and quality run with every
predictor in test_predictors.py and test_persist.py)."""

import itertools

import numpy as np
import pytest

from pyengine.encodings import GraphBatch, encode
from pyengine.predictors import get_predictor
from pyengine.spaces import get_space


def _closure(a: np.ndarray) -> np.ndarray:
    v = len(a)
    r = np.eye(v, dtype=bool)
    for s in range(v):
        stack = [s]
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(a[i]):
                if not r[s, j]:
                    r[s, j] = True
                    stack.append(j)
    return r


def test_reachability_is_the_transitive_closure():
    from pyengine.predictors._transformer import reachability

    rng = np.random.default_rng(0)
    for v in (1, 2, 5, 7, 9):
        a = np.triu(rng.random((20, v, v)) < 0.35, 1).astype(np.float32)
        got = np.asarray(reachability(a)) > 0
        for b in range(20):
            np.testing.assert_array_equal(got[b], _closure(a[b]), err_msg=f"v={v} b={b}")


def test_rank_loss_is_the_pairwise_logistic_loss_plus_the_squared_error():
    from pyengine.predictors._nn import _batch_loss

    rng = np.random.default_rng(1)
    pred, y = rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    w = np.array([1, 1, 1, 1, 1, 0], np.float32)  # the last row is padding
    real = range(5)
    pairs = [(i, j) for i, j in itertools.product(real, real) if y[i] > y[j]]
    want = np.mean([(pred[i] - y[i]) ** 2 for i in real])
    want += np.mean([np.log1p(np.exp(-(pred[i] - pred[j]))) for i, j in pairs])
    assert float(_batch_loss("rank", pred, y, w)) == pytest.approx(want, rel=1e-5)
    assert float(_batch_loss("mse", pred, y, w)) == pytest.approx(np.mean((pred[:5] - y[:5]) ** 2), rel=1e-6)


def test_neighbour_means_are_the_means_over_predecessors_and_successors():
    from pyengine.predictors._transformer import neighbour_means

    rng = np.random.default_rng(5)
    a = np.triu(rng.random((10, 7, 7)) < 0.4, 1).astype(np.float32)
    h = rng.normal(size=(10, 7, 3)).astype(np.float32)
    preds, succs = (np.asarray(v) for v in neighbour_means(a, h))
    for b, j in itertools.product(range(10), range(7)):
        into, out = np.flatnonzero(a[b, :, j]), np.flatnonzero(a[b, j])
        want_in = h[b, into].mean(0) if len(into) else np.zeros(3)
        want_out = h[b, out].mean(0) if len(out) else np.zeros(3)
        np.testing.assert_allclose(preds[b, j], want_in, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(succs[b, j], want_out, rtol=1e-5, atol=1e-6)


def _with_a_shortcut(g):
    """The first cell of ``g`` with an edge i -> k added where a path i -> j -> k exists already
    (its reachability unchanged), as a one-cell GraphBatch, beside the cell as it was."""
    a, f, m = (np.asarray(v) for v in g)
    for b in range(len(a)):
        reach = _closure(a[b])
        two = (a[b].astype(int) @ a[b].astype(int)) > 0
        cand = np.argwhere(two & ~a[b].astype(bool) & reach)
        if len(cand):
            i, k = cand[0]
            a2 = a[b].copy()
            a2[i, k] = 1
            np.testing.assert_array_equal(_closure(a2), reach)
            one = (f[b : b + 1], m[b : b + 1])
            return GraphBatch(a[b : b + 1], *one), GraphBatch(a2[None], *one)
    raise AssertionError("no cell with a two-step path and no shortcut")


@pytest.fixture(scope="module")
def fitted():
    archs, y = _train_set()
    est = get_predictor("transformer", space="nb101", epochs=3, random_state=0)
    return est.fit(archs, y), encode(get_space("nb101"), "gcn", archs)


def _train_set():
    """60 NB101 cells and random targets: the fitted estimators' training set."""
    archs = get_space("nb101").sample(60, np.random.default_rng(2))
    return archs, np.random.default_rng(3).normal(size=60)


def test_relabelling_the_nodes_leaves_predictions_unchanged(fitted):
    est, g = fitted
    rng = np.random.default_rng(4)
    a, f, m = (np.asarray(v) for v in g)
    perm = np.stack([rng.permutation(a.shape[1]) for _ in range(len(a))])
    rows = np.arange(len(a))[:, None]
    a2 = a[rows[:, :, None], perm[:, :, None], perm[:, None, :]]
    g2 = GraphBatch(a2, f[rows, perm], m[rows, perm])
    np.testing.assert_allclose(est.predict(g2), est.predict(g), rtol=1e-4, atol=1e-5)


def test_graph_ffn_reads_the_edges_and_the_plain_blocks_only_reachability(fitted):
    """An edge that changes no reachability (a shortcut of a two-step path) changes what the graph
    feed-forward blocks read, so the default's prediction moves; the plain transformer's does not."""
    est, g = fitted
    assert est.graph_ffn is True and est.module_.graph_ffn is True
    before, after = _with_a_shortcut(g)
    assert abs(float(est.predict(after)[0] - est.predict(before)[0])) > 1e-6
    plain = get_predictor("transformer", space="nb101", graph_ffn=False, epochs=3, random_state=0).fit(*_train_set())
    assert "ffn_fwd_0" not in plain.params_ and "ffn_fwd_0" in est.params_
    np.testing.assert_allclose(plain.predict(after), plain.predict(before), rtol=1e-6)


def test_the_alias_names_the_same_estimator(fitted):
    est, _ = fitted
    again = get_predictor("graph_transformer", space="nb101", epochs=3, random_state=0)
    assert type(again) is type(est) and again.get_params() == est.get_params()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"d_model": 30, "n_heads": 4}, "'d_model' parameter of TransformerPredictor must be a multiple"),
        ({"loss": "hinge"}, "'loss' parameter of TransformerPredictor must be 'mse', 'mae' or 'rank'"),
        ({"n_heads": 0}, "'n_heads' parameter of TransformerPredictor"),
        ({"dropout": 1.0}, "'dropout' parameter of TransformerPredictor"),
    ],
)
def test_bad_parameters_name_the_problem(params, match):
    space = get_space("nb201")
    archs = space.sample(20, np.random.default_rng(0))
    with pytest.raises(ValueError, match=match):
        get_predictor("transformer", space="nb201", **params).fit(archs, np.arange(20.0))


def test_a_non_bool_graph_ffn_is_a_type_error():
    space = get_space("nb201")
    archs = space.sample(20, np.random.default_rng(0))
    with pytest.raises(TypeError, match="'graph_ffn' parameter of TransformerPredictor must be a bool"):
        get_predictor("transformer", space="nb201", graph_ffn="yes").fit(archs, np.arange(20.0))
