"""A neural predictor of one member has no spread: ``return_std`` raises a typed error saying how
to get one, ``has_uncertainty`` is False, and ``pyengine score`` writes a null ``std``."""

import json

import numpy as np
import pytest

import pyengine
from pyengine.cli import main
from pyengine.predictors import NoUncertaintyError, get_predictor
from pyengine.spaces import get_space


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    sp = get_space("nb201")
    x = sp.sample(40, 0)
    y = np.asarray(x.ops, float).sum(1)
    est = get_predictor("mlp", space="nb201", epochs=3, n_ensemble=1, random_state=0).fit(x, y)
    path = tmp_path_factory.mktemp("single") / "mlp.model"
    est.save(path)
    return sp, x, est, path


def test_one_member_has_no_spread_to_give(single):
    sp, x, est, _ = single
    assert not est.has_uncertainty and get_predictor("mlp", n_ensemble=3).has_uncertainty
    with pytest.raises(NoUncertaintyError, match=r"no uncertainty with n_ensemble=1.*n_ensemble >= 2"):
        est.predict(x, return_std=True)
    assert issubclass(NoUncertaintyError, ValueError)
    assert est.predict(x).shape == (40,)  # the mean is there
    loaded = pyengine.load(single[3])
    assert not loaded.has_uncertainty
    with pytest.raises(NoUncertaintyError, match="n_ensemble >= 2"):
        loaded.predict(x, return_std=True)


def test_score_writes_std_only_for_a_model_that_has_one(single, tmp_path, capsys):
    sp, x, est, path = single
    strings = sp.to_strings(x)[:5]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"arch": s}) + "\n" for s in strings))
    out = tmp_path / "out.jsonl"
    args = ["score", "--space", "nb201", str(src), "--model", str(path), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [sorted(r) for r in rows] == [["arch", "score", "std"]] * 5  # the same fields
    assert all(r["std"] is None for r in rows)
    np.testing.assert_allclose([r["score"] for r in rows], est.predict(strings), rtol=1e-12)
