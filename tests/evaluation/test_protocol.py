"""The published protocol: its sizes on the real tables, test sets that are exactly the complement
of the training sets, the published figures' integrity, and its errors."""

import numpy as np
import pytest

from pyengine.errors import InvalidValueError
from pyengine.evaluation import (
    PROTOCOLS,
    PUBLISHED_RESULTS,
    PredictorEvaluator,
    get_protocol,
    metric_dataset,
    protocol_evaluator,
    protocol_summary,
    published_results,
)
from pyengine.evaluation import _evaluator as evaluator_module
from pyengine.tables import load_table


@pytest.fixture(scope="module")
def nb201(data_dir):
    return load_table("nb201_cifar10_200ep")


def _draws(monkeypatch, evaluator):
    """(seed, train_size, train rows, test rows) of every unit ``evaluator`` plans; nothing is fit."""
    seen = []

    def stub(shared, meta, model, enc, train, test):
        seen.append((meta["seed"], meta["train_size"], np.array(train), np.array(test)))
        return {**meta, "kendalltau": 0.0}

    monkeypatch.setattr(evaluator_module, "_fit_unit", stub)
    recs = evaluator.run()
    return seen, recs


@pytest.mark.parametrize("space", ["nb201", "nb101"])
def test_protocol_sizes_fit_their_tables(space, data_dir):
    protocol = get_protocol("published", space)
    assert protocol.seeds == 5
    table = load_table(protocol.table)
    assert table.space.name == space
    n_rows = int(np.isfinite(table.column()).sum())
    assert max(protocol.train_sizes) < n_rows - 1
    if space == "nb201":
        assert protocol.train_sizes == (78, 156, 469, 781, 1563) and n_rows == 15625
    else:
        assert protocol.train_sizes == (100, 172, 424, 4236) and n_rows == 20001


def test_test_set_is_the_complement_of_the_training_set(nb201, monkeypatch):
    protocol = get_protocol("published", "nb201")
    ev = protocol_evaluator(protocol, nb201, ["blr"], seeds=[0, 1])
    seen, recs = _draws(monkeypatch, ev)
    assert len(seen) == 2 * len(protocol.train_sizes)
    every = np.arange(len(nb201))
    for _seed, n, train, test in seen:
        assert len(train) == n and len(test) == len(nb201) - n
        assert len(np.intersect1d(train, test)) == 0
        assert np.array_equal(np.sort(np.concatenate([train, test])), every)
    assert [r["test_size"] for r in recs] == [len(nb201) - n for _, n, _, _ in seen]
    by_seed = {s: [t for s2, _, t, _ in seen if s2 == s] for s in (0, 1)}
    for trains in by_seed.values():  # nested: each training set extends the smaller one
        for small, big in zip(trains, trains[1:], strict=False):
            assert np.array_equal(big[: len(small)], small)
    assert not np.array_equal(by_seed[0][0], by_seed[1][0])
    again, _ = _draws(monkeypatch, protocol_evaluator(protocol, nb201, ["blr"], seeds=[1]))
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(again, seen[len(protocol.train_sizes) :], strict=True))


def test_nb101_protocol_tests_on_the_rest_of_the_20k_table(data_dir, monkeypatch):
    protocol = get_protocol("published", "nb101")
    table = load_table(protocol.table)
    seen, _ = _draws(monkeypatch, protocol_evaluator(protocol, table, ["blr"], seeds=[3]))
    assert [n for _, n, _, _ in seen] == [100, 172, 424, 4236]
    for _, n, train, test in seen:
        assert len(test) == len(table) - n
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(table)))


def test_rest_fits_and_scores_on_every_other_row(nb201):
    recs = PredictorEvaluator(nb201, ["rf"], train_sizes=[30], seeds=1, test_size="rest", encoding="graf").run()
    assert recs[0]["test_size"] == len(nb201) - 30
    assert recs[0]["kendalltau"] > 0.3


def test_published_results_integrity():
    assert len(PUBLISHED_RESULTS) >= 7
    for r in PUBLISHED_RESULTS:
        assert r.paper and r.venue and r.source and r.method and r.note
        assert 2015 <= r.year <= 2030
        assert 0.0 < r.kendalltau < 1.0
        assert r.space in PROTOCOLS["published"]
        assert r.dataset in ("cifar10", "cifar100", "imagenet16")
        assert r.train_size in get_protocol("published", r.space).train_sizes or "not a size" in r.note
    want = {
        ("NN-Former", "nb201", 156, 0.804),
        ("NN-Former", "nb101", 172, 0.765),
        ("NN-Former", "nb101", 424, 0.809),
        ("PINAT + ranking loss", "nb101", 100, 0.717),
        ("HyperNAS", "nb201", 78, 0.677),
        ("HyperNAS", "nb201", 469, 0.836),
    }
    assert want <= {(r.method, r.space, r.train_size, r.kendalltau) for r in PUBLISHED_RESULTS}
    assert [r.train_size for r in published_results("nb201", train_sizes=[78, 469])] == [78, 469]
    assert published_results("nb201", dataset="cifar100") == []
    assert metric_dataset("cifar100_valacc") == "cifar100" and metric_dataset("valacc_108") == "cifar10"


def test_protocol_summary_puts_published_rows_after_measured_ones():
    recs = [
        {"predictor": "rf", "train_size": n, "seed": s, "kendalltau": kt, "spearman": 0, "sparse_kendalltau": 0,
         "fit_seconds": 0.1, "test_size": 15625 - n}
        for n, s, kt in [(78, 0, 0.5), (78, 1, 0.7), (469, 0, 0.8)]
    ]  # fmt: skip
    rows = protocol_summary(recs, "nb201", "cifar10")
    assert [(r["kind"], r["train_size"]) for r in rows] == [
        ("measured", 78),
        ("published", 78),
        ("measured", 469),
        ("published", 469),
    ]
    assert rows[0]["mean"] == pytest.approx(0.6) and rows[0]["test_size"] == 15625 - 78
    assert rows[1]["predictor"] == "HyperNAS" and rows[1]["source"]


def test_errors_name_the_problem(nb201):
    with pytest.raises(InvalidValueError, match="Unknown protocol 'papers'. Protocols: published"):
        get_protocol("papers", "nb201")
    with pytest.raises(InvalidValueError, match="no settings for space 'darts'. Spaces: nb201, nb101"):
        get_protocol("published", "darts")
    protocol = get_protocol("published", "nb201")
    with pytest.raises(InvalidValueError, match="Training size 15624 .* leaves 1 test"):
        protocol_evaluator(protocol, nb201, ["rf"], train_sizes=[15624])
    with pytest.raises(InvalidValueError, match="Training size 20000 .* leaves 0 test"):
        protocol_evaluator(protocol, nb201, ["rf"], train_sizes=[20000])
    with pytest.raises(InvalidValueError, match="needs a table of nb101"):
        protocol_evaluator(get_protocol("published", "nb101"), nb201, ["rf"])
    with pytest.raises(InvalidValueError, match="sets 'test_size'"):
        protocol_evaluator(protocol, nb201, ["rf"], test_size=100)
    with pytest.raises(InvalidValueError, match="needs uniform sampling"):
        PredictorEvaluator(nb201, ["rf"], train_sizes=[10], test_size="rest", sampling="mutation").run()
    with pytest.raises(InvalidValueError, match="an int >= 2 or 'rest'"):
        PredictorEvaluator(nb201, ["rf"], train_sizes=[10], test_size="all").run()
    with pytest.raises(InvalidValueError, match="leaves 0 test architectures"):
        PredictorEvaluator(nb201, ["rf"], train_sizes=[15625], test_size="rest").run()
