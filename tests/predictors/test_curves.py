"""Learning-curve predictors on the 200 full NB201 curves: rankings improve with the fidelity,
LCE recovers curves of its own families, bad curves get typed errors, every one saves and loads."""

import numpy as np
import pytest

import pyengine
from pyengine.metrics import kendall_tau
from pyengine.predictors import PREDICTORS, CurveError, PartialCurves, get_predictor, partial_curves

CURVE_PREDICTORS = [n for n in PREDICTORS.names() if getattr(PREDICTORS.get(n), "needs_curves", False) is True]


@pytest.fixture(scope="module")
def lc(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_learning_curves")
    return t, t.column()


def test_the_family_is_registered():
    assert set(CURVE_PREDICTORS) == {"sotl", "sotl_e", "early_stop_acc", "early_stop_loss", "lce", "lcsvr"}


@pytest.mark.parametrize("name", ["sotl", "sotl_e", "early_stop_acc", pytest.param("lce", marks=pytest.mark.slow)])
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


@pytest.fixture(scope="module")
def twelve(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    f = load_table("nb201_12ep")
    return t, t.column(), f.query(t.archs, "cifar10_valid_valacc")


@pytest.mark.slow
def test_omni_beats_its_parts_at_n100(twelve):
    """OMNI (NGBoost on one-hot + the 12-epoch accuracy) against the 12-epoch accuracy alone
    and the plain random forest, 100 training cells, two seeds."""
    from pyengine.predictors import point_curves

    t, y, v12 = twelve
    c = point_curves(v12, 12)
    taus = {"omni": [], "early": [], "rf": []}
    for seed in range(2):
        perm = np.random.default_rng(seed).permutation(len(y))
        tr, te = perm[:100], perm[100:1100]
        a, b = t.subset(tr).archs, t.subset(te).archs
        omni = get_predictor("omni", space="nb201", random_state=seed).fit(a, y[tr], curves=c.take(tr))
        taus["omni"].append(kendall_tau(y[te], omni.predict(b, curves=c.take(te))))
        taus["early"].append(kendall_tau(y[te], v12[te]))
        rf = get_predictor("rf", space="nb201", random_state=seed).fit(a, y[tr])
        taus["rf"].append(kendall_tau(y[te], rf.predict(b)))
    mean = {k: np.mean(v) for k, v in taus.items()}
    assert mean["omni"] > mean["early"] + 0.03 and mean["omni"] > mean["rf"] + 0.1


def test_omni_features_by_name_and_round_trip(twelve, tmp_path):
    from pyengine.predictors import point_curves

    t, y, v12 = twelve
    rows = np.arange(0, 15625, 97)[:120]
    c = point_curves(v12[rows], 12)
    zc = {"jacob_cov": np.random.default_rng(0).normal(size=len(rows))}
    archs = t.subset(rows).archs
    est = get_predictor("omni", space="nb201", features="onehot,fidelity,jacob_cov", random_state=0)
    est.fit(archs, y[rows], curves=c, zc=zc)
    est.save(tmp_path / "omni")
    loaded = pyengine.load(tmp_path / "omni")
    np.testing.assert_allclose(
        loaded.predict(archs, curves=c, zc=zc, return_std=True)[1],
        est.predict(archs, curves=c, zc=zc, return_std=True)[1],
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="does not know the feature 'synflow'"):
        get_predictor("omni", space="nb201", features="onehot,synflow").fit(archs, y[rows], curves=c, zc=zc)
    with pytest.raises(ValueError, match="needs partial curves"):
        get_predictor("omni", space="nb201", features="onehot,fidelity").fit(archs, y[rows])
    # one value per architecture: predictors that read earlier epochs say so
    with pytest.raises(CurveError, match="holds only epochs from 12"):
        get_predictor("sotl").fit(c, y[rows])
    with pytest.raises(CurveError, match="holds only epochs from 12"):
        get_predictor("lce").fit(c, y[rows]).predict(c)
    assert np.array_equal(get_predictor("early_stop_acc").fit(c, y[rows]).score_curves(c), v12[rows])


def test_evaluator_with_a_fidelity_table(twelve, data_dir):
    from pyengine.evaluation import PredictorEvaluator
    from pyengine.tables import load_table

    t, y, v12 = twelve
    f = load_table("nb201_12ep")
    ev = PredictorEvaluator(
        t, ["early_stop_acc", "rf"], train_sizes=[20], seeds=1, test_size=300, fidelity=12, fidelity_table=f
    )
    recs = {r["predictor"]: r for r in ev.run()}
    assert recs["early_stop_acc"]["fidelity"] == 12 and recs["rf"]["fidelity"] is None  # rf stays plain
    assert recs["early_stop_acc"]["kendalltau"] > 0.5
    with pytest.raises(ValueError, match="reads learning curves: give a fidelity"):
        PredictorEvaluator(t, ["sotl"], train_sizes=[20], seeds=1, test_size=300).run()
    with pytest.raises(ValueError, match="has no learning curves"):
        PredictorEvaluator(t, ["sotl"], train_sizes=[20], seeds=1, test_size=300, fidelity=12).run()


def test_lce_m_reads_curves_across_architectures(lc, tmp_path):
    """LCE-m (a Bayesian network on encoding + LCE extrapolation + 12-epoch value) on 100 of the
    200 curves ranks the other 100 better than the 12-epoch value alone; mean and std, saved
    and loaded exactly, the same seed gives the same model."""
    t, y = lc
    c = partial_curves(t.curves, 12)
    perm = np.random.default_rng(0).permutation(len(y))
    tr, te = perm[:100], perm[100:]
    a, b = t.subset(tr).archs, t.subset(te).archs
    est = get_predictor("lce_m", space="nb201", random_state=0).fit(a, y[tr], curves=c.take(tr))
    mean, std = est.predict(b, curves=c.take(te), return_std=True)
    early = c.values["val_acc"][te, 11]
    assert kendall_tau(y[te], mean) > kendall_tau(y[te], early) and (std > 0).all() and np.isfinite(std).all()
    est.save(tmp_path / "lcem")
    loaded = pyengine.load(tmp_path / "lcem")
    np.testing.assert_allclose(loaded.predict(b, curves=c.take(te)), mean, rtol=1e-9)
    again = get_predictor("lce_m", space="nb201", random_state=0).fit(a, y[tr], curves=c.take(tr))
    np.testing.assert_allclose(again.predict(b, curves=c.take(te)), mean, rtol=1e-5)
    with pytest.raises(ValueError, match="needs partial curves"):
        get_predictor("lce_m", space="nb201").fit(a, y[tr])


def test_omni_encodings_zero_cost_floors_and_residual_target(twelve):
    """An encoding named as a feature is that encoding; a -inf score (a degenerate cell) sits
    just below the training set's lowest score; NaN is refused; the residual target learns what
    the line through the 12-epoch value leaves, and predictions add the line back."""
    from pyengine.encodings import encode
    from pyengine.predictors import point_curves

    t, y, v12 = twelve
    rows = np.arange(0, 15625, 61)[:200]
    archs = t.subset(rows).archs
    c = point_curves(v12[rows], 12)
    zc = {"nwot": np.random.default_rng(1).normal(-500, 50, size=len(rows))}
    zc["nwot"][[3, 7]] = -np.inf
    est = get_predictor("omni", space="nb201", features="op_counts,fidelity,nwot", base="blr", random_state=0)
    assert est.zc_names() == ["nwot"]
    est.fit(archs, y[rows], curves=c, zc=zc)
    low = np.sign(zc["nwot"]) * np.log1p(np.abs(zc["nwot"]))
    assert est.zc_floor_["nwot"] == pytest.approx(np.min(low[np.isfinite(low)]) - 1.0)
    assert est.n_features_in_ == 5 + 2 and np.isfinite(est.predict(archs, curves=c, zc=zc)).all()
    # an encoded matrix stands only for 'onehot': op_counts needs the architectures
    m = encode("nb201", "op_counts", archs)
    assert est.arch_input and not get_predictor("omni", features="onehot,fidelity").arch_input
    with pytest.raises(ValueError, match="feature 'op_counts' encodes architectures; X is an encoded matrix"):
        est.predict(m, curves=c, zc=zc)
    bad = {"nwot": zc["nwot"].copy()}
    bad["nwot"][5] = np.nan
    with pytest.raises(ValueError, match="Zero-cost score 'nwot' is nan for architecture 5"):
        est.predict(archs, curves=c, zc=bad)
    with pytest.raises(ValueError, match="'residual' target needs the 'fidelity' feature"):
        get_predictor("omni", space="nb201", features="onehot,nwot", residual=True).fit(archs, y[rows], zc=zc)
    # residual: the base (BLR) learns y - line(fidelity) and the line comes back in predict
    res = get_predictor(
        "omni", space="nb201", features="op_counts,fidelity", base="blr", residual=True, random_state=0
    ).fit(archs, y[rows], curves=c)
    line = np.polyval(np.polyfit(v12[rows], y[rows], 1), v12[rows])
    np.testing.assert_allclose(res.line_, np.polyfit(v12[rows], y[rows], 1))
    base = res.model_.predict((np.c_[m, v12[rows]] - res.mean_) / res.scale_)
    np.testing.assert_allclose(res.predict(archs, curves=c), base + line, rtol=1e-10)
    mean, std = res.predict(archs, curves=c, return_std=True)
    np.testing.assert_allclose(mean, base + line, rtol=1e-10)
    assert (std > 0).all()


@pytest.mark.slow
def test_omni_with_synflow_beats_every_part_at_n100(data_dir):
    """OMNI (ARD Gaussian process on op counts, the 12-epoch value and NASLib's recorded synflow)
    on the NAS-Bench-Suite-Zero cells, 100 training cells, 3 seeds: above the 12-epoch value
    alone, synflow alone and OMNI without synflow. The one cell NASLib records no synflow for
    (NaN) is refused by name."""
    from pyengine.predictors import point_curves
    from pyengine.tables import load_table

    zt = load_table("naslib_zc_nb201")
    syn_all = zt.column("synflow")
    bad = int(np.flatnonzero(~np.isfinite(syn_all))[0])
    est = get_predictor("omni", space="nb201", features="op_counts,synflow")
    with pytest.raises(ValueError, match=f"Zero-cost score 'synflow' is nan for architecture {bad}"):
        est.fit(zt.archs, zt.column(), zc={"synflow": syn_all})
    zt = zt.subset(np.flatnonzero(np.isfinite(syn_all)))
    y = load_table("nb201_cifar10_200ep").query(zt.archs, "cifar10_valid_valacc")
    v12 = load_table("nb201_12ep").query(zt.archs, "cifar10_valid_valacc")
    syn = zt.column("synflow")
    taus: dict[str, list[float]] = {}
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(y))
        tr, te = perm[:100], perm[100:]
        for name, feats in (("omni", "op_counts,fidelity,synflow"), ("no_zc", "op_counts,fidelity")):
            est = get_predictor("omni", space="nb201", features=feats, base="gp", base_params={"ard": True})
            est.set_params(random_state=seed)
            est.fit(zt.subset(tr).archs, y[tr], curves=point_curves(v12[tr], 12), zc={"synflow": syn[tr]})
            pred = est.predict(zt.subset(te).archs, curves=point_curves(v12[te], 12), zc={"synflow": syn[te]})
            taus.setdefault(name, []).append(kendall_tau(y[te], pred))
        taus.setdefault("early", []).append(kendall_tau(y[te], v12[te]))
        taus.setdefault("synflow", []).append(kendall_tau(y[te], syn[te]))
    mean = {k: np.mean(v) for k, v in taus.items()}
    assert mean["omni"] > mean["early"] + 0.1 and mean["omni"] > mean["synflow"] + 0.2
    assert mean["omni"] > mean["no_zc"] + 0.02


def test_omni_on_an_ard_gaussian_process_round_trips(twelve, tmp_path):
    from pyengine.predictors import point_curves

    t, y, v12 = twelve
    rows = np.arange(0, 15625, 113)[:100]
    archs, c = t.subset(rows).archs, point_curves(v12[rows], 12)
    est = get_predictor(
        "omni", space="nb201", features="op_counts,fidelity", base="gp", base_params={"ard": True}, random_state=0
    ).fit(archs, y[rows], curves=c)
    scales = est.model_.model_.model_.kernel_.k1.k2.length_scale
    assert np.shape(scales) == (6,)  # one length scale per feature
    est.save(tmp_path / "m")
    loaded = pyengine.load(tmp_path / "m")
    got, want = loaded.predict(archs, curves=c, return_std=True), est.predict(archs, curves=c, return_std=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
