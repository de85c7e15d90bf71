"""Scoring on a real local Ray cluster (loopback): results equal the single-process run byte for
byte, also when a worker process is killed mid-run; an address that does not answer fails fast."""

import os
import signal
import time

import pytest
import ray

from pyengine.cli import main
from pyengine.scoring import ModelScorer, ScoreSource, score_job
from pyengine.scoring._ray import RayUnavailableError, check_address, ray_executor

from .test_score_job import model  # noqa: F401  (the fitted GCN fixture)


def test_two_workers_one_killed_mid_run_give_the_single_process_result(model, tmp_path):  # noqa: F811
    src = ScoreSource("nb201")
    once = tmp_path / "once.jsonl"
    score_job(src, ModelScorer(str(model), "nb201"), str(once), chunk_size=500)
    run = ray_executor("local", workers=2)
    killed: list[int] = []
    after: list[int] = []

    def progress(lines, total):
        if not killed and lines >= 1000:
            pid = ray.get(run.actors[0].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        elif killed and not after and lines >= 6000:
            after.append(ray.get(run.actors[0].pid.remote()))

    try:
        out = tmp_path / "ray.jsonl"
        score_job(src, ModelScorer(str(model), "nb201"), str(out), chunk_size=500, executor=run, progress=progress)
        assert killed and after and after[0] != killed[0]  # the actor came back in a new process
        assert out.read_bytes() == once.read_bytes()
    finally:
        ray.shutdown()


def test_an_address_that_does_not_answer_fails_within_seconds(model, tmp_path, capsys):  # noqa: F811
    t0 = time.perf_counter()
    with pytest.raises(RayUnavailableError, match="does not answer"):
        check_address("127.0.0.1:1")
    args = ["score", "--space", "nb201", "--all", "--model", str(model), "--out", str(tmp_path / "o"), "--ray"]
    assert main([*args, "127.0.0.1:1"]) == 1
    assert "does not answer" in capsys.readouterr().err
    assert main([*args, "nonsense"]) == 1
    assert "HOST:PORT" in capsys.readouterr().err
    assert time.perf_counter() - t0 < 15


def test_evaluator_and_search_units_on_ray_equal_the_embedded_run(data_dir):
    from pyengine.evaluation import PredictorEvaluator
    from pyengine.search import simulate
    from pyengine.tables import load_table

    table = load_table("nb201_cifar10_200ep")
    ev = dict(train_sizes=[20, 40], seeds=2, test_size=200)
    try:
        here = PredictorEvaluator(table, ["blr", "rf"], **ev).run()
        seen = []
        there = PredictorEvaluator(table, ["blr", "rf"], **ev).run(ray="local", workers=2, on_record=seen.append)
        assert len(seen) == len(there) == len(here) == 8
        key = ("predictor", "train_size", "seed")
        assert [tuple(r[k] for k in key) for r in there] == [tuple(r[k] for k in key) for r in here]
        for a, b in zip(there, here, strict=True):  # rf sums its trees in thread order: rounding apart
            assert [a[k] for k in ("kendalltau", "spearman", "mae")] == pytest.approx(
                [b[k] for k in ("kendalltau", "spearman", "mae")], rel=1e-12
            )
        runs = simulate(table, ["rs", "re"], budget=25, seeds=2)
        on_ray = simulate(table, ["rs", "re"], budget=25, seeds=2, ray="local")
        assert [(r["searcher"], r["seed"], r["best_valid"]) for r in on_ray] == [
            (r["searcher"], r["seed"], r["best_valid"]) for r in runs
        ]
    finally:
        ray.shutdown()
