"""Bayesian predictors (bohamiann, sparse_gp): the SGHMC step against the reference update, the
sparse GP bound against the exact marginal likelihood, real-data invariants on NB201, seeding,
one compiled program per bucket and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from pyengine.encodings import encode
from pyengine.metrics import kendall_tau
from pyengine.predictors import BohamiannPredictor, SparseGPPredictor, get_predictor
from pyengine.predictors._bayes import _sampler_program, sghmc_init, sghmc_step, sgpr_bound

BAYES = ["bohamiann", "sparse_gp"]


def _reference_sghmc(theta, grads, noises, lr, mdecay, burn_in):
    """The scale-adapted SGHMC update of the reference code (pybnn's AdaptiveSGHMC), in float64:
    moment estimates adapted while ``step <= burn_in``, then the preconditioned momentum step."""
    theta = np.asarray(theta, np.float64)
    p, tau, g, v = np.zeros_like(theta), np.ones_like(theta), np.ones_like(theta), np.ones_like(theta)
    for step, (grad, noise) in enumerate(zip(grads, noises, strict=True), start=1):
        r = 1.0 / (tau + 1.0)
        if step <= burn_in:
            tau = tau - tau * (g * g / (v + 1e-10)) + 1.0
            g = g - g * r + r * grad
            v = v - v * r + r * grad**2
        minv = 1.0 / (np.sqrt(v) + 1e-10)
        sigma = np.sqrt(np.maximum(2.0 * lr**2 * mdecay * minv - lr**4, 1e-16))
        p = p - lr**2 * minv * grad - mdecay * p + sigma * noise
        theta = theta + p
    return theta


def test_sghmc_step_matches_the_reference_update():
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal(7).astype(np.float32)
    grads = rng.standard_normal((6, 7)).astype(np.float32) * 3.0
    keys = jax.random.split(jax.random.key(1), 6)
    # one leaf: the step draws its normal from the first of split(key, 1)
    noises = [np.asarray(jax.random.normal(jax.random.split(k, 1)[0], (7,))) for k in keys]
    state = sghmc_init(jnp.asarray(theta0))
    for i in range(6):
        state = sghmc_step(state, jnp.asarray(grads[i]), keys[i], 0.05, 0.05, adapt=i < 3)
    want = _reference_sghmc(theta0, grads, noises, 0.05, 0.05, burn_in=3)
    np.testing.assert_allclose(np.asarray(state.theta), want, rtol=1e-5, atol=1e-6)  # float32 vs float64


def test_sparse_bound_with_inducing_points_at_the_data_is_the_exact_evidence():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((20, 4))
    y = np.sin(x.sum(1)) + 0.1 * rng.standard_normal(20)
    ls, sf2, s2 = 1.5, 1.2, 0.3
    d2 = ((x[:, None] - x[None]) ** 2).sum(-1) / ls**2
    k = sf2 * np.exp(-0.5 * d2) + s2 * np.eye(20)
    _, logdet = np.linalg.slogdet(k)
    exact = -0.5 * (y @ np.linalg.solve(k, y) + logdet + 20 * np.log(2 * np.pi))
    hyp = {
        "inducing": jnp.asarray(x, jnp.float32),
        "log_lengthscale": jnp.full((1,), np.log(ls), jnp.float32),
        "log_signal_var": jnp.asarray(np.log(sf2), jnp.float32),
        "log_noise_var": jnp.asarray(np.log(s2 - 1e-6), jnp.float32),
    }
    bound = jax.jit(sgpr_bound, static_argnums=4)
    got = float(bound(hyp, jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), np.ones(20, bool), 1e-6))
    np.testing.assert_allclose(got, exact, rtol=2e-3)  # float32 Cholesky
    # padding rows outside the mask do not count
    xp = np.concatenate([x, rng.standard_normal((12, 4))]).astype(np.float32)
    yp = np.concatenate([y, rng.standard_normal(12)]).astype(np.float32)
    padded = float(bound(hyp, jnp.asarray(xp), jnp.asarray(yp), np.arange(32) < 20, 1e-6))
    np.testing.assert_allclose(padded, got, rtol=1e-5)


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:100], perm[100:1100]
    x = encode(t.space, "adjacency_one_hot", t.archs)
    return t, x, t.column(), train, test


@pytest.fixture(scope="module")
def fitted(nb201):
    t, _, y, train, _ = nb201
    return {n: get_predictor(n, space="nb201", random_state=0).fit(t.subset(train).archs, y[train]) for n in BAYES}


@pytest.mark.parametrize("name", BAYES)
def test_ranks_held_out_nb201_cells_with_a_finite_positive_std(name, nb201, fitted):
    t, _, y, _, test = nb201
    est = fitted[name]
    mean, std = est.predict(t.subset(test).archs, return_std=True)
    # 100 training cells; measured 0.43-0.53 over 8 splits and seeds for both models
    assert kendall_tau(y[test], mean) > 0.35
    assert std.shape == mean.shape and np.isfinite(std).all() and (std > 0).all()
    noise_std = np.sqrt(np.mean(est.noise_var_)) * est.y_scale_
    assert (std >= noise_std * (1 - 1e-9)).all()  # the predictive std includes the observation noise
    np.testing.assert_allclose(est.predict(t.subset(test).archs), mean, rtol=1e-12)


@pytest.mark.parametrize("name", BAYES)
def test_seeded(name, nb201, fitted):
    """Same seed, same predictions; another seed, other predictions (for the sparse GP the seed
    places the inducing points, so fewer of them than training cells)."""
    t, x, y, train, test = nb201
    params = {"n_inducing": 32} if name == "sparse_gp" else {}
    a = get_predictor(name, random_state=0, **params).fit(x[train], y[train]).predict(x[test])
    b = get_predictor(name, random_state=0, **params).fit(x[train], y[train]).predict(x[test])
    c = get_predictor(name, random_state=1, **params).fit(x[train], y[train]).predict(x[test])
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    if name == "bohamiann":  # architectures encoded by the predictor and encoded inputs agree
        np.testing.assert_allclose(fitted[name].predict(t.subset(test).archs), a, rtol=1e-6)


def test_bohamiann_keeps_every_kth_state_in_one_program_per_bucket(nb201):
    t, x, y, train, test = nb201
    est = BohamiannPredictor(burn_in=30, n_samples=4, keep_every=5, random_state=0)
    est.fit(x[train], y[train])
    assert est.predict_members(x[test[:7]]).shape == (4, 7) and est.noise_var_.shape == (4,)
    # the same chain kept every 10 steps: its samples are the 2nd and 4th of the first (steps 40, 50)
    sparse = BohamiannPredictor(burn_in=30, n_samples=2, keep_every=10, random_state=0).fit(x[train], y[train])
    for a, b in zip(jax.tree_util.tree_leaves(est.params_), jax.tree_util.tree_leaves(sparse.params_), strict=True):
        np.testing.assert_allclose(np.asarray(a)[[1, 3]], np.asarray(b), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(est.noise_var_[[1, 3]], sparse.noise_var_, rtol=1e-4)
    prog = _sampler_program(est.module_, est._config())
    compiled = prog._cache_size()
    est.fit(x[train[:90]], y[train[:90]])  # 90 and 100 rows share the 128-row bucket
    assert prog._cache_size() == compiled


def test_bad_input(nb201, fitted):
    t, x, y, train, test = nb201
    bad = y[train].copy()
    bad[4] = np.nan
    for name in BAYES:
        with pytest.raises(ValueError, match="non-finite value at position 4"):
            get_predictor(name).fit(x[train], bad)
        with pytest.raises(ValueError, match="'y' must have shape"):
            get_predictor(name).fit(x[train], y[train][:-1])
        with pytest.raises(ValueError, match="at least 2 training architectures. Got 0"):
            get_predictor(name).fit(x[:0], y[:0])
        with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
            get_predictor(name, space="nb201").predict(t.subset(test).archs)
        with pytest.raises(ValueError, match="no 'space'"):
            get_predictor(name).fit(t.strings()[:5], y[:5])
        with pytest.raises(ValueError, match="must be a vector encoding"):
            get_predictor(name, encoding="gcn").fit(x[train], y[train])
        with pytest.raises(TypeError, match="'random_state' parameter"):
            get_predictor(name, random_state="0").fit(x[train], y[train])
        est = fitted[name]
        with pytest.raises(ValueError, match="per architecture"):
            est.predict(x[test][:, :10])
        with pytest.raises(ValueError, match="No architectures"):
            est.predict(x[:0])
    with pytest.raises(
        ValueError, match="The 'n_samples' parameter of BohamiannPredictor must be a positive int. Got 0"
    ):
        BohamiannPredictor(n_samples=0).fit(x[train], y[train])
    with pytest.raises(ValueError, match="The 'lr' parameter of BohamiannPredictor must be a float in"):
        BohamiannPredictor(lr=-1.0).fit(x[train], y[train])
    with pytest.raises(ValueError, match="The 'n_inducing' parameter of SparseGPPredictor must be a positive int"):
        SparseGPPredictor(n_inducing=0).fit(x[train], y[train])
    with pytest.raises(TypeError, match="The 'ard' parameter of SparseGPPredictor must be a bool"):
        SparseGPPredictor(ard=1).fit(x[train], y[train])
    with pytest.raises(ValueError, match="no ensemble members"):
        fitted["sparse_gp"].predict_members(x[test])
