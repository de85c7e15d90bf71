"""pyengine.naslib: NASLib's predictor interface, driven the way NASLib's PredictorEvaluator drives
it, must give exactly the native predictor's predictions."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn.exceptions import NotFittedError

from pyengine.naslib import NASLibPredictor
from pyengine.predictors import CurveError, get_predictor, partial_curves
from pyengine.spaces import get_space
from pyengine.spaces._base import take


# -- NASLib's PredictorEvaluator, written out ------------------------------------------------------
def naslib_info(predictor, curves, rows):
    """``PredictorEvaluator.get_full_arch_info``: one info dict per architecture, holding the
    full learning curve(s) ``get_data_reqs`` asks for (``"lc"``, or ``"<METRIC>_lc"`` each)."""
    reqs = predictor.get_data_reqs()
    out = []
    for r in rows:
        info = {}
        if reqs["requires_partial_lc"]:
            metric = reqs["metric"]
            if isinstance(metric, list):
                for m in metric:
                    name = getattr(m, "name", m)
                    info[f"{name}_lc"] = list(curves[name][r])
            else:
                info["lc"] = list(curves[getattr(metric, "name", metric)][r])
        out.append(info)
    return out


def naslib_evaluate(predictor, ss_type, archs, acc, train, test, *, curves=None, fidelity=None, max_hpo_time=0):
    """``adapt_search_space`` + ``evaluate`` + ``single_evaluate`` of NASLib's PredictorEvaluator
    for one train set. ``archs`` are NASLib architectures (one per row), ``acc`` the accuracies,
    ``curves`` NASLib metric name -> full curves (n_rows, n_epochs). Returns (predictions, tau)."""
    predictor.set_ss_type(ss_type)  # adapt_search_space
    predictor.pre_process()  # evaluate(): the first call
    test_data = ([archs[r] for r in test], [float(acc[r]) for r in test], naslib_info(predictor, curves, test))
    train_data = ([archs[r] for r in train], [float(acc[r]) for r in train], naslib_info(predictor, curves, train))
    reqs = predictor.get_data_reqs()
    assert not reqs["unlabeled"]
    predictor.pre_compute(train_data[0], test_data[0], None)
    # single_evaluate
    xtrain, ytrain, train_info = train_data
    xtest, ytest, test_info = test_data
    data_reqs = predictor.get_data_reqs()
    if data_reqs["requires_partial_lc"]:
        train_info = copy.deepcopy(train_info)
        test_info = copy.deepcopy(test_info)
        for info_dict in train_info + test_info:
            for lc_key in [key for key in info_dict if "lc" in key]:
                info_dict[lc_key] = info_dict[lc_key][:fidelity]
    predictor.reset_hyperparams()
    if max_hpo_time > 0 and len(xtrain) >= 10 and predictor.get_hpo_wrapper():
        raise AssertionError("the adapter asks for NASLib's cross-validation")
    predictor.fit(xtrain, ytrain, train_info)
    hyperparams = predictor.get_hyperparams()
    assert isinstance(hyperparams, dict)
    test_pred = predictor.query(xtest, test_info)
    if len(test_pred.shape) > 1:
        test_pred = np.mean(test_pred, axis=0)
    return test_pred, kendalltau(ytest, test_pred)[0]


# -- data --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(0).permutation(len(t))
    return t, t.column("cifar10_valid_valacc"), perm[:100], perm[100:]


@pytest.fixture(scope="module")
def nb201_naslib(nb201):
    t = nb201[0]
    return t.space.to_naslib(t.archs)


def native(name, space, archs, y, train, test, **params):
    model = get_predictor(name, space=space, **params).fit(take(archs, train), y[train])
    return model.predict(take(archs, test))


# -- parity with the native call on real data -------------------------------------------------------
def test_xgb_through_naslib_loop_equals_native_nb201(nb201, nb201_naslib):
    t, y, train, test = nb201
    pred, tau = naslib_evaluate(NASLibPredictor("xgb", random_state=0), "nasbench201", nb201_naslib, y, train, test)
    want = native("xgb", "nb201", t.archs, y, train, test, random_state=0)
    assert pred.shape == (len(test),) and pred.dtype == np.float64
    np.testing.assert_array_equal(pred, want)
    assert tau == kendalltau(y[test], want)[0]
    assert tau > 0.3


def test_gcn_through_naslib_loop_equals_native_nb201(nb201, nb201_naslib):
    t, y, train, test = nb201
    params = {"epochs": 5, "random_state": 0}
    pred, tau = naslib_evaluate(NASLibPredictor("gcn", **params), "nasbench201", nb201_naslib, y, train, test)
    want = native("gcn", "nb201", t.archs, y, train, test, **params)
    np.testing.assert_array_equal(pred, want)
    assert tau == kendalltau(y[test], want)[0]


def test_wrapped_instance_equals_native_and_stays_unfitted(nb201, nb201_naslib):
    t, y, train, test = nb201
    template = get_predictor("xgb", random_state=0, params={"n_estimators": 30})
    adapter = NASLibPredictor(template)
    assert adapter.name == "xgb"
    pred, _ = naslib_evaluate(adapter, "nasbench201", nb201_naslib, y, train, test[:500])
    want = native("xgb", "nb201", t.archs, y, train, test[:500], random_state=0, params={"n_estimators": 30})
    np.testing.assert_array_equal(pred, want)
    assert not hasattr(template, "model_") and template.space is None


def test_nb101_matrix_ops_equals_native(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb101_1k")
    y = t.column("valacc_108")
    perm = np.random.default_rng(0).permutation(len(t))
    train, test = perm[:100], perm[100:]
    specs = t.space.to_matrix_ops(t.archs)
    pred, tau = naslib_evaluate(NASLibPredictor("xgb", random_state=0), "nasbench101", specs, y, train, test)
    want = native("xgb", "nb101", t.archs, y, train, test, random_state=0)
    np.testing.assert_array_equal(pred, want)
    assert tau == kendalltau(y[test], want)[0]
    tuples = t.space.to_naslib(t.archs)  # NASLib's 56-tuples give the same predictions
    again, _ = naslib_evaluate(NASLibPredictor("xgb", random_state=0), "nasbench101", tuples, y, train, test)
    np.testing.assert_array_equal(again, want)


@pytest.fixture(scope="module")
def lc(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_learning_curves")
    perm = np.random.default_rng(1).permutation(len(t))
    curves = {"VAL_ACCURACY": t.curves["val_acc"], "TRAIN_ACCURACY": t.curves["train_acc"]}
    return t, t.column("cifar10_valid_valacc"), perm[:100], perm[100:], curves


def test_lcsvr_reads_lc_from_train_info(lc):
    t, y, train, test, curves = lc
    adapter = NASLibPredictor("lcsvr")
    assert adapter.get_data_reqs()["requires_partial_lc"] is True
    archs = t.space.to_naslib(t.archs)
    pred, tau = naslib_evaluate(adapter, "nasbench201", archs, y, train, test, curves=curves, fidelity=12)
    model = get_predictor("lcsvr", space="nb201")
    model.fit(take(t.archs, train), y[train], curves=partial_curves({"val_acc": t.curves["val_acc"][train]}, 12))
    want = model.predict(take(t.archs, test), curves=partial_curves({"val_acc": t.curves["val_acc"][test]}, 12))
    np.testing.assert_array_equal(pred, want)
    assert tau == kendalltau(y[test], want)[0]
    assert tau > 0.4


def test_several_curves_come_as_metric_lc_keys(lc):
    t, y, train, test, curves = lc
    adapter = NASLibPredictor("lcsvr", lc_metric=("val_acc", "train_acc"))
    metric = adapter.get_data_reqs()["metric"]
    assert isinstance(metric, list) and [getattr(m, "name", m) for m in metric] == ["VAL_ACCURACY", "TRAIN_ACCURACY"]
    strings = t.space.to_strings(t.archs)  # arch strings as the architectures this time
    pred, _ = naslib_evaluate(adapter, "nasbench201", strings, y, train, test, curves=curves, fidelity=20)
    model = get_predictor("lcsvr", space="nb201")
    both = {"val_acc": t.curves["val_acc"], "train_acc": t.curves["train_acc"]}
    model.fit(take(t.archs, train), y[train], curves=partial_curves({k: v[train] for k, v in both.items()}, 20))
    want = model.predict(take(t.archs, test), curves=partial_curves({k: v[test] for k, v in both.items()}, 20))
    np.testing.assert_array_equal(pred, want)


def test_curves_of_different_fidelities(lc):
    t, y, train, _, _ = lc
    val = t.curves["val_acc"]
    fid = np.where(np.arange(len(train)) % 2 == 0, 10, 15)
    info = [{"lc": list(val[r][:f])} for r, f in zip(train, fid, strict=True)]
    adapter = NASLibPredictor("sotl_e", space="nb201").fit(t.space.to_naslib(take(t.archs, train)), y[train], info)
    want = get_predictor("sotl_e").fit(None, y[train], curves=partial_curves({"val_acc": val[train]}, fid))
    got = adapter.query(take(t.archs, train), info)
    np.testing.assert_array_equal(got, want.predict(None, curves=partial_curves({"val_acc": val[train]}, fid)))


# -- architecture forms ------------------------------------------------------------------------------
class _Graph:
    """Stands for a NASLib graph object: ``get_hash()`` gives the compact tuple."""

    def __init__(self, compact):
        self._compact = compact

    def get_hash(self):
        return self._compact


class _NB101Graph(_Graph):
    def __init__(self, matrix, ops):
        super().__init__(None)
        self._spec = {"matrix": np.asarray(matrix), "ops": ops}

    def get_spec(self):
        return self._spec


def _same(space, a, b):
    return np.array_equal(space.canonical_keys(a), space.canonical_keys(b))


def test_nb201_forms():
    sp = get_space("nb201")
    batch = sp.sample(12, 0)
    p = NASLibPredictor("xgb", space="nb201")
    tuples = sp.to_naslib(batch)
    strings = sp.to_strings(batch)
    forms = [
        batch,
        tuples,
        [list(x) for x in tuples],
        [str(x) for x in tuples],
        np.asarray(tuples),
        strings,
        [{"arch": s} for s in strings],
        [{"naslib": x} for x in tuples],
        [_Graph(x) for x in tuples],
    ]
    for form in forms:
        np.testing.assert_array_equal(p.as_batch(form).ops, batch.ops)


def test_darts_forms():
    sp = get_space("darts")
    batch = sp.sample(4, 0)
    p = NASLibPredictor("xgb")
    p.set_ss_type("nasbench301")
    compact = sp.to_naslib(batch)
    for form in (compact, [str(c) for c in compact], sp.to_strings(batch), [_Graph(c) for c in compact]):
        np.testing.assert_array_equal(p.as_batch(form).cells, batch.cells)


def test_nb101_forms():
    sp = get_space("nb101")
    batch = sp.sample(6, 0)
    p = NASLibPredictor("xgb", space="nasbench101")
    specs = sp.to_matrix_ops(batch)
    forms = [
        sp.to_naslib(batch),
        [str(x) for x in sp.to_naslib(batch)],
        specs,
        [{"matrix": m, "ops": o} for m, o in specs],
        sp.to_strings(batch),
        [_NB101Graph(m, o) for m, o in specs],
    ]
    for form in forms:
        assert _same(sp, p.as_batch(form), batch)


# -- the rest of NASLib's interface ------------------------------------------------------------------
def test_data_reqs_and_hyperparams():
    feature = NASLibPredictor("xgb", space="nb201", random_state=3)
    reqs = feature.get_data_reqs()
    assert reqs == {
        "requires_partial_lc": False,
        "metric": None,
        "requires_hyperparameters": False,
        "hyperparams": None,
        "unlabeled": False,
        "unlabeled_factor": 0,
    }
    assert feature.get_hyperparams()["random_state"] == 3
    feature.set_hyperparams({"params": {"n_estimators": 7}})
    assert feature.get_hyperparams()["params"] == {"n_estimators": 7}
    feature.reset_hyperparams()
    assert feature.hyperparams is None and feature.get_hyperparams()["params"] is None
    assert feature.get_hpo_wrapper() is False
    curve = NASLibPredictor("early_stop_acc")
    assert curve.get_data_reqs()["requires_partial_lc"] is True
    assert getattr(curve.get_data_reqs()["metric"], "name", curve.get_data_reqs()["metric"]) == "VAL_ACCURACY"


def test_hyperparams_and_fit_kwargs_reach_the_predictor():
    sp = get_space("nb201")
    batch = sp.sample(30, 0)
    y = np.linspace(10.0, 90.0, 30)
    p = NASLibPredictor("xgb", space="nb201", random_state=0)
    p.set_hyperparams({"params": {"n_estimators": 5}})
    p.fit(sp.to_naslib(batch), y, None, random_state=4)
    assert p.predictor_.params == {"n_estimators": 5} and p.predictor_.random_state == 4
    assert p.get_hyperparams()["random_state"] == 0  # per-fit arguments leave the configuration alone
    curve = NASLibPredictor("omni", space="nb201", features=("onehot",))
    assert curve.get_data_reqs()["requires_partial_lc"] is False
    curve.set_hyperparams({"features": ("onehot", "fidelity")})
    assert curve.get_data_reqs()["requires_partial_lc"] is True


# -- bad input ---------------------------------------------------------------------------------------
def test_bad_input_raises_typed_errors():
    sp = get_space("nb201")
    tuples = sp.to_naslib(sp.sample(5, 0))
    with pytest.raises(ValueError, match="Unknown predictor 'nope'"):
        NASLibPredictor("nope")
    with pytest.raises(TypeError, match="'predictor' parameter of NASLibPredictor"):
        NASLibPredictor(42)
    with pytest.raises(TypeError):
        NASLibPredictor("xgb", not_a_param=1)
    with pytest.raises(ValueError, match="'lc_metric'"):
        NASLibPredictor("sotl", lc_metric="val_top5")
    with pytest.raises(ValueError, match="needs a search space"):
        NASLibPredictor("xgb").fit(tuples, [1.0] * 5)
    with pytest.raises(ValueError, match="Unknown search space"):
        NASLibPredictor("xgb").set_ss_type("transbench101_micro")
    with pytest.raises(ValueError, match="must match the space"):
        NASLibPredictor("xgb", space="nb201").set_ss_type("nasbench101")
    p = NASLibPredictor("xgb", space="nb201")
    with pytest.raises(NotFittedError, match="call fit"):
        p.query(tuples)
    with pytest.raises(ValueError, match="one value per architecture \\(5\\)"):
        p.fit(tuples, [1.0] * 4)
    with pytest.raises(ValueError, match="must be finite. Got nan at position 2"):
        p.fit(tuples, [1.0, 2.0, np.nan, 3.0, 4.0])
    with pytest.raises(TypeError, match="Architecture 1 of 'xtrain'"):
        p.fit([tuples[0], object(), tuples[2]], [1.0] * 3)
    with pytest.raises(TypeError, match="one architecture\\? wrap it in a list"):
        p.fit(tuples[0], [1.0] * 6)
    with pytest.raises(TypeError, match="of one form"):
        p.fit([tuples[0], sp.to_strings(sp.sample(1, 1))[0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="must be 6 integers"):
        p.fit([(0, 1, 2)] * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match="'hidden' is not a parameter of the xgb predictor"):
        p.set_hyperparams({"hidden": 3})
    with pytest.raises(ValueError, match="not a parameter"):
        p.fit(tuples, [1.0] * 5, None, epochs=3)


def test_curve_predictor_without_curves():
    sp = get_space("nb201")
    tuples = sp.to_naslib(sp.sample(4, 0))
    y = [1.0, 2.0, 3.0, 4.0]
    p = NASLibPredictor("sotl", space="nb201")
    with pytest.raises(CurveError, match="reads learning curves"):
        p.fit(tuples, y)
    with pytest.raises(CurveError, match="record 2 of 'train_info' has none"):
        p.fit(tuples, y, [{"lc": [1.0, 2.0]}, {"lc": [1.0, 3.0]}, {}, {"lc": [2.0, 2.0]}])
    with pytest.raises(ValueError, match="one dict per architecture \\(4\\)"):
        p.fit(tuples, y, [{"lc": [1.0]}] * 3)
    with pytest.raises(CurveError, match="is empty"):
        p.fit(tuples, y, [{"lc": []}] * 4)
    with pytest.raises(CurveError, match="NaN or infinite at epoch 2"):
        p.fit(tuples, y, [{"lc": [1.0, np.nan]}] * 4)
    p.fit(tuples, y, [{"lc": [1.0, float(i)]} for i in range(4)])
    with pytest.raises(CurveError, match="record 0 of 'info' has none"):
        p.query(tuples, [{}] * 4)
