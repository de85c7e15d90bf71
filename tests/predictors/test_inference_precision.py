"""Inference precision of the graph predictors (gcn, gcn_two_stage, transformer): bfloat16 and
TF32 predictions against float32 on real NB101 cells, the float32 default unchanged, the
bucket size and the calls in flight of inference, typed errors, the estimator contract and
save/load."""

import copy

import jax
import numpy as np
import pytest
from sklearn.base import clone

import pyengine
from pyengine._batch import take
from pyengine.encodings import kernel
from pyengine.metrics import kendall_tau
from pyengine.predictors import get_predictor
from pyengine.predictors._contract import usable_cores
from pyengine.predictors._nn import _apply_program, ensemble_apply, inference_defaults, predict_buckets
from pyengine.spaces import get_space

NAMES = ("gcn", "transformer")


def _with(est, **params):
    """A shallow copy of a fitted estimator (the same weights) with other parameters."""
    return copy.copy(est).set_params(**params)


@pytest.fixture(scope="module")
def nb101(data_dir):
    from pyengine.tables import load_table

    t = load_table("nb101_1k")
    rows = np.random.default_rng(0).permutation(len(t))[:200]
    cells = get_space("nb101").sample(3000, np.random.default_rng(1))
    return t.subset(rows).archs, t.column()[rows], cells


@pytest.fixture(scope="module")
def fitted(nb101):
    archs, y, cells = nb101
    out = {}
    for name in NAMES:
        est = get_predictor(name, space="nb101", epochs=40, n_ensemble=2, random_state=0).fit(archs, y)
        out[name] = (est, est.predict(cells))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_bfloat16_ranks_the_cells_as_float32_does(name, fitted, nb101):
    est, ref = fitted[name]
    cells = nb101[2]
    low = _with(est, inference_precision="bfloat16")
    got = low.predict(cells)
    assert got.dtype == ref.dtype and got.shape == ref.shape and np.isfinite(got).all()
    assert not np.array_equal(got, ref)  # bfloat16 did run
    assert kendall_tau(ref, got) > 0.99
    # bfloat16 keeps 8 bits of mantissa: values within a few hundredths of the spread of predictions
    np.testing.assert_allclose(got, ref, rtol=0, atol=0.05 * ref.std())
    members = low.predict_members(cells)
    assert members.shape == (2, len(ref)) and np.isfinite(members).all()
    # the model's output is float32, whatever dtype it computes in
    module = est.module_.clone(dtype="bfloat16")
    raw = tuple(np.asarray(a) for a in take(cells, np.arange(100)))
    out = ensemble_apply(module, est.params_, raw, encode=kernel(get_space("nb101"), "gcn"))
    assert out.dtype == np.float32
    assert est.module_.dtype == "float32" and low.module_.dtype == "float32"  # the fitted module is kept


@pytest.mark.parametrize("name", NAMES)
def test_the_float32_default_is_the_program_it_was(name, fitted, nb101):
    est, ref = fitted[name]
    cells = nb101[2]
    assert est.inference_precision == "float32" and est.inference_batch_size is None
    assert est.inference_workers is None
    # the plain program of JAX's default precision in the default buckets, one call at a time
    raw = tuple(np.asarray(a) for a in cells)
    rows = inference_defaults()[0]
    enc = kernel(get_space("nb101"), "gcn")
    plain = ensemble_apply(est.module_, est.params_, raw, encode=enc, buckets=predict_buckets(rows))
    np.testing.assert_array_equal(ref, (plain.astype(np.float64) * est.y_scale_ + est.y_mean_).mean(axis=0))
    tf32 = _with(est, inference_precision="tf32")
    if jax.default_backend() == "cpu":  # TF32 is a GPU mode: the CPU computes float32
        np.testing.assert_array_equal(tf32.predict(cells), ref)
    else:  # 10 bits of mantissa in the matmuls
        np.testing.assert_allclose(tf32.predict(cells), ref, rtol=0, atol=0.02 * ref.std())


def test_the_defaults_are_two_calls_of_256_rows_on_a_cpu():
    if jax.default_backend() == "cpu":
        assert inference_defaults() == (256, min(2, usable_cores()))
    else:
        assert inference_defaults() == (1024, 1)
    assert predict_buckets(256) == (8, 128, 256)


@pytest.mark.parametrize("name", NAMES)
def test_calls_in_flight_do_not_change_the_predictions(name, fitted, nb101):
    est, ref = fitted[name]
    cells = nb101[2]  # 3,000 cells: 11 full chunks of 256 and one of 184 (padded to 256)
    rows = inference_defaults()[0]
    one = _with(est, inference_workers=1, inference_batch_size=rows).predict(cells)
    np.testing.assert_array_equal(one, ref)
    for workers in (2, 3, 16):
        got = _with(est, inference_workers=workers, inference_batch_size=rows).predict(cells)
        np.testing.assert_array_equal(got, ref)
    # every chunk lands in its own columns: members of 1,000 cells in chunks of 128, 3 at a time
    raw = tuple(np.asarray(a) for a in take(cells, np.arange(1000)))
    enc = kernel(get_space("nb101"), "gcn")
    seq = ensemble_apply(est.module_, est.params_, raw, encode=enc, buckets=(8, 128))
    par = ensemble_apply(est.module_, est.params_, raw, encode=enc, buckets=(8, 128), workers=3)
    np.testing.assert_array_equal(par, seq)
    assert par.shape == (2, 1000)


def test_a_larger_inference_batch_gives_the_same_predictions_and_compiles_once(fitted, nb101):
    est, ref = fitted["gcn"]
    cells = nb101[2]
    assert predict_buckets() == (8, 128, 1024)
    assert predict_buckets(4096) == (8, 128, 1024, 4096) and predict_buckets(100) == (8, 100)
    big = _with(est, inference_batch_size=4096)
    np.testing.assert_allclose(big.predict(cells), ref, rtol=1e-5, atol=1e-6)
    # bfloat16: one program per bucket, none recompiled by a second call on the same buckets
    big.set_params(inference_precision="bfloat16")
    big.predict(cells)
    prog = _apply_program(est.module_.clone(dtype="bfloat16"), kernel(get_space("nb101"), "gcn"))
    compiled = prog._cache_size()
    big.predict(take(cells, np.arange(2500)))  # 2,500 = 2 x 1024 + 3 x 128 + 68 -> 128: all compiled
    assert prog._cache_size() == compiled


@pytest.mark.parametrize("name", [*NAMES, "gcn_two_stage"])
@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"inference_precision": "float16"},
            r"The 'inference_precision' parameter of \w+ must be one of 'float32', 'tf32', 'bfloat16'. "
            r"Got 'float16' instead.",
        ),
        ({"inference_precision": None}, r"'inference_precision' parameter of \w+ must be one of .* Got None"),
        (
            {"inference_batch_size": 0},
            r"The 'inference_batch_size' parameter of \w+ must be a positive int or None. Got 0",
        ),
        ({"inference_workers": 0}, r"The 'inference_workers' parameter of \w+ must be a positive int or None. Got 0"),
        ({"inference_workers": 1.5}, r"The 'inference_workers' parameter of \w+ must be a positive int or None"),
    ],
)
def test_bad_values_raise_a_typed_error_at_fit_and_at_predict(name, params, match, nb101):
    archs, y, cells = nb101
    with pytest.raises(pyengine.errors.InvalidValueError, match=match):
        get_predictor(name, space="nb101", **params).fit(archs, y)
    est = get_predictor(name, space="nb101", epochs=1, random_state=0).fit(archs, y)
    est.set_params(**params)  # set after fit: predict checks it
    with pytest.raises(pyengine.errors.InvalidValueError, match=match):
        est.predict(take(cells, np.arange(5)))


@pytest.mark.parametrize("name", [*NAMES, "gcn_two_stage"])
def test_the_parameters_follow_the_estimator_contract(name):
    est = get_predictor(
        name, space="nb101", inference_precision="bfloat16", inference_batch_size=4096, inference_workers=3
    )
    params = est.get_params()
    assert params["inference_precision"] == "bfloat16" and params["inference_batch_size"] == 4096
    assert params["inference_workers"] == 3
    assert get_predictor(name).get_params()["inference_precision"] == "float32"
    again = clone(est)
    assert again.get_params() == params
    assert again.set_params(inference_precision="tf32") is again and again.inference_precision == "tf32"
    assert est.inference_precision == "bfloat16"
    # __init__ stores what it is given, unchecked: fit and predict check it
    assert get_predictor(name, inference_precision="fp8").inference_precision == "fp8"


@pytest.mark.parametrize("name", [*NAMES, "gcn_two_stage"])
def test_save_and_load_keep_the_precision(name, nb101, tmp_path):
    archs, y, cells = nb101
    few = take(cells, np.arange(300))
    est = get_predictor(name, space="nb101", epochs=2, random_state=0, inference_precision="bfloat16").fit(archs, y)
    est.set_params(inference_batch_size=128, inference_workers=1)
    want = est.predict(few)
    est.save(tmp_path / "model.pyengine")
    back = pyengine.load(str(tmp_path / "model.pyengine"))
    assert back.inference_precision == "bfloat16" and back.inference_batch_size == 128
    assert back.inference_workers == 1
    assert back.module_.dtype == "float32"
    np.testing.assert_array_equal(back.predict(few), want)
    back.set_params(inference_precision="float32")
    assert not np.array_equal(back.predict(few), want)
