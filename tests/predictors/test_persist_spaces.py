"""Saved models keep the space they were fitted on: a chain space of other layers and choices is
written as its definition (format version 2) and rebuilt on load; names stay names; version 1
headers still load; a definition that cannot be rebuilt is a typed error."""

import json
import zipfile

import numpy as np
import pytest

import pyengine
from pyengine.predictors import FORMAT_VERSION, ModelFileError, get_predictor, read_header
from pyengine.predictors._persist import header_space
from pyengine.scoring import ModelScorer
from pyengine.spaces import MacroSpace, get_space

CHAIN = MacroSpace(n_layers=6, choices=("identity", "mb3_k3", "mb6_k5", "mb3_k5"), block_starts=(0, 2, 4))


@pytest.fixture(scope="module")
def chain_data():
    train, test = CHAIN.sample(48, 0), CHAIN.sample(20, 1)
    w = np.random.default_rng(2).normal(size=(6, 4))
    y = w[np.arange(6), np.asarray(train.layers)].sum(1)
    return train, y, test


def _rewrite_header(src, dst, edit):
    import io

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "__header__.npy":
                h = json.loads(np.load(io.BytesIO(data)).tobytes().decode())
                edit(h)
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(h).encode(), np.uint8))
                data = buf.getvalue()
            zout.writestr(item, data)


def test_a_feature_predictor_on_a_custom_chain_round_trips(chain_data, tmp_path):
    train, y, test = chain_data
    est = get_predictor("blr", space=CHAIN, random_state=0).fit(train, y)
    est.save(tmp_path / "m")
    head = read_header(tmp_path / "m")
    assert head["format_version"] == FORMAT_VERSION == 2 and head["space"] == "macro"
    assert header_space(head) == CHAIN
    loaded = pyengine.load(tmp_path / "m")
    assert loaded.space == CHAIN and loaded.get_params() == est.get_params()
    got, want = loaded.predict(test, return_std=True), est.predict(test, return_std=True)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # strings of the chain (six digits) parse in the rebuilt space
    np.testing.assert_array_equal(loaded.predict(CHAIN.to_strings(test)), want[0])


def test_a_neural_ensemble_on_a_custom_chain_round_trips_with_its_spread(chain_data, tmp_path):
    train, y, test = chain_data
    est = get_predictor("mlp", space=CHAIN, epochs=3, n_ensemble=2, random_state=0).fit(train, y)
    assert est.has_uncertainty
    members = est.predict_members(test)
    mean, std = est.predict(test, return_std=True)
    np.testing.assert_allclose(std, members.std(axis=0, ddof=0), rtol=1e-12)  # the spread of the members
    assert std.shape == (20,) and std.max() > 0
    est.save(tmp_path / "nn")
    loaded = pyengine.load(tmp_path / "nn")
    assert loaded.space == CHAIN
    got = loaded.predict(test, return_std=True)
    np.testing.assert_array_equal(got[0], mean)
    np.testing.assert_array_equal(got[1], std)


def test_named_spaces_stay_names_and_other_instances_are_definitions(chain_data, tmp_path):
    train, y, _ = chain_data
    x = get_space("nb201").sample(12, 0)
    get_predictor("blr", space=get_space("nb201")).fit(x, np.arange(12.0)).save(tmp_path / "named")
    head = read_header(tmp_path / "named")
    assert head["space"] == "nb201" and header_space(head) == "nb201"
    assert pyengine.load(tmp_path / "named").space == "nb201"
    # the ProxylessNAS chain is a 'macro' space of its own: its definition goes with the model
    proxyless = get_space("proxyless")
    px = proxyless.sample(12, 0)
    get_predictor("blr", space=proxyless).fit(px, np.arange(12.0)).save(tmp_path / "proxyless")
    assert pyengine.load(tmp_path / "proxyless").space == proxyless


def test_version_1_headers_load_and_bad_definitions_are_typed_errors(chain_data, tmp_path):
    train, y, test = chain_data
    x = get_space("nb201").sample(12, 0)
    est = get_predictor("blr", space="nb201").fit(x, np.arange(12.0))
    est.save(tmp_path / "v2")
    _rewrite_header(tmp_path / "v2", tmp_path / "v1", lambda h: h.update(format_version=1))
    np.testing.assert_array_equal(pyengine.load(tmp_path / "v1").predict(x), est.predict(x))

    get_predictor("blr", space=CHAIN).fit(train, y).save(tmp_path / "chain")

    def zero_layers(h):
        h["params"]["items"]["space"]["params"]["items"]["n_layers"] = 0

    _rewrite_header(tmp_path / "chain", tmp_path / "bad", zero_layers)
    with pytest.raises(ModelFileError, match="'macro' space cannot be rebuilt: The 'n_layers' parameter"):
        pyengine.load(tmp_path / "bad")
    _rewrite_header(tmp_path / "chain", tmp_path / "who", lambda h: h["params"]["items"]["space"].update(name="nope"))
    with pytest.raises(ModelFileError, match="'nope' space cannot be rebuilt"):
        pyengine.load(tmp_path / "who")


def test_scoring_jobs_refuse_a_model_of_an_unregistered_space(chain_data, tmp_path):
    train, y, _ = chain_data
    get_predictor("blr", space=CHAIN).fit(train, y).save(tmp_path / "chain")
    with pytest.raises(ValueError, match="fitted on a space of its own .*n_layers=6"):
        ModelScorer(str(tmp_path / "chain"), "macro")
