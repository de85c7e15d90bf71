"""Zero-cost features through the evaluator and ``pyengine evaluate --zc-features``: the scores
reach every predictor that takes ``zc``, computed for the rows a run uses (or read from a
NAS-Bench-Suite-Zero file), and their seconds count in the query-cost axis."""

import json

import numpy as np
import pytest

from pyengine.evaluation import PredictorEvaluator
from pyengine.predictors._zc import ZC_SETTINGS
from pyengine.proxies import cached_scores
from pyengine.tables import load_table

FREE = "params,flops"


@pytest.fixture(scope="module")
def table(data_dir):
    return load_table("nb201_cifar10_200ep")


def test_the_evaluator_passes_computed_scores_and_counts_their_seconds(table):
    ev = PredictorEvaluator(
        table, ["rf", "blr"], train_sizes=[20], seeds=[0], test_size=100, zc_features=FREE, predictor_params={}
    )
    recs = ev.run()
    assert [r["predictor"] for r in recs] == ["rf", "blr"]
    rng = np.random.default_rng(0)
    test = rng.permutation(np.flatnonzero(np.isfinite(table.column())))[:100]
    secs = cached_scores("nb201", table.subset(test).archs, ["params", "flops"], **ZC_SETTINGS).seconds
    want = float(secs["params"].mean() + secs["flops"].mean())
    for r in recs:
        assert r["zc_seconds"] == pytest.approx(want)
        assert np.isfinite(r["kendalltau"])
    plain = PredictorEvaluator(table, ["rf"], train_sizes=[20], seeds=[0], test_size=100).run()
    assert plain[0]["zc_seconds"] == 0.0


def test_the_evaluator_refuses_unknown_scores_and_predictors_without_zc(table):
    with pytest.raises(ValueError, match=r"names 'synflo', which is no zero-cost proxy"):
        PredictorEvaluator(table, ["rf"], train_sizes=[10], seeds=1, test_size=50, zc_features="synflo").run()
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="Predictor LinearRegression takes no zero-cost features"):
        PredictorEvaluator(table, [LinearRegression()], train_sizes=[10], seeds=1, test_size=50, zc_features=FREE).run()
    with pytest.raises(ValueError, match="Predictor bonas takes no zero-cost features"):
        PredictorEvaluator(table, ["bonas"], train_sizes=[10], seeds=1, test_size=50, zc_features=FREE).run()


def test_cli_zc_features_end_to_end(tmp_path, capsys, data_dir):
    from pyengine.cli import main

    out = tmp_path / "zc.json"
    argv = ["evaluate", "--table", "nb201_cifar10_200ep", "--predictors", "rf,blr", "--train-sizes", "20"]
    argv += ["--seeds", "2", "--test-size", "100", "--no-progress"]
    assert main([*argv, "--zc-features", FREE, "--json", str(out)]) == 0
    recs = json.loads(out.read_text())
    assert len(recs) == 4 and {r["predictor"] for r in recs} == {"rf", "blr"}
    by_seed = {r["seed"]: r["zc_seconds"] for r in recs if r["predictor"] == "rf"}
    assert all(r["zc_seconds"] is not None and r["zc_seconds"] == by_seed[r["seed"]] for r in recs)
    assert main([*argv, "--zc-features", "nope"]) == 1
    assert "names 'nope', which is no zero-cost proxy" in capsys.readouterr().err


def test_cli_zc_features_from_a_naslib_file(tmp_path, data_dir):
    from pyengine.cli import main

    out = tmp_path / "zc.json"
    zc = data_dir / "naslib_zc" / "zc_nasbench201_cifar10.json"
    argv = ["evaluate", "--table", "nb201_cifar10_200ep", "--predictors", "rf", "--train-sizes", "20"]
    argv += ["--seeds", "1", "--test-size", "100", "--no-progress", "--zc-json", str(zc)]
    assert main([*argv, "--zc-features", "jacov,synflow", "--json", str(out)]) == 0
    (rec,) = json.loads(out.read_text())
    assert rec["zc_seconds"] > 0  # NAS-Bench-Suite-Zero's own seconds of jacov and synflow
