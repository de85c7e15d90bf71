"""The cost axes of White et al. on real tables: init seconds of the labelled set, query seconds with
the fidelity's training, and the best-predictor grid per (init, query) budget."""

import json
import statistics

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from pyengine.evaluation import PredictorEvaluator, cost_grid, plot_grid, training_time
from pyengine.tables import load_table

SEEN: dict[str, list[np.ndarray]] = {"train": [], "test": []}


class RowSpy(RegressorMixin, BaseEstimator):
    """Reads architectures and notes the table rows it is fitted on and asked about."""

    arch_input = True
    table = None

    def fit(self, X, y):
        SEEN["train"].append(self.table.indices(X, exact=True))
        return self

    def predict(self, X):
        rows = self.table.indices(X, exact=True)
        SEEN["test"].append(rows)
        return np.arange(len(rows), dtype=np.float64)


class CurveRowSpy(RowSpy):
    needs_curves = True

    def fit(self, X, y, curves=None):
        return super().fit(X, y)

    def predict(self, X, curves=None):
        return super().predict(X)


@pytest.fixture(scope="module")
def nb101(data_dir):
    return load_table("nb101_20k")


@pytest.fixture(scope="module")
def nb201(data_dir):
    return load_table("nb201_cifar10_200ep")


@pytest.fixture()
def spy(nb101, monkeypatch):
    monkeypatch.setattr(RowSpy, "table", nb101)
    SEEN["train"].clear()
    SEEN["test"].clear()
    return SEEN


def test_the_time_column_of_the_real_tables(nb101, nb201):
    t = training_time(nb101)
    assert t is not None and t.column == "train_seconds_108" and t.epochs == 108
    assert np.array_equal(t.seconds, nb101.column("train_seconds_108"))
    assert training_time(nb201) is None
    assert training_time(load_table("nb201_12ep")) is None
    with pytest.raises(ValueError, match="'time_column'"):
        training_time(nb101, "params")
    with pytest.raises(ValueError, match="Unknown metric"):
        training_time(nb101, "train_seconds_12")


def test_init_seconds_is_the_labelled_sets_training_time(nb101, spy):
    ts = nb101.column("train_seconds_108")
    recs = PredictorEvaluator(nb101, [RowSpy()], train_sizes=[10, 40], seeds=[0, 1], test_size=100).run()
    assert len(recs) == len(spy["train"]) == 4
    for r, rows in zip(recs, spy["train"], strict=True):
        assert len(rows) == r["train_size"] and (rows >= 0).all()
        assert r["time_column"] == "train_seconds_108" and r["metric"] == "valacc_108"
        assert r["init_seconds"] == pytest.approx(ts[rows].sum(), rel=1e-12)
        assert r["fidelity_seconds"] == 0.0 and r["query_seconds"] == r["query_seconds_per_arch"]
    # a metric of fewer epochs: the 108-epoch totals scaled linearly to 36 epochs
    spy["train"].clear()
    recs = PredictorEvaluator(nb101, [RowSpy()], metric="valacc_36", train_sizes=[20], seeds=[2], test_size=100).run()
    assert recs[0]["init_seconds"] == pytest.approx(ts[spy["train"][0]].sum() * 36 / 108, rel=1e-12)


def test_query_seconds_grow_with_the_fidelity(nb101, spy):
    ts = nb101.column("train_seconds_108")
    fid: dict[int, float] = {}
    for epochs in (4, 12, 36):
        spy["test"].clear()
        ev = PredictorEvaluator(
            nb101,
            [CurveRowSpy(), "early_stop_acc", "blr"],
            train_sizes=[20],
            seeds=[0],
            test_size=150,
            fidelity=epochs,
            fidelity_table=nb101,
            fidelity_metric=f"valacc_{epochs}",
        )
        spied, esa, blr = ev.run()
        test = spy["test"][0]
        assert len(test) == 150 and (test >= 0).all()
        assert spied["fidelity_seconds"] == pytest.approx(ts[test].mean() * epochs / 108, rel=1e-12)
        assert esa["fidelity_seconds"] == spied["fidelity_seconds"]  # same seed, same test set
        assert esa["query_seconds"] == pytest.approx(esa["fidelity_seconds"] + esa["query_seconds_per_arch"])
        assert blr["fidelity"] is None and blr["fidelity_seconds"] == 0.0
        fid[epochs] = esa["query_seconds"]
    assert fid[4] < fid[12] < fid[36]


def test_a_table_without_a_time_column_gives_nulls(nb201):
    recs = PredictorEvaluator(
        nb201,
        ["blr", "early_stop_acc"],
        train_sizes=[10],
        seeds=[0],
        test_size=100,
        fidelity=12,
        fidelity_table=load_table("nb201_12ep"),
    ).run()
    blr, esa = recs
    assert blr["time_column"] is None and blr["init_seconds"] is None
    assert blr["fidelity_seconds"] == 0.0 and blr["query_seconds"] == blr["query_seconds_per_arch"]
    assert esa["init_seconds"] is None and esa["fidelity_seconds"] is None and esa["query_seconds"] is None
    with pytest.raises(ValueError, match="no training-time column"):
        cost_grid(recs)


@pytest.fixture(scope="module")
def records(nb101):
    ev = PredictorEvaluator(
        nb101,
        ["blr", "rf", "sotl_e", "early_stop_acc"],
        train_sizes=[10, 40],
        seeds=2,
        test_size=200,
        fidelity=12,
        fidelity_table=nb101,
        fidelity_metric="valacc_12",
    )
    return ev.run()


def _configurations(records):
    groups = {}
    for r in records:
        groups.setdefault((r["predictor"], r["train_size"]), []).append(r)
    return {
        key: (
            statistics.fmean(r["init_seconds"] for r in rs),
            statistics.fmean(r["query_seconds"] for r in rs),
            statistics.fmean(r["kendalltau"] for r in rs),
        )
        for key, rs in groups.items()
    }


def _check_cells(cells, records):
    confs = _configurations(records)
    n_init, n_query = len({c["init_budget"] for c in cells}), len({c["query_budget"] for c in cells})
    assert len(cells) == n_init * n_query > 0
    for c in cells:
        fits = {k: v for k, v in confs.items() if v[0] <= c["init_budget"] and v[1] <= c["query_budget"]}
        if not fits:
            assert c["predictor"] is None and c["kendalltau"] is None
            continue
        key = (c["predictor"], c["train_size"])
        assert key in fits
        assert c["kendalltau"] == pytest.approx(fits[key][2], rel=1e-12)
        assert c["kendalltau"] == pytest.approx(max(v[2] for v in fits.values()), rel=1e-12)


def test_the_grid_picks_the_best_fitting_predictor(records, tmp_path):
    cells = plot_grid(records, tmp_path / "grid.png", bins=5)
    assert (tmp_path / "grid.png").stat().st_size > 1000
    assert json.loads((tmp_path / "grid.json").read_text()) == cells
    _check_cells(cells, records)
    confs = _configurations(records)
    inits = sorted({c["init_budget"] for c in cells})
    queries = sorted({c["query_budget"] for c in cells})
    assert len(inits) <= 5 and len(queries) <= 5
    assert inits[-1] == pytest.approx(max(v[0] for v in confs.values()))
    assert queries[0] == pytest.approx(min(v[1] for v in confs.values()))
    top = next(c for c in cells if c["init_budget"] == inits[-1] and c["query_budget"] == queries[-1])
    assert top["kendalltau"] == pytest.approx(max(v[2] for v in confs.values()))  # everything fits
    # budgets of the caller's: nothing fits a zero initialization budget
    cells = cost_grid(records, init_budgets=[0.0, 3e4, 1e6], query_budgets=[1e-3, 1e3])
    _check_cells(cells, records)
    assert all(c["predictor"] is None for c in cells if c["init_budget"] == 0.0)
    assert all(c["predictor"] is not None for c in cells if c["init_budget"] == 1e6)
    with pytest.raises(ValueError, match="'init_budgets'"):
        cost_grid(records, init_budgets=[5.0, 1.0])
    with pytest.raises(ValueError, match="'bins'"):
        cost_grid(records, bins=0)


def test_cli_plot_grid_writes_png_and_json(tmp_path, capsys, data_dir):
    from pyengine.cli import main

    png = tmp_path / "grid.png"
    argv = [
        "evaluate",
        "--table",
        "nb101_20k",
        "--predictors",
        "blr,early_stop_acc",
        "--train-sizes",
        "10,30",
        "--seeds",
        "2",
        "--test-size",
        "100",
        "--fidelity",
        "12",
        "--fidelity-table",
        "nb101_20k",
        "--fidelity-metric",
        "valacc_12",
        "--grid-bins",
        "4",
        "--json",
        str(tmp_path / "recs.json"),
        "--plot-grid",
        str(png),
    ]
    assert main(argv) == 0
    assert png.stat().st_size > 1000
    cells = json.loads((tmp_path / "grid.json").read_text())
    _check_cells(cells, json.loads((tmp_path / "recs.json").read_text()))
    assert {"init_budget", "query_budget", "predictor", "kendalltau"} <= set(cells[0])
    assert "wrote " + str(png) in capsys.readouterr().out
    argv = ["evaluate", "--table", "nb201", "--predictors", "blr", "--train-sizes", "10", "--seeds", "1"]
    assert main([*argv, "--plot-grid", str(tmp_path / "none.png")]) == 1
    assert "training-time column" in capsys.readouterr().err
    assert not (tmp_path / "none.png").exists()
