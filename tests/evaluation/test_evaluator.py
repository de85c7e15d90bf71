"""The evaluator on real data: record fields, disjoint draws, determinism, mutation sampling."""

import json

import numpy as np
import pytest
from scipy import stats

from pyengine.evaluation import PredictorEvaluator, summarize
from pyengine.predictors import get_predictor
from pyengine.tables import load_table

FIELDS = {
    "predictor",
    "train_size",
    "seed",
    "kendalltau",
    "spearman",
    "pearson",
    "sparse_kendalltau",
    "fit_seconds",
    "query_seconds_per_arch",
    "p_at_top_k",
    "br_at_k",
    "mae",
}


@pytest.fixture(scope="module")
def table(data_dir):
    return load_table("nb201_cifar10_200ep")


def test_records_and_determinism(table):
    ev = PredictorEvaluator(table, ["rf", "blr"], train_sizes=[10, 50], seeds=2, test_size=300)
    recs = ev.run()
    assert len(recs) == 2 * 2 * 2
    for r in recs:
        assert FIELDS <= set(r)
        assert isinstance(r["train_size"], int) and isinstance(r["seed"], int)
        assert r["metric"] == "cifar10_valid_valacc" and r["test_size"] == 300
    again = PredictorEvaluator(table, ["rf", "blr"], train_sizes=[10, 50], seeds=2, test_size=300).run()
    assert [r["kendalltau"] for r in recs] == [r["kendalltau"] for r in again]
    rows = summarize(recs)
    assert [(r["predictor"], r["train_size"]) for r in rows] == [("rf", 10), ("rf", 50), ("blr", 10), ("blr", 50)]
    rf50 = next(r for r in rows if (r["predictor"], r["train_size"]) == ("rf", 50))
    assert rf50["mean"] > 0.3


def test_train_and_test_are_disjoint(table, monkeypatch):
    seen = []
    real_fit = get_predictor("blr").__class__.fit

    def spy(self, x, y, extra=None):
        seen.append(x.copy())
        return real_fit(self, x, y, extra)

    monkeypatch.setattr(get_predictor("blr").__class__, "fit", spy)
    ev = PredictorEvaluator(table, ["blr"], train_sizes=[20, 40], seeds=[3], test_size=15000)
    ev.run()
    assert len(seen) == 2 and np.array_equal(seen[0], seen[1][:20])  # nested training sets
    with pytest.raises(ValueError, match="exceeds"):
        PredictorEvaluator(table, ["blr"], train_sizes=[700], seeds=1, test_size=15000).run()


def test_mutation_sampling_draws_neighbours_of_the_best(table):
    ev = PredictorEvaluator(table, ["blr"], train_sizes=[20], seeds=1, test_size=200, sampling="mutation")
    rng = np.random.default_rng(0)
    y = table.column()
    pool = ev._test_pool(np.arange(len(table)), y, rng)
    assert np.median(y[pool]) > np.median(y) + 1.5  # neighbours of the top 5% are good architectures
    assert 1000 < len(pool) < len(table)
    assert len(ev.run()) == 1


def test_bad_configuration(table):
    with pytest.raises(ValueError, match="Unknown metric"):
        PredictorEvaluator(table, ["rf"], metric="nope", train_sizes=[5], seeds=1).run()
    with pytest.raises(ValueError, match="'train_sizes'"):
        PredictorEvaluator(table, ["rf"], train_sizes=[], seeds=1).run()
    with pytest.raises(ValueError, match="'sampling'"):
        PredictorEvaluator(table, ["rf"], train_sizes=[5], sampling="random").run()
    with pytest.raises(ValueError, match="Valid names"):
        PredictorEvaluator(table, ["forest"], train_sizes=[5]).run()


def test_cli_evaluate_writes_records_and_plot(tmp_path, capsys, data_dir):
    from pyengine.cli import main

    out = tmp_path / "ev.json"
    csv = data_dir / "nb201" / "nb201_cifar10_200ep.csv"
    argv = [
        "evaluate",
        "--space",
        "nb201",
        "--table",
        str(csv),
        "--metric",
        "cifar10_valid_valacc",
        "--predictors",
        "rf,blr",
        "--train-sizes",
        "20,60",
        "--seeds",
        "2",
        "--test-size",
        "200",
        "--json",
        str(out),
    ]
    assert main(argv) == 0
    recs = json.loads(out.read_text())
    assert len(recs) == 8 and FIELDS <= set(recs[0])
    assert {r["seed"] for r in recs} == {0, 1} and {r["train_size"] for r in recs} == {20, 60}
    assert (tmp_path / "ev.png").stat().st_size > 1000
    text = capsys.readouterr().out
    assert "kendalltau" in text and "rf" in text
    assert main(["evaluate", "--space", "nb101", "--table", str(csv), "--predictors", "rf"]) == 1
    assert "not an NB101 module hash" in capsys.readouterr().err
    assert (
        main(
            [
                "evaluate",
                "--table",
                str(csv),
                "--metric",
                "cifar10_test",
                "--predictors",
                "rf",
                "--train-sizes",
                "5",
                "--seeds",
                "1",
            ]
        )
        == 1
    )
    assert "Unknown metric" in capsys.readouterr().err


def test_cli_evaluate_zc_json_keeps_the_scored_rows(tmp_path, capsys, data_dir):
    from pyengine.cli import main

    out = tmp_path / "zc.json"
    zc = data_dir / "naslib_zc" / "zc_nasbench201_cifar10.json"
    argv = ["evaluate", "--table", "nb201_cifar10_200ep", "--predictors", "rf", "--train-sizes", "10"]
    argv += ["--seeds", "1", "--test-size", "50", "--no-progress"]
    assert main([*argv, "--zc-json", str(zc), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "725 of the 15625 architectures of nb201_cifar10_200ep have zero-cost scores: those count" in text
    (rec,) = json.loads(out.read_text())
    assert rec["predictor"] == "rf" and rec["zc_seconds"] == 0.0  # rf reads no zero-cost score
    assert main([*argv, "--zc-json", str(tmp_path / "missing.json")]) == 1
    assert "data file not found" in capsys.readouterr().err


def test_each_predictor_reads_its_own_encoding(table, capsys):
    from pyengine.cli import main

    ev = PredictorEvaluator(
        table,
        ["blr", "gcn", "bananas"],
        train_sizes=[30],
        seeds=1,
        test_size=300,
        predictor_params={"gcn": {"epochs": 20}, "bananas": {"epochs": 20, "n_ensemble": 2}},
    )
    recs = ev.run()
    assert [(r["predictor"], r["encoding"]) for r in recs] == [
        ("blr", "adjacency_one_hot"),
        ("gcn", "gcn"),
        ("bananas", "path"),
    ]
    assert all(np.isfinite(r["kendalltau"]) for r in recs)
    recs = PredictorEvaluator(
        table,
        ["blr", "gcn"],
        train_sizes=[30],
        seeds=1,
        test_size=300,
        encoding="path",
        predictor_params={"gcn": {"epochs": 2}},
    ).run()
    assert [r["encoding"] for r in recs] == ["path", "gcn"]  # graph models keep their graphs
    with pytest.raises(ValueError, match="Invalid parameter"):
        PredictorEvaluator(table, ["gcn"], train_sizes=[5], seeds=1, predictor_params={"gcn": {"depth": 2}}).run()
    argv = ["evaluate", "--table", "nb201", "--predictors", "gcn", "--train-sizes", "20", "--seeds", "1"]
    assert main([*argv, "--test-size", "100", "--set", "gcn.epochs=3", "--set", "gcn.loss=mae"]) == 0
    assert "gcn" in capsys.readouterr().out
    assert main([*argv, "--set", "gcn-epochs"]) == 1
    assert "NAME.PARAM=VALUE" in capsys.readouterr().err


@pytest.mark.slow
def test_omni_zero_cost_features_are_computed_once_or_read_with_their_seconds(table, data_dir, tmp_path, monkeypatch):
    """A proxy that OMNI names and no file gives is computed for the rows the run uses and
    cached (a second run computes nothing); its seconds enter zc_seconds and query_seconds.
    NAS-Bench-Suite-Zero's recorded times do the same, under an alias of the proxy's name."""
    import os

    from pyengine.predictors._omni import OmniPredictor
    from pyengine.tables import read_naslib_zc

    asked = []  # (architectures, predictions) of every OMNI predict call
    predict = OmniPredictor.predict

    def spy(self, X, *args, **kwargs):
        out = predict(self, X, *args, **kwargs)
        asked.append((X, np.asarray(out)))
        return out

    monkeypatch.setattr(OmniPredictor, "predict", spy)
    twelve = load_table("nb201_12ep")
    kw = dict(train_sizes=[20], seeds=1, test_size=30, fidelity=12, fidelity_table=twelve)
    ev = PredictorEvaluator(table, ["omni", "rf"], omni_features="op_counts,fidelity,synflow", **kw)
    recs = {r["predictor"]: r for r in ev.run()}
    ((test_archs, pred),) = asked
    cache = os.path.join(os.environ["PYENGINE_CACHE_DIR"], "zc")
    files = [f for f in os.listdir(cache) if f.startswith("nb201_synflow_cifar10_b32_s0")]
    assert len(files) == 1
    assert sum(1 for _ in open(os.path.join(cache, files[0]))) >= 50  # 20 + 30 rows, maybe more from other tests
    assert recs["omni"]["encoding"] == "architectures"  # OMNI counts the ops itself
    assert recs["omni"]["zc_seconds"] > 0 and recs["rf"]["zc_seconds"] == 0.0
    assert recs["omni"]["query_seconds"] is None  # the 200-epoch table has no time column
    truth = table.query(test_archs)  # the table's values of the 30 architectures OMNI was asked about
    assert len(set(table.indices(test_archs).tolist())) == 30
    assert recs["omni"]["kendalltau"] == pytest.approx(stats.kendalltau(truth, pred).statistic, abs=1e-12)
    assert recs["omni"]["mae"] == pytest.approx(np.abs(truth - pred).mean())
    stamp = os.path.getmtime(os.path.join(cache, files[0]))
    again = {r["predictor"]: r for r in ev.run()}
    assert again["omni"]["kendalltau"] == recs["omni"]["kendalltau"]
    assert os.path.getmtime(os.path.join(cache, files[0])) == stamp  # nothing appended

    # recorded scores and times, named by an alias (the file says jacov)
    zt = load_table("naslib_zc_nb201")
    rec = read_naslib_zc(space="nb201")
    assert np.isfinite(rec.times["jacov"]).all() and (rec.times["jacov"] > 0).all()
    ev = PredictorEvaluator(
        zt,
        ["omni"],
        zc={"jacov": zt.column("jacov")},
        zc_seconds={"jacov": rec.times["jacov"]},
        omni_features="onehot,jacob_cov",
        train_sizes=[20],
        seeds=1,
        test_size=30,
    )
    (r,) = ev.run()
    assert r["zc_seconds"] > 0 and r["fidelity_seconds"] == 0  # reads no fidelity
    assert r["query_seconds"] == pytest.approx(r["zc_seconds"] + r["query_seconds_per_arch"])
    with pytest.raises(ValueError, match="names the feature 'jacob_covv': it is no zero-cost proxy"):
        PredictorEvaluator(
            zt, ["omni"], omni_features="onehot,jacob_covv", train_sizes=[20], seeds=1, test_size=30
        ).run()
