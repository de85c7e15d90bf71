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


# the learning-curve family and OMNI read curves too: tests/predictors/test_curves.py
ON_ARCHITECTURES = [
    n
    for n in PREDICTORS.names()
    if n not in ("omni", "lce_m")  # curve readers on encodings: tests/predictors/test_curves.py
    and getattr(PREDICTORS.get(n), "needs_curves", False) is not True
    and getattr(PREDICTORS.get(n), "learns_labels", True)  # the one-shot estimator: tests/oneshot/
]


# fits long enough to rank well: the quality check runs in the slow suite, the contract in brief
# (test_contract_in_brief) in the fast one
LONG_FITS = ("gcn", "gcn_two_stage", "transformer", "bonas", "seminas", "blend")


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in LONG_FITS else n for n in ON_ARCHITECTURES]
)
def test_contract_and_quality(name, nb201):
    """Every registered predictor, on architectures it encodes itself (its own encoding)."""
    t, _, y, train, test = nb201
    tr, te = t.subset(train).archs, t.subset(test).archs
    est = get_predictor(name, space="nb201", random_state=0)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
        est.predict(te)
    assert est.fit(tr, y[train]) is est
    pred = est.predict(te)
    assert pred.shape == (len(test),) and np.isfinite(pred).all()
    assert kendall_tau(y[test], pred) > 0.3  # 100 training cells of NB201
    again = get_predictor(name, space="nb201", random_state=0).fit(tr, y[train]).predict(te)
    assert np.allclose(pred, again, rtol=1e-5, atol=1e-4)  # same seed, same model
    ensemble = getattr(est, "n_ensemble", 0) > 1
    if est.has_uncertainty and (ensemble or not hasattr(est, "n_ensemble")):
        mean, std = est.predict(te, return_std=True)
        assert np.allclose(mean, pred) and std.shape == pred.shape and (std >= 0).all() and std.max() > 0
    elif not est.has_uncertainty:
        with pytest.raises(ValueError, match="no uncertainty"):
            est.predict(te, return_std=True)


@pytest.mark.parametrize("name", ["gcn", "transformer"])
def test_contract_in_brief(name, nb201):
    """The estimator contract of a predictor whose quality check is slow, fitted for 3 epochs (BONAS
    and SemiNAS in brief: tests/predictors/test_semi.py; every predictor's save and load:
    test_persist.py)."""
    t, _, y, train, test = nb201
    tr, te = t.subset(train).archs, t.subset(test).archs
    est = get_predictor(name, space="nb201", random_state=0, epochs=3)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
        est.predict(te)
    assert est.fit(tr, y[train]) is est
    pred = est.predict(te)
    assert pred.shape == (len(test),) and np.isfinite(pred).all() and np.ptp(pred) > 0
    again = get_predictor(name, space="nb201", random_state=0, epochs=3).fit(tr, y[train]).predict(te)
    np.testing.assert_array_equal(pred, again)  # same seed, same model
    other = get_predictor(name, space="nb201", random_state=1, epochs=3).fit(tr, y[train]).predict(te)
    assert np.abs(other - pred).max() > 1e-6


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


def test_gp_fits_its_kernel_on_a_seeded_subset_and_conditions_on_every_row(nb201):
    t, x, y, _, test = nb201
    train = np.random.default_rng(3).permutation(len(t))[:300]
    est = get_predictor("gp", optimizer_rows=120, random_state=0).fit(x[train], y[train])
    gp = est.model_.model_
    assert gp.X_train_.shape == (300, 30)  # the posterior reads every row
    again = get_predictor("gp", optimizer_rows=120, random_state=0).fit(x[train], y[train])
    assert np.array_equal(est.predict(x[test]), again.predict(x[test]))
    # the hyperparameters are the ones a plain fit finds on the subset the seed draws
    rows = np.sort(np.random.RandomState(0).choice(300, 120, replace=False))
    alone = get_predictor("gp", optimizer_rows=120, random_state=0).fit(x[train][rows], y[train][rows])
    assert np.allclose(gp.kernel_.theta, alone.model_.model_.kernel_.theta)
    assert kendall_tau(y[test], est.predict(x[test])) > 0.3
    # at or under the limit the whole set is optimised on, as without one
    whole = get_predictor("gp", optimizer_rows=300, random_state=0).fit(x[train], y[train])
    assert not np.allclose(whole.model_.model_.kernel_.theta, gp.kernel_.theta)
    with pytest.raises(ValueError, match="'optimizer_rows' parameter of GaussianProcessPredictor must be an int >= 2"):
        get_predictor("gp", optimizer_rows=1).fit(x[train], y[train])


def test_every_registered_predictor_class_of_the_package_is_exported():
    import pyengine.predictors as package

    for name in PREDICTORS.names():
        cls = PREDICTORS.get(name)
        if isinstance(cls, type) and cls.__module__.startswith("pyengine.predictors."):
            assert cls.__name__ in package.__all__, name
            assert getattr(package, cls.__name__) is cls, name


@pytest.mark.parametrize("name, module", [("xgb", "xgboost"), ("lgb", "lightgbm"), ("ngb", "ngboost")])
def test_a_missing_optional_dependency_names_the_extra(name, module, monkeypatch):
    import sys

    from pyengine.errors import MissingDependencyError, PyengineError

    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    x = np.random.default_rng(0).normal(size=(24, 4))
    with pytest.raises(MissingDependencyError, match=r"pip install 'pyengine-nas\[boosting\]'") as err:
        get_predictor(name).fit(x, x[:, 0])
    assert isinstance(err.value, ImportError) and isinstance(err.value, PyengineError)
    assert module in str(err.value)


def test_the_evaluator_refuses_a_predictor_whose_dependency_is_missing_before_any_fit(
    data_dir, tmp_path, monkeypatch, capsys
):
    import sys

    from pyengine.cli import main

    monkeypatch.setitem(sys.modules, "xgboost", None)
    out = tmp_path / "records.json"
    argv = ["evaluate", "--table", "nb201_cifar10_200ep", "--predictors", "rf,xgb", "--train-sizes", "10",
            "--seeds", "1", "--test-size", "20", "--json", str(out)]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "'xgb' predictor needs the xgboost package" in err and "pyengine-nas[boosting]" in err
    assert not out.exists()  # refused before rf was fitted
