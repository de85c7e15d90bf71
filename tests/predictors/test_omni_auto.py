"""OMNI's default features ("auto") fit on what ``fit`` is given: the op counts plus computed
zero-cost scores (synflow on NB201, the data-free closed forms elsewhere) on architectures alone;
given scores in their place; curve features with curves. The features used are recorded and
saved. Its default base is an ARD Gaussian process."""

import numpy as np
import pytest

import pyengine
from pyengine.encodings import encode
from pyengine.predictors import PartialCurves, get_predictor, point_curves
from pyengine.proxies import cached_scores
from pyengine.spaces import MacroSpace, get_space


@pytest.fixture(scope="module")
def cells():
    sp = get_space("nb201")
    x = sp.sample(40, 0)
    y = np.asarray(x.ops, float) @ np.array([0.3, -0.2, 0.5, 0.1, 0.4, -0.1])
    return sp, x, y


def test_architectures_alone_give_encoding_and_computed_scores(cells, tmp_path):
    sp, x, y = cells
    est = get_predictor("omni", space="nb201", base="blr", random_state=0, proxies="flops,params")
    assert est.features == "auto" and est.zc_names() == [] and not est.needs_curves and est.arch_input
    est.fit(x, y)
    assert est.features_ == ["op_counts", "flops", "params"] and est.zc_computed_ == ["flops", "params"]
    assert est.zc_names() == []  # nothing to pass at predict: OMNI computes them again
    zc = cached_scores("nb201", x, ["flops", "params"], **est.zc_settings_).scores
    counts = encode("nb201", "op_counts", x)
    assert est.n_features_in_ == counts.shape[1] + 2
    m = np.c_[counts, np.log1p(zc["flops"]), np.log1p(zc["params"])]
    m = (m - est.mean_) / est.scale_
    mean, std = est.predict(x, return_std=True)
    np.testing.assert_allclose(mean, est.model_.predict(m), rtol=1e-10)
    est.save(tmp_path / "omni")
    loaded = pyengine.load(tmp_path / "omni")
    assert loaded.features_ == est.features_ and loaded.zc_computed_ == est.zc_computed_
    got = loaded.predict(sp.to_strings(x), return_std=True)
    np.testing.assert_array_equal(got[0], mean)
    np.testing.assert_array_equal(got[1], std)
    with pytest.raises(ValueError, match=r"computes its zero-cost features \['flops', 'params'\] from architectures"):
        est.predict(counts)


def test_the_defaults_are_op_counts_synflow_and_an_ard_gp_on_nb201(cells):
    sp, x, y = cells
    est = get_predictor("omni", space="nb201", random_state=0)
    assert est.base == "gp" and est.encoding is None and est.proxies is None
    c = point_curves(y + np.random.default_rng(2).normal(scale=0.1, size=40), 12)
    est.fit(x, y, curves=c)
    assert est.features_ == ["op_counts", "synflow", "fidelity"] and est.zc_computed_ == ["synflow"]
    assert est.model_.get_params()["ard"] is True
    assert np.isfinite(est.predict(x, curves=c)).all()
    # a given base_params replaces the ARD default; another encoding takes the "onehot" place
    plain = get_predictor("omni", space="nb201", base_params={}, encoding="path", proxies=()).fit(x, y)
    assert not plain.model_.get_params()["ard"] and plain.features_ == ["onehot"]
    np.testing.assert_array_equal(plain.mean_.shape, encode("nb201", "path", x).shape[1:])
    # NB101: the closed forms by default (its proxy networks compile per cell group)
    nb101 = get_space("nb101")
    x101 = nb101.sample(30, 0)
    y101 = np.asarray(x101.matrices, float).sum((1, 2))
    e101 = get_predictor("omni", space="nb101", random_state=0).fit(x101, y101)
    assert e101.features_ == ["op_counts", "flops", "params"]


def test_given_scores_and_curves_choose_the_features(cells):
    sp, x, y = cells
    rng = np.random.default_rng(1)
    zc = {"jacob_cov": rng.normal(size=40)}
    est = get_predictor("omni", space="nb201", base="blr").fit(x, y, zc=zc)
    assert est.features_ == ["op_counts", "jacob_cov"] and est.zc_computed_ == [] and est.zc_names() == ["jacob_cov"]
    with pytest.raises(ValueError, match="does not know the feature 'jacob_cov'"):
        est.predict(x)  # given at fit: needed at predict
    c = point_curves(y + rng.normal(scale=0.1, size=40), 12)
    with_curves = get_predictor("omni", space="nb201", base="blr", proxies="flops,params").fit(x, y, curves=c)
    assert with_curves.features_ == ["op_counts", "flops", "params", "fidelity"]
    assert np.isfinite(with_curves.predict(x, curves=c)).all()
    with pytest.raises(ValueError, match="needs partial curves"):
        with_curves.predict(x)
    loss = PartialCurves({**c.values, "train_loss": -c.values["val_acc"]}, c.epochs, c.first)
    assert get_predictor("omni", space="nb201", base="blr", proxies="flops").fit(x, y, curves=loss).features_[-2:] == [
        "fidelity",
        "sotl_e",
    ]
    # an encoded matrix: the encoding alone (no architectures to score)
    m = encode("nb201", "adjacency_one_hot", x)
    assert get_predictor("omni", space="nb201", base="blr").fit(m, y).features_ == ["onehot"]


def test_a_space_without_proxy_networks_fits_on_the_encoding(tmp_path):
    chain = MacroSpace(n_layers=6, choices=("identity", "a", "b", "c"), block_starts=(0, 3))
    x = chain.sample(30, 0)
    y = np.asarray(x.layers, float).sum(1)
    est = get_predictor("omni", space=chain, base="blr", random_state=0).fit(x, y)
    assert est.features_ == ["onehot"] and est.zc_computed_ == []
    est.save(tmp_path / "m")
    loaded = pyengine.load(tmp_path / "m")
    assert loaded.space == chain
    np.testing.assert_array_equal(loaded.predict(x), est.predict(x))


def test_bad_feature_and_proxy_parameters(cells):
    sp, x, y = cells
    with pytest.raises(ValueError, match="takes 'auto' alone"):
        get_predictor("omni", space="nb201", features="auto,jacob_cov").fit(x, y, zc={"jacob_cov": np.ones(40)})
    with pytest.raises(TypeError, match="'features' parameter of OmniPredictor must be 'auto'"):
        get_predictor("omni", space="nb201", features=3).fit(x, y)
    with pytest.raises(ValueError, match="synflowz"):
        get_predictor("omni", space="nb201", base="blr", proxies="synflowz").fit(x, y)
    with pytest.raises(TypeError, match="'proxies' parameter of OmniPredictor"):
        get_predictor("omni", space="nb201", base="blr", proxies=[1]).fit(x, y)
    with pytest.raises(ValueError, match="needs 'space' to compute"):
        get_predictor("omni", base="blr").fit(sp.to_strings(x), y)
    # no proxies: the encoding alone
    assert get_predictor("omni", space="nb201", base="blr", proxies=()).fit(x, y).features_ == ["op_counts"]
