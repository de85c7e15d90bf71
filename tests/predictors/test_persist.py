"""Saved predictors: every registered predictor round-trips exactly; bad files get typed errors;
a golden file of format version 1 keeps loading."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import pyengine
from pyengine.predictors import FORMAT_VERSION, PREDICTORS, ModelFileError, get_predictor, read_header

GOLDEN = Path(__file__).parent / "golden"
NEURAL = {
    "gcn": {"epochs": 15},
    "gcn_two_stage": {"epochs": 15},
    "transformer": {"epochs": 15},
    "bananas": {"epochs": 15},
    "mlp": {"epochs": 15},
    "blend": {"member_params": [{"epochs": 15}, {"n_estimators": 30}]},
}


@pytest.fixture(scope="module")
def nb201(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb201_cifar10_200ep")
    perm = np.random.default_rng(1).permutation(len(t))
    return t, t.column(), perm[:50], perm[50:450]


# the learning-curve family and OMNI read curves too: tests/predictors/test_curves.py
ON_ARCHITECTURES = [
    n
    for n in PREDICTORS.names()
    if n not in ("omni", "lce_m")  # curve readers on encodings: tests/predictors/test_curves.py
    and getattr(PREDICTORS.get(n), "needs_curves", False) is not True
    and getattr(PREDICTORS.get(n), "learns_labels", True)  # the one-shot estimator: tests/oneshot/
]


@pytest.mark.parametrize("name", ON_ARCHITECTURES)
def test_every_predictor_round_trips_exactly(name, nb201, tmp_path):
    t, y, train, test = nb201
    est = get_predictor(name, space="nb201", random_state=0, **NEURAL.get(name, {}))
    with pytest.raises(NotFittedError, match="fit"):
        est.save(tmp_path / "unfitted")
    est.fit(t.subset(train).archs, y[train])
    archs = t.subset(test).archs
    path = tmp_path / "model"
    est.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # exactly PATH, nothing beside it
    head = read_header(path)
    assert head["predictor"] == name and head["space"] == "nb201" and head["format_version"] == FORMAT_VERSION
    loaded = pyengine.load(path)
    assert type(loaded) is type(est) and loaded.get_params() == est.get_params()
    np.testing.assert_allclose(loaded.predict(archs), est.predict(archs), rtol=1e-12, atol=1e-12)
    if est.has_uncertainty and getattr(est, "n_ensemble", 2) > 1:
        np.testing.assert_allclose(
            loaded.predict(archs, return_std=True)[1], est.predict(archs, return_std=True)[1], rtol=1e-12, atol=1e-12
        )
    loaded.save(tmp_path / "again")  # a loaded predictor saves again, to the same predictions
    np.testing.assert_allclose(pyengine.load(tmp_path / "again").predict(archs), loaded.predict(archs), rtol=1e-12)


def _rewrite(src: Path, dst: Path, header_edit=None, drop=None) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "__header__.npy" and header_edit is not None:
                import io

                h = json.loads(np.load(io.BytesIO(data)).tobytes().decode())
                header_edit(h)
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(h).encode(), np.uint8))
                data = buf.getvalue()
            if item != drop:
                zout.writestr(item, data)


def test_bad_files_get_typed_errors(nb201, tmp_path):
    t, y, train, test = nb201
    est = get_predictor("blr", space="nb201").fit(t.subset(train).archs, y[train])
    good = tmp_path / "good"
    est.save(good)
    raw = good.read_bytes()

    (tmp_path / "cut").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        pyengine.load(tmp_path / "cut")
    (tmp_path / "text").write_text("not a model")
    with pytest.raises(ModelFileError, match="not a readable"):
        pyengine.load(tmp_path / "text")
    with pytest.raises(ModelFileError, match="Cannot read"):
        pyengine.load(tmp_path / "absent")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ModelFileError, match="no header"):
        pyengine.load(tmp_path / "plain.npz")

    _rewrite(good, tmp_path / "newer", header_edit=lambda h: h.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1} .* Upgrade"):
        pyengine.load(tmp_path / "newer")
    member = next(k for k in read_header(good)["arrays"] if k.endswith("coef_"))
    _rewrite(good, tmp_path / "missing", drop=member + ".npy")
    with pytest.raises(ModelFileError, match="header and the arrays differ"):
        pyengine.load(tmp_path / "missing")

    def shrink(h):
        h["arrays"][member]["shape"] = [1]

    _rewrite(good, tmp_path / "shape", header_edit=shrink)
    with pytest.raises(ModelFileError, match="has shape"):
        pyengine.load(tmp_path / "shape")
    _rewrite(good, tmp_path / "who", header_edit=lambda h: h.update(predictor="nope"))
    with pytest.raises(ModelFileError, match="unknown predictor"):
        pyengine.load(tmp_path / "who")
    _rewrite(good, tmp_path / "state", header_edit=lambda h: h["state"].update(__class__={"$type": "dict"}))
    with pytest.raises(ModelFileError, match="not a fitted attribute"):
        pyengine.load(tmp_path / "state")

    def unknown_type(h):
        h["state"]["model_"]["$type"] = "pickle"

    _rewrite(good, tmp_path / "kind", header_edit=unknown_type)
    with pytest.raises(ModelFileError, match=r"Unknown entry type 'pickle' .*known: \[.*'blr'.*'forest'"):
        pyengine.load(tmp_path / "kind")


def test_persistence_is_a_registry_the_model_modules_fill():
    """_persist knows no model: each model module registers its codec; a tag is registered once."""
    import ast

    from pyengine.errors import InvalidValueError
    from pyengine.predictors import _persist

    tree = ast.parse(Path(_persist.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}
    models = {"_feature", "_fitted_models", "_gcn", "_mlp", "_nn", "_semi", "_bayes", "_curves", "_omni"}
    assert not imported & models
    get_predictor("gcn")  # imports the neural modules, which register their flax modules
    import pyengine.predictors._mlp  # noqa: F401

    assert {"forest", "xgboost", "lightgbm", "svr", "blr", "ngboost", "gp"} <= set(_persist._CODECS)
    assert {"GCN", "MLP"} <= set(_persist._MODULES)
    codec = _persist._CODECS["blr"]
    with pytest.raises(InvalidValueError, match="'tuple' is already registered"):
        _persist.register_codec("tuple", codec.claims, codec.encode, codec.decode)
    with pytest.raises(InvalidValueError, match="'blr' is already registered"):
        _persist.register_codec("blr", codec.claims, lambda w, v, k: {}, codec.decode)


def test_a_model_keeps_its_space(nb201, tmp_path):
    t, y, train, test = nb201
    get_predictor("gcn", space="nb201", epochs=3, random_state=0).fit(t.subset(train).archs, y[train]).save(
        tmp_path / "m"
    )
    m = pyengine.load(tmp_path / "m")
    m.set_params(space="nb101")
    with pytest.raises(ValueError, match="fitted on nb201"):
        m.predict(["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"])


def test_golden_file_of_format_version_1(data_dir):
    """A Bayesian linear model saved in format version 1 (features: adjacency_one_hot of NB201)
    loads and predicts what it predicted when written."""
    expected = json.loads((GOLDEN / "blr_nb201_v1.json").read_text())
    m = pyengine.load(GOLDEN / "blr_nb201_v1.pyengine")
    mean, std = m.predict(expected["archs"], return_std=True)
    np.testing.assert_allclose(mean, expected["mean"], rtol=1e-12)
    np.testing.assert_allclose(std, expected["std"], rtol=1e-12)


def test_a_transformer_saved_before_graph_ffn_loads_without_it(nb201, tmp_path):
    """A transformer file written before ``graph_ffn`` existed (no such parameter, no such module
    field) holds the plain transformer: it loads with ``graph_ffn=False`` and predicts as saved."""
    t, y, train, test = nb201
    archs = t.subset(test).archs
    est = get_predictor("transformer", space="nb201", graph_ffn=False, epochs=3, random_state=0)
    est.fit(t.subset(train).archs, y[train])
    est.save(tmp_path / "new")

    def older(h):
        h["params"]["items"].pop("graph_ffn")
        h["state"]["module_"]["fields"]["items"].pop("graph_ffn")

    _rewrite(tmp_path / "new", tmp_path / "old", header_edit=older)
    assert "graph_ffn" not in read_header(tmp_path / "old")["params"]["items"]
    loaded = pyengine.load(tmp_path / "old")
    assert loaded.graph_ffn is False and loaded.module_.graph_ffn is False
    np.testing.assert_array_equal(loaded.predict(archs), est.predict(archs))


def test_a_file_with_an_earlier_parameter_name_loads_it_renamed(nb201, tmp_path, monkeypatch):
    """A predictor's renamed parameters (``_renamed_params``: old name -> new) load from files
    that hold the old name; the one-shot estimator's ``score`` became ``score_by`` when ``score``
    became Kendall tau."""
    from pyengine.oneshot._predictor import OneShotPredictor
    from pyengine.predictors import BayesianLinearPredictor

    t, y, train, test = nb201
    archs = t.subset(test).archs
    est = get_predictor("blr", space="nb201", max_iter=50).fit(t.subset(train).archs, y[train])
    est.save(tmp_path / "new")

    def older(h):
        items = h["params"]["items"]
        items["iterations"] = items.pop("max_iter")

    _rewrite(tmp_path / "new", tmp_path / "old", header_edit=older)
    with pytest.raises(ModelFileError, match="saved parameters do not fit"):
        pyengine.load(tmp_path / "old")
    monkeypatch.setattr(BayesianLinearPredictor, "_renamed_params", {"iterations": "max_iter"}, raising=False)
    loaded = pyengine.load(tmp_path / "old")
    assert loaded.max_iter == 50 and "iterations" not in loaded.get_params()
    np.testing.assert_array_equal(loaded.predict(archs), est.predict(archs))
    assert OneShotPredictor._renamed_params == {"score": "score_by"}
    assert OneShotPredictor().get_params()["score_by"] == "accuracy"
