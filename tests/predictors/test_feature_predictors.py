"""Common battery over every registered predictor, on real NB201 data."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from pyengine.encodings import encode
from pyengine.metrics import kendall_tau
from pyengine.predictors import PREDICTORS, get_predictor


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    x = encode(t.space, "adjacency_one_hot", t.archs)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(t))
    return t, x, t.column(), perm[:100], perm[100:1100]


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_contract_and_quality(name, nb201):
    t, x, y, train, test = nb201
    est = get_predictor(name, random_state=0)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError, match="call fit"):
        est.predict(x[test])
    assert est.fit(x[train], y[train]) is est
    pred = est.predict(x[test])
    assert pred.shape == (len(test),) and np.isfinite(pred).all()
    assert kendall_tau(y[test], pred) > 0.3  # 100 training cells of NB201, adjacency one-hot
    again = get_predictor(name, random_state=0).fit(x[train], y[train]).predict(x[test])
    assert np.allclose(pred, again)  # same seed, same model
    if est.has_uncertainty:
        mean, std = est.predict(x[test], return_std=True)
        assert np.allclose(mean, pred) and std.shape == pred.shape and (std >= 0).all() and std.max() > 0
    else:
        with pytest.raises(ValueError, match="no uncertainty"):
            est.predict(x[test], return_std=True)


def test_random_forest_meets_the_nb201_invariant(nb201):
    t, x, y, train, test = nb201
    taus = [
        kendall_tau(y[test], get_predictor("rf", random_state=s).fit(x[train], y[train]).predict(x[test]))
        for s in range(3)
    ]
    assert np.mean(taus) > 0.35


def test_architectures_in_any_format_and_extra_features(nb201):
    t, x, y, train, test = nb201
    strings = t.strings()
    est = get_predictor("blr", space="nb201").fit([strings[i] for i in train], y[train])
    assert np.allclose(
        est.predict([strings[i] for i in test]), get_predictor("blr").fit(x[train], y[train]).predict(x[test])
    )
    extra = t.column("params_m")
    est = get_predictor("rf", space="nb201", random_state=0).fit(t.subset(train).archs, y[train], extra=extra[train])
    assert est.n_features_in_ == 31
    with pytest.raises(ValueError, match="'extra' must have shape"):
        est.predict(t.subset(test).archs, extra=extra[:3])


def test_bad_input(nb201):
    t, x, y, train, _ = nb201
    bad = y[train].copy()
    bad[4] = np.nan
    with pytest.raises(ValueError, match="non-finite value at position 4"):
        get_predictor("rf").fit(x[train], bad)
    with pytest.raises(ValueError, match="must have shape"):
        get_predictor("xgb").fit(x[train], y[train][:-1])
    with pytest.raises(ValueError, match="no 'space'"):
        get_predictor("rf").fit(t.strings()[:5], y[:5])
    with pytest.raises(ValueError, match="'defaults' parameter"):
        get_predictor("rf", defaults="mine").fit(x[train], y[train])
    with pytest.raises(ValueError, match="Valid names"):
        get_predictor("svr")
    est = get_predictor("rf").fit(x[train], y[train])
    with pytest.raises(ValueError, match="30"):
        est.predict(x[train][:, :10])


def test_tuning_searches_on_the_training_set_only(nb201):
    t, x, y, train, test = nb201
    est = get_predictor("xgb", tune=True, n_iter=3, random_state=0).fit(x[train], y[train])
    assert set(est.best_params_) >= {"n_estimators", "learning_rate", "max_depth"}
    assert kendall_tau(y[test], est.predict(x[test])) > 0.3
