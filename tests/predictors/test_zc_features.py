"""Zero-cost scores as inputs of the feature-based and neural predictors (``zc=`` parameter):
given or computed by the engine, the same columns either way; the sklearn contract, save/load,
and every bad input refused with a typed error before anything is fitted."""

import numpy as np
import pytest
from sklearn.base import clone

import pyengine
from pyengine.encodings import encode
from pyengine.errors import InvalidTypeError, InvalidValueError
from pyengine.predictors import get_predictor
from pyengine.predictors._zc import ZC_SETTINGS, signed_log
from pyengine.proxies import cached_scores, score_proxies

FREE = ("params", "flops")  # data-free closed forms: no compilation, fast


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:60], perm[60:460]
    y = t.column("cifar10_valid_valacc")
    return t, t.subset(train).archs, y[train], t.subset(test).archs, y[test]


@pytest.fixture(scope="module")
def scores(nb201):
    t, xtr, _, xte, _ = nb201
    return (
        cached_scores("nb201", xtr, FREE, **ZC_SETTINGS).scores,
        cached_scores("nb201", xte, FREE, **ZC_SETTINGS).scores,
    )


def test_computed_scores_equal_the_proxies_module(nb201):
    _, xtr, _, _, _ = nb201
    est = get_predictor("blr", space="nb201", zc=FREE).fit(xtr, np.arange(60.0))
    ref = score_proxies("nb201", xtr, list(FREE), **ZC_SETTINGS)
    m = np.stack([signed_log(ref[n]) for n in FREE], axis=1)
    m = (m - m.mean(axis=0)) / m.std(axis=0)
    onehot = encode("nb201", "adjacency_one_hot", xtr)
    assert est.n_features_in_ == onehot.shape[1] + 2
    np.testing.assert_allclose(est.model_.predict(np.c_[onehot, m]), est.predict(xtr), rtol=1e-12)
    np.testing.assert_allclose(est.zc_mean_, np.stack([signed_log(ref[n]) for n in FREE], 1).mean(0), rtol=1e-12)


@pytest.mark.slow
def test_computed_synflow_equals_score_proxies(nb201):
    _, xtr, y, _, _ = nb201
    est = get_predictor("blr", space="nb201", zc=("synflow",)).fit(xtr, y)
    ref = score_proxies("nb201", xtr, ["synflow"], **ZC_SETTINGS)["synflow"]
    given = get_predictor("blr", space="nb201", zc=("synflow",)).fit(xtr, y, zc={"synflow": ref})
    np.testing.assert_array_equal(est.predict(xtr), given.predict(xtr, zc={"synflow": ref}))


@pytest.mark.parametrize("name", ["rf", "blr", "mlp", "gcn", "transformer"])
def test_given_and_computed_scores_give_the_same_model(name, nb201, scores):
    _, xtr, ytr, xte, yte = nb201
    kw = {"epochs": 20} if name in ("mlp", "gcn", "transformer") else {}
    computed = get_predictor(name, space="nb201", zc=FREE, random_state=0, **kw).fit(xtr, ytr)
    given = get_predictor(name, space="nb201", zc=FREE, random_state=0, **kw).fit(xtr, ytr, zc=scores[0])
    a, b = computed.predict(xte), given.predict(xte, zc=scores[1])
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert np.isfinite(a).all() and len(a) == len(yte)


def test_gcn_appends_scores_to_the_readout(nb201):
    _, xtr, ytr, _, _ = nb201
    plain = get_predictor("gcn", space="nb201", epochs=2, random_state=0).fit(xtr, ytr)
    est = get_predictor("gcn", space="nb201", epochs=2, zc=FREE, random_state=0).fit(xtr, ytr)
    hidden = plain.params_["fc1"].shape[1]
    assert est.params_["fc1"].shape[1] == hidden + 2  # (members, hidden + zero-cost scores, fc_hidden)
    assert est.params_["w_forward_0"].shape == plain.params_["w_forward_0"].shape


def test_scores_carry_signal_on_real_cells(nb201):
    """Kendall tau on 400 held-out NB201 cells, from 60 training cells, with params and flops
    next to the one-hot."""
    _, xtr, ytr, xte, yte = nb201
    with_zc = get_predictor("rf", space="nb201", zc=FREE, random_state=0).fit(xtr, ytr)
    assert with_zc.score(xte, yte) > 0.45


@pytest.mark.parametrize("name", ["rf", "mlp", "gcn_two_stage"])
def test_clone_get_params_and_round_trip(name, nb201, tmp_path):
    _, xtr, ytr, xte, _ = nb201
    kw = {"epochs": 5} if name != "rf" else {"n_estimators": 20}
    est = get_predictor(name, space="nb201", zc=["flops", "params"], random_state=0, **kw)
    assert est.get_params()["zc"] == ["flops", "params"]
    twin = clone(est)
    assert twin.get_params()["zc"] == ["flops", "params"] and not hasattr(twin, "zc_mean_")
    est.fit(xtr, ytr)
    assert est.zc_names() == ["flops", "params"] and set(est.zc_floor_) == {"flops", "params"}
    est.save(tmp_path / name)
    loaded = pyengine.load(tmp_path / name)
    assert list(loaded.zc) == ["flops", "params"]
    np.testing.assert_allclose(loaded.zc_mean_, est.zc_mean_)
    np.testing.assert_allclose(loaded.predict(xte), est.predict(xte), rtol=1e-6)


def test_scores_given_under_an_alias_and_extra_keys_ignored(nb201):
    _, xtr, ytr, _, _ = nb201
    rng = np.random.default_rng(0)
    zc = {"jacov": rng.normal(size=60), "nwot": rng.normal(size=60)}  # NASLib's name of jacob_cov
    est = get_predictor("blr", zc="jacob_cov").fit(encode("nb201", "adjacency_one_hot", xtr), ytr, zc=zc)
    assert est.zc_names() == ["jacob_cov"] and list(est.zc_floor_) == ["jacob_cov"]


def test_minus_infinity_takes_the_training_floor(nb201):
    _, xtr, ytr, _, _ = nb201
    x = encode("nb201", "adjacency_one_hot", xtr)
    v = np.linspace(-5.0, 5.0, 60)
    v[3] = -np.inf
    est = get_predictor("blr", zc=("nwot",)).fit(x, ytr, zc={"nwot": v})
    assert est.zc_floor_["nwot"] == pytest.approx(signed_log(np.array([-5.0]))[0] - 1.0)
    assert np.isfinite(est.predict(x[:4], zc={"nwot": v[:4]})).all()


@pytest.mark.parametrize("name", ["rf", "mlp"])
def test_bad_inputs_raise_typed_errors_and_fit_nothing(name, nb201):
    _, xtr, ytr, _, _ = nb201
    x = encode("nb201", "adjacency_one_hot", xtr)
    kw = {"epochs": 2} if name == "mlp" else {"n_estimators": 5}
    good = np.linspace(1.0, 2.0, 60)

    def fresh(zc=("synflow",)):
        return get_predictor(name, space="nb201", zc=zc, **kw)

    with pytest.raises(
        InvalidValueError, match=r"names 'synflo', which is no zero-cost proxy\. Valid names: .*synflow"
    ):
        fresh(("synflo",)).fit(xtr, ytr)
    with pytest.raises(InvalidTypeError, match="'zc' parameter .* must be a tuple of zero-cost proxy names"):
        fresh(3).fit(xtr, ytr)
    with pytest.raises(InvalidValueError, match=r"needs the zero-cost scores \['synflow'\]: pass them"):
        fresh().fit(x, ytr)  # an encoded matrix: nothing to compute from
    with pytest.raises(InvalidValueError, match=r"must have shape \(60,\), one score per architecture\. Got \(59,\)"):
        fresh().fit(x, ytr, zc={"synflow": good[:59]})
    missing = good.copy()
    missing[[7, 9]] = np.nan
    with pytest.raises(
        InvalidValueError, match=r"'synflow' is missing \(NaN\) for 2 of 60 architectures, the first at row 7"
    ):
        fresh().fit(x, ytr, zc={"synflow": missing})
    bad = good.copy()
    bad[4] = np.inf
    with pytest.raises(InvalidValueError, match="'synflow' is inf for architecture 4"):
        fresh().fit(x, ytr, zc={"synflow": bad})
    with pytest.raises(InvalidTypeError, match="'zc' must be a mapping"):
        fresh().fit(x, ytr, zc=good)
    est = fresh()
    for z in ({"synflow": missing}, {"synflow": bad}):
        with pytest.raises(InvalidValueError):
            est.fit(x, ytr, zc=z)
        assert not est.__sklearn_is_fitted__()
    est.fit(x, ytr, zc={"synflow": good})
    with pytest.raises(InvalidValueError, match=r"needs the zero-cost scores \['synflow'\]"):
        est.predict(x)
    with pytest.raises(InvalidValueError, match="must have shape"):
        est.predict(x[:5], zc={"synflow": good})
