"""Learning-curve predictors on the 200 full NB201 curves: rankings improve with the fidelity,
LCE recovers curves of its own families, bad curves get typed errors, every one saves and loads."""

import numpy as np
import pytest

import pyengine
from pyengine.metrics import kendall_tau
from pyengine.predictors import PREDICTORS, CurveError, PartialCurves, get_predictor, partial_curves

CURVE_PREDICTORS = [n for n in PREDICTORS.names() if getattr(PREDICTORS.get(n), "needs_curves", False)]


@pytest.fixture(scope="module")
def lc(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_learning_curves")
    return t, t.column()


def test_the_family_is_registered():
    assert set(CURVE_PREDICTORS) == {"sotl", "sotl_e", "early_stop_acc", "early_stop_loss", "lce", "lcsvr"}


@pytest.mark.parametrize("name", ["sotl", "sotl_e", "early_stop_acc", "lce"])
def test_rankings_improve_with_fidelity(name, lc):
    t, y = lc
    taus = []
    for fid in (12, 50, 150):
        c = partial_curves(t.curves, fid)
        pred = get_predictor(name).fit(c, y).predict(c)
        assert pred.shape == y.shape and np.isfinite(pred).all()
        taus.append(kendall_tau(y, pred))
    assert taus[0] > 0.5 and taus[1] > 0.6  # 12 and 50 of 200 epochs
    assert taus[2] > taus[0]


def test_early_stop_at_the_last_epoch_is_the_target(lc):
    t, y = lc
    c = partial_curves(t.curves, 200)
    np.testing.assert_allclose(get_predictor("early_stop_acc").fit(c, y).predict(c), y, atol=1e-9)


def test_lce_recovers_its_own_families():
    x = np.arange(1, 201, dtype=np.float64)
    rng = np.random.default_rng(0)
    asym = rng.uniform(70, 95, 64)
    curves = asym[:, None] - rng.uniform(20, 40, 64)[:, None] * x[None, :] ** -rng.uniform(0.3, 0.8, 64)[:, None]
    c = partial_curves({"val_acc": curves}, 60)
    est = get_predictor("lce").fit(c, curves[:, -1])
    mean, std = est.predict(c, return_std=True)
    assert np.median(np.abs(mean - curves[:, -1])) < 1.5  # percent, 140 epochs past the data
    assert kendall_tau(curves[:, -1], mean) > 0.8 and (std > 0).all()
    assert np.all(mean >= c.values["val_acc"][np.arange(64), 59] - 1e-9) and np.all(mean <= 100)


def test_lcsvr_learns_from_curves_and_encoding(lc):
    t, y = lc
    c = partial_curves(t.curves, 12)
    rows = np.random.default_rng(0).permutation(len(y))
    tr, te = rows[:100], rows[100:]
    est = get_predictor("lcsvr", space="nb201").fit(t.subset(tr).archs, y[tr], curves=c.take(tr))
    pred = est.predict(t.subset(te).archs, curves=c.take(te))
    assert kendall_tau(y[te], pred) > 0.5


def test_bad_curves_get_typed_errors(lc):
    t, y = lc
    with pytest.raises(CurveError, match="has 200 epochs; architecture 0 asks for fidelity 201"):
        partial_curves(t.curves, 201)
    bad = dict(t.curves)
    bad["val_acc"] = t.curves["val_acc"].copy()
    bad["val_acc"][7, 4] = np.nan
    with pytest.raises(CurveError, match="architecture 7 is NaN or infinite at epoch 5"):
        partial_curves(bad, 12)
    partial_curves(bad, 4)  # the NaN lies past the fidelity: fine
    with pytest.raises(CurveError, match=">= 1"):
        partial_curves(t.curves, 0)
    c = partial_curves(t.curves, 12)
    with pytest.raises(CurveError, match="val_loss"):
        get_predictor("early_stop_loss").fit(c, y)
    with pytest.raises(CurveError, match="beyond the target epoch 10"):
        get_predictor("lce", target_epoch=10).fit(c, y).predict(c)
    with pytest.raises(TypeError, match="partial curves"):
        get_predictor("sotl").fit(t.archs, y)
    with pytest.raises(ValueError, match="window"):
        get_predictor("lcsvr", window=13).fit(c, y)
    flat = partial_curves({"val_acc": np.full((5, 20), 50.0)}, 10)  # constant curves
    est = get_predictor("early_stop_acc").fit(flat, np.arange(5.0))
    assert est.fallback_ and np.isfinite(est.predict(flat)).all()


@pytest.mark.parametrize("name", ["sotl", "sotl_e", "early_stop_acc", "lce", "lcsvr"])
def test_round_trip(name, lc, tmp_path):
    t, y = lc
    c = partial_curves(t.curves, 12)
    kw = {"space": "nb201"} if name == "lcsvr" else {}
    est = get_predictor(name, **kw).fit(t.archs if kw else c, y, curves=c)
    est.save(tmp_path / "m")
    loaded = pyengine.load(tmp_path / "m")
    x = t.archs if kw else c
    np.testing.assert_allclose(loaded.predict(x, curves=c), est.predict(x, curves=c), rtol=1e-9)
    assert isinstance(c, PartialCurves) and len(c) == 200
