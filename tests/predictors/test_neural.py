"""Neural predictors: the GCN against its formula, the compiled training program against a plain
loop, bucketed and streamed inference, real-data invariants and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from pyengine.encodings import GraphBatch, encode, kernel
from pyengine.metrics import kendall_tau
from pyengine.predictors import GCNPredictor, TwoStageGCNPredictor, get_predictor
from pyengine.predictors._gcn import GCN
from pyengine.predictors._nn import TrainConfig, _apply_program, train_ensemble
from pyengine.spaces import get_space
from pyengine.spaces._base import take


def _rownorm(a):
    return a / a.sum(-1, keepdims=True)


def _reference_gcn(params, adjacency, features, mask, n_layers):
    """Section 3 of the reference, literally: float64, separate forward / backward matmuls,
    one-hot features multiplied, fc1 then fc2."""
    a_hat = _rownorm(adjacency + np.eye(adjacency.shape[-1]))
    a_t = _rownorm(np.swapaxes(a_hat, -1, -2))
    h = features
    for layer in range(n_layers):
        wf = np.asarray(params[f"w_forward_{layer}"], np.float64)
        wb = np.asarray(params[f"w_backward_{layer}"], np.float64)
        h = 0.5 * np.maximum(a_hat @ h @ wf, 0) + 0.5 * np.maximum(a_t @ h @ wb, 0)
    m = mask.astype(np.float64)
    pooled = (h * m[..., None]).sum(1) / m.sum(1, keepdims=True)
    return (pooled @ np.asarray(params["fc1"], np.float64) @ np.asarray(params["fc2"], np.float64))[:, 0]


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_gcn_matches_the_reference_formula(space):
    sp = get_space(space)
    batch = sp.sample(64, np.random.default_rng(1))
    g = encode(sp, "gcn", batch)
    one_hot = space != "darts"  # DARTS node features carry a reduction-cell flag
    module = GCN(gather_first=one_hot)
    params = module.init(jax.random.key(0), tuple(g), train=False)["params"]
    got = np.asarray(module.apply({"params": params}, tuple(g), train=False))
    want = _reference_gcn(params, *(np.asarray(a, np.float64) for a in g), n_layers=3)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
    if one_hot:  # the gathered first layer equals the multiplied one
        plain = GCN(gather_first=False).apply({"params": params}, tuple(g), train=False)
        np.testing.assert_allclose(got, np.asarray(plain), rtol=1e-5, atol=1e-6)


def _adam_loop(module, x, y, cfg, key):
    """The training semantics written as a plain loop: a fresh gradient every step, L2 added to
    it, Adam by hand (PyTorch's formula), the learning rate annealed once per epoch."""
    n, bs = len(y), cfg.batch_size
    size = max(32, 1 << (n - 1).bit_length())
    k_init, k = jax.random.split(key)
    xp = jax.tree_util.tree_map(lambda a: np.concatenate([a, np.repeat(a[:1], size - n, 0)]), x)
    params = module.init(k_init, jax.tree_util.tree_map(lambda a: a[np.arange(bs) % size], xp), train=False)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params["params"])
    m = jax.tree_util.tree_map(np.zeros_like, params)
    v = jax.tree_util.tree_map(np.zeros_like, params)
    b1, b2 = cfg.betas
    t = 0

    def loss(p, idx):
        pred = module.apply({"params": p}, jax.tree_util.tree_map(lambda a: a[idx], xp), train=False)
        return jnp.mean((pred - y[idx]) ** 2)

    for e in range(cfg.epochs):
        k, k_perm, _ = jax.random.split(k, 3)
        order = np.asarray(jnp.argsort(jnp.where(jnp.arange(size) < n, jax.random.uniform(k_perm, (size,)), 2.0)))
        lr = cfg.lr * 0.5 * (1 + np.cos(np.pi * e / cfg.epochs))
        for s in range(n // bs):
            idx = order[s * bs : (s + 1) * bs]
            p32 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), params)
            g = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), jax.grad(loss)(p32, idx))
            g = jax.tree_util.tree_map(lambda gi, p: gi + cfg.weight_decay * p, g, params)
            t += 1
            m = jax.tree_util.tree_map(lambda mi, gi: b1 * mi + (1 - b1) * gi, m, g)
            v = jax.tree_util.tree_map(lambda vi, gi: b2 * vi + (1 - b2) * gi * gi, v, g)
            c1, c2 = 1 - b1**t, 1 - b2**t
            params = jax.tree_util.tree_map(
                lambda p, mi, vi, lr=lr, c1=c1, c2=c2: p - lr * (mi / c1) / (np.sqrt(vi / c2) + 1e-8), params, m, v
            )
    return params


def test_training_program_matches_a_plain_adam_loop():
    sp = get_space("nb201")
    batch = sp.sample(23, np.random.default_rng(3))
    x = tuple(encode(sp, "gcn", batch))
    y = np.random.default_rng(4).normal(size=23).astype(np.float32)
    module = GCN(n_layers=2, hidden=8, fc_hidden=4, dropout=0.0, gather_first=True)
    cfg = TrainConfig("mse", 3, 5, 0.01, (0.9, 0.999), 1e-3, "cosine", 0)
    keys = jax.random.split(jax.random.key(7), 2)
    got = train_ensemble(module, cfg, x, y, keys, None)
    for member in range(2):
        want = _adam_loop(module, x, y, cfg, keys[member])
        for name, w in want.items():
            np.testing.assert_allclose(np.asarray(got[name][member]), w, rtol=2e-3, atol=2e-5, err_msg=name)
    assert not np.allclose(np.asarray(got["fc1"][0]), np.asarray(got["fc1"][1]))  # members differ


@pytest.fixture(scope="module")
def nb101_fit():
    sp = get_space("nb101")
    rng = np.random.default_rng(0)
    train = sp.sample(64, rng)
    y = rng.random(64)
    return sp, get_predictor("gcn", space=sp, epochs=3, n_ensemble=2, random_state=0).fit(train, y)


def test_bucketed_inference_equals_one_pass_and_does_not_recompile(nb101_fit):
    sp, est = nb101_fit
    cells = sp.sample(1500, np.random.default_rng(5))
    got = est.predict_members(cells)
    g = tuple(encode(sp, "gcn", cells))
    whole = jax.vmap(lambda p: est.module_.apply({"params": p}, g, train=False))(est.params_)
    np.testing.assert_allclose(got, np.asarray(whole) * est.y_scale_ + est.y_mean_, rtol=1e-4, atol=1e-5)
    prog = _apply_program(est.module_, kernel(sp, "gcn"))
    compiled = prog._cache_size()
    est.predict(take(cells, np.arange(1300)))  # the same buckets (1024, 128): no new program
    assert prog._cache_size() == compiled
    est.predict(take(cells, np.arange(7)))  # the smallest bucket, compiled once
    est.predict(take(cells, np.arange(3)))
    assert prog._cache_size() == compiled + 1
    # a stream of batches gives what the concatenated batch gives
    parts = (take(cells, np.arange(i, min(i + 400, 1500))) for i in range(0, 1500, 400))
    np.testing.assert_allclose(est.predict(parts), got.mean(0), rtol=1e-5, atol=1e-6)
    # encoded inputs and architectures give the same scores
    np.testing.assert_allclose(est.predict(GraphBatch(*g)), got.mean(0), rtol=1e-5, atol=1e-6)


def test_ensemble_mean_and_std(nb101_fit):
    sp, est = nb101_fit
    cells = sp.sample(50, np.random.default_rng(6))
    members = est.predict_members(cells)
    mean, std = est.predict(cells, return_std=True)
    assert members.shape == (2, 50)
    np.testing.assert_allclose(mean, members.mean(0), rtol=1e-6)
    np.testing.assert_allclose(std, members.std(0), rtol=1e-6)
    assert std.max() > 0


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(0).permutation(len(t))
    return t, t.column(), perm[:200], perm[200:1200]


@pytest.mark.slow
def test_gcn_ranks_nb201_at_200_training_cells(nb201):
    t, y, train, test = nb201
    est = get_predictor("gcn", space=t.space, random_state=0).fit(t.subset(train).archs, y[train])
    assert kendall_tau(y[test], est.predict(t.subset(test).archs)) > 0.5


def test_bounded_output_and_early_stopping(nb201):
    t, y, train, test = nb201
    est = GCNPredictor(space="nb201", bounds=(10.0, 100.0), epochs=60, early_stopping=True, patience=5)
    est.set_params(random_state=1, n_ensemble=2).fit(t.subset(train).archs, y[train])
    pred = est.predict(t.subset(test).archs)
    assert (pred > 10).all() and (pred < 100).all()
    assert kendall_tau(y[test], pred) > 0.3
    with pytest.raises(ValueError, match="'bounds' parameter of GCNPredictor must be None or"):
        GCNPredictor(space="nb201", bounds=(100.0, 10.0)).fit(t.subset(train).archs, y[train])


@pytest.mark.slow
def test_two_stage_filters_nb101_with_few_false_negatives(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb101_1k")
    y = t.column()
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:172], perm[172:]
    est = TwoStageGCNPredictor(space="nb101", threshold=0.91, random_state=0).fit(t.subset(train).archs, y[train])
    proba = est.predict_proba(t.subset(test).archs)
    good = y[test] >= 0.91
    false_negative_rate = float(np.mean(proba[good] < 0.5))
    assert false_negative_rate < 0.25
    pred = est.predict(t.subset(test).archs)
    assert (pred[proba >= 0.5] >= 0.91).all() and (pred[proba < 0.5] < 0.91).all()
    assert kendall_tau(y[test], pred) > 0.3


def test_bad_input(nb201):
    t, y, train, test = nb201
    archs = t.subset(train).archs
    with pytest.raises(ValueError, match="The 'hidden' parameter of GCNPredictor must be a positive int. Got 0"):
        GCNPredictor(space="nb201", hidden=0).fit(archs, y[train])
    with pytest.raises(ValueError, match="at least 2 training architectures"):
        get_predictor("gcn", space="nb201").fit(take(archs, [0]), y[train][:1])
    bad = y[train].copy()
    bad[3] = np.inf
    with pytest.raises(ValueError, match="non-finite value at position 3"):
        get_predictor("bananas", space="nb201").fit(archs, bad)
    with pytest.raises(ValueError, match="must have shape"):
        get_predictor("mlp", space="nb201").fit(archs, y[train][:-1])
    with pytest.raises(NotFittedError, match=r"GCNPredictor is not fitted yet; call fit\(X, y\)"):
        get_predictor("gcn", space="nb201").predict(archs)
    with pytest.raises(ValueError, match="'loss' parameter of BananasPredictor"):
        get_predictor("bananas", space="nb201", loss="huber").fit(archs, y[train])
    est = get_predictor("gcn", space="nb201", epochs=2, random_state=0).fit(archs, y[train])
    other = get_space("nb101").sample(5, np.random.default_rng(0))
    with pytest.raises((TypeError, ValueError)):
        est.predict(other)  # NB101 cells for a predictor fitted on NB201
    with pytest.raises(ValueError, match="fitted on"):
        est.predict(encode("nb101", "gcn", other))  # graphs of another shape
    with pytest.raises(ValueError, match="empty"):
        est.predict(iter([]))
    mlp = get_predictor("mlp", space="nb201", epochs=2).fit(archs, y[train])
    with pytest.raises(ValueError, match="fitted on"):
        mlp.predict(np.zeros((3, 7), np.float32))
