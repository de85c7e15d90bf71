"""One-shot estimators: path sampling, the supernet, cached ground truth, the study and the
registry predictor, on digits (small settings: seconds)."""

import json

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError

import pyengine
from pyengine.oneshot import (
    Supernet,
    SupernetDivergedError,
    SupernetError,
    evaluate_oneshot,
    ground_truth,
    nb201_complexity,
    sample_paths,
    truth_set,
)
from pyengine.predictors import get_predictor
from pyengine.spaces import get_space
from pyengine.spaces._nb201 import NB201Batch

SP = get_space("nb201")


# -- path sampling ----------------------------------------------------------------------------------
def test_uniform_and_deiso_sampling_differ_as_the_study_says():
    """Uniform sampling draws each labelling equally, so large isomorphism classes come up in
    proportion to their size; de-isomorphic sampling draws classes equally."""
    n = 20000
    keys_all = SP.canonical_keys(SP.all())
    _, inverse, sizes = np.unique(keys_all, return_inverse=True, return_counts=True)
    size_of = dict(zip(np.unique(keys_all), sizes, strict=True))
    for strategy, expected in (
        ("uniform", (sizes.astype(float) ** 2).sum() / sizes.sum()),  # size-weighted mean class size
        ("deiso", sizes.mean()),  # plain mean class size (2.42)
    ):
        ops = sample_paths(strategy, n, 1, np.random.default_rng(0))[:, 0]
        assert ops.shape == (n, 6) and ops.min() >= 0 and ops.max() <= 4
        drawn = np.array([size_of[k] for k in SP.canonical_keys(NB201Batch(ops))])
        assert abs(drawn.mean() - expected) < 0.05 * expected, strategy


def test_fair_sampling_uses_every_op_once_per_edge_in_each_group_of_five():
    ops = sample_paths("fair", 7, 5, np.random.default_rng(3))  # 7 steps of 5 paths: FairNAS
    for step in ops:
        assert (np.sort(step, axis=0) == np.arange(5)[:, None]).all()
    single = sample_paths("fair", 10, 1, np.random.default_rng(3))[:, 0]
    for group in single.reshape(2, 5, 6):
        assert (np.sort(group, axis=0) == np.arange(5)[:, None]).all()
    again = sample_paths("fair", 10, 1, np.random.default_rng(3))
    assert (again[:, 0] == single).all()
    with pytest.raises(SupernetError, match="Unknown sampling strategy 'greedy'"):
        sample_paths("greedy", 2, 1, np.random.default_rng(0))


# -- the supernet -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    net = Supernet(strategy="deiso", epochs=3, checkpoint_every=1, seed=0).train("digits")
    archs = SP.sample(12, 5, unique=True)
    return net, archs


def test_supernet_trains_and_scores_sub_networks(trained):
    net, archs = trained
    assert sorted(net.checkpoints_) == [1, 2, 3]
    assert len(net.train_loss_) == 3 and net.train_loss_[-1] < net.train_loss_[0]
    s = net.score(archs)
    assert s["accuracy"].shape == (12,) and s["loss"].shape == (12,)
    assert np.isfinite(s["loss"]).all() and ((s["accuracy"] >= 0) & (s["accuracy"] <= 100)).all()
    assert s["accuracy"].std() > 0  # sub-networks differ
    strings = SP.to_strings(archs)
    np.testing.assert_allclose(net.score(strings)["loss"], s["loss"], rtol=1e-6)


@pytest.mark.slow
def test_vmapped_chunks_score_as_one_at_a_time(trained):
    net, archs = trained
    one = net.score(archs, recalibrate=2)
    net.archs_per_call = 5  # chunks of 5 (the last padded), vmapped, im2col convolutions
    try:
        chunked = net.score(archs, recalibrate=2)
    finally:
        net.archs_per_call = None
    np.testing.assert_allclose(chunked["loss"], one["loss"], rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(chunked["accuracy"], one["accuracy"], atol=0.3)


def test_temporal_ensemble_and_recalibration(trained):
    net, archs = trained
    per = [net.score(archs, epoch=e)["loss"] for e in (2, 3)]
    np.testing.assert_allclose(net.score(archs, epoch=3, temporal=2)["loss"], np.mean(per, axis=0), rtol=1e-6)
    recal = net.score(archs, recalibrate=2)
    assert not np.allclose(recal["loss"], per[1])  # each sub-network's own statistics
    with pytest.raises(SupernetError, match="No checkpoint at epoch 7"):
        net.score(archs, epoch=7)


@pytest.mark.slow
def test_same_seed_same_supernet(trained):
    net, archs = trained
    again = Supernet(strategy="deiso", epochs=3, checkpoint_every=1, seed=0).train("digits")
    np.testing.assert_allclose(again.score(archs)["loss"], net.score(archs)["loss"], rtol=1e-6)
    assert again.train_loss_ == net.train_loss_


def test_bad_input_to_the_supernet(trained, tmp_path):
    net, archs = trained
    with pytest.raises(SupernetError, match="not trained yet"):
        Supernet().score(archs)
    with pytest.raises(ValueError, match="op"):
        net.score(NB201Batch(np.full((2, 6), 7, np.int8)))  # not an NB201 cell
    with pytest.raises(ValueError):
        net.score(["not an arch string"])
    with pytest.raises(SupernetError, match="nb201 space only"):
        Supernet("nb101").train("digits")
    rng = np.random.default_rng(0)
    other = tmp_path / "big.npz"
    np.savez(other, images=rng.random((120, 16, 16, 3)).astype(np.float32), labels=np.arange(120) % 4)
    with pytest.raises(SupernetError, match=r"trained on images of shape \(8, 8, 1\)"):
        net.score(archs, str(other))
    with pytest.raises(SupernetError, match="strategy"):
        Supernet(strategy="random").train("digits")


def test_diverging_supernet_stops_and_keeps_its_checkpoints(tmp_path):
    net = Supernet(epochs=3, checkpoint_every=1, learning_rate=1e5, checkpoint_dir=str(tmp_path))
    with pytest.raises(SupernetDivergedError, match="diverged") as err:
        net.train("digits")
    kept = err.value.checkpoint_epochs
    assert kept == sorted(net.checkpoints_) and len(kept) >= 1 and err.value.epoch == len(kept) + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"epoch_{e:04d}.npz" for e in kept]


# -- ground truth -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One ground-truth cache for the module: the study test finds its architectures trained."""
    return tmp_path_factory.mktemp("cache")


@pytest.mark.slow
def test_ground_truth_is_cached_and_survives_a_torn_line(cache, tmp_path):
    archs, _, _ = truth_set(10, 0)  # the study test's set
    first = ground_truth(archs, seeds=[0], trainer_params={"epochs": 1}, cache_dir=str(cache))
    n = len(archs.ops)
    assert first.trained == n and first.values["val_accuracy"].shape == (n, 1)
    again = ground_truth(archs, seeds=[0], trainer_params={"epochs": 1}, cache_dir=str(cache))
    assert again.trained == 0
    np.testing.assert_array_equal(again.mean(), first.mean())
    torn = tmp_path / "truth"
    torn.mkdir()
    copy = torn / "copy.jsonl"
    copy.write_text(open(first.cache_file).read() + '{"arch": "|nor_conv')  # a run killed mid-write
    from pyengine.oneshot._truth import _read_cache

    assert len(_read_cache(str(copy))) == n and copy.read_text().endswith("\n")
    copy.write_text(copy.read_text() + "garbage\n")
    with pytest.raises(ValueError, match=f"corrupt at line {n + 1}"):
        _read_cache(str(copy))


def test_truth_set_holds_distinct_classes_and_mutation_pairs():
    batch, parent, child = truth_set(40, 0)
    keys = SP.canonical_keys(batch)
    assert len(np.unique(keys)) == len(keys) <= 40 and len(parent) == len(child) >= 10
    assert ((batch.ops[parent] != batch.ops[child]).sum(1) == 1).all()
    c = nb201_complexity(batch.ops, 8, 1)
    conv3 = SP.from_strings(["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"]).ops
    conv1 = SP.from_strings(["|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|"]).ops
    assert nb201_complexity(conv3, 8, 1)[0] > nb201_complexity(conv1, 8, 1)[0] > 0
    assert c.shape == (len(keys),)


# -- the study and the CLI --------------------------------------------------------------------------
@pytest.mark.slow
def test_study_records_and_cli(cache, tmp_path, monkeypatch):
    import jax

    from pyengine.cli import main

    # the command turns on JAX's persistent compilation cache for its process; tests/conftest.py
    # keeps the test process's own
    suite_cache = jax.config.jax_compilation_cache_dir

    out = tmp_path / "os.json"
    argv = [
        "oneshot", "evaluate", "--strategies", "uniform,deiso", "--epochs", "2", "--checkpoint-every", "1",
        "--truth-archs", "10", "--truth-seeds", "0", "--truth-epochs", "1", "--proxies", "params",
        "--temporal", "2", "--recalibrate", "2", "--cache", str(cache), "--json", str(out),
        "--no-progress",
    ]  # fmt: skip
    from pyengine.oneshot import _study

    ranked = []  # (truth, score) of every record the study computes, in the order it emits them
    record = _study.ranking_record

    def spy(truth, score, *args, **kwargs):
        ranked.append((np.array(truth), np.array(score)))
        return record(truth, score, *args, **kwargs)

    monkeypatch.setattr(_study, "ranking_record", spy)
    cached = sorted((cache / "truth").glob("*.jsonl"))
    before = [f.read_text() for f in cached]
    assert main(argv) == 0
    assert [f.read_text() for f in cached] == before  # the ground-truth test trained this set already
    recs = json.loads(out.read_text())
    recs = recs["records"] if isinstance(recs, dict) else recs
    os_recs = [r for r in recs if "strategy" in r]
    zc = [r for r in recs if "proxy" in r]
    assert [r["proxy"] for r in zc] == ["params"]
    assert {(r["strategy"], r["epoch"], r["trick"]) for r in os_recs} >= {
        ("uniform", 1, "none"), ("uniform", 2, "temporal"), ("deiso", 2, "bn_recal+temporal")
    }  # fmt: skip
    gt = ground_truth(truth_set(10, 0)[0], seeds=[0], trainer_params={"epochs": 1}, cache_dir=str(cache))
    truth = gt.mean("val_accuracy")
    truth = truth[np.isfinite(truth)]
    assert gt.trained == 0 and len(ranked) == len(recs)
    scores = {}
    for r, (t, score) in zip(recs, ranked, strict=True):
        for k in ("epoch", "seed", "kendalltau", "spearman", "p_at_top5", "br_at_1", "br_at_5", "bias_by_quintile"):
            assert k in r
        assert len(r["bias_by_quintile"]) == 5 and r["br_at_5"] <= r["br_at_1"]  # a larger top set
        np.testing.assert_array_equal(t, truth)  # every estimator is ranked against the cached ground truth
        assert r["kendalltau"] == pytest.approx(np.nan_to_num(stats.kendalltau(truth, score).statistic), abs=1e-12)
        assert r["spearman"] == pytest.approx(np.nan_to_num(stats.spearmanr(truth, score).statistic), abs=1e-12)
        if "strategy" in r:
            scores[r["strategy"], r["epoch"], r["trick"]] = score
    for strategy in ("uniform", "deiso"):  # --temporal 2: the mean of the last two checkpoints' scores
        for raw, avg in (("none", "temporal"), ("bn_recal", "bn_recal+temporal")):
            mean = (scores[strategy, 1, raw] + scores[strategy, 2, raw]) / 2
            np.testing.assert_allclose(scores[strategy, 2, avg], mean, rtol=1e-12)
    assert (tmp_path / "os.png").stat().st_size > 10_000
    # the cached ground truth serves the next run: nothing is trained again
    recs2 = evaluate_oneshot(strategies=["fair"], epochs=1, checkpoint_every=1, truth_archs=10, truth_seeds=[0],
                             truth_epochs=1, proxies=[], cache_dir=str(cache))  # fmt: skip
    assert [r["strategy"] for r in recs2] == ["fair", "fair"] and recs2[0]["n_archs"] == os_recs[0]["n_archs"]
    assert main(["oneshot", "evaluate", "--strategies", "greedy", "--no-progress"]) == 1
    assert jax.config.jax_compilation_cache_dir == suite_cache


# -- the registry predictor -------------------------------------------------------------------------
@pytest.mark.slow
def test_oneshot_predictor_contract_and_persistence(tmp_path, data_dir, monkeypatch):
    from pyengine.evaluation import PredictorEvaluator
    from pyengine.tables import load_table

    archs = SP.sample(10, 2, unique=True)
    est = get_predictor("oneshot", epochs=2, checkpoint_every=1, temporal=2, random_state=0)
    with pytest.raises(NotFittedError, match=r"call fit\(X, y\)"):
        est.predict(archs)
    with pytest.raises(ValueError, match="non-finite value at position 1"):
        est.fit(archs, [1.0, np.nan] + [0.0] * 8)
    assert est.fit(archs, np.arange(10.0)) is est
    mean, std = est.predict(archs, return_std=True)
    assert mean.shape == std.shape == (10,) and (std >= 0).all()
    est.save(tmp_path / "os.model")
    loaded = pyengine.load(tmp_path / "os.model")
    assert loaded.get_params() == est.get_params()
    np.testing.assert_allclose(loaded.predict(archs), mean, rtol=1e-12)
    assert est.score(archs, np.arange(10.0)) == pytest.approx(stats.kendalltau(np.arange(10.0), mean).statistic)
    with pytest.raises(TypeError, match="not encoded features"):
        est.predict(np.zeros((3, 30), np.float32))
    # temporal=2 averages the last two checkpoints: the spread is half their difference
    last = est.set_params(temporal=1).predict(archs)
    assert not np.allclose(last, mean)  # the two checkpoints score differently
    np.testing.assert_allclose(std, np.abs(last - mean), rtol=1e-6, atol=1e-9)
    table = load_table("nb201_cifar10_200ep")
    ev = PredictorEvaluator(
        table, ["oneshot"], train_sizes=[10], seeds=[0], test_size=30,
        predictor_params={"oneshot": {"epochs": 1, "checkpoint_every": 1}},
    )  # fmt: skip
    asked = []  # (architectures, scores) of every predict call
    predict = type(est).predict

    def spy(self, X, *args, **kwargs):
        out = predict(self, X, *args, **kwargs)
        asked.append((X, np.asarray(out)))
        return out

    monkeypatch.setattr(type(est), "predict", spy)
    (rec,) = ev.run()
    assert rec["predictor"] == "oneshot" and rec["encoding"] == "architectures"
    ((test_archs, scores),) = asked
    truth = table.query(test_archs)  # the table's values of the architectures scored
    assert len(set(table.indices(test_archs).tolist())) == rec["test_size"] == 30
    assert rec["kendalltau"] == pytest.approx(stats.kendalltau(truth, scores).statistic, abs=1e-12)
    assert rec["spearman"] == pytest.approx(stats.spearmanr(truth, scores).statistic, abs=1e-12)
