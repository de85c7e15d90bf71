"""BONAS and SemiNAS: real-data invariants on NB201, the BONAS embedding against the GCN's own
output, SemiNAS' draw of unlabelled architectures, seeding, one compiled program per bucket and
bad input."""

import jax
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from pyengine.encodings import encode
from pyengine.metrics import kendall_tau
from pyengine.predictors import BONASPredictor, SemiNASPredictor, get_predictor
from pyengine.predictors._nn import ensemble_apply
from pyengine.predictors._semi import _semi_program
from pyengine.spaces import NB201Space

SEMI = ["bonas", "seminas"]
# 100 training cells, 1000 held out; measured over 8 splits and seeds: bonas 0.59-0.64,
# seminas 0.53-0.55
TAU_BOUND = {"bonas": 0.5, "seminas": 0.45}


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:100], perm[100:1100]
    return t, t.column(), train, test


@pytest.fixture(scope="module")
def encoded(nb201):
    t, *_ = nb201
    return {"bonas": encode(t.space, "gcn", t.archs), "seminas": encode(t.space, "adjacency_one_hot", t.archs)}


@pytest.fixture(scope="module")
def brief(nb201):
    """The predictors fitted for 3 epochs: the checks of wiring, seeding and errors need no
    trained model (the quality checks, on ``fitted``, run in the slow suite)."""
    t, y, train, _ = nb201
    return {
        n: get_predictor(n, space="nb201", random_state=0, **BRIEF).fit(t.subset(train).archs, y[train]) for n in SEMI
    }


BRIEF = {"epochs": 3}


def _rows(x, idx):
    return type(x)(*(a[idx] for a in x)) if isinstance(x, tuple) else x[idx]


@pytest.fixture(scope="module")
def fitted(nb201):
    t, y, train, _ = nb201
    return {n: get_predictor(n, space="nb201", random_state=0).fit(t.subset(train).archs, y[train]) for n in SEMI}


@pytest.mark.slow
@pytest.mark.parametrize("name", SEMI)
def test_ranks_held_out_nb201_cells_with_a_finite_positive_std(name, nb201, fitted):
    t, y, _, test = nb201
    est = fitted[name]
    mean, std = est.predict(t.subset(test).archs, return_std=True)
    assert kendall_tau(y[test], mean) > TAU_BOUND[name]
    assert std.shape == mean.shape and np.isfinite(std).all() and (std > 0).all()
    np.testing.assert_allclose(est.predict(t.subset(test).archs), mean, rtol=1e-12)


@pytest.mark.parametrize("name", SEMI)
def test_seeded(name, nb201, encoded, brief):
    """Same seed, same predictions; another seed, other predictions; encoded inputs and
    architectures encoded by the predictor agree."""
    t, y, train, test = nb201
    x = encoded[name]
    xtr, xte = _rows(x, train), _rows(x, test)
    a = get_predictor(name, space="nb201", random_state=0, **BRIEF).fit(xtr, y[train]).predict(xte)
    b = get_predictor(name, space="nb201", random_state=0, **BRIEF).fit(xtr, y[train]).predict(xte)
    c = get_predictor(name, space="nb201", random_state=1, **BRIEF).fit(xtr, y[train]).predict(xte)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    np.testing.assert_allclose(brief[name].predict(t.subset(test).archs), a, rtol=1e-5)


def test_bonas_regresses_on_the_last_hidden_layer_of_its_gcn(nb201, brief):
    t, y, train, test = nb201
    est = brief["bonas"]
    archs = t.subset(test[:50]).archs
    phi = est.embed(archs)
    assert phi.shape == (50, est.fc_hidden) and est.blr_.coef_.shape == (est.fc_hidden,)
    # the GCN's own output is its last hidden layer times fc2
    out = ensemble_apply(est.module_, est.params_, tuple(encode(t.space, "gcn", archs)))[0]
    np.testing.assert_allclose(phi @ np.asarray(est.params_["fc2"])[0, :, 0], out, rtol=1e-4, atol=1e-4)
    mean = est.blr_.predict(phi) * est.y_scale_ + est.y_mean_
    np.testing.assert_allclose(est.predict(archs), mean, rtol=1e-12)
    stream = iter([t.subset(test[:20]).archs, t.subset(test[20:50]).archs])
    np.testing.assert_allclose(est.predict(stream), mean, rtol=1e-12)
    with pytest.raises(ValueError, match="no ensemble members"):
        est.predict_members(archs)


@pytest.mark.slow
def test_seminas_self_trains_on_architectures_drawn_from_the_space(nb201, fitted, monkeypatch):
    t, y, train, test = nb201
    drawn = []
    sample = NB201Space.sample

    def spy(self, n, rng, **kw):
        batch = sample(self, n, rng, **kw)
        drawn.append(batch)
        return batch

    monkeypatch.setattr(NB201Space, "sample", spy)
    archs, held_out = t.subset(train).archs, t.subset(test).archs
    est = get_predictor("seminas", space="nb201", random_state=0).fit(archs, y[train])
    assert len(drawn) == 1 and len(drawn[0].ops) == est.n_unlabelled == est.n_unlabelled_ == 1000
    want = sample(NB201Space(), 1000, np.random.default_rng(0))  # the seed draws the unlabelled set
    np.testing.assert_array_equal(drawn[0].ops, want.ops)
    np.testing.assert_array_equal(est.predict(held_out), fitted["seminas"].predict(held_out))
    get_predictor("seminas", space="nb201", random_state=1).fit(archs, y[train])
    assert len(drawn) == 2 and (drawn[1].ops != drawn[0].ops).any()

    alone = get_predictor("seminas", space="nb201", n_unlabelled=0, random_state=0).fit(archs, y[train])
    assert len(drawn) == 2 and alone.n_unlabelled_ == 0  # nothing drawn
    assert np.abs(alone.predict(held_out) - est.predict(held_out)).max() > 1e-2
    with pytest.raises(ValueError, match="draws unlabelled architectures from 'space'"):
        get_predictor("seminas").fit(encode(t.space, "adjacency_one_hot", archs), y[train])


def test_seminas_one_program_per_bucket_with_one_member_per_key(nb201, encoded):
    t, y, train, test = nb201
    x = encoded["seminas"]
    est = SemiNASPredictor(space="nb201", random_state=0).fit(x[train], y[train])
    members = est.predict_members(x[test[:7]])
    assert members.shape == (est.n_ensemble, 7) and members.std(axis=0).min() > 0
    mean, std = est.predict(x[test[:7]], return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, members.std(axis=0), rtol=1e-12)
    stream = iter([t.subset(test[:3]).archs, t.subset(test[3:7]).archs])
    np.testing.assert_allclose(est.predict(stream), mean, rtol=1e-5)
    prog = _semi_program(est._network(x.shape[1]), est._config())
    compiled = prog._cache_size()
    est.fit(x[train[:90]], y[train[:90]])  # 90 and 100 rows share the 128-row bucket
    assert prog._cache_size() == compiled


def test_bad_input(nb201, encoded, brief):
    fitted = brief
    t, y, train, test = nb201
    archs = t.subset(train).archs
    bad = y[train].copy()
    bad[4] = np.nan
    for name in SEMI:
        with pytest.raises(ValueError, match="non-finite value at position 4"):
            get_predictor(name, space="nb201").fit(archs, bad)
        with pytest.raises(ValueError, match="'y' must have shape"):
            get_predictor(name, space="nb201").fit(archs, y[train][:-1])
        with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
            get_predictor(name, space="nb201").predict(t.subset(test).archs)
        with pytest.raises(ValueError, match="no 'space'"):
            get_predictor(name).fit(t.strings()[:5], y[:5])
        with pytest.raises(TypeError, match="'random_state' parameter"):
            get_predictor(name, space="nb201", random_state="0").fit(archs, y[train])
        with pytest.raises(ValueError, match="The 'epochs' parameter of .* must be a positive int. Got 0"):
            get_predictor(name, space="nb201", epochs=0).fit(archs, y[train])
        with pytest.raises(ValueError, match="No architectures"):
            fitted[name].predict(_rows(encoded[name], np.arange(0)))
    x = encoded["seminas"]
    with pytest.raises(ValueError, match="per architecture"):
        fitted["seminas"].predict(x[test][:, :10])
    with pytest.raises(ValueError, match="must be a vector encoding"):
        SemiNASPredictor(space="nb201", encoding="gcn").fit(x[train], y[train])
    with pytest.raises(ValueError, match="The 'trade_off' parameter of SemiNASPredictor must be a float in"):
        SemiNASPredictor(space="nb201", trade_off=0.0).fit(x[train], y[train])
    with pytest.raises(ValueError, match="The 'n_unlabelled' parameter of SemiNASPredictor must be an int >= 0"):
        SemiNASPredictor(space="nb201", n_unlabelled=-1).fit(x[train], y[train])
    with pytest.raises(ValueError, match="encode to width 30 .* the inputs have width 29"):
        SemiNASPredictor(space="nb201").fit(x[train][:, :29], y[train])
    with pytest.raises(TypeError, match="needs a GraphBatch or architectures"):  # a matrix is features, not graphs
        BONASPredictor().fit(x[train], y[train])
    g = encoded["bonas"]
    with pytest.raises(ValueError, match="A GraphBatch needs adjacency"):
        fitted["bonas"].predict(type(g)(g.adjacency[:5], g.features[:5], g.mask[:4]))
    with pytest.raises(ValueError, match="per architecture"):
        fitted["bonas"].predict(type(g)(g.adjacency[:5], g.features[:5, :, :3], g.mask[:5]))
    with pytest.raises(ValueError, match="The 'loss' parameter of BONASPredictor must be 'mse' or 'mae'"):
        BONASPredictor(loss="bce").fit(_rows(g, train), y[train])
    with pytest.raises(ValueError, match="The 'hidden' parameter of BONASPredictor must be a positive int. Got 0"):
        BONASPredictor(hidden=0).fit(_rows(g, train), y[train])
    assert jax.tree_util.tree_leaves(fitted["bonas"].params_)[0].shape[0] == 1  # one GCN
